package nn

import (
	"math"
	"math/rand/v2"
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
