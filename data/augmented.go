package data

// Augmented: a Transform applied inside Fill, for code that reads a
// train.Source one sample at a time (train.Fit) rather than a Loader's
// batches. Sample i of an epoch is exactly what a Loader with the same
// Data, Transform and Seed gives for it in that epoch. No workers here:
// the caller's goroutine does the work.

import (
	"fmt"
	"sync/atomic"

	"github.com/convscope/convscope/nn"
)

// Augmented is a Dataset whose samples pass through a Transform, sample i
// with the generator SampleRand(seed, epoch, i). Set the epoch (SetEpoch)
// before each pass so that every epoch sees new augmentations. It is a
// train.Source, and safe for concurrent Fill calls.
type Augmented struct {
	data      Dataset
	transform Transform
	seed      uint64
	epoch     atomic.Int64
	shape     []int
}

// Augment wraps d with t and seed. Its Shape is that of t's output, found
// by transforming sample 0; every sample must transform to that shape.
func Augment(d Dataset, t Transform, seed uint64) *Augmented {
	a := &Augmented{data: d, transform: t, seed: seed, shape: d.Shape()}
	if d.Len() > 0 {
		a.shape = a.sample(0, 0).Shape
	}
	return a
}

// SetEpoch sets the epoch whose augmentations Fill gives.
func (a *Augmented) SetEpoch(epoch int) { a.epoch.Store(int64(epoch)) }

// Epoch is the epoch set last (0 at first).
func (a *Augmented) Epoch() int { return int(a.epoch.Load()) }

// Len is the wrapped Dataset's length.
func (a *Augmented) Len() int { return a.data.Len() }

// Shape is the transformed samples' shape, (C,H,W).
func (a *Augmented) Shape() []int { return append([]int(nil), a.shape...) }

// Fill writes transformed sample i of the current epoch into dst (len
// C*H*W of Shape) and returns its label. It panics when the transform
// gives sample i another shape.
func (a *Augmented) Fill(i int, dst []float32) int {
	y, label := a.sampleLabel(i, a.Epoch())
	if !nn.SameShape(y.Shape, a.shape) {
		panic(fmt.Sprintf("data.Augmented: sample %d transforms to %s, not %s", i, nn.ShapeString(y.Shape), nn.ShapeString(a.shape)))
	}
	copy(dst, y.Data)
	return label
}

func (a *Augmented) sample(i, epoch int) *nn.Tensor {
	y, _ := a.sampleLabel(i, epoch)
	return y
}

func (a *Augmented) sampleLabel(i, epoch int) (*nn.Tensor, int) {
	x := nn.New(a.data.Shape()...)
	label := a.data.Fill(i, x.Data)
	if a.transform == nil {
		return x, label
	}
	return a.transform.Apply(x, SampleRand(a.seed, epoch, i)), label
}
