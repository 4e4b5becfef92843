package deconv

import (
	"context"
	"fmt"

	"github.com/convscope/convscope/nn"
)

// gradCAM is Selvaraju et al.'s Grad-CAM (2017): at a layer L for class K,
// ReLU(Σ_k α_k A_k) with A_k L's maps and α_k the spatial mean of
// ∂y_K/∂A_k. The map is at L's own resolution; the page upsamples it over
// the input.
type gradCAM struct{}

func init() { register(gradCAM{}) }

func (gradCAM) Name() string { return "gradcam" }
func (gradCAM) About() string {
	return "Selvaraju et al.'s Grad-CAM: a layer's maps weighted by the class's mean gradient over each, the positive part"
}
func (gradCAM) Heat() bool { return true }
func (gradCAM) Long() bool { return false }

// resolveCAM fixes Grad-CAM's class and layer: the goal's layer, or the
// last top-level layer with maps larger than 1x1.
func (j *job) resolveCAM(g Goal) error {
	j.class = g.Class
	if j.class < 0 {
		j.class = nn.ArgMax(j.tr.Output().Data)
	}
	name := g.Layer
	if name == "" {
		for i := len(j.tr.Steps) - 1; i >= 0; i-- {
			if s := j.tr.Steps[i].Out.Shape; len(s) == 4 && s[2]*s[3] > 1 {
				name = j.tr.Steps[i].Layer.Name()
				break
			}
		}
		if name == "" {
			return fmt.Errorf("gradcam: no layer with maps larger than 1x1 to weigh")
		}
	}
	t, err := j.find(j.tr, name)
	if err != nil {
		return err
	}
	j.camLayer = &t
	return nil
}

func (gradCAM) explain(_ context.Context, j *job) (*nn.Tensor, error) {
	t := j.camLayer
	c, h, w, err := t.Planes()
	if err != nil {
		return nil, err
	}
	// The class's gradient at L, read as the backward walk passes L.
	var grad []float32
	t.Step.Watch = func(dy *nn.Tensor) { grad = append([]float32(nil), dy.Data...) }
	defer func() { t.Step.Watch = nil }()
	last := len(j.tr.Steps) - 1
	seed := nn.New(j.tr.Output().Shape...)
	seed.Data[j.class] = 1
	if _, err := j.model.Net.Backward(j.tr, last, seed, nn.Gradient, nil); err != nil {
		return nil, err
	}
	if grad == nil {
		return nil, fmt.Errorf("gradcam: no gradient reaches %s (a mark only names another layer's output: pick that layer)", t.Name)
	}
	at := func(k, y, x int) int { i, _ := t.Index(Unit{k, y, x}); return i }
	alpha := make([]float64, c)
	for k := range c {
		var s float64
		for y := range h {
			for x := range w {
				s += float64(grad[at(k, y, x)])
			}
		}
		alpha[k] = s / float64(h*w)
	}
	cam := nn.New(1, 1, h, w)
	a := t.Step.Out.Data
	for y := range h {
		for x := range w {
			var s float64
			for k := range c {
				s += alpha[k] * float64(a[at(k, y, x)])
			}
			cam.Data[y*w+x] = float32(max(s, 0))
		}
	}
	return cam, nil
}
