package zoo

import (
	"math"
	"testing"

	"github.com/convscope/convscope/nn"
)

// maxRelDiff is max|a-b| / max(max|b|, 1e-6): the error relative to the
// reference's scale, the figure the parity tests report.
func maxRelDiff(a, b []float32) float64 {
	var d, s float64
	for i := range b {
		d = max(d, math.Abs(float64(a[i]-b[i])))
		s = max(s, math.Abs(float64(b[i])))
	}
	return d / max(s, 1e-6)
}

// TestLeNet5MatchesPyTorch loads the fixture written by tools/parity/gen.py
// under PyTorch 1.13 and compares logits, loss, every gradient and two SGD
// steps. float32 sums of a few hundred terms in a different order differ by
// about 1e-6 relative; 1e-4 leaves room and still catches any wrong index.
func TestLeNet5MatchesPyTorch(t *testing.T) {
	ref, meta, err := nn.LoadSafetensors("testdata/lenet5_parity.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fixture from torch %s", meta["torch"])
	m, err := Build("lenet5", nil, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	state := map[string]*nn.Tensor{}
	for _, p := range m.Net.Params() {
		state[p.Name] = ref[p.Name]
	}
	if err := m.Net.Load(state); err != nil {
		t.Fatal(err)
	}
	labels := make([]int, len(ref["labels"].Data))
	for i, v := range ref["labels"].Data {
		labels[i] = int(v)
	}
	tr, err := m.Net.Forward(ref["input"], &nn.Context{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, got, want *nn.Tensor) {
		t.Helper()
		if !nn.SameShape(got.Shape, want.Shape) {
			t.Fatalf("%s: shape %v, want %v", what, got.Shape, want.Shape)
		}
		d := maxRelDiff(got.Data, want.Data)
		if d > 1e-4 {
			t.Errorf("%s: max relative difference %.3g", what, d)
		} else {
			t.Logf("%s: %.2g", what, d)
		}
	}
	check("logits", tr.Output(), ref["logits"])
	loss, dlogits, err := nn.CrossEntropy(tr.Output(), labels)
	if err != nil {
		t.Fatal(err)
	}
	check("loss", nn.FromData([]float32{loss}, 1), ref["loss"])
	g := nn.Grads{}
	dx, err := m.Net.Backward(tr, len(tr.Steps)-1, dlogits, nn.Gradient, g)
	if err != nil {
		t.Fatal(err)
	}
	check("grad.input", dx, ref["grad.input"])
	for _, p := range m.Net.Params() {
		check("grad."+p.Name, g.For(p), ref["grad."+p.Name])
	}

	opt := nn.NewSGD(0.1, 0.9, 5e-4) // biases are NoDecay, as the fixture's groups
	opt.Step(g)
	for _, p := range m.Net.Params() {
		check("sgd1."+p.Name, p.Value, ref["sgd1."+p.Name])
	}
	tr, _ = m.Net.Forward(ref["input"], &nn.Context{}, nil)
	_, dlogits, _ = nn.CrossEntropy(tr.Output(), labels)
	g = nn.Grads{}
	if _, err := m.Net.Backward(tr, len(tr.Steps)-1, dlogits, nn.Gradient, g); err != nil {
		t.Fatal(err)
	}
	opt.Step(g)
	for _, p := range m.Net.Params() {
		check("sgd2."+p.Name, p.Value, ref["sgd2."+p.Name])
	}
}
