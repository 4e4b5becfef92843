package train

import (
	"fmt"

	"github.com/convscope/convscope/nn"
)

// Source is a labelled set of equally shaped samples.
type Source interface {
	// Len is the number of samples.
	Len() int
	// Shape is one sample's shape (C,H,W).
	Shape() []int
	// Fill copies sample i into dst (len = C*H*W) and returns its label.
	Fill(i int, dst []float32) int
}

// Tensors is an in-memory Source: N samples, already normalised.
type Tensors struct {
	X      *nn.Tensor // (N,C,H,W)
	Labels []int
}

// NewTensors checks that x (N,C,H,W) and labels agree.
func NewTensors(x *nn.Tensor, labels []int) (*Tensors, error) {
	if len(x.Shape) != 4 || x.Shape[0] != len(labels) {
		return nil, fmt.Errorf("train: %d labels for samples of shape %s", len(labels), nn.ShapeString(x.Shape))
	}
	return &Tensors{X: x, Labels: labels}, nil
}

// Len is N.
func (t *Tensors) Len() int { return len(t.Labels) }

// Shape is (C,H,W).
func (t *Tensors) Shape() []int { return t.X.Shape[1:] }

// Fill copies sample i.
func (t *Tensors) Fill(i int, dst []float32) int {
	copy(dst, t.X.Data[i*len(dst):(i+1)*len(dst)])
	return t.Labels[i]
}

// Subset is the first n samples of s (all of them if n <= 0 or n >= s.Len()).
func Subset(s Source, n int) Source {
	if n <= 0 || n >= s.Len() {
		return s
	}
	return subset{s, n}
}

type subset struct {
	Source
	n int
}

func (s subset) Len() int { return s.n }

// batch fills x (B,C,H,W) and labels with the samples idx.
func batch(s Source, idx []int) (*nn.Tensor, []int) {
	shape := s.Shape()
	per := nn.Numel(shape)
	x := nn.New(append([]int{len(idx)}, shape...)...)
	labels := make([]int, len(idx))
	for j, i := range idx {
		labels[j] = s.Fill(i, x.Data[j*per:(j+1)*per])
	}
	return x, labels
}

// order is 0..Len()-1.
func (t *Tensors) order() []int {
	idx := make([]int, t.Len())
	for i := range idx {
		idx[i] = i
	}
	return idx
}
