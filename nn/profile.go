package nn

import (
	"context"
	"runtime/pprof"
	"sync/atomic"

	"github.com/convscope/convscope/nn/kernel"
)

// profileLayers, when set, labels the CPU samples of each layer's Forward
// and Backward with the layer's type and the pass ("layer", "pass"), so that
// `go tool pprof -tags` (or -tagfocus=layer=Conv2d) splits a profile by
// layer type, including the work the layer hands to kernel.ParallelFor's
// goroutines, which inherit the labels, and to Sgemm's helpers, which are
// handed them (kernel.WithProfileLabels). Inside blocks the innermost
// layer's label wins.
var profileLayers atomic.Bool

// ProfileLayers turns the labels on or off (convscope bench -cpuprofile
// turns them on). Off, a layer call costs one atomic load more.
func ProfileLayers(on bool) { profileLayers.Store(on) }

// forward runs l.Forward, labelled when profiling.
func forward(l Layer, x *Tensor, ctx *Context) (y *Tensor, saved any, err error) {
	if !profileLayers.Load() {
		return l.Forward(x, ctx)
	}
	pprof.Do(context.Background(), pprof.Labels("layer", l.Type(), "pass", "forward"), func(labels context.Context) {
		defer kernel.WithProfileLabels(labels)()
		y, saved, err = l.Forward(x, ctx)
	})
	return y, saved, err
}

// backward runs l.Backward (showing dy to st.Watch first), labelled when
// profiling.
func backward(l Layer, dy *Tensor, st *Step, rule Rule, g Grads) (dx *Tensor, err error) {
	if _, fused := st.Saved.(fusedStep); fused {
		return nil, errFusedBackward
	}
	if st.Watch != nil {
		st.Watch(dy)
	}
	if !profileLayers.Load() {
		return l.Backward(dy, st, rule, g)
	}
	pprof.Do(context.Background(), pprof.Labels("layer", l.Type(), "pass", "backward"), func(labels context.Context) {
		defer kernel.WithProfileLabels(labels)()
		dx, err = l.Backward(dy, st, rule, g)
	})
	return dx, err
}
