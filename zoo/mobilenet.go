package zoo

import (
	"fmt"

	"github.com/convscope/convscope/nn"
)

// MobileNets: depthwise separable convolutions, a k×k depthwise filter per
// channel then a 1x1 pointwise mix, cost about 1/K + 1/k² of a full
// convolution's MACs (Howard et al. 2017).
//
//	mobilenet_v1, mobilenet_v1_075, _050, _025   v1 with width multiplier
//	    alpha 1, 0.75, 0.5, 0.25; the resolution multiplier rho is the input
//	    size (-input 3x192x192, 160, 128)
//	mobilenet_v2    torchvision's (3,504,872 parameters): inverted residuals
//	    with linear bottlenecks and ReLU6
//	mobilenet_v1_small (width 1), mobilenet_v1_small_050 (width 0.5),
//	mobilenet_v2_small   the same blocks for 28/32 inputs

func init() {
	for _, a := range []struct {
		suffix string
		alpha  float64
	}{{"", 1}, {"_075", 0.75}, {"_050", 0.5}, {"_025", 0.25}} {
		register(Family{Name: "mobilenet_v1" + a.suffix, Description: fmt.Sprintf("MobileNet v1, width multiplier %.2g", a.alpha),
			Input: []int{3, 224, 224}, Classes: 1000,
			build: func(in []int, classes int) ([]nn.Layer, error) { return mobilenetV1(in, classes, a.alpha, false) }})
	}
	register(Family{Name: "mobilenet_v1_small", Description: "MobileNet v1's separable blocks (width 1) with fewer strides, for small images",
		Input: []int{1, 28, 28}, Classes: 10,
		build: func(in []int, classes int) ([]nn.Layer, error) { return mobilenetV1(in, classes, 1, true) }})
	register(Family{Name: "mobilenet_v1_small_050", Description: "MobileNet v1's separable blocks at width 0.5 with fewer strides, for small images",
		Input: []int{1, 28, 28}, Classes: 10,
		build: func(in []int, classes int) ([]nn.Layer, error) { return mobilenetV1(in, classes, 0.5, true) }})
	register(Family{Name: "mobilenet_v2", Description: "MobileNet v2 as torchvision: inverted residuals, linear bottlenecks, ReLU6",
		Input: []int{3, 224, 224}, Classes: 1000,
		build: func(in []int, classes int) ([]nn.Layer, error) { return mobilenetV2(in, classes, 1, false) }})
	register(Family{Name: "mobilenet_v2_small", Description: "MobileNet v2's blocks at half width with fewer strides, for small images",
		Input: []int{1, 28, 28}, Classes: 10,
		build: func(in []int, classes int) ([]nn.Layer, error) { return mobilenetV2(in, classes, 0.5, true) }})
}

// makeDivisible is torchvision's _make_divisible: round to a multiple of 8,
// never below 90% of v.
func makeDivisible(v float64) int {
	const d = 8
	n := max(d, int(v+d/2)/d*d)
	if float64(n) < 0.9*v {
		n += d
	}
	return n
}

// convBNAct is torchvision's Conv2dNormActivation: conv (no bias), BN, act,
// named prefix.0, .1, .2.
func convBNAct(prefix string, in, out, k, stride, groups int, act func(string) *nn.Activation) []nn.Layer {
	ls := []nn.Layer{
		nn.NewConv(prefix+".0", nn.ConvConfig{In: in, Out: out, Kernel: k, Stride: stride, Padding: (k - 1) / 2, Groups: groups}),
		nn.NewBatchNorm2d(prefix+".1", out),
	}
	if act != nil {
		ls = append(ls, act(prefix+".2"))
	}
	return ls
}

func mobilenetV1(in []int, classes int, alpha float64, small bool) ([]nn.Layer, error) {
	w := func(c int) int { return max(int(float64(c)*alpha), 8) }
	stride0 := 2
	// (output channels, stride) of the 13 separable blocks.
	blocks := [][2]int{{64, 1}, {128, 2}, {128, 1}, {256, 2}, {256, 1}, {512, 2},
		{512, 1}, {512, 1}, {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1}}
	if small { // 28 -> 14 -> 7 -> 4: three halvings instead of five
		stride0 = 1
		blocks[5][1] = 1
	}
	ls := convBNAct("features.0", in[0], w(32), 3, stride0, 1, nn.NewReLU)
	c := w(32)
	for i, b := range blocks {
		p := fmt.Sprintf("features.%d", i+1)
		out := w(b[0])
		ls = append(ls, nn.NewChain(p,
			nn.NewConv(p+".0", nn.ConvConfig{In: c, Out: c, Kernel: 3, Stride: b[1], Padding: 1, Groups: c}),
			nn.NewBatchNorm2d(p+".1", c), nn.NewReLU(p+".2"),
			nn.NewConv2d(p+".3", c, out, 1, 1, 0, false), nn.NewBatchNorm2d(p+".4", out), nn.NewReLU(p+".5")))
		c = out
	}
	return append(ls, nn.NewAdaptiveAvgPool2d("avgpool", 1, 1), nn.NewFlatten("flatten"), nn.NewLinear("fc", c, classes, true)), nil
}

// invertedResidual is torchvision's InvertedResidual: optional 1x1 expand
// (ReLU6), 3x3 depthwise (ReLU6), 1x1 linear projection; residual when the
// shape is kept.
func invertedResidual(name string, in, out, stride, t int) nn.Layer {
	hidden := in * t
	var ls []nn.Layer
	i := 0
	if t != 1 {
		ls = append(ls, convBNAct(fmt.Sprintf("%s.conv.%d", name, i), in, hidden, 1, 1, 1, nn.NewReLU6)...)
		i++
	}
	ls = append(ls, convBNAct(fmt.Sprintf("%s.conv.%d", name, i), hidden, hidden, 3, stride, hidden, nn.NewReLU6)...)
	ls = append(ls, nn.NewConv2d(fmt.Sprintf("%s.conv.%d", name, i+1), hidden, out, 1, 1, 0, false),
		nn.NewBatchNorm2d(fmt.Sprintf("%s.conv.%d", name, i+2), out))
	body := nn.NewChain(name+".conv", ls...)
	if stride == 1 && in == out {
		return nn.NewResidual(name, body, nil, nil)
	}
	return body
}

func mobilenetV2(in []int, classes int, width float64, small bool) ([]nn.Layer, error) {
	settings := [][4]int{{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}}
	stride0 := 2
	if small { // 28 -> 14 -> 7: two halvings instead of five
		stride0 = 1
		settings[1][3], settings[5][3] = 1, 1
	}
	c := makeDivisible(32 * width)
	last := makeDivisible(1280 * max(1, width))
	ls := []nn.Layer{nn.NewChain("features.0", convBNAct("features.0", in[0], c, 3, stride0, 1, nn.NewReLU6)...)}
	for _, s := range settings {
		out := makeDivisible(float64(s[1]) * width)
		for r := 0; r < s[2]; r++ {
			stride := 1
			if r == 0 {
				stride = s[3]
			}
			ls = append(ls, invertedResidual(fmt.Sprintf("features.%d", len(ls)), c, out, stride, s[0]))
			c = out
		}
	}
	name := fmt.Sprintf("features.%d", len(ls))
	ls = append(ls, nn.NewChain(name, convBNAct(name, c, last, 1, 1, 1, nn.NewReLU6)...))
	return append(ls, nn.NewAdaptiveAvgPool2d("avgpool", 1, 1), nn.NewFlatten("flatten"),
		nn.NewDropout("classifier.0", 0.2), nn.NewLinear("classifier.1", last, classes, true)), nil
}
