package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// A seed at a layer inside a residual block's body, inside a chain, walks
// back to the input exactly as the same seed would through an equivalent
// flat network: checked against finite differences of that inner output.
// The marks (the identity shortcut, the addition, the concatenation) are
// checked the same way.
func TestBackwardFromNestedLayer(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	inner := NewConv2d("stage.0.conv2", 3, 3, 3, 1, 1, true)
	block := NewResidual("stage.0",
		NewChain("stage.0", NewConv2d("stage.0.conv1", 3, 3, 3, 1, 1, true), NewTanh("stage.0.act"), inner),
		nil, NewTanh("stage.0.after"))
	net := &Sequential{Layers: []Layer{NewConv2d("stem", 2, 3, 3, 1, 1, true), NewTanh("stem.act"), NewChain("stage", block),
		NewConcat("mix", NewChain("mix.a", NewConv2d("mix.a.conv", 3, 2, 1, 1, 0, true)), NewChain("mix.b", NewAvgPool2d("mix.b.pool", 1, 1, 0)))}}
	Init(net.Layers, rng)
	x := randTensor(rng, 1, 2, 4, 4)
	tr, err := net.Forward(x, &Context{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"stage.0.conv2", "stage.0.conv1", "stage.0.after", "stage.0.add", "stage.0.shortcut", "mix.a.conv", "mix.b.pool", "mix.cat", "stem"} {
		path, st, ok := tr.Locate(name)
		if !ok {
			t.Fatalf("%s not found", name)
		}
		r := randTensor(rng, st.Out.Shape...)
		dx, err := net.BackwardFromPath(tr, path, r, Gradient, nil)
		if err != nil {
			t.Fatal(err)
		}
		// sum(inner output * r) as a function of x, by central differences.
		loss := func() float64 {
			tr2, _ := net.Forward(x, &Context{}, nil)
			_, st2, _ := tr2.Locate(name)
			var s float64
			for i, v := range st2.Out.Data {
				s += float64(v * r.Data[i])
			}
			return s
		}
		checkInputGradient(t, fmt.Sprintf("%s (path %v)", name, path), x, dx, loss)
	}
	if _, _, ok := tr.Locate("nowhere"); ok {
		t.Error("found a layer that is not there")
	}
}

// Inside lists what a visitor sees when a block opens: the residual body's
// and shortcut's layers on their branches, then the marks and the layer
// after the sum; a concatenation's branches side by side, then its mark.
func TestInside(t *testing.T) {
	res := NewResidual("b", NewChain("b", NewConv2d("b.conv1", 2, 2, 3, 1, 1, false), NewReLU("b.relu1")),
		NewChain("b.downsample", NewConv2d("b.downsample.0", 2, 2, 1, 1, 0, false)), NewReLU("b.relu"))
	ident := NewResidual("c", NewChain("c.block", NewReLU("c.block.0")), nil, nil)
	cat := NewConcat("m", NewChain("m.branch1", NewReLU("m.branch1.relu")), NewChain("m.branch2", NewReLU("m.branch2.0"), NewReLU("m.branch2.1")))
	for _, c := range []struct {
		block Opener
		want  []string
	}{
		{res, []string{"b.conv1 Conv2d main", "b.relu1 ReLU main", "b.downsample.0 Conv2d shortcut", "b.add Add ", "b.relu ReLU "}},
		{ident, []string{"c.block.0 ReLU main", "c.shortcut Identity shortcut", "c.add Add "}},
		{cat, []string{"m.branch1.relu ReLU m.branch1", "m.branch2.0 ReLU m.branch2", "m.branch2.1 ReLU m.branch2", "m.cat Cat "}},
	} {
		var got []string
		for _, p := range c.block.Inside() {
			got = append(got, p.Layer.Name()+" "+p.Layer.Type()+" "+p.Branch)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("Inside() = %q, want %q", got, c.want)
		}
	}
}
