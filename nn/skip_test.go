package nn

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// A convolution told that its input gradient is unused gives the same
// weight gradients as one that computes it, and no input gradient.
func TestSkipInputGradKeepsWeightGradients(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, cfg := range []ConvConfig{
		{In: 1, Out: 6, Kernel: 5, Padding: 2, Bias: true},
		{In: 4, Out: 6, Kernel: 3, Stride: 2, Padding: 1, Groups: 2},
		{In: 3, Out: 5, Kernel: 1, Bias: true},
	} {
		c := NewConv("c", cfg)
		Init([]Layer{c}, r)
		x := New(2, cfg.In, 9, 9)
		for i := range x.Data {
			x.Data[i] = float32(r.NormFloat64())
		}
		y, saved, err := c.Forward(x, &Context{})
		if err != nil {
			t.Fatal(err)
		}
		dy := New(y.Shape...)
		for i := range dy.Data {
			dy.Data[i] = float32(r.NormFloat64())
		}
		full, skip := Grads{}, Grads{}
		dx, err := c.Backward(dy, &Step{Layer: c, In: x, Out: y, Saved: saved}, Gradient, full)
		if err != nil || dx == nil {
			t.Fatalf("%+v: %v, %v", cfg, dx, err)
		}
		none, err := c.Backward(dy, &Step{Layer: c, In: x, Out: y, Saved: saved, SkipInputGrad: true}, Gradient, skip)
		if err != nil || none != nil {
			t.Fatalf("%+v: with SkipInputGrad got %v, %v", cfg, none, err)
		}
		for _, p := range c.Params() {
			if !slices.Equal(full.For(p).Data, skip.For(p).Data) {
				t.Errorf("%+v: %s gradient differs when the input gradient is skipped", cfg, p.Name)
			}
		}
	}
}
