package nn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestVectorActivationsMatchTheirFunctions: the vector loops that ReLU,
// ReLU6, Tanh, LeCunTanh and GELU run compute what their f and df say, for
// every rule, on lengths with and without a tail.
func TestVectorActivationsMatchTheirFunctions(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, a := range []*Activation{NewReLU("relu"), NewReLU6("relu6"), NewTanh("tanh"), NewLeCunTanh("lecun"), NewGELU("gelu")} {
		if a.fast == actGeneric {
			t.Fatalf("%s has no vector loop", a.Type())
		}
		for _, n := range []int{5, 64, 1000} {
			x, dy := New(1, n), New(1, n)
			for i := range x.Data {
				x.Data[i] = float32(r.NormFloat64() * 4)
				dy.Data[i] = float32(r.NormFloat64())
			}
			x.Data[0] = 0
			y, _, err := a.Forward(x, &Context{})
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range x.Data {
				if want := a.f(v); !close32(y.Data[i], want, 1e-6) {
					t.Fatalf("%s forward at %g: %g, f gives %g", a.Type(), v, y.Data[i], want)
				}
			}
			for _, rule := range []Rule{Gradient, Deconvnet, Guided} {
				dx, err := a.Backward(dy, &Step{Layer: a, In: x, Out: y}, rule, nil)
				if err != nil {
					t.Fatal(err)
				}
				for i, d := range dy.Data {
					want := d
					if rule != Gradient && (a.rectifier || rule == Guided) {
						want = max(d, 0)
					}
					if rule != Deconvnet {
						want *= a.df(x.Data[i], y.Data[i])
					}
					if !close32(dx.Data[i], want, 1e-5) {
						t.Fatalf("%s %v backward at x=%g: %g, want %g", a.Type(), rule, x.Data[i], dx.Data[i], want)
					}
				}
			}
		}
	}
}

func close32(got, want float32, tol float64) bool {
	return math.Abs(float64(got-want)) <= tol*math.Max(1, math.Abs(float64(want)))
}

// With Context.InPlace a rectifier writes over its input only where that
// input is private (the output of a convolution, batch norm or linear layer
// of its chain, or a residual sum), and a training step's gradients are
// bit-identical to keeping every output: a rectifier after a tanh (whose
// backward reads its output), first in a chain (its input is the caller's)
// or first in a residual body (the shortcut reads the same input) keeps
// its own output.
func TestRectifyInPlaceOnlyOverPrivateInputs(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	body := NewChain("r.body", NewReLU("r.body.0"), NewConv2d("r.body.1", 3, 3, 3, 1, 1, false), NewBatchNorm2d("r.body.2", 3))
	net := &Sequential{Layers: []Layer{
		NewReLU("first"),
		NewConv2d("c1", 2, 3, 3, 1, 1, true), NewBatchNorm2d("bn1", 3), NewReLU6("relu1"),
		NewResidual("r", body, nil, NewReLU("r.relu")),
		NewTanh("tanh"), NewReLU("after_tanh"),
		NewFlatten("flat"), NewLinear("fc", 3*5*5, 4, true), NewReLU("relu_fc"), NewLinear("out", 4, 2, true),
	}}
	Init(net.Layers, rng)
	x := randTensor(rng, 2, 2, 5, 5)
	r := randTensor(rng, 2, 2)
	var grads [2]Grads
	var dxs [2]*Tensor
	for k, inPlace := range []bool{false, true} {
		in := x.Clone()
		tr, err := net.Forward(in, &Context{Train: true, InPlace: inPlace}, nil)
		if err != nil {
			t.Fatal(err)
		}
		shared := map[string]bool{}
		for _, st := range tr.Steps {
			shared[st.Layer.Name()] = sharesData(st.In, st.Out)
		}
		rs := tr.Steps[4].Saved.(residualSaved)
		shared["r.relu"] = sharesData(rs.after.In, rs.after.Out)
		shared["r.body.0"] = sharesData(rs.body.Saved.(*Trace).Steps[0].In, rs.body.Saved.(*Trace).Steps[0].Out)
		for _, name := range []string{"relu1", "r.relu", "relu_fc"} {
			if shared[name] != inPlace {
				t.Errorf("InPlace %v: %s wrote over its input: %v", inPlace, name, shared[name])
			}
		}
		for _, name := range []string{"first", "r.body.0", "after_tanh"} {
			if shared[name] {
				t.Errorf("InPlace %v: %s wrote over an input others read", inPlace, name)
			}
		}
		if !slices.Equal(in.Data, x.Data) {
			t.Errorf("InPlace %v: the caller's input changed", inPlace)
		}
		grads[k] = Grads{}
		if dxs[k], err = net.Backward(tr, len(tr.Steps)-1, r, Gradient, grads[k]); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(dxs[0].Data, dxs[1].Data) {
		t.Error("the input's gradient differs in place")
	}
	for _, p := range net.Params() {
		if !slices.Equal(grads[0].For(p).Data, grads[1].For(p).Data) {
			t.Errorf("%s's gradient differs in place", p.Name)
		}
	}
}
