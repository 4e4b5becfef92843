package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// A batch of small maps runs as products several samples wide
// (sampleChunks); every sample's output and input gradient must be what
// it gets alone, and the weight and bias gradients the sum of the
// samples' own. Covered: the flipped input gradient (3x3, stride 1), col2im
// (stride 2), a pointwise convolution (the input is its own unrolled
// matrix), two groups, and a kernel as large as the input (dense).
func TestConvBatchRunsMatchSingleSamples(t *testing.T) {
	const n, hw = 9, 4
	for _, cfg := range []ConvConfig{
		{In: 3, Out: 5, Kernel: 3, Stride: 1, Padding: 1, Bias: true},
		{In: 3, Out: 4, Kernel: 3, Stride: 2, Padding: 1},
		{In: 6, Out: 4, Kernel: 1, Bias: true},
		{In: 4, Out: 6, Kernel: 3, Stride: 1, Padding: 1, Groups: 2},
		{In: 3, Out: 5, Kernel: hw, Bias: true}, // one output pixel: a linear layer
		{In: 4, Out: 6, Kernel: hw, Groups: 2},  // the same per group
	} {
		c := NewConv("conv", cfg)
		rng := rand.New(rand.NewPCG(3, 4))
		Init([]Layer{c}, rng)
		if c.Bias != nil {
			copy(c.Bias.Value.Data, randTensor(rng, cfg.Out).Data)
		}
		x := randTensor(rng, n, cfg.In, hw, hw)
		g, err := c.geometry(x)
		if err != nil {
			t.Fatal(err)
		}
		if count, span := sampleChunks(n, g.cols, g.rows); count >= n {
			t.Fatalf("%+v: %d runs for %d samples: nothing runs side by side", cfg, count, n)
		} else if lo, hi := span(0); hi-lo < 2 {
			t.Fatalf("%+v: first run has %d samples", cfg, hi-lo)
		}
		ctx := &Context{}
		y, _, err := c.Forward(x, ctx)
		if err != nil {
			t.Fatal(err)
		}
		dy := randTensor(rng, y.Shape...)
		grads := Grads{}
		dx, err := c.Backward(dy, &Step{Layer: c, In: x, Out: y, arena: ctx.arena()}, Gradient, grads)
		if err != nil {
			t.Fatal(err)
		}
		sum := Grads{}
		in, out := len(x.Data)/n, len(y.Data)/n
		for i := 0; i < n; i++ {
			xi := FromData(x.Data[i*in:(i+1)*in], 1, cfg.In, hw, hw)
			yi, _, err := c.Forward(xi, ctx)
			if err != nil {
				t.Fatal(err)
			}
			dyi := FromData(dy.Data[i*out:(i+1)*out], yi.Shape...)
			dxi, err := c.Backward(dyi, &Step{Layer: c, In: xi, Out: yi, arena: ctx.arena()}, Gradient, sum)
			if err != nil {
				t.Fatal(err)
			}
			closeSlices(t, cfg, "y", y.Data[i*out:(i+1)*out], yi.Data)
			closeSlices(t, cfg, "dx", dx.Data[i*in:(i+1)*in], dxi.Data)
		}
		for _, p := range c.Params() {
			closeSlices(t, cfg, "d"+p.Name, grads.For(p).Data, sum.For(p).Data)
		}
	}
}

// closeSlices fails unless got and want agree to float32 rounding of sums
// taken in another order.
func closeSlices(t *testing.T, cfg ConvConfig, what string, got, want []float32) {
	t.Helper()
	for j := range got {
		if d := math.Abs(float64(got[j] - want[j])); d > 1e-5*(1+math.Abs(float64(want[j]))) {
			t.Fatalf("%+v: %s[%d] = %g, alone %g", cfg, what, j, got[j], want[j])
		}
	}
}
