package learn

import (
	"math"
	"slices"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/samples"
)

// runSample runs the reader's picture through m: sample is a file of m's
// gallery (any other name, a path say, is the gallery's first picture).
// It fills the gallery list, the file run and the picture as m sees it,
// and returns the forward pass's trace.
func (h *Handler) runSample(m *catalog.Model, sample string, list *[]samples.Sample, file *string, input *Picture) (*nn.Trace, error) {
	gallery := catalog.GalleryFor(m.Entry)
	*list = h.gallery.List(gallery, m.Classes)
	if len(*list) == 0 {
		return nil, errNoSamples(m.Name)
	}
	*file = (*list)[0].File
	if slices.ContainsFunc(*list, func(s samples.Sample) bool { return s.File == sample }) {
		*file = sample
	}
	img, err := h.gallery.Open(gallery, *file)
	if err != nil {
		return nil, err
	}
	pixels, x := m.Prepare(img) // the gallery's pictures are the dataset's own: never inverted
	if *input, err = picture(mustPixels(pixels), 8); err != nil {
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
