package arith

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/zoo"
)

// traced builds model with random weights (batch norms' statistics
// included, so that their formula is not the identity) and runs two random
// pictures through it in eval mode.
func traced(t *testing.T, model string) *nn.Trace {
	t.Helper()
	m, err := zoo.Build(model, nil, 0, 3)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, p := range m.Net.Buffers() {
		for i := range p.Value.Data {
			p.Value.Data[i] = 0.5 + r.Float32() // running means and variances
		}
	}
	for _, p := range m.Net.Params() {
		if strings.HasSuffix(p.Name, "bn1.weight") || strings.Contains(p.Name, ".1.weight") && len(p.Value.Shape) == 1 {
			for i := range p.Value.Data {
				p.Value.Data[i] = 0.5 + r.Float32()
			}
		}
	}
	x := nn.New(append([]int{2}, m.Input...)...)
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	tr, err := m.Net.Forward(x, &nn.Context{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// agree checks the worked-out result against the engine's value for the
// unit, up to float32 rounding of the sum's terms.
func agree(t *testing.T, u *Unit) {
	t.Helper()
	scale := 1.0
	for _, term := range u.Terms {
		scale += math.Abs(term.Product) + math.Abs(float64(term.Value))
	}
	if d := math.Abs(u.Result - float64(u.Engine)); d > 1e-5*scale {
		t.Errorf("%s (%s) unit (%d,%d,%d): worked out %.7g, the engine gave %.7g", u.Layer, u.Type, u.Channel, u.Y, u.X, u.Result, u.Engine)
	}
}

func explain(t *testing.T, tr *nn.Trace, layer string, c, y, x int) *Unit {
	t.Helper()
	_, st, ok := tr.Locate(layer)
	if !ok {
		t.Fatalf("no layer %s", layer)
	}
	u, err := Explain(st, 1, c, y, x)
	if err != nil {
		t.Fatal(err)
	}
	agree(t, u)
	return u
}

// A plain convolution (LeNet-5's C3: 6 channels in, 5x5), its terms in the
// kernel's order; a linear layer; an average pool; LeCun's tanh.
func TestPlainConvolutionLinearAveragePool(t *testing.T) {
	tr := traced(t, "lenet5")
	u := explain(t, tr, "c3", 7, 4, 2)
	if len(u.Terms) != 6*5*5 || u.Kind != "weighted" || !u.HasBias || u.Formula != "Σ w·x + b" {
		t.Fatalf("c3: %d terms, %s, %q", len(u.Terms), u.Kind, u.Formula)
	}
	if tm := u.Terms[5*5+2*5+3]; tm.Channel != 1 || tm.Ky != 2 || tm.Kx != 3 || tm.Y != 4+2 || tm.X != 2+3 {
		t.Errorf("term 38 is %+v, want channel 1, tap (2,3) at (6,5)", tm)
	}
	for _, name := range []string{"s2", "s4"} {
		if u := explain(t, tr, name, 3, 1, 1); u.Kind != "average" || len(u.Terms) != 4 {
			t.Errorf("%s: %s of %d", name, u.Kind, len(u.Terms))
		}
	}
	explain(t, tr, "c1.act", 2, 5, 5)
	if u := explain(t, tr, "f6", 11, 0, 0); len(u.Terms) != 120 {
		t.Errorf("f6 reads %d inputs, want 120", len(u.Terms))
	}
}

// MobileNet v2's depthwise 3x3 (one input channel per filter, stride 1 and
// 2), its 1x1 projection, batch norm and ReLU6; a unit on the border reads
// the zero padding.
func TestDepthwisePointwiseNormAndPadding(t *testing.T) {
	tr := traced(t, "mobilenet_v2_small")
	u := explain(t, tr, "features.2.conv.1.0", 30, 0, 9)
	if len(u.Terms) != 9 {
		t.Fatalf("a depthwise 3x3 unit reads %d inputs, want 9", len(u.Terms))
	}
	pads := 0
	for _, tm := range u.Terms {
		if tm.Channel != 30 {
			t.Errorf("depthwise filter 30 reads channel %d", tm.Channel)
		}
		if tm.Padding {
			pads++
			if tm.Value != 0 || tm.Y != -1 {
				t.Errorf("padding tap %+v", tm)
			}
		}
	}
	if pads != 3 {
		t.Errorf("a top-row unit has %d padding taps, want 3", pads)
	}
	explain(t, tr, "features.4.conv.1.0", 40, 6, 6) // stride 2
	if u := explain(t, tr, "features.2.conv.2", 5, 13, 20); len(u.Terms) != 48 || u.Terms[47].Ky != 0 || u.HasBias {
		t.Errorf("1x1: %d terms, bias %v", len(u.Terms), u.HasBias)
	}
	bn := explain(t, tr, "features.0.1", 3, 10, 10)
	if bn.Kind != "elementwise" || !strings.HasPrefix(bn.Formula, "(x − μ)") || bn.Result == float64(bn.Terms[0].Value) {
		t.Errorf("batch norm: %+v", bn)
	}
	explain(t, tr, "features.0.2", 3, 10, 10)
}

// A max pool with padding (ZFNet-small's 3x3 stride 2, padding 1) keeps
// the switch of its largest input, never the padding.
func TestMaxPoolSwitch(t *testing.T) {
	tr := traced(t, "zfnet_small")
	for _, c := range [][3]int{{0, 0, 0}, {5, 3, 4}, {31, 13, 13}} {
		u := explain(t, tr, "features.2", c[0], c[1], c[2])
		if u.Kind != "max" || len(u.Terms) != 9 {
			t.Fatalf("%s with %d terms", u.Kind, len(u.Terms))
		}
		sw := u.Terms[u.Switch]
		if sw.Padding || float64(sw.Value) != u.Result {
			t.Errorf("unit %v: switch %+v, result %g", c, sw, u.Result)
		}
		for _, tm := range u.Terms {
			if !tm.Padding && tm.Value > sw.Value {
				t.Errorf("unit %v: %+v beats the switch", c, tm)
			}
		}
	}
	explain(t, tr, "features.1", 4, 7, 7) // ReLU
	// AlexNet's LRN over five channels; at channel 0 only three exist.
	for c, want := range map[int]int{0: 3, 10: 5, 31: 3} {
		if u := explain(t, tr, "features.3", c, 5, 6); len(u.Terms) != want {
			t.Errorf("LRN at channel %d reads %d channels, want %d", c, len(u.Terms), want)
		}
	}
}

func TestRefusals(t *testing.T) {
	tr := traced(t, "resnet20")
	_, st, _ := tr.Locate("layer1.0")
	if _, err := Explain(st, 0, 0, 0, 0); err == nil || !strings.Contains(err.Error(), "explain the layers inside it") {
		t.Errorf("a residual block: %v", err)
	}
	_, st, _ = tr.Locate("conv1")
	for _, bad := range [][4]int{{2, 0, 0, 0}, {0, 16, 0, 0}, {0, 0, 32, 0}, {0, 0, 0, -1}} {
		if _, err := Explain(st, bad[0], bad[1], bad[2], bad[3]); err == nil {
			t.Errorf("unit %v explained", bad)
		}
	}
	explain(t, tr, "bn1", 15, 31, 0)
}

// Trim keeps the largest products in kernel order and sums the rest.
func TestTrim(t *testing.T) {
	tr := traced(t, "lenet5")
	u := explain(t, tr, "c3", 7, 4, 2)
	all := append([]Term(nil), u.Terms...)
	u.Trim(10)
	if len(u.Terms) != 10 || u.Omitted != len(all)-10 {
		t.Fatalf("%d kept, %d omitted", len(u.Terms), u.Omitted)
	}
	sum, smallestKept := u.OmittedSum, math.Inf(1)
	for i, k := range u.Terms {
		sum += k.Product
		smallestKept = math.Min(smallestKept, math.Abs(k.Product))
		if i > 0 && (k.Channel*25+k.Ky*5+k.Kx) <= (u.Terms[i-1].Channel*25+u.Terms[i-1].Ky*5+u.Terms[i-1].Kx) {
			t.Errorf("kept terms out of kernel order at %d", i)
		}
	}
	if d := math.Abs(sum + float64(u.Bias) - u.Result); d > 1e-9 {
		t.Errorf("kept and omitted products sum to %g, the result is %g", sum+float64(u.Bias), u.Result)
	}
	dropped := 0
	for _, a := range all {
		if math.Abs(a.Product) > smallestKept {
			dropped++
		}
	}
	if dropped > 10 {
		t.Errorf("%d terms larger than the smallest kept one", dropped)
	}
}
