package learn

import (
	"fmt"
	"math"
	"slices"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/samples"
)

// Scene is what every lesson's page starts with: the lesson's trained
// model, its gallery, the reader's picture as the model sees it, and the
// model's answer.
type Scene struct {
	Entry     catalog.Entry
	Samples   []samples.Sample
	Sample    string
	Input     Picture
	Predicted string
	Prob      float64
}

// open opens the first of names the catalog has (what names the network
// in the error when it has none), runs the reader's picture through it and
// fills s. The caller releases the model.
func (h *Handler) open(s *Scene, names []string, what, sample string) (*catalog.Model, *nn.Trace, error) {
	var m *catalog.Model
	var err error
	for _, name := range names {
		if m, err = h.models.Open(name); err == nil {
			break
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("this server has no %s to teach with: %v", what, err)
	}
	tr, err := h.runSample(m, sample, s)
	if err != nil {
		h.models.Release(m)
		return nil, nil, err
	}
	s.Entry = m.Entry
	s.Predicted, s.Prob = predicted(tr, m.Classes)
	return m, tr, nil
}

// runSample runs the reader's picture through m: sample is a file of m's
// gallery (any other name, a path say, is the gallery's first picture).
// It fills the gallery list, the file run and the picture as m sees it,
// and returns the forward pass's trace.
func (h *Handler) runSample(m *catalog.Model, sample string, s *Scene) (*nn.Trace, error) {
	gallery := catalog.GalleryFor(m.Entry)
	s.Samples = h.gallery.List(gallery, m.Classes)
	if len(s.Samples) == 0 {
		return nil, errNoSamples(m.Name)
	}
	s.Sample = s.Samples[0].File
	if slices.ContainsFunc(s.Samples, func(x samples.Sample) bool { return x.File == sample }) {
		s.Sample = sample
	}
	img, err := h.gallery.Open(gallery, s.Sample)
	if err != nil {
		return nil, err
	}
	pixels, x := m.Prepare(img) // the gallery's pictures are the dataset's own: never inverted
	if s.Input, err = picture(mustPixels(pixels), 8); err != nil {
		return nil, err
	}
	return m.Net.Net.Forward(x, &nn.Context{}, nil)
}

type errNoSamples string

func (e errNoSamples) Error() string { return "no sample pictures for " + string(e) }

// predicted is the trace's top class and its softmax probability.
func predicted(tr *nn.Trace, classes []string) (string, float64) {
	logits := tr.Output().Data
	top := 0
	for i, z := range logits {
		if z > logits[top] {
			top = i
		}
	}
	sum := 0.0
	for _, z := range logits {
		sum += math.Exp(float64(z - logits[top]))
	}
	return classes[top], 1 / sum
}

// strongest is the position of the largest value in map c of t, a
// (1,C,H,W) tensor.
func strongest(t *nn.Tensor, c int) (y, x int) {
	h, w := t.Shape[2], t.Shape[3]
	plane := t.Data[c*h*w : (c+1)*h*w]
	best := 0
	for i, a := range plane {
		if a > plane[best] {
			best = i
		}
	}
	return best / w, best % w
}
