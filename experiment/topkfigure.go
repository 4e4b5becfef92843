package experiment

import (
	"context"
	"fmt"
	"image"
	"math"

	"github.com/convscope/convscope/data"
	"github.com/convscope/convscope/deconv"
	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/viz"
	"github.com/convscope/convscope/zoo"
)

// Scanned is what drawing a scan's images needs: the network, the layer's
// summary row (its receptive fields), the images as scanned (normalised)
// and as shown (pixels in [0,1]).
type Scanned struct {
	Net *nn.Sequential
	Row zoo.LayerInfo
	Set Images
	// Pixels is image i as a person sees it, (1,C,H,W) in [0,1].
	Pixels func(i int) (*nn.Tensor, error)
}

// Patch is one hit as Figure 2 shows it: the image's pixels under the
// unit's receptive field (Box) and the deconvnet projection of the unit,
// cropped to the same box.
type Patch struct {
	Hit
	// Field is the unit's whole receptive field, Box the part of it inside
	// the input (zoo.LayerInfo.Field and Box).
	Field, Box image.Rectangle
	Pixels     *nn.Tensor // (1,C,h,w) in [0,1]
	Projection *nn.Tensor // (1,C,h,w), signed
}

// Patches projects every hit of one channel with Zeiler & Fergus'
// deconvnet (the unit seeded with its activation) and crops both the
// image and the projection to the unit's receptive field.
func (s Scanned) Patches(ctx context.Context, ch ChannelTop) ([]Patch, error) {
	shape := s.Set.Shape()
	per := nn.Numel(shape)
	model := deconv.Model{Net: s.Net, ChannelsLast: func(l string) bool { return l == s.Row.Name && s.Row.Layout == "hwc" }}
	out := make([]Patch, 0, len(ch.Top))
	for _, h := range ch.Top {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if h.Index < 0 || h.Index >= s.Set.Len() {
			return nil, fmt.Errorf("image %d of a set of %d", h.Index, s.Set.Len())
		}
		x := nn.New(append([]int{1}, shape...)...)
		s.Set.Fill(h.Index, x.Data[:per])
		goal := deconv.Goal{Layer: s.Row.Name, Channel: ch.Channel, At: &deconv.Pos{Y: h.Y, X: h.X}}
		r, err := deconv.Explain(ctx, model, x, nil, "deconvnet", goal, deconv.Options{}, nil)
		if err != nil {
			return nil, err
		}
		box := s.Row.Box(h.Y, h.X, shape[1], shape[2])
		proj, err := viz.Crop(r.Map, box)
		if err != nil {
			return nil, err
		}
		pix, err := s.Pixels(h.Index)
		if err != nil {
			return nil, err
		}
		if pix, err = viz.Crop(pix, box); err != nil {
			return nil, err
		}
		out = append(out, Patch{Hit: h, Field: s.Row.Field(h.Y, h.X, shape[1], shape[2]), Box: box, Pixels: pix, Projection: proj})
	}
	return out, nil
}

// TopKFigure draws channels as Figure 2 does: for each, its hits'
// projections in a square grid on the left and the image patches under
// them on the right, four channels to a row, under a caption (none when
// caption is empty). Each
// projection has its own symmetric scale (grey is zero), as in the paper.
func TopKFigure(say Say, caption string, channels []int, patches [][]Patch) (*image.RGBA, error) {
	if len(channels) == 0 || len(channels) != len(patches) {
		return nil, fmt.Errorf("figure: %d channels, %d patch lists", len(channels), len(patches))
	}
	side, k := 1, 1
	for _, ps := range patches {
		k = max(k, len(ps))
		for _, p := range ps {
			side = max(side, p.Field.Dx(), p.Field.Dy())
		}
	}
	zoom := max(1, (48+side-1)/side)
	cell := side*zoom + 2
	grid := int(math.Ceil(math.Sqrt(float64(k))))
	blockW, blockH := 2*grid*cell+12, grid*cell+viz.LineHeight+12
	perRow := min(4, len(channels))
	rows := (len(channels) + perRow - 1) / perRow
	top, lines := 8, []string{}
	if caption != "" { // a figure of its own; a page's figures have captions in HTML
		lines = []string{caption, say("figure.topk.about")}
		top += 2 * viz.LineHeight
	}
	width := perRow*blockW + 8
	for _, l := range lines {
		width = max(width, viz.TextWidth(l)+16)
	}
	img := viz.Canvas(width, top+rows*blockH+8)
	for i, l := range lines {
		viz.Text(img, 8, 6+i*viz.LineHeight, l, viz.Ink)
	}
	for b, c := range channels {
		x0, y0 := 8+(b%perRow)*blockW, top+(b/perRow)*blockH
		viz.Text(img, x0, y0, say("figure.channel", c), viz.Ink)
		for i := range grid * grid {
			gx, gy := i%grid, i/grid
			at := image.Pt(x0+gx*cell, y0+viz.LineHeight+4+gy*cell)
			right := at.Add(image.Pt(grid*cell+8, 0))
			if i >= len(patches[b]) {
				viz.Fill(img, image.Rectangle{at, at.Add(image.Pt(cell-2, cell-2))}, viz.Mid)
				viz.Fill(img, image.Rectangle{right, right.Add(image.Pt(cell-2, cell-2))}, viz.Mid)
				continue
			}
			if err := patches[b][i].draw(img, at, right, cell, zoom); err != nil {
				return nil, err
			}
		}
	}
	return img, nil
}

// draw puts the patch's projection in the cell at proj and its pixels in
// the cell at pix, each cell side-2 pixels of Mid, enlarged zoom times;
// where the receptive field reaches past the input, the cell stays grey.
func (p Patch) draw(img *image.RGBA, proj, pix image.Point, side, zoom int) error {
	pr, _, err := viz.Signed(p.Projection)
	if err != nil {
		return err
	}
	px, err := viz.Pixels(p.Pixels)
	if err != nil {
		return err
	}
	viz.Fill(img, image.Rectangle{proj, proj.Add(image.Pt(side-2, side-2))}, viz.Mid)
	viz.Fill(img, image.Rectangle{pix, pix.Add(image.Pt(side-2, side-2))}, viz.Mid)
	off := p.Box.Min.Sub(p.Field.Min).Mul(zoom)
	viz.Paste(img, viz.Upscale(pr, zoom), proj.Add(off))
	viz.Paste(img, viz.Upscale(px, zoom), pix.Add(off))
	return nil
}

// SetPixels is image i of s as a person sees it, (1,C,H,W) in [0,1].
func SetPixels(s *data.ImageSet) func(i int) (*nn.Tensor, error) {
	return func(i int) (*nn.Tensor, error) {
		if i < 0 || i >= s.Len() {
			return nil, fmt.Errorf("image %d of a set of %d", i, s.Len())
		}
		t := nn.New(1, s.C, s.H, s.W)
		for j, p := range s.Image(i) {
			t.Data[j] = float32(p) / 255
		}
		return t, nil
	}
}
