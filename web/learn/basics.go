package learn

// The first lesson: CNN basics, on LeNet-5 and the reader's picture.

import (
	"encoding/base64"
	"fmt"
	"image"
	"math"
	"slices"
	"strconv"

	"github.com/convscope/convscope/arith"
	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/viz"
)

// basicsModel is the lesson's network: LeNet-5 trained on Fashion-MNIST
// (the first LeNet-5 of the catalog when that one is not there).
var basicsModel = []string{"lenet5-fashion-mnist", "lenet5"}

// Picture is a PNG as a data URL, with its size on the page.
type Picture struct {
	URL           string
	Width, Height int
}

func picture(img image.Image, scale int) (Picture, error) {
	up := viz.Upscale(img, scale)
	b, err := viz.PNG(up)
	if err != nil {
		return Picture{}, err
	}
	r := up.Bounds()
	return Picture{"data:image/png;base64," + base64.StdEncoding.EncodeToString(b), r.Dx(), r.Dy()}, nil
}

// RFRow is one layer of the receptive-field table and drawing.
type RFRow struct {
	Name, Type, Maps string
	RF, Jump         int
	Whole            bool
	// Box is the field, in input pixels, of the layer's unit over the
	// chosen pixel; Colour draws it.
	Box    image.Rectangle
	Colour string
}

// BasicsView is the first lesson's page.
type BasicsView struct {
	Scene
	// Maps are c1's six maps on one scale; Map the one explained.
	Maps     Picture
	MapRef   MapRef
	Map      int
	Channels []int
	// Conv, Act and Pool explain the strongest unit of map Map through
	// c1, its activation and s2; Logit explains the predicted class's
	// score (trimmed to its largest products).
	Conv, Act, Pool, Logit *arith.Unit
	// ConvSum is Conv's sum of products, before the bias.
	ConvSum float64
	RF      []RFRow
	// Side is the input's side in pixels, for the drawing.
	Side int
}

// basicsColours draw the receptive fields, one per layer.
var basicsColours = []string{"#facc15", "#fb923c", "#f43f5e", "#a855f7", "#38bdf8", "#22c55e"}

func (h *Handler) basicsView(sample, mapParam string) (BasicsView, error) {
	var v BasicsView
	m, tr, err := h.open(&v.Scene, basicsModel, "LeNet-5", sample)
	if err != nil {
		return v, err
	}
	defer h.models.Release(m)
	step := func(name string) (*nn.Step, error) {
		_, st, ok := tr.Locate(name)
		if !ok {
			return nil, fmt.Errorf("%s has no layer %s", m.Name, name)
		}
		return st, nil
	}
	c1, err := step("c1")
	if err != nil {
		return v, err
	}
	channels := c1.Out.Shape[1]
	for c := range channels {
		v.Channels = append(v.Channels, c)
	}
	if c, err := strconv.Atoi(mapParam); err == nil && c >= 0 && c < channels {
		v.Map = c
	}
	maps, err := viz.Quantize(c1.Out)
	if err != nil {
		return v, err
	}
	if v.Maps, err = picture(maps.Grid(&viz.Viridis, 1, channels), 4); err != nil {
		return v, err
	}
	v.MapRef = MapRef{Model: m.Name, Sample: v.Sample, Layer: "c1", Channels: channels, Cols: channels, H: maps.H, W: maps.W, Scale: 4}
	// the strongest unit of the chosen map
	uy, ux := strongest(c1.Out, v.Map)
	if v.Conv, err = arith.Explain(c1, 0, v.Map, uy, ux); err != nil {
		return v, err
	}
	v.ConvSum = v.Conv.Result - float64(v.Conv.Bias)
	act, err := step("c1.act")
	if err != nil {
		return v, err
	}
	if v.Act, err = arith.Explain(act, 0, v.Map, uy, ux); err != nil {
		return v, err
	}
	s2, err := step("s2")
	if err != nil {
		return v, err
	}
	if v.Pool, err = arith.Explain(s2, 0, v.Map, uy/2, ux/2); err != nil {
		return v, err
	}
	// the prediction and its score
	top := slices.Index(m.Classes, v.Predicted)
	last := m.Summary.Layers[len(m.Summary.Layers)-1].Name
	out, err := step(last)
	if err != nil {
		return v, err
	}
	if v.Logit, err = arith.Explain(out, 0, top, 0, 0); err != nil {
		return v, err
	}
	v.Logit.Trim(8)
	// the receptive field of the unit over the same pixel, layer by layer
	side := m.Input[1]
	v.Side = side
	py, px := uy, ux // c1 keeps the picture's size: its unit sits on pixel (uy, ux)
	for _, l := range m.Summary.Top() {
		if l.Type != "Conv2d" && l.Type != "AvgPool2d" && l.Type != "MaxPool2d" {
			continue
		}
		row := RFRow{Name: l.Name, Type: l.Type, Maps: shape(l.Maps), RF: l.RF, Jump: l.Jump, Whole: l.Whole,
			Colour: basicsColours[len(v.RF)%len(basicsColours)]}
		ly, lx := unitOver(l.Start, l.Jump, py, l.Maps), unitOver(l.Start, l.Jump, px, l.Maps)
		row.Box = l.Box(ly, lx, side, side)
		v.RF = append(v.RF, row)
	}
	return v, nil
}

// unitOver is the unit of a row whose field is centred nearest pixel p.
func unitOver(start float64, jump, p int, maps []int) int {
	if jump == 0 || len(maps) < 3 {
		return 0
	}
	u := int(math.Round((float64(p) - start) / float64(jump)))
	return min(max(u, 0), maps[1]-1)
}

func shape(s []int) string {
	out := ""
	for i, d := range s {
		if i > 0 {
			out += "×"
		}
		out += strconv.Itoa(d)
	}
	return out
}

// mustPixels draws the model's view of the picture (C,H,W in [0,1]).
func mustPixels(t *nn.Tensor) image.Image {
	img, err := viz.Pixels(t)
	if err != nil {
		return image.NewGray(image.Rect(0, 0, 1, 1))
	}
	return img
}
