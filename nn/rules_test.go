package nn

import (
	"math/rand/v2"
	"testing"
)

// TestRulesAtRectifiers checks each activation's three backward rules on
// inputs and signals of both signs: Gradient = dy*f'(x); Deconvnet =
// max(dy,0) for rectifiers and dy for squashing functions; Guided =
// max(dy,0)*f'(x).
func TestRulesAtRectifiers(t *testing.T) {
	x := FromData([]float32{-2, -0.5, 0.5, 2, -1, 1}, 1, 6)
	dy := FromData([]float32{1, -1, 1, -1, -3, 3}, 1, 6)
	for _, a := range []*Activation{NewReLU("relu"), NewReLU6("relu6"), NewLeakyReLU("leaky", 0.1), NewGELU("gelu"),
		NewSiLU("silu"), NewHardswish("hardswish"), NewHardsigmoid("hardsigmoid"), NewSigmoid("sigmoid"), NewTanh("tanh")} {
		y, _, _ := a.Forward(x, &Context{})
		st := &Step{Layer: a, In: x, Out: y}
		for _, rule := range []Rule{Gradient, Deconvnet, Guided} {
			dx, err := a.Backward(dy, st, rule, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, d := range dy.Data {
				deriv := a.df(x.Data[i], y.Data[i])
				var want float32
				switch {
				case rule == Gradient:
					want = d * deriv
				case rule == Deconvnet && a.Rectifies():
					want = max(d, 0)
				case rule == Deconvnet:
					want = d
				case rule == Guided:
					want = max(d, 0) * deriv
				}
				if dx.Data[i] != want {
					t.Errorf("%s %s: x=%g dy=%g gives %g, want %g", a.Type(), rule, x.Data[i], d, dx.Data[i], want)
				}
			}
		}
	}
	// ReLU by hand, the rule table of Springenberg et al.'s figure 1.
	relu := NewReLU("relu")
	y, _, _ := relu.Forward(x, &Context{})
	st := &Step{Layer: relu, In: x, Out: y}
	for rule, want := range map[Rule][]float32{
		Gradient:  {0, 0, 1, -1, 0, 3},
		Deconvnet: {1, 0, 1, 0, 0, 3},
		Guided:    {0, 0, 1, 0, 0, 3},
	} {
		dx, _ := relu.Backward(dy, st, rule, nil)
		for i := range want {
			if dx.Data[i] != want[i] {
				t.Errorf("ReLU %s = %v, want %v", rule, dx.Data, want)
				break
			}
		}
	}
}

// TestRulesAgreeOffRectifiers: pooling, convolution, linear and
// normalisation layers backpropagate the same way under every rule
// (max-pooling through its switches, convolution as its transpose).
func TestRulesAgreeOffRectifiers(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, tc := range []struct {
		l  Layer
		in []int
	}{
		{NewMaxPool2d("mp", 3, 2, 1), []int{1, 2, 5, 5}},
		{NewAvgPool2d("ap", 2, 2, 0), []int{1, 2, 4, 4}},
		{NewConv2d("conv", 2, 3, 3, 1, 1, true), []int{1, 2, 4, 4}},
		{NewConvTranspose2d("deconv", 2, 3, 3, 2, 1, 0, true), []int{1, 2, 3, 3}},
		{NewLinear("fc", 5, 3, true), []int{2, 5}},
		{NewLocalResponseNorm("lrn", 3, 0.1, 0.75, 1), []int{1, 4, 2, 2}},
	} {
		Init([]Layer{tc.l}, rng)
		x := randTensor(rng, tc.in...)
		y, saved, err := tc.l.Forward(x, &Context{})
		if err != nil {
			t.Fatal(err)
		}
		st := &Step{Layer: tc.l, In: x, Out: y, Saved: saved}
		dy := randTensor(rng, y.Shape...)
		ref, _ := tc.l.Backward(dy, st, Gradient, nil)
		for _, rule := range []Rule{Deconvnet, Guided} {
			dx, _ := tc.l.Backward(dy, st, rule, nil)
			for i := range ref.Data {
				if dx.Data[i] != ref.Data[i] {
					t.Errorf("%s: %s differs from the gradient at %d", tc.l.Name(), rule, i)
					break
				}
			}
		}
	}
	// Max-pooling sends every signal to its switch: with a 2x2 window on a
	// plane whose maxima are known, the signal lands exactly there.
	mp := NewMaxPool2d("mp", 2, 2, 0)
	x := FromData([]float32{1, 5, 2, 0, 3, 4, 9, 1, 0, 0, 0, 0, 7, 0, 0, 8}, 1, 1, 4, 4)
	y, sw, _ := mp.Forward(x, &Context{})
	dx, _ := mp.Backward(FromData([]float32{10, 20, 30, 40}, 1, 1, 2, 2), &Step{Layer: mp, In: x, Out: y, Saved: sw}, Deconvnet, nil)
	want := []float32{0, 10, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0, 30, 0, 0, 40}
	for i := range want {
		if dx.Data[i] != want[i] {
			t.Fatalf("unpooled %v, want %v", dx.Data, want)
		}
	}
}
