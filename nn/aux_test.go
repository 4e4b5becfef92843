package nn

import (
	"math/rand/v2"
	"testing"
)

// A net with an auxiliary head: the total loss L = sum(y*r) + sum(aux*q)
// must have the gradient the backward pass returns once the head's gradient
// q is set, checked by finite differences; in evaluation the head is skipped.
func TestAuxHeadGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	head := NewChain("aux", NewAdaptiveAvgPool2d("aux.pool", 2, 2), NewFlatten("aux.flat"), NewLinear("aux.fc", 12, 3, true))
	net := &Sequential{Layers: []Layer{NewConv2d("c", 2, 3, 3, 1, 1, true), NewAuxHead("aux", head, 0.3),
		NewTanh("t"), NewFlatten("f"), NewLinear("fc", 3*4*4, 2, true)}}
	Init(net.Layers, rng)
	x := randTensor(rng, 2, 2, 4, 4)
	r, q := randTensor(rng, 2, 2), randTensor(rng, 2, 3)
	train := &Context{Train: true}
	loss := func() float64 {
		tr, err := net.Forward(x, train, nil)
		if err != nil {
			t.Fatal(err)
		}
		var s float64
		for i, v := range tr.Output().Data {
			s += float64(v * r.Data[i])
		}
		for i, v := range tr.AuxOutputs()[0].Logits.Data {
			s += float64(v * q.Data[i])
		}
		return s
	}
	tr, _ := net.Forward(x, train, nil)
	aux := tr.AuxOutputs()
	if len(aux) != 1 || aux[0].Weight != 0.3 {
		t.Fatalf("aux outputs %v", aux)
	}
	aux[0].SetGradient(q)
	g := Grads{}
	dx, err := net.Backward(tr, len(tr.Steps)-1, r, Gradient, g)
	if err != nil {
		t.Fatal(err)
	}
	checkInputGradient(t, "aux net", x, dx, loss)
	if g.For(head.Layers[2].Params()[0]).Data[0] == 0 {
		t.Error("the head's weights got no gradient")
	}
	ev, _ := net.Forward(x, &Context{}, nil)
	if len(ev.AuxOutputs()) != 0 {
		t.Error("evaluation ran the auxiliary head")
	}
}

func abs(v float64) float64 { return max(v, -v) }

// checkInputGradient compares dx with central differences (eps 1e-2) of
// loss, a function of x's current values, within 1e-2 relative.
func checkInputGradient(t *testing.T, what string, x, dx *Tensor, loss func() float64) {
	t.Helper()
	const eps = 1e-2
	for i := range x.Data {
		orig := x.Data[i]
		x.Data[i] = orig + eps
		up := loss()
		x.Data[i] = orig - eps
		down := loss()
		x.Data[i] = orig
		if num := (up - down) / (2 * eps); abs(num-float64(dx.Data[i])) > 1e-2*max(1, abs(num)) {
			t.Fatalf("%s: dx[%d] = %g, numeric %g", what, i, dx.Data[i], num)
		}
	}
}
