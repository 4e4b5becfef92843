package nn

import (
	"math/rand/v2"
	"testing"
)

// Saving an optimizer's state after two steps and loading it into a fresh
// one gives bit-identical third steps: what kill-safe training resumes from.
func TestOptimizerStateRoundTrip(t *testing.T) {
	for _, mk := range []func() Optimizer{
		func() Optimizer { return NewSGD(0.1, 0.9, 1e-3) },
		func() Optimizer { return NewAdamW(0.01, 0.05) },
	} {
		rng := rand.New(rand.NewPCG(1, 1))
		params := []*Param{{Name: "w", Value: randTensor(rng, 3, 2)}, {Name: "b", Value: randTensor(rng, 2), NoDecay: true}}
		grads := func(k int) Grads {
			g := Grads{}
			for _, p := range params {
				g[p] = randTensor(rand.New(rand.NewPCG(uint64(k), 7)), p.Value.Shape...)
			}
			return g
		}
		a := mk()
		a.Step(grads(1))
		a.Step(grads(2))
		saved := StateOf(a, params)
		copies := make([]*Param, len(params))
		for i, p := range params {
			copies[i] = &Param{Name: p.Name, Value: p.Value.Clone(), NoDecay: p.NoDecay}
		}
		b := mk()
		if err := LoadStateInto(b, copies, saved); err != nil {
			t.Fatal(err)
		}
		a.Step(grads(3))
		g3 := Grads{}
		for i, p := range copies {
			g3[p] = grads(3)[params[i]]
		}
		b.Step(g3)
		for i, p := range params {
			for j, v := range p.Value.Data {
				if copies[i].Value.Data[j] != v {
					t.Fatalf("%T: %s[%d] = %g after resuming, %g uninterrupted", a, p.Name, j, copies[i].Value.Data[j], v)
				}
			}
		}
	}
}
