package deconv

import (
	"context"
	"math"

	"github.com/convscope/convscope/nn"
)

// occlusion is Zeiler & Fergus' occlusion experiment (2014, section 4.2):
// the square of rows [i·s, i·s+w) and columns [j·s, j·s+w) is set to 0 in
// normalised input space (the mean colour) in every channel, for every i, j
// with the square inside the input, and the map holds what is left of the
// goal: the class's softmax probability, or the unit's activation. It is
// (⌊(H−w)/s⌋+1) x (⌊(W−w)/s⌋+1), computed in batches of forward passes,
// row by row in Progress.
type occlusion struct{}

func init() { register(occlusion{}) }

func (occlusion) Name() string { return "occlusion" }
func (occlusion) About() string {
	return "Zeiler & Fergus' occlusion: a grey square slides over the picture; the map is the class's probability (or the unit's activation) with the square at each place"
}
func (occlusion) Heat() bool { return true }
func (occlusion) Long() bool { return true }

// OcclusionGrid is the occlusion map's rows and columns for an h×w input.
func OcclusionGrid(h, w, window, stride int) (rows, cols int) {
	return (h-window)/stride + 1, (w-window)/stride + 1
}

func (occlusion) explain(ctx context.Context, j *job) (*nn.Tensor, error) {
	c, h, w := j.x.Shape[1], j.x.Shape[2], j.x.Shape[3]
	win, s := j.opt.Window, j.opt.Stride
	rows, cols := OcclusionGrid(h, w, win, s)
	out := nn.New(1, 1, rows, cols)
	n := j.x.Len()
	err := j.batches(ctx, rows*cols, func(from, to int) error {
		xs := nn.New(append([]int{to - from}, j.x.Shape[1:]...)...)
		for b := range to - from {
			d := xs.Data[b*n : (b+1)*n]
			copy(d, j.x.Data)
			i, jj := (from+b)/cols, (from+b)%cols
			for ch := range c {
				for y := i * s; y < i*s+win; y++ {
					row := d[(ch*h+y)*w:]
					clear(row[jj*s : jj*s+win])
				}
			}
		}
		tr, err := j.model.Net.Forward(xs, &nn.Context{}, nil)
		if err != nil {
			return err
		}
		for b := range to - from {
			if j.target != nil {
				path, at, err := j.scalar(tr, b)
				if err != nil {
					return err
				}
				out.Data[from+b] = stepAt(tr, path).Out.Data[at]
				continue
			}
			out.Data[from+b] = softmaxAt(tr.Output(), b, j.class)
		}
		return nil
	}, func() *nn.Tensor { return out.Clone() })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// softmaxAt is the softmax probability of class k in sample b of logits
// (N,K), computed in float64.
func softmaxAt(logits *nn.Tensor, b, k int) float32 {
	kk := logits.Shape[1]
	row := logits.Data[b*kk : (b+1)*kk]
	top := float64(row[0])
	for _, v := range row {
		top = max(top, float64(v))
	}
	var sum float64
	for _, v := range row {
		sum += math.Exp(float64(v) - top)
	}
	return float32(math.Exp(float64(row[k])-top) / sum)
}
