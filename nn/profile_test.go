package nn

import (
	"bytes"
	"compress/gzip"
	"io"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/convscope/convscope/nn/kernel"
)

// spinLayer burns CPU in Forward, on kernel.ParallelFor's goroutines.
type spinLayer struct{ elementwise }

func (s *spinLayer) Type() string { return "SpinForProfileTest" }

func (s *spinLayer) Forward(x *Tensor, _ *Context) (*Tensor, any, error) {
	kernel.ParallelFor(4, func(_, _ int) {
		for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
		}
	})
	return x, nil, nil
}

func (s *spinLayer) Backward(dy *Tensor, _ *Step, _ Rule, _ Grads) (*Tensor, error) { return dy, nil }

// With ProfileLayers on, a CPU profile carries the layer-type label of the
// work a layer hands to other goroutines; off, it does not.
func TestProfileLayersLabelsSamples(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	for _, on := range []bool{true, false} {
		ProfileLayers(on)
		var buf bytes.Buffer
		if err := pprof.StartCPUProfile(&buf); err != nil {
			t.Skip("profiling unavailable:", err)
		}
		net := &Sequential{Layers: []Layer{&spinLayer{elementwise{base{"spin"}}}}}
		for i := 0; i < 4; i++ {
			if _, err := net.Forward(New(1, 1), nil, nil); err != nil {
				t.Fatal(err)
			}
		}
		pprof.StopCPUProfile()
		ProfileLayers(false)
		zr, err := gzip.NewReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if got := bytes.Contains(raw, []byte("SpinForProfileTest")); got != on {
			t.Errorf("ProfileLayers(%v): the profile names the layer type: %v", on, got)
		}
	}
}
