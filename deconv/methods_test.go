package deconv

import (
	"context"
	"math"
	"testing"

	"github.com/convscope/convscope/nn"
)

// linearNet is flatten → linear (2 classes) over a 1x3x3 input: its
// logits are w·x, so every method has a closed form.
func linearNet(t *testing.T, x *nn.Tensor) (*nn.Sequential, *nn.Trace, *nn.Linear) {
	t.Helper()
	fc := nn.NewLinear("fc", 9, 2, false)
	for i := range fc.Weight.Value.Data {
		fc.Weight.Value.Data[i] = float32(i%9) - 4 // class 0: -4..4; class 1 the same
	}
	fc.Weight.Value.Data[9] = 10 // class 1 leans on pixel 0
	net, tr := forward(t, []nn.Layer{nn.NewFlatten("flat"), fc}, x)
	return net, tr, fc
}

// Grad-CAM by hand: conv (2 maps) → global average → linear. At the conv,
// ∂y_K/∂A_k = w_Kk / (H·W) everywhere, so α_k = w_Kk / (H·W) and the map is
// ReLU(Σ_k w_Kk A_k) / (H·W).
func TestGradCAMHandWorked(t *testing.T) {
	conv := nn.NewConv2d("conv", 1, 2, 1, 1, 0, false)
	conv.Weight.Value.Data[0], conv.Weight.Value.Data[1] = 1, -1
	fc := nn.NewLinear("fc", 2, 2, false)
	copy(fc.Weight.Value.Data, []float32{2, 1, 0, 3})
	x := nn.FromData([]float32{1, -2, 3, 0}, 1, 1, 2, 2)
	net, tr := forward(t, []nn.Layer{conv, nn.NewAdaptiveAvgPool2d("pool", 1, 1), nn.NewFlatten("flat"), fc}, x)
	r := explain(t, net, tr, "gradcam", Goal{Class: 0, Layer: "conv"})
	// A_0 = x, A_1 = -x: 2x - x = x, over 4, ReLU.
	equal(t, "gradcam class 0", r.Map, []float32{0.25, 0, 0.75, 0})
	if r.Layer != "conv" || r.Class != 0 || len(r.Map.Shape) != 4 || r.Map.Shape[2] != 2 {
		t.Errorf("result %+v", r)
	}
	// Class 1: 0·x + 3·(-x) = -3x: positive where x < 0.
	equal(t, "gradcam class 1", explain(t, net, tr, "gradcam", Goal{Class: 1, Layer: "conv"}).Map, []float32{0, 1.5, 0, 0})
	// The default layer is the last with maps larger than 1x1: conv.
	if r := explain(t, net, tr, "gradcam", Goal{Class: 1}); r.Layer != "conv" {
		t.Errorf("default layer %q", r.Layer)
	}
}

// For a linear model integrated gradients are exact: x · w, whatever the
// number of steps; and for any model they add up to f(x) - f(0)
// (completeness), here to within the Riemann sum's error.
func TestIntegratedGradients(t *testing.T) {
	x := nn.FromData([]float32{1, 2, 3, -1, -2, -3, 0.5, 0, 1}, 1, 1, 3, 3)
	net, tr, fc := linearNet(t, x)
	r, err := Explain(context.Background(), Model{Net: net}, x, tr, "ig", Goal{Class: 1}, Options{Steps: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float32, 9)
	for i := range want {
		want[i] = x.Data[i] * fc.Weight.Value.Data[9+i]
	}
	equal(t, "ig of a linear model", r.Map, want)

	// By hand on f(x) = relu(x - 0.5) at x = 1 with M = 4: the right sum
	// takes the gradient at 1/4, 2/4, 3/4, 4/4 of x: 0, 0, 1, 1, so the
	// map is 1 · 2/4.
	kink := nn.NewConv2d("k", 1, 1, 1, 1, 0, true)
	kink.Weight.Value.Data[0], kink.Bias.Value.Data[0] = 1, -0.5
	one := nn.FromData([]float32{1}, 1, 1, 1, 1)
	kinkNet, kinkTr := forward(t, []nn.Layer{kink, nn.NewReLU("r")}, one)
	r, err = Explain(context.Background(), Model{Net: kinkNet}, one, kinkTr, "ig", Goal{Layer: "r"}, Options{Steps: 4}, nil)
	if err != nil || r.Map.Data[0] != 0.5 {
		t.Errorf("ig of relu(x - 0.5) at 1 in 4 steps: %v, %v; want 0.5", r.Map, err)
	}

	// A ReLU network: completeness with many steps.
	conv := nn.NewConv2d("c", 1, 2, 2, 1, 0, true)
	copy(conv.Weight.Value.Data, []float32{1, -1, 0.5, 2, -1, 1, 1, 0.25})
	copy(conv.Bias.Value.Data, []float32{0.1, -0.2})
	lin := nn.NewLinear("fc", 8, 2, false)
	for i := range lin.Weight.Value.Data {
		lin.Weight.Value.Data[i] = float32(i%5) - 1.5
	}
	net2, tr2 := forward(t, []nn.Layer{conv, nn.NewReLU("r"), nn.NewFlatten("f"), lin}, x)
	r, err = Explain(context.Background(), Model{Net: net2}, x, tr2, "ig", Goal{Class: 0}, Options{Steps: 512, Batch: 64}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, v := range r.Map.Data {
		sum += float64(v)
	}
	zero, _ := net2.Forward(nn.New(1, 1, 3, 3), &nn.Context{}, nil)
	delta := float64(tr2.Output().Data[0] - zero.Output().Data[0])
	if math.Abs(sum-delta) > 0.02*math.Abs(delta) {
		t.Errorf("integrated gradients add up to %g, f(x) - f(0) = %g", sum, delta)
	}
}

// SmoothGrad of a linear model is its gradient, whatever the noise; of a
// ReLU unit it is the fraction of noisy copies where the unit is open,
// which for an input at 0 is about a half.
func TestSmoothGrad(t *testing.T) {
	x := nn.FromData([]float32{1, 2, 3, -1, -2, -3, 0.5, 0, 1}, 1, 1, 3, 3)
	net, tr, fc := linearNet(t, x)
	r, err := Explain(context.Background(), Model{Net: net}, x, tr, "smoothgrad", Goal{Class: 0}, Options{Samples: 5, Noise: 0.5}, nil)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "smoothgrad of a linear model", r.Map, fc.Weight.Value.Data[:9])

	conv := nn.NewConv2d("c", 1, 1, 1, 1, 0, false)
	conv.Weight.Value.Data[0] = 1
	x2 := nn.FromData([]float32{0, 1}, 1, 1, 1, 2) // range 1: σ = 0.3
	net2, tr2 := forward(t, []nn.Layer{conv, nn.NewReLU("r")}, x2)
	r, err = Explain(context.Background(), Model{Net: net2}, x2, tr2, "smoothgrad", Goal{Layer: "r", At: &Pos{0, 0}}, Options{Samples: 400, Noise: 0.3, Seed: 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if g := r.Map.Data[0]; g < 0.42 || g > 0.58 {
		t.Errorf("SmoothGrad at a ReLU's kink: %g, want about 0.5", g)
	}
	// The same seed, the same map; another seed, another.
	again, _ := Explain(context.Background(), Model{Net: net2}, x2, tr2, "smoothgrad", Goal{Layer: "r", At: &Pos{0, 0}}, Options{Samples: 400, Noise: 0.3, Seed: 4}, nil)
	other, _ := Explain(context.Background(), Model{Net: net2}, x2, tr2, "smoothgrad", Goal{Layer: "r", At: &Pos{0, 0}}, Options{Samples: 400, Noise: 0.3, Seed: 5}, nil)
	if again.Map.Data[0] != r.Map.Data[0] || other.Map.Data[0] == r.Map.Data[0] {
		t.Errorf("seed 4 twice: %g, %g; seed 5: %g", r.Map.Data[0], again.Map.Data[0], other.Map.Data[0])
	}
}

// Normals are standard normal: mean 0, variance 1, over many.
func TestNormals(t *testing.T) {
	z := Normals(1, 0, 100000)
	var m, v float64
	for _, x := range z {
		m += x
	}
	m /= float64(len(z))
	for _, x := range z {
		v += (x - m) * (x - m)
	}
	v /= float64(len(z))
	if math.Abs(m) > 0.02 || math.Abs(v-1) > 0.02 {
		t.Errorf("mean %g, variance %g", m, v)
	}
	if tail := Normals(1, 7, 3); tail[0] != z[7] || tail[2] != z[9] {
		t.Error("a stream read from the middle differs")
	}
}

// Occlusion by hand on the linear model: covering pixels zeroes their
// terms, so the map holds softmax(w·x with the square zeroed); with a 2x2
// square at stride 1 the map is 2x2, and a unit's map is its activation.
func TestOcclusion(t *testing.T) {
	x := nn.FromData([]float32{1, 2, 3, -1, -2, -3, 0.5, 0, 1}, 1, 1, 3, 3)
	net, tr, fc := linearNet(t, x)
	var partials []int
	r, err := Explain(context.Background(), Model{Net: net}, x, tr, "occlusion", Goal{Class: 1}, Options{Window: 2, Stride: 1, Batch: 3},
		func(p Progress) { partials = append(partials, p.Done) })
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Map.Shape) != 4 || r.Map.Shape[2] != 2 || r.Map.Shape[3] != 2 {
		t.Fatalf("map %v", r.Map.Shape)
	}
	w := fc.Weight.Value.Data
	for i := range 2 {
		for j := range 2 {
			var l0, l1 float64
			for y := range 3 {
				for xx := range 3 {
					if y >= i && y < i+2 && xx >= j && xx < j+2 {
						continue // occluded
					}
					k := y*3 + xx
					l0 += float64(w[k] * x.Data[k])
					l1 += float64(w[9+k] * x.Data[k])
				}
			}
			want := 1 / (1 + math.Exp(l0-l1))
			if got := float64(r.Map.Data[i*2+j]); math.Abs(got-want) > 1e-6 {
				t.Errorf("square at (%d,%d): %g, want %g", i, j, got, want)
			}
		}
	}
	if len(partials) != 2 || partials[0] != 3 || partials[1] != 4 {
		t.Errorf("progress after batches of 3 of 4 squares: %v", partials)
	}
	// A unit: the flatten's element 4 is pixel (1,1): occluded by every
	// 2x2 square, so its map is 0 everywhere.
	u, err := Explain(context.Background(), Model{Net: net}, x, tr, "occlusion", Goal{Layer: "flat", Channel: 4}, Options{Window: 2, Stride: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "occlusion of the centre pixel", u.Map, []float32{0, 0, 0, 0})
	// A cancelled context stops it.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Explain(ctx, Model{Net: net}, x, tr, "occlusion", Goal{Class: 1}, Options{Window: 1}, nil); err == nil {
		t.Error("a cancelled occlusion finished")
	}
}

// Options out of range are refused with a message naming them.
func TestOptionLimits(t *testing.T) {
	x := nn.New(1, 1, 3, 3)
	net, tr, _ := linearNet(t, x)
	for _, o := range []Options{{Steps: -1}, {Steps: MaxSteps + 1}, {Samples: MaxSamples + 1}, {Noise: -0.1}, {Noise: math.NaN()},
		{Window: 4}, {Stride: -2}, {Batch: MaxBatch + 1}} {
		if _, err := Explain(context.Background(), Model{Net: net}, x, tr, "ig", Goal{Class: 0}, o, nil); err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
	if _, err := Explain(context.Background(), Model{Net: net}, x, tr, "lrp", Goal{Class: 0}, Options{}, nil); err == nil {
		t.Error("an unknown method accepted")
	}
	if _, err := Explain(context.Background(), Model{Net: net}, x, tr, "gradient", Goal{Class: 2}, Options{}, nil); err == nil {
		t.Error("class 2 of 2 accepted")
	}
}
