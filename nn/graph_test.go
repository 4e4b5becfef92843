package nn

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// denseGraph is a small graph of every kind of wiring a Graph carries:
// DenseNet's reuse (x read by two concatenations), a squeeze-and-excitation
// gate (a (C,1,1) product), and an addition of values from different depths.
func denseGraph(t *testing.T, act func(string) *Activation) *Graph {
	t.Helper()
	g, err := NewGraph("g",
		Node{NewConv2d("g.c1", 3, 4, 3, 1, 1, true), []int{-1}},  // 0
		Node{act("g.a1"), []int{0}},                              // 1
		Node{NewMark("g.cat1", "Cat"), []int{-1, 1}},             // 2: 7 channels
		Node{NewConv2d("g.c2", 7, 4, 3, 1, 1, true), []int{2}},   // 3
		Node{NewMark("g.cat2", "Cat"), []int{-1, 1, 3}},          // 4: 11 channels
		Node{NewAdaptiveAvgPool2d("g.pool", 1, 1), []int{4}},     // 5
		Node{NewConv2d("g.fc", 11, 11, 1, 1, 0, true), []int{5}}, // 6
		Node{NewSigmoid("g.gate"), []int{6}},                     // 7
		Node{NewMark("g.scale", "Mul"), []int{4, 7}},             // 8
		Node{NewConv2d("g.c3", 11, 4, 1, 1, 0, false), []int{8}}, // 9
		Node{NewMark("g.add", "Add"), []int{9, 3}},               // 10
		Node{NewMaxPool2d("g.mp", 2, 2, 0), []int{10}},           // 11
	)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// The graph's gradients, to its input and every parameter, are the finite
// differences of its forward pass.
func TestGraphGradients(t *testing.T) {
	gradCheck(t, denseGraph(t, NewTanh), &Context{}, 1e-2, 2, 3, 6, 6)
}

// A graph wired as a residual block and one wired as a concatenation give
// the blocks' outputs and backward signals under every rule, from the same
// layers.
func TestGraphMatchesBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	c1, r1, c2, after := NewConv2d("c1", 4, 4, 3, 1, 1, true), NewReLU("r1"), NewConv2d("c2", 4, 4, 3, 1, 1, false), NewReLU("after")
	res := NewResidual("res", NewChain("res.body", c1, r1, c2), nil, after)
	b1, b2a, b2b := NewConv2d("b1", 4, 2, 1, 1, 0, true), NewMaxPool2d("b2a", 3, 1, 1), NewConv2d("b2b", 4, 3, 1, 1, 0, true)
	cat := NewConcat("cat", NewChain("cat.b1", b1), NewChain("cat.b2", b2a, b2b))
	Init([]Layer{res, cat}, rng)
	gres, err := NewGraph("res", Node{c1, []int{-1}}, Node{r1, []int{0}}, Node{c2, []int{1}}, Node{NewMark("res.add", "Add"), []int{2, -1}}, Node{after, []int{3}})
	if err != nil {
		t.Fatal(err)
	}
	gcat, err := NewGraph("cat", Node{b1, []int{-1}}, Node{b2a, []int{-1}}, Node{b2b, []int{1}}, Node{NewMark("cat.cat", "Cat"), []int{0, 2}})
	if err != nil {
		t.Fatal(err)
	}
	x := randTensor(rng, 2, 4, 5, 5)
	for _, pair := range [][2]Layer{{res, gres}, {cat, gcat}} {
		var outs, ins [2]*Tensor
		var steps [2]*Step
		for k, l := range pair {
			y, saved, err := l.Forward(x, &Context{})
			if err != nil {
				t.Fatal(err)
			}
			outs[k], steps[k] = y, &Step{Layer: l, In: x, Out: y, Saved: saved}
		}
		if d := maxDiff(outs[0].Data, outs[1].Data); d > 1e-6 {
			t.Errorf("%s: graph output differs by %g", pair[0].Name(), d)
		}
		dy := randTensor(rng, outs[0].Shape...)
		for _, rule := range []Rule{Gradient, Deconvnet, Guided} {
			for k, l := range pair {
				if ins[k], err = l.Backward(dy, steps[k], rule, nil); err != nil {
					t.Fatal(err)
				}
			}
			if d := maxDiff(ins[0].Data, ins[1].Data); d > 1e-5 {
				t.Errorf("%s under %s: graph's input signal differs by %g", pair[0].Name(), rule, d)
			}
		}
	}
}

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d float64
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// Every node is a part that Locate finds, and a seed at a node's output
// walks back to the input as the finite differences of that node's output
// say: inner layers, joins, and a value read again further on.
func TestGraphBackwardFromParts(t *testing.T) {
	g := denseGraph(t, NewTanh)
	rng := rand.New(rand.NewPCG(5, 6))
	Init([]Layer{g}, rng)
	net := &Sequential{Layers: []Layer{NewConv2d("stem", 3, 3, 1, 1, 0, true), g}}
	Init(net.Layers[:1], rng)
	x := randTensor(rng, 1, 3, 6, 6)
	tr, err := net.Forward(x, &Context{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"g.c1", "g.cat1", "g.c2", "g.scale", "g.add", "g.mp"} {
		path, st, ok := tr.Locate(name)
		if !ok || len(path) != 2 || path[0] != 1 {
			t.Fatalf("Locate(%s) = %v, %v", name, path, ok)
		}
		r := randTensor(rng, st.Out.Shape...)
		dx, err := net.BackwardFromPath(tr, path, r, Gradient, nil)
		if err != nil {
			t.Fatal(err)
		}
		// sum(r * out(name)) by finite differences of the input.
		loss := func() float64 {
			tr, err := net.Forward(x, &Context{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, st, _ := tr.Locate(name)
			var s float64
			for i, v := range st.Out.Data {
				s += float64(v) * float64(r.Data[i])
			}
			return s
		}
		var worst, scale float64
		for i := range x.Data {
			orig := x.Data[i]
			x.Data[i] = orig + 1e-2
			up := loss()
			x.Data[i] = orig - 1e-2
			down := loss()
			x.Data[i] = orig
			num := (up - down) / 2e-2
			worst, scale = max(worst, math.Abs(num-float64(dx.Data[i]))), max(scale, math.Abs(num))
		}
		if worst > 1e-2*max(scale, 1e-3) {
			t.Errorf("seed at %s: max |analytic - numeric| = %.3g of %.3g", name, worst, scale)
		}
	}
}

// The summary's view of a graph: its nodes as rows with their shapes,
// each join naming what it reads, and the shapes the blocks' checks give.
func TestGraphShapesAndWindow(t *testing.T) {
	g := denseGraph(t, NewReLU)
	if s, err := g.OutputShape([]int{3, 8, 8}); err != nil || !SameShape(s, []int{4, 4, 4}) {
		t.Errorf("OutputShape = %v, %v", s, err)
	}
	// The widest path: c1 (3), c2 (3), add, max pool (2, stride 2).
	if k, s, p := g.Window(); k != 6 || s != 2 || p != 2 {
		t.Errorf("Window = %d, %d, %d", k, s, p)
	}
	if _, err := g.OutputShape([]int{2, 8, 8}); err == nil {
		t.Error("a 2-channel input went through a 3-channel convolution")
	}
	if g.MACs([]int{3, 8, 8}) <= 0 || len(g.Params()) != 7 {
		t.Errorf("MACs %d, %d params", g.MACs([]int{3, 8, 8}), len(g.Params()))
	}
}

// Wiring that is not a DAG of one-input layers and joins is refused.
func TestGraphWiringRefused(t *testing.T) {
	relu := func() Layer { return NewReLU("r") }
	for _, c := range []struct {
		nodes []Node
		want  string
	}{
		{nil, "no nodes"},
		{[]Node{{relu(), []int{0}}}, "not the input or a node before it"},
		{[]Node{{relu(), []int{-1, -1}}}, "reads 2 values, want one"},
		{[]Node{{relu(), []int{-1}}, {NewMark("m", "Add"), []int{0}}}, "joins 1 values"},
		{[]Node{{relu(), []int{-1}}, {relu(), []int{-1}}, {relu(), []int{1}}}, "nothing reads r's output"},
		{[]Node{{relu(), []int{-1}}, {NewMark("m", "Mul"), []int{0, 0, -1}}}, "multiplies 3 values"},
	} {
		if _, err := NewGraph("g", c.nodes...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.nodes, err, c.want)
		}
	}
	g, err := NewGraph("g", Node{NewAdaptiveAvgPool2d("p", 2, 1), []int{-1}}, Node{NewMark("m", "Mul"), []int{-1, 0}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.OutputShape([]int{3, 4, 4}); err == nil || !strings.Contains(err.Error(), "m (Mul): inputs [3, 4, 4], [3, 2, 1]") {
		t.Errorf("a product of shapes that do not broadcast: %v", err)
	}
}
