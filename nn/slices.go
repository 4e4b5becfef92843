package nn

import (
	"fmt"
	"sync"

	"github.com/convscope/convscope/nn/kernel"
)

// An evaluation pass over a batch (an evaluation, a top-9 scan) runs
// fastest as independent slices of a few samples, each slice through the
// whole network on one core: a slice's activations stay in that core's
// cache from one layer to the next, and the cores never wait for each
// other between layers, as they do when every layer splits the whole
// batch among them. The layers of an evaluation pass compute each sample
// alone, so slicing changes a sample's values only where a convolution
// picks another product for the smaller batch (the last bits of a sum
// taken in another order).

// SliceSamples is how many samples a Slicer gives one core at a time when
// its Slice is 0: ResNet-20's and MobileNet's batch inference on 1x28x28
// was fastest at 8 to 16 (docs/PERFORMANCE.md, fifteenth session).
const SliceSamples = 16

// Slicer runs evaluation passes over batches slice by slice, the slices
// shared out among the cores. It keeps one arena per core from batch to
// batch, so a long evaluation allocates only in its first batch. A Slicer
// serves one caller at a time.
type Slicer struct {
	// Slice is the samples per slice; 0 means SliceSamples.
	Slice int

	arenas chan *Arena
}

// Run calls pass on x's samples in slices (x[lo:lo+Slice] as a batch of
// its own), each slice with an arena of its own that is reset before the
// call, and returns the outputs, in order, as one batch: a tensor from
// dst (allocated when dst is nil). pass runs on several goroutines at
// once: it must not write to anything it shares, and every tensor it
// returns must have its slice's samples first and the same shape after
// them. What it takes from its arena is not kept beyond the call.
func (s *Slicer) Run(x *Tensor, dst *Arena, pass func(x *Tensor, a *Arena) (*Tensor, error)) (*Tensor, error) {
	if len(x.Shape) == 0 || x.Shape[0] == 0 {
		return nil, fmt.Errorf("nn: no samples to run (shape %s)", ShapeString(x.Shape))
	}
	n := x.Shape[0]
	per := len(x.Data) / n
	slice := s.Slice
	if slice <= 0 {
		slice = SliceSamples
	}
	workers := kernel.Workers()
	if s.arenas == nil || cap(s.arenas) != workers {
		s.arenas = make(chan *Arena, workers)
		for range workers {
			s.arenas <- NewArena()
		}
	}
	var (
		mu    sync.Mutex
		out   *Tensor
		first error
	)
	slices := (n + slice - 1) / slice
	kernel.ParallelTasks(slices, func(i int) {
		lo, hi := i*slice, min(n, (i+1)*slice)
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed {
			return
		}
		a := <-s.arenas
		defer func() { s.arenas <- a }()
		a.Reset()
		xs := FromData(x.Data[lo*per:hi*per], append([]int{hi - lo}, x.Shape[1:]...)...)
		y, err := pass(xs, a)
		switch {
		case err == nil && y == nil:
			err = fmt.Errorf("nn: a slice of %d samples gave no output", hi-lo)
		case err == nil && (len(y.Shape) == 0 || y.Shape[0] != hi-lo):
			err = fmt.Errorf("nn: a slice of %d samples gave an output of shape %s", hi-lo, ShapeString(y.Shape))
		}
		mu.Lock()
		switch {
		case first != nil:
			err = first
		case err != nil:
			first = err
		case out == nil:
			out = dst.Uninit(append([]int{n}, y.Shape[1:]...)...)
		case !SameShape(out.Shape[1:], y.Shape[1:]):
			first = fmt.Errorf("nn: slices gave outputs of shapes %s and %s per sample", ShapeString(out.Shape[1:]), ShapeString(y.Shape[1:]))
			err = first
		}
		o := out
		mu.Unlock()
		if err == nil {
			yper := len(y.Data) / (hi - lo)
			copy(o.Data[lo*yper:hi*yper], y.Data)
		}
	})
	if first != nil {
		return nil, first
	}
	return out, nil
}

// Logits is net's evaluation pass over the batch x, run by s: fused
// (Context.Fuse and InPlace), with only the last layer's output read, into
// a tensor from dst. It is what an evaluation runs on each batch.
func (s *Slicer) Logits(net *Sequential, x *Tensor, dst *Arena) (*Tensor, error) {
	return s.Run(x, dst, func(x *Tensor, a *Arena) (*Tensor, error) {
		tr, err := net.Forward(x, &Context{Arena: a, Fuse: true, InPlace: true}, nil)
		if err != nil {
			return nil, err
		}
		return tr.Output(), nil
	})
}
