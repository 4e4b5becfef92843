package experiment

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/convscope/convscope/nn"
)

// fig5Net is conv 3→4 (3x3, pad 1) → ReLU → max-pool 2 → flatten →
// linear to 5 classes, for (1,3,8,8) inputs, with seeded weights.
func fig5Net(t *testing.T) *nn.Sequential {
	t.Helper()
	layers := []nn.Layer{
		nn.NewConv2d("conv", 3, 4, 3, 1, 1, true), nn.NewReLU("relu"), nn.NewMaxPool2d("pool", 2, 2, 0),
		nn.NewFlatten("flat"), nn.NewLinear("fc", 4*4*4, 5, true),
	}
	nn.Init(layers, rand.New(rand.NewPCG(1, 2)))
	return &nn.Sequential{Layers: layers}
}

// fig5Input is a (1,c,h,w) tensor of values in [-1, 1).
func fig5Input(c, h, w int, seed uint64) *nn.Tensor {
	r := rand.New(rand.NewPCG(seed, 7))
	x := nn.New(1, c, h, w)
	for i := range x.Data {
		x.Data[i] = float32(r.Float64()*2 - 1)
	}
	return x
}

// fig5Softmax is the test's own softmax of logits row 0 at class k.
func fig5Softmax(logits []float32, k int) float64 {
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v))
	}
	return math.Exp(float64(logits[k])) / sum
}

// fig5Output runs x alone and returns a copy of the named layer's output.
func fig5Output(t *testing.T, net *nn.Sequential, x *nn.Tensor, name string) []float32 {
	t.Helper()
	tr, err := net.Forward(x, &nn.Context{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, st, ok := tr.Locate(name)
	if !ok {
		t.Fatalf("no %s", name)
	}
	return append([]float32(nil), st.Out.Data...)
}

func TestInvarianceApplyIdentityIsExact(t *testing.T) {
	x := fig5Input(3, 7, 9, 1)
	for _, tf := range []Transform{{Translate, 0}, {Scale, 1}, {Rotate, 0}, {Rotate, 360}} {
		y := Apply(x, tf)
		for i := range x.Data {
			if y.Data[i] != x.Data[i] {
				t.Fatalf("%v: value %d is %v, want %v", tf, i, y.Data[i], x.Data[i])
			}
		}
	}
}

func TestInvarianceApplyByHand(t *testing.T) {
	// A 1x3x5 picture holding 1..15, row by row.
	x := nn.FromData([]float32{
		1, 2, 3, 4, 5,
		6, 7, 8, 9, 10,
		11, 12, 13, 14, 15,
	}, 1, 1, 3, 5)
	square := nn.FromData([]float32{1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3)
	cases := []struct {
		in   *nn.Tensor
		t    Transform
		want []float32
	}{
		// 0.4 of 5 columns: two pixels right, mean (0) coming in on the left.
		{x, Transform{Translate, 0.4}, []float32{
			0, 0, 1, 2, 3,
			0, 0, 6, 7, 8,
			0, 0, 11, 12, 13,
		}},
		// -0.2 of 5 columns: one pixel left.
		{x, Transform{Translate, -0.2}, []float32{
			2, 3, 4, 5, 0,
			7, 8, 9, 10, 0,
			12, 13, 14, 15, 0,
		}},
		// 90° counter-clockwise: the right column becomes the top row.
		{square, Transform{Rotate, 90}, []float32{
			3, 6, 9,
			2, 5, 8,
			1, 4, 7,
		}},
		// Twice as large about the centre (1,1): pixel (0,0) samples the
		// input at (0.5,0.5), the mean of 1, 2, 4 and 5.
		{square, Transform{Scale, 2}, []float32{
			3, 3.5, 4,
			4.5, 5, 5.5,
			6, 6.5, 7,
		}},
	}
	for _, c := range cases {
		got := Apply(c.in, c.t)
		if !nn.SameShape(got.Shape, c.in.Shape) {
			t.Fatalf("%v: shape %v", c.t, got.Shape)
		}
		for i, w := range c.want {
			if math.Abs(float64(got.Data[i]-w)) > 1e-5 {
				t.Fatalf("%v: got %v, want %v", c.t, got.Data, c.want)
			}
		}
	}
}

func TestInvarianceSweepRanges(t *testing.T) {
	cases := []struct {
		kind  string
		steps int
		want  []float64
	}{
		{Translate, 13, []float64{-0.3, -0.25, -0.2, -0.15, -0.1, -0.05, 0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3}},
		{Scale, 5, []float64{0.5, 0.75, 1, 1.25, 1.5}},
		{Rotate, 13, []float64{0, 30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 330, 360}},
	}
	for _, c := range cases {
		got := Sweep(c.kind, c.steps)
		if len(got) != len(c.want) {
			t.Fatalf("%s: %d transforms, want %d", c.kind, len(got), len(c.want))
		}
		for i, tf := range got {
			if tf.Kind != c.kind || tf.Amount != c.want[i] {
				t.Errorf("%s step %d: %v, want %v", c.kind, i, tf, c.want[i])
			}
		}
	}
	// The identity points are exact, not merely close.
	if Sweep(Translate, 13)[6].Amount != 0 || Sweep(Scale, 5)[2].Amount != 1 || Sweep(Rotate, 13)[12].Amount != 360 {
		t.Error("identity points of the sweeps are not exact")
	}
	if Sweep("shear", 5) != nil || Sweep(Rotate, 1) != nil {
		t.Error("unknown kind or a single step gave a sweep")
	}
}

func TestInvarianceZeroPoint(t *testing.T) {
	net := fig5Net(t)
	x := fig5Input(3, 8, 8, 3)
	tr, err := net.Forward(x, &nn.Context{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const label = 2
	want := fig5Softmax(tr.Output().Data, label)
	for _, kind := range Kinds {
		ts := Sweep(kind, 5) // translate -0.3..0.3 and scale 0.5..1.5: identity in the middle
		zero, far := 2, 4
		if kind == Rotate { // 0, 90, 180, 270, 360
			zero, far = 0, 2
		}
		var calls [][2]int
		progress := func(done, total int) { calls = append(calls, [2]int{done, total}) }
		r, err := Invariance(context.Background(), net, x, label, []string{"conv", "pool", "fc"}, ts, 3, progress)
		if err != nil {
			t.Fatal(err)
		}
		if len(calls) == 0 || calls[len(calls)-1] != [2]int{5, 5} {
			t.Errorf("%s: progress %v, want it to end at 5 of 5", kind, calls)
		}
		if r.Kind != kind || len(r.Amounts) != 5 || len(r.Layers) != 3 || len(r.Probability) != 5 {
			t.Fatalf("%s: result %+v", kind, r)
		}
		for _, l := range r.Layers {
			if l.Distance[zero] != 0 || l.Relative[zero] != 0 {
				t.Errorf("%s %s: distance %v at the identity", kind, l.Layer, l.Distance[zero])
			}
			if l.Distance[far] == 0 {
				t.Errorf("%s %s: the far end did not move the features", kind, l.Layer)
			}
		}
		if math.Abs(r.Probability[zero]-want) > 1e-6 || math.Abs(r.Plain-want) > 1e-6 {
			t.Errorf("%s: probability %v at the identity, plain %v; a separate pass gives %v", kind, r.Probability[zero], r.Plain, want)
		}
	}
}

func TestInvarianceRotate360IsRotate0(t *testing.T) {
	net := fig5Net(t)
	x := fig5Input(3, 8, 8, 4)
	r, err := Invariance(context.Background(), net, x, 0, []string{"relu", "fc"}, []Transform{{Rotate, 0}, {Rotate, 360}, {Rotate, 359.999}}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range r.Layers {
		if math.Abs(l.Distance[1]-l.Distance[0]) > 1e-9 {
			t.Errorf("%s: rotate 360 at %v, rotate 0 at %v", l.Layer, l.Distance[1], l.Distance[0])
		}
		if l.Distance[2] == 0 || l.Distance[2] > 1e-2 {
			t.Errorf("%s: rotate 359.999 at %v, want small but not 0", l.Layer, l.Distance[2])
		}
	}
	if math.Abs(r.Probability[1]-r.Probability[0]) > 1e-9 {
		t.Errorf("probability %v at 360, %v at 0", r.Probability[1], r.Probability[0])
	}
}

// fig5Shift moves every plane of x (1,C,H,W) k pixels right, zeros
// coming in: the test's own translation, not Apply's.
func fig5Shift(x *nn.Tensor, k int) *nn.Tensor {
	c, h, w := x.Shape[1], x.Shape[2], x.Shape[3]
	out := nn.New(x.Shape...)
	for ch := range c {
		for y := range h {
			for xx := k; xx < w; xx++ {
				out.Data[(ch*h+y)*w+xx] = x.Data[(ch*h+y)*w+xx-k]
			}
		}
	}
	return out
}

func TestInvarianceDistanceMatchesSeparatePasses(t *testing.T) {
	net := fig5Net(t)
	x := fig5Input(3, 8, 8, 5)
	// 0.25 of 8 columns is 2 pixels; batch 1 and 2 split the sweep.
	ts := []Transform{{Translate, 0.125}, {Translate, 0.25}, {Translate, 0.375}}
	for _, batch := range []int{1, 2} {
		r, err := Invariance(context.Background(), net, x, 4, []string{"conv", "fc"}, ts, batch, nil)
		if err != nil {
			t.Fatal(err)
		}
		for li, name := range []string{"conv", "fc"} {
			plain := fig5Output(t, net, x, name)
			var sq, pn float64
			moved := fig5Output(t, net, fig5Shift(x, 2), name)
			for i := range plain {
				d := float64(moved[i]) - float64(plain[i])
				sq += d * d
				pn += float64(plain[i]) * float64(plain[i])
			}
			want := math.Sqrt(sq)
			got := r.Layers[li].Distance[1]
			if math.Abs(got-want) > 1e-5*want {
				t.Errorf("batch %d %s: distance %v, separate passes give %v", batch, name, got, want)
			}
			if rel := r.Layers[li].Relative[1]; math.Abs(rel-want/math.Sqrt(pn)) > 1e-5*rel {
				t.Errorf("batch %d %s: relative %v, want %v", batch, name, rel, want/math.Sqrt(pn))
			}
		}
		logits := fig5Output(t, net, fig5Shift(x, 2), "fc")
		if p := fig5Softmax(logits, 4); math.Abs(r.Probability[1]-p) > 1e-6 {
			t.Errorf("batch %d: probability %v, a separate pass gives %v", batch, r.Probability[1], p)
		}
	}
}

func TestInvarianceRefuses(t *testing.T) {
	net := fig5Net(t)
	x := fig5Input(3, 8, 8, 6)
	ts := Sweep(Translate, 3)
	bg := context.Background()
	if _, err := Invariance(bg, net, x, 0, []string{"conv", "conv9"}, ts, 0, nil); err == nil || !strings.Contains(err.Error(), `"conv9"`) {
		t.Errorf("unknown layer: %v", err)
	}
	if _, err := Invariance(bg, net, x, 5, []string{"conv"}, ts, 0, nil); err == nil || !strings.Contains(err.Error(), "class 5") {
		t.Errorf("label 5 of 5 classes: %v", err)
	}
	if _, err := Invariance(bg, net, x, 0, []string{"conv"}, []Transform{{"shear", 1}}, 0, nil); err == nil || !strings.Contains(err.Error(), "shear") {
		t.Errorf("unknown kind: %v", err)
	}
	if _, err := Invariance(bg, net, nn.New(2, 3, 8, 8), 0, []string{"conv"}, ts, 0, nil); err == nil || !strings.Contains(err.Error(), "[2, 3, 8, 8]") {
		t.Errorf("a batch of two: %v", err)
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if _, err := Invariance(ctx, net, x, 0, []string{"conv"}, ts, 0, nil); err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Errorf("cancelled context: %v", err)
	}
}
