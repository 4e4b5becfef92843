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

// The layers that draw from Context.Rand say so, and a Concat runs its
// branches side by side in training only when at most one of them draws:
// the numbers are those of one branch after another, with the masks drawn
// in the same order, and the dropout branch's mask depends on the seed.
func TestConcatDrawsInOrder(t *testing.T) {
	for _, l := range []Layer{NewDropout("d", 0.5), NewDropout2d("d2", 0.5), NewStochasticDepth("s", 0.5)} {
		if r, ok := l.(randomDrawer); !ok || !r.drawsRandom() {
			t.Errorf("%s draws from Context.Rand and does not say so", l.Type())
		}
	}
	branch := func(name string, drop float32) *Chain {
		ls := []Layer{NewConv2d(name+".conv", 2, 3, 3, 1, 1, true), NewReLU(name + ".relu")}
		if drop > 0 {
			ls = append(ls, NewDropout2d(name+".drop", drop))
		}
		return NewChain(name, ls...)
	}
	x := New(4, 2, 6, 6)
	for i := range x.Data {
		x.Data[i] = float32(i%13) - 6
	}
	for _, drops := range [][2]float32{{0, 0}, {0.5, 0}, {0.5, 0.5}} {
		c := NewConcat("cat", branch("a", drops[0]), branch("b", drops[1]))
		Init([]Layer{c}, rand.New(rand.NewPCG(1, 2)))
		want := c.drawingBranches()
		if got := map[[2]float32]int{{0, 0}: 0, {0.5, 0}: 1, {0.5, 0.5}: 2}[drops]; want != got {
			t.Errorf("dropout %v: %d drawing branches, want %d", drops, want, got)
		}
		out := func() []float32 {
			y, _, err := c.Forward(x, &Context{Train: true, Rand: rand.New(rand.NewPCG(7, 8))})
			if err != nil {
				t.Fatal(err)
			}
			return y.Data
		}
		first := out()
		for range 20 { // the same seed, the same masks and numbers every time
			if !slices.Equal(out(), first) {
				t.Fatalf("dropout %v: two passes with the same seed differ", drops)
			}
		}
	}
}
