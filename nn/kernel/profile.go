package kernel

import (
	"context"
	"sync/atomic"
)

// profileLabels is the pprof label context of the layer now running, when
// a profile is being taken (nn.ProfileLayers): Sgemm's helpers are
// long-lived goroutines that do not inherit their caller's labels, so each
// part handed to one carries these and the helper wears them while it
// computes. Nil when not profiling.
var profileLabels atomic.Pointer[context.Context]

// WithProfileLabels makes ctx's pprof labels the ones Sgemm's helpers
// wear from now on, and returns what puts the previous ones back. It is
// for a profiled pass, one at a time (convscope bench and train
// -cpuprofile); a nil ctx means none.
func WithProfileLabels(ctx context.Context) (restore func()) {
	var p *context.Context
	if ctx != nil {
		p = &ctx
	}
	prev := profileLabels.Swap(p)
	return func() { profileLabels.Store(prev) }
}
