package learn

// The ResNet lesson: the identity path and the addition on the trained
// ResNet-20 and the reader's picture; options A and B counted; and the
// gradient of the loss at each convolution of a freshly initialised
// ResNet-56 against the same network without its shortcuts (a plain
// network, the zoo's "no-shortcut" variant).

import (
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/viz"
	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/i18n"
	"github.com/convscope/convscope/zoo"
)

var (
	resnetModel = []string{"resnet20-fashion-mnist", "resnet20"}
	// resnetBlock is the block whose addition the lesson shows.
	resnetBlock = "layer2.1"
)

// Addition is one unit of a residual block: its input x (the identity
// path), the body's output F(x), their sum, and the block's output after
// the ReLU, the engine's own.
type Addition struct {
	Channel, Y, X int
	In, Body, Sum float64
	Out           float32
}

// OptionCost is a ResNet's size with option A (identity shortcuts, zero
// padding where the shape changes: no parameters) or B (1x1 projections).
type OptionCost struct {
	Model        string
	Params, MACs int64
}

// GradientNorms are the L2 norms of the loss's gradient with respect to
// each convolution's weights, in network order, for one network.
type GradientNorms struct {
	Model  string
	Layers []string
	Norms  []float64
}

// ResNetView is the ResNet lesson's page.
type ResNetView struct {
	Scene
	Block   string
	Units   []Addition
	Options []OptionCost
	// Residual, Plain and Bare are ResNet-56, its plain twin and the
	// plain twin without batch norm, at initialisation; Chart draws them
	// (log10 of the norms).
	Residual, Plain, Bare GradientNorms
	Chart                 string
	Batch                 int
}

var (
	gradOnce  sync.Once
	gradNorms [3]GradientNorms
	gradBatch int
	gradErr   error
)

// gradientDepth is the network the gradient experiment compares, and
// gradientVariants the forms compared: as built, without its shortcuts,
// and without its shortcuts and its batch norms.
const gradientDepth = "resnet56"

var gradientVariants = []string{"", "no-shortcut", "no-shortcut,no-bn"}

// InitGradients runs the gallery's pictures (labelled with their classes)
// through ResNet-56 and its plain twin, both initialised from seed 1 in
// training mode, and measures the gradient of the mean cross-entropy at
// every convolution's weights. It depends on nothing the reader picks, so
// it runs once.
func (h *Handler) InitGradients(e catalog.Entry) ([3]GradientNorms, int, error) {
	gallery, classes := catalog.GalleryFor(e), e.Classes
	gradOnce.Do(func() {
		var xs []*nn.Tensor
		var labels []int
		for _, s := range h.gallery.List(gallery, classes) {
			label := -1
			for i, c := range classes {
				if strings.EqualFold(c, s.Label) {
					label = i
				}
			}
			img, err := h.gallery.Open(gallery, s.File)
			if err != nil || label < 0 {
				continue
			}
			_, x := e.Prepare(img) // normalised as the trained model's pictures
			xs, labels = append(xs, x), append(labels, label)
		}
		if len(xs) == 0 {
			gradErr = fmt.Errorf("no labelled pictures in the %s gallery", gallery)
			return
		}
		batch := nn.New(len(xs), 1, 28, 28)
		for i, x := range xs {
			copy(batch.Data[i*784:(i+1)*784], x.Data)
		}
		gradBatch = len(xs)
		for i, variant := range gradientVariants {
			if gradNorms[i], gradErr = convGradients(variant, batch, labels); gradErr != nil {
				return
			}
		}
	})
	return gradNorms, gradBatch, gradErr
}

func convGradients(variant string, batch *nn.Tensor, labels []int) (GradientNorms, error) {
	m, err := zoo.BuildVariant(gradientDepth, variant, []int{1, 28, 28}, 10, 1)
	if err != nil {
		return GradientNorms{}, err
	}
	out := GradientNorms{Model: m.Label()}
	tr, err := m.Net.Forward(batch, &nn.Context{Train: true}, nil)
	if err != nil {
		return out, err
	}
	_, dlogits, err := nn.CrossEntropyLoss{}.Compute(tr.Output(), labels)
	if err != nil {
		return out, err
	}
	g := nn.Grads{}
	if _, err := m.Net.Backward(tr, len(tr.Steps)-1, dlogits, nn.Gradient, g); err != nil {
		return out, err
	}
	var walk func(l nn.Layer)
	walk = func(l nn.Layer) {
		if c, ok := l.(*nn.Conv2d); ok {
			sum := 0.0
			if gw := g[c.Weight]; gw != nil {
				for _, v := range gw.Data {
					sum += float64(v) * float64(v)
				}
			}
			out.Layers = append(out.Layers, c.Name())
			out.Norms = append(out.Norms, math.Sqrt(sum))
		}
		if p, ok := l.(interface{ Children() []nn.Layer }); ok {
			for _, ch := range p.Children() {
				walk(ch)
			}
		}
	}
	for _, l := range m.Net.Layers {
		walk(l)
	}
	return out, nil
}

func (h *Handler) resnetView(lang i18n.Lang, sample string) (ResNetView, error) {
	var v ResNetView
	m, tr, err := h.open(&v.Scene, resnetModel, "ResNet", sample)
	if err != nil {
		return v, err
	}
	defer h.models.Release(m)
	v.Block = resnetBlock
	_, block, ok := tr.Locate(resnetBlock)
	_, body, ok2 := tr.Locate(resnetBlock + ".bn2")
	if !ok || !ok2 {
		return v, fmt.Errorf("%s has no block %s", m.Name, resnetBlock)
	}
	// three units of the block's first map: its strongest, and two more
	hh, ww := block.Out.Shape[2], block.Out.Shape[3]
	by, bx := strongest(block.Out, 0)
	for _, i := range []int{by*ww + bx, 0, (hh/2)*ww + ww/2} {
		y, x := i/ww, i%ww
		a := Addition{Channel: 0, Y: y, X: x, In: float64(block.In.Data[i]), Body: float64(body.Out.Data[i]), Out: block.Out.Data[i]}
		a.Sum = a.In + a.Body
		v.Units = append(v.Units, a)
	}
	for _, name := range []string{"resnet20", "resnet20_b"} {
		s, err := zoo.Build(name, []int{1, 28, 28}, 10, 0)
		if err != nil {
			return v, err
		}
		sum, err := zoo.Summarize(s)
		if err != nil {
			return v, err
		}
		v.Options = append(v.Options, OptionCost{name, sum.Params, sum.MACs})
	}
	norms, batch, err := h.InitGradients(m.Entry)
	if err != nil {
		return v, err
	}
	v.Residual, v.Plain, v.Bare, v.Batch = norms[0], norms[1], norms[2], batch
	x := make([]float64, len(v.Residual.Norms))
	for i := range x {
		x[i] = float64(i + 1)
	}
	log := func(n []float64) []float64 {
		out := make([]float64, len(n))
		for i, a := range n {
			out[i] = math.Log10(a)
		}
		return out
	}
	svg, err := viz.LineChart(viz.Chart{Title: i18n.Tr(lang, "resnet.chart.title"), XLabel: i18n.Tr(lang, "resnet.chart.x"), YLabel: i18n.Tr(lang, "resnet.chart.y"),
		X: x, Series: []viz.Series{{Name: v.Residual.Model, Y: log(v.Residual.Norms)}, {Name: v.Plain.Model, Y: log(v.Plain.Norms)},
			{Name: v.Bare.Model, Y: log(v.Bare.Norms)}}})
	if err != nil {
		return v, err
	}
	v.Chart = string(svg)
	return v, nil
}
