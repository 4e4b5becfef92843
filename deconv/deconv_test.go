package deconv

import (
	"context"
	"strings"
	"testing"

	"github.com/convscope/convscope/nn"
)

func forward(t *testing.T, layers []nn.Layer, x *nn.Tensor) (*nn.Sequential, *nn.Trace) {
	t.Helper()
	net := &nn.Sequential{Layers: layers}
	tr, err := net.Forward(x, &nn.Context{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return net, tr
}

// explain runs Explain on the first sample of tr's input and fails the
// test on an error.
func explain(t *testing.T, net *nn.Sequential, tr *nn.Trace, method string, g Goal) *Result {
	t.Helper()
	r, err := Explain(context.Background(), Model{Net: net}, tr.Input, tr, method, g, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func equal(t *testing.T, what string, got *nn.Tensor, want []float32) {
	t.Helper()
	for i := range want {
		if d := got.Data[i] - want[i]; d > 1e-6 || d < -1e-6 {
			t.Fatalf("%s:\n got %v\nwant %v", what, got.Data, want)
		}
	}
}

// A conv (2x2 filter [[1,0],[0,-1]], bias 0.5) -> ReLU -> 2x2 max-pool stack
// on a 5x5 image, worked by hand:
//
//	conv+bias, then ReLU          pool window of output (1,0): rows 2-3, cols 0-1
//	 .5  .5   0  .5               values 0, .5, .5, 1.5 -> max 1.5 at (3,1)
//	 .5  .5  .5 3.5
//	  0  .5  .5   0               unpool: 1.5 at (3,1) of the 4x4 map
//	 .5 1.5  .5  .5               rectify: unchanged (positive)
//	                              transposed conv: 1.5*W placed at (3,1):
//	                              +1.5 at (3,1), -1.5 at (4,2) of the input
func TestProjectHandWorked(t *testing.T) {
	conv := nn.NewConv2d("conv", 1, 1, 2, 1, 0, true)
	copy(conv.Weight.Value.Data, []float32{1, 0, 0, -1})
	conv.Bias.Value.Data[0] = 0.5
	x := nn.FromData([]float32{
		1, 0, 2, 0, 1,
		0, 1, 0, 3, 0,
		2, 0, 1, 0, 0,
		0, 4, 0, 1, 2,
		1, 0, 3, 0, 1,
	}, 1, 1, 5, 5)
	net, tr := forward(t, []nn.Layer{conv, nn.NewReLU("relu"), nn.NewMaxPool2d("pool", 2, 2, 0)}, x)
	equal(t, "pooled", tr.Steps[2].Out, []float32{0.5, 3.5, 1.5, 0.5})

	pool := find(t, tr, "pool")
	u, err := StrongestAt(pool, 0)
	if err != nil || u != (Unit{0, 0, 1}) {
		t.Fatalf("strongest = %+v, %v; want channel 0 at (0,1)", u, err)
	}
	got := explain(t, net, tr, "deconvnet", Goal{Layer: "pool", At: &Pos{1, 0}})
	want := make([]float32, 25)
	want[3*5+1], want[4*5+2] = 1.5, -1.5
	equal(t, "projection", got.Map, want)
	if got.Value != 1.5 || got.Unit != (Unit{0, 1, 0}) || got.Strongest || got.Class != -1 {
		t.Errorf("result %+v", got)
	}
}

// Two 1-channel convolutions with ReLUs. The first is the identity, so its
// ReLU is open everywhere on a positive image; the second has the filter
// [[1,-1],[-1,1]]. Projecting unit (0,0) of the second ReLU (value
// 3-1-1+1 = 2) through the transposed second filter gives [[2,-2],[-2,2]]:
// the gradient rule keeps the negatives (the forward ReLU was open), the
// deconvnet rectifies them to zero, which is the difference between the two.
func TestRectificationDiffersFromGradient(t *testing.T) {
	c1 := nn.NewConv2d("c1", 1, 1, 1, 1, 0, false)
	c1.Weight.Value.Data[0] = 1
	c2 := nn.NewConv2d("c2", 1, 1, 2, 1, 0, false)
	copy(c2.Weight.Value.Data, []float32{1, -1, -1, 1})
	x := nn.FromData([]float32{3, 1, 0.5, 1, 1, 1, 1, 1, 1}, 1, 1, 3, 3)
	net, tr := forward(t, []nn.Layer{c1, nn.NewReLU("r1"), c2, nn.NewReLU("r2")}, x)

	dec := explain(t, net, tr, "deconvnet", Goal{Layer: "r2", At: &Pos{0, 0}}).Map
	equal(t, "deconvnet", dec, []float32{2, 0, 0, 0, 2, 0, 0, 0, 0})

	seed := nn.New(tr.Steps[3].Out.Shape...)
	seed.Data[0] = tr.Steps[3].Out.Data[0]
	grad, err := net.Backward(tr, 3, seed, nn.Gradient, nil)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "gradient", grad, []float32{2, -2, 0, -2, 2, 0, 0, 0, 0})
	// The gradient method seeds 1, not the activation: half of that.
	g := explain(t, net, tr, "gradient", Goal{Layer: "r2", At: &Pos{0, 0}}).Map
	equal(t, "gradient method", g, []float32{1, -1, 0, -1, 1, 0, 0, 0, 0})
}

func TestProjectRejectsBadUnits(t *testing.T) {
	net, tr := forward(t, []nn.Layer{nn.NewReLU("r")}, nn.New(1, 2, 3, 3))
	for _, u := range []Unit{{2, 0, 0}, {0, 3, 0}, {0, 0, -1}} {
		g := Goal{Layer: "r", Channel: u.Channel, At: &Pos{u.Y, u.X}}
		if _, err := Explain(context.Background(), Model{Net: net}, tr.Input, tr, "deconvnet", g, Options{}, nil); err == nil {
			t.Errorf("unit %+v accepted", u)
		}
	}
	if _, err := StrongestAt(find(t, tr, "r"), 2); err == nil {
		t.Error("channel 2 of 2 accepted")
	}
	if _, err := Find(tr, "s"); err == nil {
		t.Error("a layer that is not there was found")
	}
}

// find is Find that fails the test.
func find(t *testing.T, tr *nn.Trace, name string) Target {
	t.Helper()
	tg, err := Find(tr, name)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// A layer inside a residual block projects like the same layer would in a
// flat network: with an identity-free body the shortcut adds nothing, so the
// projection from "res.conv" equals the flat network's from its conv.
func TestProjectAtNestedLayer(t *testing.T) {
	mk := func() (*nn.Conv2d, *nn.Conv2d) {
		a := nn.NewConv2d("a", 1, 2, 3, 1, 1, false)
		b := nn.NewConv2d("res.conv", 2, 2, 3, 1, 1, false)
		for i := range a.Weight.Value.Data {
			a.Weight.Value.Data[i] = float32(i%5) - 2
		}
		for i := range b.Weight.Value.Data {
			b.Weight.Value.Data[i] = float32(i%7) - 3
		}
		return a, b
	}
	x := nn.New(1, 1, 6, 6)
	for i := range x.Data {
		x.Data[i] = float32(i%9) / 9
	}
	a, b := mk()
	nested, nestedTr := forward(t, []nn.Layer{a, nn.NewReLU("r"), nn.NewResidual("res", nn.NewChain("res", b, nn.NewReLU("res.relu")), nil, nil)}, x)
	a2, b2 := mk()
	flat, flatTr := forward(t, []nn.Layer{a2, nn.NewReLU("r"), b2, nn.NewReLU("res.relu")}, x)

	target, err := Find(nestedTr, "res.relu")
	if err != nil {
		t.Fatal(err)
	}
	u, err := StrongestAt(target, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{"deconvnet", "gradient", "guided"} {
		g := Goal{Layer: "res.relu", Channel: 1}
		got := explain(t, nested, nestedTr, method, g)
		want := explain(t, flat, flatTr, method, g)
		if got.Unit != u || want.Unit != u {
			t.Errorf("%s: strongest %+v and %+v, want %+v", method, got.Unit, want.Unit, u)
		}
		equal(t, method+" from a nested layer", got.Map, want.Map.Data)
	}
	if _, err := Find(nestedTr, "res.nothing"); err == nil {
		t.Error("found a missing layer")
	}
}

// A channels-last layer (ConvNeXt's inside) names units as (channel, y, x)
// too: unit (c=1, y=0, x=2) of a (1,H=2,W=3,C=2) output is element
// (0*3+2)*2+1 = 5, and its strongest unit is found along that channel.
func TestChannelsLastUnits(t *testing.T) {
	out := nn.New(1, 2, 3, 2)
	for i := range out.Data {
		out.Data[i] = float32(i % 4) // channel 1 holds 1, 3, 1, 3, 1, 3
	}
	out.Data[2*2+1] = 9 // (y=0, x=2) of channel 1
	tg := Target{Name: "block.3", Step: &nn.Step{Out: out}, ChannelsLast: true}
	if i, err := tg.Index(Unit{Channel: 1, Y: 0, X: 2}); err != nil || i != 5 {
		t.Errorf("index %d, %v; want 5", i, err)
	}
	if u, err := StrongestAt(tg, 1); err != nil || u != (Unit{1, 0, 2}) {
		t.Errorf("strongest %+v, %v; want channel 1 at (0,2)", u, err)
	}
	seed, err := SeedAt(tg, Unit{1, 0, 2})
	var sum float32
	for _, v := range seed.Data {
		sum += v
	}
	if err != nil || seed.Data[5] != 9 || sum != 9 {
		t.Errorf("seed %v, %v", seed.Data, err)
	}
	if _, err := tg.Index(Unit{Channel: 2}); err == nil {
		t.Error("channel 2 of 2 accepted")
	}
}

// By hand on y = relu(2x) over x = (1, -1): the unit y[0] = 2. The
// gradient and guided backpropagation seed 1, which the ReLU passes (its
// input 2 > 0) and the 1x1 filter doubles: 2 at x[0], 0 at x[1]; the
// deconvnet seeds the activation 2: 4 at x[0].
func TestRuleMethods(t *testing.T) {
	conv := nn.NewConv2d("c", 1, 1, 1, 1, 0, false)
	conv.Weight.Value.Data[0] = 2
	x := nn.New(1, 1, 1, 2)
	x.Data[0], x.Data[1] = 1, -1
	net, tr := forward(t, []nn.Layer{conv, nn.NewReLU("r")}, x)
	for method, want := range map[string][]float32{"gradient": {2, 0}, "guided": {2, 0}, "deconvnet": {4, 0}} {
		equal(t, method, explain(t, net, tr, method, Goal{Layer: "r"}).Map, want)
	}
}

// The walk back's choices are named for the rule methods only, once per
// layer type, and only for the layers the walk may cross.
func TestCaveats(t *testing.T) {
	net, tr := forward(t, []nn.Layer{nn.NewConv2d("c", 1, 2, 1, 1, 0, false), nn.NewGELU("g"), nn.NewTanh("t"), nn.NewGELU("g2"), nn.NewReLU("r")}, nn.New(1, 1, 2, 2))
	_ = net
	at := func(method, layer string) []string {
		return Caveats(tr, &Result{Method: method, Layer: layer, Class: -1})
	}
	if c := at("deconvnet", "g"); len(c) != 1 || !strings.Contains(c[0], "GELU counts as a rectifier") {
		t.Errorf("deconvnet from g: %q", c)
	}
	if c := at("deconvnet", "r"); len(c) != 2 || !strings.Contains(c[1], "Tanh is not a rectifier") {
		t.Errorf("deconvnet from r: %q (GELU once, then Tanh)", c)
	}
	if c := at("guided", "t"); len(c) != 2 || !strings.Contains(c[0], "GELU passes the signal where it is positive") {
		t.Errorf("guided from t: %q", c)
	}
	for _, m := range []string{"gradient", "gradcam", "ig", "smoothgrad", "occlusion"} {
		if c := at(m, "r"); c != nil {
			t.Errorf("%s: %q", m, c)
		}
	}
	if c := Caveats(tr, &Result{Method: "deconvnet", Class: 0}); len(c) != 2 {
		t.Errorf("a class crosses every layer: %q", c)
	}
}
