package nn

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// lossOf runs l on x and returns sum(y * r): its gradient with respect to
// y is r, so Backward(r) must equal the finite-difference gradient.
func lossOf(t *testing.T, l Layer, ctx *Context, x, r *Tensor) float64 {
	y, _, err := l.Forward(x, ctx)
	if err != nil {
		t.Fatal(err)
	}
	var s float64
	for i, v := range y.Data {
		s += float64(v) * float64(r.Data[i])
	}
	return s
}

func randTensor(r *rand.Rand, shape ...int) *Tensor {
	t := New(shape...)
	for i := range t.Data {
		t.Data[i] = float32(r.NormFloat64())
	}
	return t
}

// gradCheck compares a layer's analytic gradients (input and every
// parameter) with central differences. float32 forward passes with eps=1e-2
// carry about 1e-3 of rounding noise relative to the largest gradient, hence
// the tolerance of 1e-2 relative to that largest value. Piecewise-linear
// layers (pooling, ReLU) use eps=1e-3 so that no step crosses a tie between
// two window entries, where the derivative jumps.
func gradCheck(t *testing.T, l Layer, ctx *Context, eps float32, inShape ...int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	Init([]Layer{l}, rng)
	switch l.(type) {
	case *Conv2d, *Linear:
	default: // norms start at gamma 1, beta 0: make them generic
		for _, p := range l.Params() {
			copy(p.Value.Data, randTensor(rng, p.Value.Shape...).Data)
		}
	}
	x := randTensor(rng, inShape...)
	y, saved, err := l.Forward(x, ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := randTensor(rng, y.Shape...)
	g := Grads{}
	dx, err := l.Backward(r, &Step{Layer: l, In: x, Out: y, Saved: saved}, Gradient, g)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, values []float32, analytic []float32) {
		t.Helper()
		var worst, scale float64
		for i := range values {
			orig := values[i]
			values[i] = orig + eps
			up := lossOf(t, l, ctx, x, r)
			values[i] = orig - eps
			down := lossOf(t, l, ctx, x, r)
			values[i] = orig
			num := (up - down) / (2 * float64(eps))
			worst = max(worst, math.Abs(num-float64(analytic[i])))
			scale = max(scale, math.Abs(num))
		}
		if worst > 1e-2*max(scale, 1e-3) {
			t.Errorf("%s %s: max |analytic - numeric| = %.3g (largest gradient %.3g)", l.Name(), what, worst, scale)
		} else {
			t.Logf("%s %s: max diff %.2g of %.2g", l.Name(), what, worst, scale)
		}
	}
	check("dx", x.Data, dx.Data)
	for _, p := range l.Params() {
		check("d"+p.Name, p.Value.Data, g.For(p).Data)
	}
}

func TestGradients(t *testing.T) {
	for _, tc := range []struct {
		layer Layer
		eps   float32
		in    []int
	}{
		{NewConv2d("conv", 3, 4, 3, 1, 1, true), 1e-2, []int{2, 3, 5, 6}},
		{NewConv("conv_shifted", ConvConfig{In: 4, Out: 4, Kernel: 5, Stride: 1, Padding: 2, Groups: 2, Bias: true}), 1e-2, []int{2, 4, 6, 5}},
		{NewConv2d("conv_s2", 2, 3, 3, 2, 0, false), 1e-2, []int{2, 2, 7, 7}},
		{NewConv2d("conv_s3_p2", 2, 2, 2, 3, 2, true), 1e-2, []int{1, 2, 6, 5}},
		{NewConv("conv_dilated", ConvConfig{In: 2, Out: 3, Kernel: 3, Padding: 2, Dilation: 2, Bias: true}), 1e-2, []int{2, 2, 6, 7}},
		{NewConv("conv_groups", ConvConfig{In: 4, Out: 6, Kernel: 3, Stride: 2, Padding: 1, Groups: 2}), 1e-2, []int{2, 4, 5, 5}},
		{NewConv("conv_depthwise", ConvConfig{In: 3, Out: 3, Kernel: 3, Padding: 1, Groups: 3, Bias: true}), 1e-2, []int{2, 3, 4, 5}},
		{NewConv("conv_whole_input", ConvConfig{In: 2, Out: 3, Kernel: 4, Bias: true}), 1e-2, []int{2, 2, 4, 4}},
		{NewConv("conv_whole_input_groups", ConvConfig{In: 4, Out: 6, Kernel: 3, Groups: 2, Bias: true}), 1e-2, []int{3, 4, 3, 3}},
		{NewConv("conv_same_dilated", ConvConfig{In: 2, Out: 3, Kernel: 3, Padding: 2, Dilation: 2, Groups: 1}), 1e-2, []int{2, 2, 6, 7}},
		{NewConv("conv_depthwise_x2_s2", ConvConfig{In: 2, Out: 4, Kernel: 3, Stride: 2, Padding: 1, Groups: 2, Bias: true}), 1e-2, []int{2, 2, 5, 6}},
		{NewLinear("fc", 7, 5, true), 1e-2, []int{3, 7}},
		{NewLinear("fc_channels_last", 4, 3, true), 1e-2, []int{2, 2, 3, 4}},
		{NewShortcutA("shortcut_a", 2, 4, 2), 1e-2, []int{2, 2, 5, 4}},
		{NewSubsample("s2", 3, 2), 1e-2, []int{2, 3, 4, 5}},
		{NewSelectChannels("pick", 4, 3, 0, 3), 1e-2, []int{2, 4, 2, 3}},
		{NewLeCunTanh("squash"), 1e-2, []int{2, 3, 2, 2}},
		{NewLayerScale("layer_scale", 3, 1e-6), 1e-2, []int{2, 3, 2, 2}},
		{NewPermute("to_channels_last", 1, 2, 0), 1e-2, []int{2, 3, 2, 4}},
		{NewPermute("to_channels_first", 2, 0, 1), 1e-2, []int{2, 2, 4, 3}},
		{NewConvTranspose2d("deconv", 3, 2, 3, 2, 1, 1, true), 1e-2, []int{2, 3, 3, 4}},
		{NewConvTranspose2d("deconv_k4", 2, 3, 4, 2, 1, 0, false), 1e-2, []int{1, 2, 3, 3}},
		{NewMaxPool2d("mp", 2, 2, 0), 1e-3, []int{2, 3, 4, 4}},
		{NewMaxPool2d("mp_overlap", 3, 2, 1), 1e-3, []int{1, 2, 7, 7}},
		{NewAvgPool2d("ap", 2, 2, 0), 1e-3, []int{2, 3, 4, 6}},
		{NewAvgPool2d("ap_pad", 3, 2, 1), 1e-3, []int{1, 2, 5, 5}},
		{NewMaxPool("mp_ceil", PoolConfig{Kernel: 3, Stride: 2, CeilMode: true}), 1e-3, []int{1, 2, 6, 6}},
		{NewAvgPool("ap_ceil_excl", PoolConfig{Kernel: 3, Stride: 2, Padding: 1, CeilMode: true, ExcludePad: true}), 1e-3, []int{1, 2, 6, 7}},
		{NewAdaptiveAvgPool2d("adaptive", 3, 2), 1e-3, []int{2, 2, 7, 5}},
		{NewAdaptiveAvgPool2d("global", 1, 1), 1e-3, []int{2, 3, 4, 5}},
		{NewReLU("relu"), 1e-3, []int{2, 3, 4, 4}},
		{NewLocalResponseNorm("lrn5", 5, 0.5, 0.75, 2), 1e-2, []int{2, 7, 2, 3}},
		{NewLocalResponseNorm("lrn4", 4, 0.3, 0.75, 1), 1e-2, []int{1, 6, 2, 2}},
		{&LocalResponseNorm{elementwise{base{"lrn_within"}}, 3, 0.5, 0.75, 1, true}, 1e-2, []int{1, 2, 4, 5}},
		{NewResidual("res", NewChain("res.body", NewConv2d("res.body.0", 2, 3, 3, 2, 1, true), NewTanh("res.body.1")),
			NewChain("res.down", NewConv2d("res.down.0", 2, 3, 1, 2, 0, false)), NewTanh("res.after")), 1e-2, []int{2, 2, 5, 5}},
		{NewResidual("res_identity", NewChain("b", NewConv2d("b.0", 2, 2, 3, 1, 1, true)), nil, nil), 1e-2, []int{1, 2, 4, 3}},
		{NewConcat("inception", NewChain("b1", NewConv2d("b1.0", 2, 3, 1, 1, 0, true)),
			NewChain("b2", NewConv2d("b2.0", 2, 2, 3, 1, 1, true), NewSigmoid("b2.1")),
			NewChain("b3", NewAvgPool("b3.0", PoolConfig{Kernel: 3, Stride: 1, Padding: 1}))), 1e-2, []int{2, 2, 3, 4}},
		{NewLayerNorm("ln_last", 5, 1e-5, false), 1e-2, []int{3, 5}},
		{NewLayerNorm("ln_channels_first", 4, 1e-6, true), 1e-2, []int{2, 4, 3, 2}},
		{NewLayerNorm("ln_channels_first_pieces", 3, 1e-6, true), 1e-2, []int{2, 3, 9, 8}}, // 72 pixels: two pieces a sample
		{NewTanh("tanh"), 1e-2, []int{2, 3, 4, 4}},
		{NewReLU6("relu6"), 1e-3, []int{2, 3, 4, 4}},
		{NewLeakyReLU("leaky", 0.1), 1e-3, []int{2, 3, 4, 4}},
		{NewGELU("gelu"), 1e-2, []int{2, 3, 4, 4}},
		{NewSiLU("silu"), 1e-2, []int{2, 3, 4, 4}},
		{NewHardswish("hardswish"), 1e-3, []int{2, 3, 4, 4}},
		{NewHardsigmoid("hardsigmoid"), 1e-3, []int{2, 3, 4, 4}},
		{NewSigmoid("sigmoid"), 1e-2, []int{2, 3, 4, 4}},
		{NewFlatten("flatten"), 1e-3, []int{2, 3, 2, 2}},
	} {
		t.Run(tc.layer.Name(), func(t *testing.T) { gradCheck(t, tc.layer, &Context{}, tc.eps, tc.in...) })
	}
}

// Layers whose training pass differs: batch statistics depend on x.
func TestGradientsTrainMode(t *testing.T) {
	train := &Context{Train: true}
	bn := NewBatchNorm2d("bn", 3)
	gradCheck(t, bn, train, 1e-2, 4, 3, 3, 2)
	gradCheck(t, bn, &Context{}, 1e-2, 2, 3, 3, 2)
}

func TestBatchNormRunningStatistics(t *testing.T) {
	bn := NewBatchNorm2d("bn", 1)
	x := FromData([]float32{1, 2, 3, 6}, 4, 1, 1, 1) // mean 3, biased var 3.5, unbiased 14/3
	if _, _, err := bn.Forward(x, &Context{Train: true}); err != nil {
		t.Fatal(err)
	}
	if m, v := bn.RunningMean.Value.Data[0], bn.RunningVar.Value.Data[0]; math.Abs(float64(m-0.3)) > 1e-6 || math.Abs(float64(v-(0.9+0.1*14.0/3))) > 1e-6 {
		t.Errorf("running mean %g var %g; want 0.3 and %g", m, v, 0.9+0.1*14.0/3)
	}
}

func TestCrossEntropyGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	logits := randTensor(rng, 4, 5)
	labels := []int{0, 3, 4, 1}
	_, d, err := CrossEntropy(logits, labels)
	if err != nil {
		t.Fatal(err)
	}
	const eps = 1e-2
	for i := range logits.Data {
		orig := logits.Data[i]
		logits.Data[i] = orig + eps
		up, _, _ := CrossEntropy(logits, labels)
		logits.Data[i] = orig - eps
		down, _, _ := CrossEntropy(logits, labels)
		logits.Data[i] = orig
		if num := (float64(up) - float64(down)) / (2 * eps); math.Abs(num-float64(d.Data[i])) > 1e-3 {
			t.Errorf("dlogits[%d] = %g, numeric %g", i, d.Data[i], num)
		}
	}
	weighted := CrossEntropyLoss{Smoothing: 0.1, Weights: []float32{1, 2, 0.5, 1, 3}}
	_, d, _ = weighted.Compute(logits, labels)
	for i := range logits.Data {
		orig := logits.Data[i]
		logits.Data[i] = orig + eps
		up, _, _ := weighted.Compute(logits, labels)
		logits.Data[i] = orig - eps
		down, _, _ := weighted.Compute(logits, labels)
		logits.Data[i] = orig
		if num := (float64(up) - float64(down)) / (2 * eps); math.Abs(num-float64(d.Data[i])) > 1e-3 {
			t.Errorf("smoothed weighted dlogits[%d] = %g, numeric %g", i, d.Data[i], num)
		}
	}
	if _, _, err := CrossEntropy(logits, []int{0, 1, 2, 9}); err == nil {
		t.Error("label 9 of 5 classes accepted")
	}
}

func TestDropoutMaskInTrace(t *testing.T) {
	d := NewDropout("drop", 0.5)
	x := New(1, 1000)
	for i := range x.Data {
		x.Data[i] = 1
	}
	y, mask, err := d.Forward(x, &Context{Train: true, Rand: rand.New(rand.NewPCG(5, 6))})
	if err != nil {
		t.Fatal(err)
	}
	var kept int
	for _, v := range y.Data {
		if v == 2 {
			kept++
		} else if v != 0 {
			t.Fatalf("dropout output %g, want 0 or 2", v)
		}
	}
	if kept < 400 || kept > 600 {
		t.Errorf("kept %d of 1000 with p=0.5", kept)
	}
	dx, _ := d.Backward(y, &Step{Layer: d, In: x, Out: y, Saved: mask}, Gradient, nil)
	for i, v := range dx.Data {
		if v != y.Data[i]*mask.([]float32)[i] {
			t.Fatal("backward does not reuse the forward mask")
		}
	}
	if y2, _, _ := d.Forward(x, &Context{}); y2 != x {
		t.Error("eval-mode dropout is not the identity")
	}
}

func TestShapeErrorsNameLayer(t *testing.T) {
	c := NewConv2d("features.0", 3, 8, 3, 1, 1, true)
	_, _, err := c.Forward(New(1, 1, 8, 8), &Context{})
	if err == nil || !strings.Contains(err.Error(), "features.0") || !strings.Contains(err.Error(), "[1, 1, 8, 8]") {
		t.Errorf("error %v does not name the layer and the shape", err)
	}
	l := NewLinear("fc", 10, 2, true)
	if _, _, err := l.Forward(New(2, 9), &Context{}); err == nil || !strings.Contains(err.Error(), "fc") {
		t.Errorf("linear error %v", err)
	}
}
