package learn

// The ZFNet lesson: Zeiler & Fergus' deconvnet step by step on one unit of
// the trained ZFNet-small and the reader's picture: the signal after each
// layer run backwards (the transposed convolution with the layer's own
// filters, the rectifier on the signal, unpooling to the switches),
// drawn, down to pixels.

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/convscope/convscope/deconv"
	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/viz"
)

var zfnetModel = []string{"zfnet-small-fashion-mnist", "zfnet_small"}

// DeconvStep is the signal after one layer run backwards under the
// deconvnet's rule.
type DeconvStep struct {
	Layer, Type string
	// Shape is the signal's (C,H,W); NonZero counts its non-zero values.
	Shape   string
	NonZero int
	// Picture is the signal summed over its channels, grey at zero.
	Picture Picture
}

// ZFNetView is the ZFNet lesson's page.
type ZFNetView struct {
	Scene
	// Layers are the convolutions a unit may be chosen in; Layer and
	// Channel the choice, Unit the strongest unit there.
	Layers   []string
	Layer    string
	Channel  int
	Channels int
	Unit     deconv.Unit
	Value    float32
	Steps    []DeconvStep
	// Pixels is the projection the steps end in; Check the largest
	// difference from deconv.Explain's deconvnet for the same unit.
	Pixels Picture
	Check  float64
}

// signalPicture draws a signal (1,C,H,W) summed over its channels.
func signalPicture(t *nn.Tensor, scale int) (Picture, int, error) {
	c, h, w := t.Shape[1], t.Shape[2], t.Shape[3]
	sum := nn.New(1, 1, h, w)
	nonZero := 0
	for ch := range c {
		for i, v := range t.Data[ch*h*w : (ch+1)*h*w] {
			sum.Data[i] += v
			if v != 0 {
				nonZero++
			}
		}
	}
	img, _, err := viz.Signed(sum)
	if err != nil {
		return Picture{}, 0, err
	}
	p, err := picture(img, max(1, scale))
	return p, nonZero, err
}

func (h *Handler) zfnetView(sample, layerParam, channelParam string) (ZFNetView, error) {
	var v ZFNetView
	m, tr, err := h.open(&v.Scene, zfnetModel, "ZFNet", sample)
	if err != nil {
		return v, err
	}
	defer h.models.Release(m)
	// the top-level convolutions, each a place to start from
	top := -1
	for _, st := range tr.Steps {
		if _, ok := st.Layer.(*nn.Conv2d); ok {
			v.Layers = append(v.Layers, st.Layer.Name())
		}
	}
	if len(v.Layers) == 0 {
		return v, fmt.Errorf("%s has no top-level convolution", m.Name)
	}
	v.Layer = v.Layers[min(1, len(v.Layers)-1)]
	if slices.Contains(v.Layers, layerParam) {
		v.Layer = layerParam
	}
	for i, st := range tr.Steps {
		if st.Layer.Name() == v.Layer {
			top = i
		}
	}
	// start at the convolution's rectifier when one follows it, as the
	// paper's units are
	start := top
	if top+1 < len(tr.Steps) {
		if a, ok := tr.Steps[top+1].Layer.(*nn.Activation); ok && a.Rectifies() {
			start = top + 1
		}
	}
	target := deconv.Target{Name: tr.Steps[start].Layer.Name(), Step: &tr.Steps[start]}
	v.Channels = tr.Steps[start].Out.Shape[1]
	if c, err := strconv.Atoi(channelParam); err == nil && c >= 0 && c < v.Channels {
		v.Channel = c
	} else {
		// by default the map with the strongest unit on this picture
		out, plane := tr.Steps[start].Out, tr.Steps[start].Out.Shape[2]*tr.Steps[start].Out.Shape[3]
		for c := range v.Channels {
			if slices.Max(out.Data[c*plane:(c+1)*plane]) > slices.Max(out.Data[v.Channel*plane:(v.Channel+1)*plane]) {
				v.Channel = c
			}
		}
	}
	if v.Unit, err = deconv.StrongestAt(target, v.Channel); err != nil {
		return v, err
	}
	signal, err := deconv.SeedAt(target, v.Unit)
	if err != nil {
		return v, err
	}
	i, _ := target.Index(v.Unit)
	v.Value = target.Step.Out.Data[i]
	for k := start; k >= 0; k-- {
		st := &tr.Steps[k]
		if signal, err = st.Layer.Backward(signal, st, nn.Deconvnet, nil); err != nil {
			return v, fmt.Errorf("%s backwards: %w", st.Layer.Name(), err)
		}
		pic, nonZero, err := signalPicture(signal, 84/signal.Shape[3])
		if err != nil {
			return v, err
		}
		v.Steps = append(v.Steps, DeconvStep{Layer: st.Layer.Name(), Type: st.Layer.Type(), Shape: shape(signal.Shape[1:]), NonZero: nonZero, Picture: pic})
	}
	if v.Pixels, _, err = signalPicture(signal, 8); err != nil {
		return v, err
	}
	// the same projection from the attribution core, to check the steps
	res, err := deconv.Explain(context.Background(), deconv.Model{Net: m.Net.Net}, tr.Steps[0].In, tr, "deconvnet",
		deconv.Goal{Layer: target.Name, Channel: v.Unit.Channel, At: &deconv.Pos{Y: v.Unit.Y, X: v.Unit.X}}, deconv.Options{}, nil)
	if err != nil {
		return v, err
	}
	for j, a := range res.Map.Data {
		v.Check = max(v.Check, math.Abs(float64(a-signal.Data[j])))
	}
	return v, nil
}
