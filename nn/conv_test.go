package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/convscope/convscope/nn/kernel"
)

// A batch of small maps runs as products several samples wide
// (sampleChunks); every sample's output and input gradient must be what
// it gets alone, and the weight and bias gradients the sum of the
// samples' own. Covered: the flipped input gradient (3x3, stride 1), col2im
// (stride 2), a pointwise convolution (the input is its own unrolled
// matrix), two groups, a kernel as large as the input (dense), and the
// shifted path (convshift.go; the first case's input gradient too), which
// single samples never take.
func TestConvBatchRunsMatchSingleSamples(t *testing.T) {
	// At least four samples a worker, so that runs hold several (go test
	// -cpu 8 gave runs of one sample to nine).
	n, hw := max(9, 4*kernel.Workers()+1), 4
	for _, cfg := range []ConvConfig{
		{In: 3, Out: 5, Kernel: 3, Stride: 1, Padding: 1, Bias: true},
		{In: 3, Out: 4, Kernel: 3, Stride: 2, Padding: 1},
		{In: 6, Out: 4, Kernel: 1, Bias: true},
		{In: 4, Out: 6, Kernel: 3, Stride: 1, Padding: 1, Groups: 2},
		{In: 3, Out: 5, Kernel: hw, Bias: true},                                  // one output pixel: a linear layer
		{In: 4, Out: 6, Kernel: hw, Groups: 2},                                   // the same per group
		{In: 5, Out: 6, Kernel: 3, Stride: 1, Padding: 1, Bias: true},            // the shifted path, forward and back
		{In: 8, Out: 8, Kernel: 5, Stride: 1, Padding: 2, Groups: 2, Bias: true}, // the same, per group
	} {
		rng := rand.New(rand.NewPCG(3, 4))
		c, x := randomConv(cfg, rng, n, hw)
		g, err := c.geometry(x)
		if err != nil {
			t.Fatal(err)
		}
		if count, span := sampleChunks(n, g.cols, g.rows); count >= n {
			t.Fatalf("%+v: %d runs for %d samples: nothing runs side by side", cfg, count, n)
		} else if lo, hi := span(0); hi-lo < 2 {
			t.Fatalf("%+v: first run has %d samples", cfg, hi-lo)
		}
		ctx := &Context{}
		y, _, err := c.Forward(x, ctx)
		if err != nil {
			t.Fatal(err)
		}
		dy := randTensor(rng, y.Shape...)
		grads := Grads{}
		dx, err := c.Backward(dy, &Step{Layer: c, In: x, Out: y, arena: ctx.arena()}, Gradient, grads)
		if err != nil {
			t.Fatal(err)
		}
		sum := Grads{}
		in, out := len(x.Data)/n, len(y.Data)/n
		for i := 0; i < n; i++ {
			xi := FromData(x.Data[i*in:(i+1)*in], 1, cfg.In, hw, hw)
			yi, _, err := c.Forward(xi, ctx)
			if err != nil {
				t.Fatal(err)
			}
			dyi := FromData(dy.Data[i*out:(i+1)*out], yi.Shape...)
			dxi, err := c.Backward(dyi, &Step{Layer: c, In: xi, Out: yi, arena: ctx.arena()}, Gradient, sum)
			if err != nil {
				t.Fatal(err)
			}
			closeSlices(t, cfg, "y", y.Data[i*out:(i+1)*out], yi.Data)
			closeSlices(t, cfg, "dx", dx.Data[i*in:(i+1)*in], dxi.Data)
		}
		for _, p := range c.Params() {
			closeSlices(t, cfg, "d"+p.Name, grads.For(p).Data, sum.For(p).Data)
		}
	}
}

// closeSlices fails unless got and want agree to float32 rounding of sums
// taken in another order.
func closeSlices(t *testing.T, cfg ConvConfig, what string, got, want []float32) {
	t.Helper()
	for j := range got {
		if d := math.Abs(float64(got[j] - want[j])); d > 1e-5*(1+math.Abs(float64(want[j]))) {
			t.Fatalf("%+v: %s[%d] = %g, alone %g", cfg, what, j, got[j], want[j])
		}
	}
}

// On one sample whose unrolled matrix would not stay in L2, and on
// unpadded stride-1 convolutions, the forward pass packs the product's
// panels straight from the images (Conv2d.implicit). Its output must be
// the convolution's definition, summed here pixel by pixel: stride,
// padding, dilation, groups, bias, and several samples side by side.
func TestConvImplicitIsTheConvolution(t *testing.T) {
	for _, tc := range []struct {
		cfg   ConvConfig
		n, hw int
	}{
		{ConvConfig{In: 16, Out: 7, Kernel: 3, Stride: 1, Padding: 1, Bias: true}, 1, 56},
		{ConvConfig{In: 16, Out: 8, Kernel: 5, Stride: 2, Padding: 2, Groups: 2}, 1, 56},
		{ConvConfig{In: 12, Out: 5, Kernel: 3, Stride: 1, Padding: 2, Dilation: 2, Bias: true}, 1, 56},
		{ConvConfig{In: 6, Out: 16, Kernel: 5, Stride: 1, Bias: true}, 7, 14}, // LeNet-5's second layer
		{ConvConfig{In: 4, Out: 6, Kernel: 3, Stride: 1, Groups: 2}, 5, 12},
	} {
		cfg, n, hw := tc.cfg, tc.n, tc.hw
		rng := rand.New(rand.NewPCG(5, 6))
		c, x := randomConv(cfg, rng, n, hw)
		noShifted = true // the shifted path comes first where it applies
		defer func() { noShifted = false }()
		g, err := c.geometry(x)
		if err != nil {
			t.Fatal(err)
		}
		if !c.implicit(g) {
			t.Fatalf("%+v: %dx%d unrolled, not packed from the image", cfg, g.rows, g.cols)
		}
		y, _, err := c.Forward(x, &Context{})
		if err != nil {
			t.Fatal(err)
		}
		closeSlices(t, cfg, "y", y.Data, convByDefinition(c, g, x))
	}
}

// convByDefinition is c's output on x summed pixel by pixel in float64:
// stride, padding, dilation, groups and bias as PyTorch defines them.
func convByDefinition(c *Conv2d, g convGeometry, x *Tensor) []float32 {
	sums := make([]float64, g.n*c.Out*g.oh*g.ow)
	if c.Bias != nil {
		for i := range sums {
			sums[i] = float64(c.Bias.Value.Data[i/(g.oh*g.ow)%c.Out])
		}
	}
	eachTap(c, g, func(yi, xi, wi int) {
		sums[yi] += float64(c.Weight.Value.Data[wi]) * float64(x.Data[xi])
	})
	return float32s(sums)
}

// eachTap calls f for every output value and tap of c's window over an
// input pixel (padding skipped), in the order of the definition's sums:
// yi indexes the output, xi the input and wi the weights.
func eachTap(c *Conv2d, g convGeometry, f func(yi, xi, wi int)) {
	cfg, hw := c.ConvConfig, g.h
	d := max(cfg.Dilation, 1)
	for b := range g.n {
		for o := range cfg.Out {
			gi := o / g.kg
			for oy := range g.oh {
				for ox := range g.ow {
					yi := ((b*cfg.Out+o)*g.oh+oy)*g.ow + ox
					for ci := range g.cg {
						for ky := range cfg.Kernel {
							for kx := range cfg.Kernel {
								iy, ix := oy*cfg.Stride-cfg.Padding+ky*d, ox*cfg.Stride-cfg.Padding+kx*d
								if iy < 0 || iy >= hw || ix < 0 || ix >= hw {
									continue
								}
								f(yi, ((b*cfg.In+gi*g.cg+ci)*hw+iy)*hw+ix, ((o*g.cg+ci)*cfg.Kernel+ky)*cfg.Kernel+kx)
							}
						}
					}
				}
			}
		}
	}
}

// float32s rounds sums to float32.
func float32s(sums []float64) []float32 {
	out := make([]float32, len(sums))
	for i, v := range sums {
		out[i] = float32(v)
	}
	return out
}

// Stride-1 "same" convolutions over several samples take the shifted path
// (convshift.go), one run or several (a small budget), groups and bias or
// none, kernels of 3, 5 and 7: the output must be the convolution's
// definition.
func TestConvShiftedIsTheConvolution(t *testing.T) {
	poisonScratch = true // the padded planes' margins must be written, not found zero
	defer func() { poisonScratch = false }()
	for _, tc := range []struct {
		cfg           ConvConfig
		n, hw, budget int
	}{
		{ConvConfig{In: 16, Out: 16, Kernel: 3, Stride: 1, Padding: 1, Bias: true}, 2, 28, 1 << 19},
		{ConvConfig{In: 5, Out: 7, Kernel: 3, Stride: 1, Padding: 1}, 17, 7, 1 << 19},
		{ConvConfig{In: 4, Out: 7, Kernel: 3, Stride: 1, Padding: 1, Bias: true}, 17, 9, 500},
		{ConvConfig{In: 8, Out: 6, Kernel: 5, Stride: 1, Padding: 2, Groups: 2, Bias: true}, 5, 12, 3000},
		{ConvConfig{In: 4, Out: 5, Kernel: 7, Stride: 1, Padding: 3}, 3, 4, 1 << 19},
		{ConvConfig{In: 16, Out: 24, Kernel: 3, Stride: 1, Padding: 1, Bias: true}, 1, 40, 1 << 19}, // one sample, both cores on the product
		{ConvConfig{In: 96, Out: 8, Kernel: 3, Stride: 1, Padding: 1}, 1, 7, 1 << 19},               // one sample on a 7x7 map
		{ConvConfig{In: 8, Out: 6, Kernel: 3, Stride: 2, Padding: 1, Bias: true}, 5, 9, 1 << 19},    // stride 2: phase planes, odd size
		{ConvConfig{In: 16, Out: 8, Kernel: 3, Stride: 2, Padding: 1}, 17, 8, 2000},                 // several runs
		{ConvConfig{In: 4, Out: 6, Kernel: 5, Stride: 2, Padding: 2, Groups: 2}, 3, 10, 1 << 19},    // groups, a 5x5 kernel
		{ConvConfig{In: 3, Out: 4, Kernel: 7, Stride: 2, Padding: 3, Bias: true}, 2, 13, 1 << 19},   // a ResNet stem
	} {
		cfg, n, hw := tc.cfg, tc.n, tc.hw
		c, x := randomConv(cfg, rand.New(rand.NewPCG(7, 8)), n, hw)
		g, err := c.geometry(x)
		if err != nil {
			t.Fatal(err)
		}
		if !c.shifted(g) {
			t.Fatalf("%+v: not on the shifted path", cfg)
		}
		prev := shiftedBudget
		shiftedBudget = tc.budget
		y, _, err := c.Forward(x, &Context{})
		shiftedBudget = prev
		if err != nil {
			t.Fatal(err)
		}
		closeSlices(t, cfg, "y", y.Data, convByDefinition(c, g, x))
	}
}

// Where the padded layout's margins would be enough of a product
// (gathers), the shifted path computes only the output pixels' columns
// (kernel.SgemmGather) on AVX-512: the output and the input gradient must be their
// definitions, over one run or several, at stride 2 (phase planes), per
// group, and for one sample.
func TestConvGatheredIsTheConvolution(t *testing.T) {
	poisonScratch = true
	defer func() { poisonScratch = false }()
	for _, tc := range []struct {
		cfg           ConvConfig
		n, hw, budget int
		dx            bool // the input gradient gathers too
	}{
		{ConvConfig{In: 8, Out: 32, Kernel: 5, Stride: 1, Padding: 2, Bias: true}, 5, 13, 1 << 19, false}, // AlexNet-small's 5x5 layer
		{ConvConfig{In: 32, Out: 24, Kernel: 3, Stride: 1, Padding: 1}, 7, 6, 9000, true},                 // runs of three samples
		{ConvConfig{In: 16, Out: 24, Kernel: 3, Stride: 2, Padding: 1, Bias: true}, 4, 12, 1 << 19, false},
		{ConvConfig{In: 48, Out: 48, Kernel: 3, Stride: 1, Padding: 1, Groups: 2}, 3, 6, 1 << 19, true},
		{ConvConfig{In: 16, Out: 64, Kernel: 5, Stride: 1, Padding: 2}, 1, 13, 1 << 19, false},
	} {
		cfg, n, hw := tc.cfg, tc.n, tc.hw
		rng := rand.New(rand.NewPCG(11, 12))
		c, x := randomConv(cfg, rng, n, hw)
		g, err := c.geometry(x)
		if err != nil {
			t.Fatal(err)
		}
		prev, prevBack := shiftedBudget, shiftedBackBudget
		shiftedBudget, shiftedBackBudget = tc.budget, tc.budget
		// Paths without gathering kernels take SgemmRows instead
		// (kernel.GatherPays), and must give the same convolution.
		canGather := kernel.GatherPays(2, 1, 6)
		if !c.shifted(g) || gathered(c.shiftedConv(g), min(n, c.shiftedConv(g).perRun())) != canGather {
			t.Fatalf("%+v: forward gathered %v, want %v", cfg, !canGather, canGather)
		}
		back := c.backShiftedConv(g)
		if tc.dx && (!c.shiftedBack(g) || gathered(back, min(n, back.perRunWithin(shiftedBackBudget))) != canGather) {
			t.Fatalf("%+v: input gradient gathered %v, want %v", cfg, !canGather, canGather)
		}
		ctx := &Context{}
		y, _, err := c.Forward(x, ctx)
		if err != nil {
			t.Fatal(err)
		}
		dy := randTensor(rng, y.Shape...)
		dx, err := c.Backward(dy, &Step{Layer: c, In: x, Out: y, arena: ctx.arena()}, Gradient, Grads{})
		shiftedBudget, shiftedBackBudget = prev, prevBack
		if err != nil {
			t.Fatal(err)
		}
		closeSlices(t, cfg, "y", y.Data, convByDefinition(c, g, x))
		closeSlices(t, cfg, "dx", dx.Data, inputGradByDefinition(c, g, dy))
	}
}

// gathered reports whether a run of nb samples of sc computes only its
// output pixels' columns.
func gathered(sc shiftedConv, nb int) bool {
	l := sc.layout(nb)
	oh, ow := sc.out()
	return gathers(l.n, kernel.ImageColumnsLen(nb, oh, ow, l.sp, l.wp), sc.cout)
}

// inputGradByDefinition is dx for dy: each output pixel's dy spread back
// over the input pixels its window read, through the same weights.
func inputGradByDefinition(c *Conv2d, g convGeometry, dy *Tensor) []float32 {
	dx := make([]float64, g.n*c.In*g.h*g.w)
	eachTap(c, g, func(yi, xi, wi int) {
		dx[xi] += float64(c.Weight.Value.Data[wi]) * float64(dy.Data[yi])
	})
	return float32s(dx)
}

// A stride-1 "same" convolution of at least 16 input channels a group
// takes its weight gradient tap by tap from x in the padded layout
// (weightGradShifted), with dy padded as its input gradient uses it or,
// on small maps, copied pixel by pixel (compactDy): over one run or
// several (a small budget), groups, kernels of 3 and 5, one sample, and
// with the input gradient skipped, the weight and bias gradients must be
// their definitions, summed pixel by pixel.
func TestConvWeightGradFromPaddedDy(t *testing.T) {
	poisonScratch = true
	defer func() { poisonScratch = false }()
	for _, tc := range []struct {
		cfg           ConvConfig
		n, hw, budget int
		skipDx        bool
	}{
		{ConvConfig{In: 16, Out: 16, Kernel: 3, Stride: 1, Padding: 1, Bias: true}, 3, 8, 1 << 17, false},
		{ConvConfig{In: 16, Out: 20, Kernel: 3, Stride: 1, Padding: 1, Bias: true}, 7, 9, 8000, false}, // four runs of one or two samples
		{ConvConfig{In: 32, Out: 6, Kernel: 5, Stride: 1, Padding: 2, Groups: 2}, 3, 7, 1 << 17, false},
		{ConvConfig{In: 48, Out: 8, Kernel: 3, Stride: 1, Padding: 1, Bias: true}, 1, 10, 1 << 17, false},
		{ConvConfig{In: 16, Out: 8, Kernel: 3, Stride: 1, Padding: 1, Bias: true}, 4, 6, 1 << 17, true},
		{ConvConfig{In: 16, Out: 12, Kernel: 3, Stride: 1, Padding: 1, Bias: true}, 5, 16, 12000, false}, // dy padded, several runs
		{ConvConfig{In: 32, Out: 8, Kernel: 5, Stride: 1, Padding: 2, Groups: 2}, 2, 24, 1 << 17, true},  // dy padded, no dx
	} {
		cfg, n, hw := tc.cfg, tc.n, tc.hw
		rng := rand.New(rand.NewPCG(9, 10))
		c, x := randomConv(cfg, rng, n, hw)
		g, err := c.geometry(x)
		if err != nil {
			t.Fatal(err)
		}
		if !c.tappedGrad(g) {
			t.Fatalf("%+v: weight gradient not tap by tap", cfg)
		}
		runs, _ := runsOf(n, c.backShiftedConv(g).perRunWithin(tc.budget))
		compact := compactDy(c.backShiftedConv(g).layout((n+runs-1)/runs).n, (n+runs-1)/runs*g.h*g.w)
		if wantCompact := hw < 16; compact != wantCompact {
			t.Fatalf("%+v at %dx%d: dy copied %v, want %v", cfg, hw, hw, compact, wantCompact)
		}
		dy := randTensor(rng, n, cfg.Out, g.oh, g.ow)
		prev := shiftedBackBudget
		shiftedBackBudget = tc.budget
		ctx := &Context{}
		y, _, err := c.Forward(x, ctx)
		if err != nil {
			t.Fatal(err)
		}
		grads := Grads{}
		_, err = c.Backward(dy, &Step{Layer: c, In: x, Out: y, arena: ctx.arena(), SkipInputGrad: tc.skipDx}, Gradient, grads)
		shiftedBackBudget = prev
		if err != nil {
			t.Fatal(err)
		}
		dW, db, dWAbs, dbAbs := weightGradByDefinition(c, g, x, dy)
		closeSums(t, cfg, "dW", grads.For(c.Weight).Data, dW, dWAbs, g.n*g.oh*g.ow)
		if c.Bias != nil {
			closeSums(t, cfg, "db", grads.For(c.Bias).Data, db, dbAbs, g.n*g.oh*g.ow)
		}
	}
}

// closeSums fails if got differs from want, sums of up to terms terms
// whose absolute values sum to abs, by more than float32 rounding allows
// in any order of summation: (terms+1) ulps of abs, twice.
func closeSums(t *testing.T, cfg ConvConfig, what string, got, want, abs []float32, terms int) {
	t.Helper()
	const eps = 1.0 / (1 << 23)
	for j := range got {
		tol := 2*float64(terms+1)*eps*float64(abs[j]) + 1e-7
		if d := math.Abs(float64(got[j] - want[j])); !(d <= tol) {
			t.Fatalf("%+v: %s[%d] = %g, by definition %g (|diff| %g > %g)", cfg, what, j, got[j], want[j], d, tol)
		}
	}
}

// weightGradByDefinition is c's weight and bias gradients for dy at x,
// summed pixel by pixel in float64 (stride 1, no dilation), and the sums
// of their terms' absolute values.
func weightGradByDefinition(c *Conv2d, g convGeometry, x, dy *Tensor) (dW, db, dWAbs, dbAbs []float32) {
	cfg, hw := c.ConvConfig, g.h
	dW, db = make([]float32, c.Weight.Value.Len()), make([]float32, cfg.Out)
	dWAbs, dbAbs = make([]float32, c.Weight.Value.Len()), make([]float32, cfg.Out)
	for o := range cfg.Out {
		gi := o / g.kg
		var sb, ab float64
		for b := range g.n {
			for p := range g.oh * g.ow {
				v := float64(dy.Data[(b*cfg.Out+o)*g.oh*g.ow+p])
				sb, ab = sb+v, ab+math.Abs(v)
			}
		}
		db[o], dbAbs[o] = float32(sb), float32(ab)
		for ci := range g.cg {
			for ky := range cfg.Kernel {
				for kx := range cfg.Kernel {
					var s, a float64
					for b := range g.n {
						for oy := range g.oh {
							for ox := range g.ow {
								iy, ix := oy-cfg.Padding+ky, ox-cfg.Padding+kx
								if iy < 0 || iy >= hw || ix < 0 || ix >= hw {
									continue
								}
								v := float64(dy.Data[((b*cfg.Out+o)*g.oh+oy)*g.ow+ox]) * float64(x.Data[((b*cfg.In+gi*g.cg+ci)*hw+iy)*hw+ix])
								s, a = s+v, a+math.Abs(v)
							}
						}
					}
					at := ((o*g.cg+ci)*cfg.Kernel+ky)*cfg.Kernel + kx
					dW[at], dWAbs[at] = float32(s), float32(a)
				}
			}
		}
	}
	return dW, db, dWAbs, dbAbs
}

// BenchmarkConvForward times layers of VGG-16, ResNet-18/20 and LeNet-5 at
// batch 1 or 64 (the name's b), each with its panels packed from the
// images where Conv2d.implicit chooses to and with the input unrolled
// first: `go test -run X -bench ConvForward ./nn`.
func BenchmarkConvForward(b *testing.B) {
	for _, s := range []struct{ in, out, hw, k, s, p, n int }{
		{3, 64, 224, 3, 1, 1, 1}, {64, 64, 224, 3, 1, 1, 1}, {128, 128, 112, 3, 1, 1, 1}, {256, 256, 56, 3, 1, 1, 1},
		{512, 512, 28, 3, 1, 1, 1}, {3, 64, 224, 7, 2, 3, 1}, {64, 64, 56, 3, 1, 1, 1}, {64, 128, 56, 3, 2, 1, 1},
		{128, 128, 28, 3, 1, 1, 1}, {16, 16, 32, 3, 1, 1, 64}, {64, 64, 8, 3, 1, 1, 64}, {6, 16, 14, 5, 1, 0, 64},
	} {
		c := NewConv2d("c", s.in, s.out, s.k, s.s, s.p, true)
		rng := rand.New(rand.NewPCG(1, 2))
		Init([]Layer{c}, rng)
		x := randTensor(rng, s.n, s.in, s.hw, s.hw)
		g, _ := c.geometry(x)
		if !c.implicit(g) {
			continue
		}
		for _, unrolled := range []bool{false, true} {
			name := fmt.Sprintf("%dx%dx%d-%dx%ds%d-b%d/packed", s.in, s.out, s.hw, s.k, s.k, s.s, s.n)
			if unrolled {
				name = strings.Replace(name, "packed", "unrolled", 1)
			}
			b.Run(name, func(b *testing.B) {
				noImplicit = unrolled
				defer func() { noImplicit = false }()
				ctx := &Context{Arena: NewArena()}
				for b.Loop() {
					ctx.Arena.Reset()
					if _, _, err := c.Forward(x, ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// randomConv is a convolution of cfg with random weights and bias, and a
// random input of n samples hw x hw for it, drawn from rng in that order.
func randomConv(cfg ConvConfig, rng *rand.Rand, n, hw int) (*Conv2d, *Tensor) {
	c := NewConv("conv", cfg)
	Init([]Layer{c}, rng)
	if c.Bias != nil {
		copy(c.Bias.Value.Data, randTensor(rng, cfg.Out).Data)
	}
	return c, randTensor(rng, n, cfg.In, hw, hw)
}

// BenchmarkConvShifted compares the shifted path (convshift.go) with
// unrolling on ResNet-20's "same" convolutions, at a Slicer's 16 samples
// and a training batch of 128 (run with -cpu 1 for a slice's single core).
func BenchmarkConvShifted(b *testing.B) {
	for _, s := range []struct{ ch, hw, n int }{
		{16, 28, 16}, {32, 14, 16}, {64, 7, 16}, {16, 32, 16}, {32, 16, 16}, {64, 8, 16}, {16, 28, 128}, {64, 7, 128},
	} {
		c, x := randomConv(ConvConfig{In: s.ch, Out: s.ch, Kernel: 3, Stride: 1, Padding: 1}, rand.New(rand.NewPCG(1, 2)), s.n, s.hw)
		benchShiftedAndUnrolled(b, fmt.Sprintf("%dx%dx%d-b%d", s.ch, s.ch, s.hw, s.n), c, x)
	}
}

// benchShiftedAndUnrolled times c's forward pass on x on the shifted path
// (NAME/shifted) and with it turned off (NAME/unrolled).
func benchShiftedAndUnrolled(b *testing.B, name string, c *Conv2d, x *Tensor) {
	benchWithAndWithout(b, name, c, x, &Context{}, &noShifted, "shifted", "unrolled")
}

// benchWithAndWithout times c's forward pass on x in passes like ctx,
// with the path that *off turns off (NAME/with) and without it
// (NAME/without, run first).
func benchWithAndWithout(b *testing.B, name string, c *Conv2d, x *Tensor, ctx *Context, off *bool, with, without string) {
	for _, turnedOff := range []bool{true, false} {
		path := with
		if turnedOff {
			path = without
		}
		b.Run(name+"/"+path, func(b *testing.B) {
			*off = turnedOff
			defer func() { *off = false }()
			pass := *ctx
			pass.Arena = NewArena()
			for b.Loop() {
				pass.Arena.Reset()
				if _, _, err := c.Forward(x, &pass); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkConvBackward compares a training step's backward pass of
// ResNet-20/32's "same" convolutions (batch 128, both gradients) with the
// weight gradient from the padded dy (NAME/tapped) and from the unrolled
// input (NAME/unrolled).
func BenchmarkConvBackward(b *testing.B) {
	for _, s := range []struct{ ch, hw int }{{16, 32}, {32, 16}, {64, 8}} {
		rng := rand.New(rand.NewPCG(1, 2))
		c, x := randomConv(ConvConfig{In: s.ch, Out: s.ch, Kernel: 3, Stride: 1, Padding: 1}, rng, 128, s.hw)
		dy := randTensor(rng, 128, s.ch, s.hw, s.hw)
		for _, unrolled := range []bool{false, true} {
			path := "tapped"
			if unrolled {
				path = "unrolled"
			}
			b.Run(fmt.Sprintf("%dx%dx%d-b128/%s", s.ch, s.ch, s.hw, path), func(b *testing.B) {
				noTapped = unrolled
				defer func() { noTapped = false }()
				ctx := &Context{Arena: NewArena()}
				y, _, err := c.Forward(x, ctx)
				if err != nil {
					b.Fatal(err)
				}
				grads, back := Grads{}, NewArena()
				for b.Loop() {
					back.Reset()
					if _, err := c.Backward(dy, &Step{Layer: c, In: x, Out: y, arena: back}, Gradient, grads); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkConvGathered compares a training step's forward
// (NAME/fwd-...) and backward (NAME/back-...) passes with the shifted
// path's products over the output pixels' columns only (gathered) and
// over every column of the padded layout (all), at batch 128:
// AlexNet-small's 5x5 layer on 13x13 maps and a 6x6 one, ResNet's
// 64-channel layers at 8x8 and 7x7, and 16x16 and 32x32 ones (which do
// not gather).
func BenchmarkConvGathered(b *testing.B) {
	for _, s := range []struct{ in, out, hw, k int }{
		{32, 64, 13, 5}, {64, 96, 6, 3}, {64, 64, 8, 3}, {64, 64, 7, 3}, {32, 32, 16, 3}, {16, 16, 32, 3},
	} {
		rng := rand.New(rand.NewPCG(1, 2))
		c, x := randomConv(ConvConfig{In: s.in, Out: s.out, Kernel: s.k, Stride: 1, Padding: s.k / 2, Bias: true}, rng, 128, s.hw)
		dy := randTensor(rng, 128, s.out, s.hw, s.hw)
		name := fmt.Sprintf("%dx%dx%d-k%d-b128", s.in, s.out, s.hw, s.k)
		for _, off := range []bool{true, false} {
			path := "gathered"
			if off {
				path = "all"
			}
			b.Run(name+"/fwd-"+path, func(b *testing.B) {
				noGather = off
				defer func() { noGather = false }()
				ctx := &Context{Arena: NewArena()}
				for b.Loop() {
					ctx.Arena.Reset()
					if _, _, err := c.Forward(x, ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(name+"/back-"+path, func(b *testing.B) {
				noGather = off
				defer func() { noGather = false }()
				y, _, err := c.Forward(x, &Context{Arena: NewArena()})
				if err != nil {
					b.Fatal(err)
				}
				grads, back := Grads{}, NewArena()
				for b.Loop() {
					back.Reset()
					if _, err := c.Backward(dy, &Step{Layer: c, In: x, Out: y, arena: back}, Gradient, grads); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkConvCompactDy compares a training step's backward pass at
// batch 128 with the weight gradient summed over the output pixels from
// a copy of dy (NAME/compact) and over the padded layout from the padded
// dy (NAME/padded), whatever compactDy's rule would choose, on maps of
// 3x3 to 32x32 (the rule is read off it).
func BenchmarkConvCompactDy(b *testing.B) {
	for _, s := range []struct{ in, out, hw, k int }{
		{32, 64, 13, 5}, {64, 96, 6, 3}, {64, 64, 8, 3}, {64, 64, 7, 3}, {256, 256, 3, 3}, {32, 32, 14, 3}, {32, 32, 16, 3}, {16, 16, 32, 3},
	} {
		rng := rand.New(rand.NewPCG(1, 2))
		c, x := randomConv(ConvConfig{In: s.in, Out: s.out, Kernel: s.k, Stride: 1, Padding: s.k / 2, Bias: true}, rng, 128, s.hw)
		dy := randTensor(rng, 128, s.out, s.hw, s.hw)
		y, _, err := c.Forward(x, &Context{Arena: NewArena()})
		if err != nil {
			b.Fatal(err)
		}
		for _, off := range []bool{true, false} {
			path := "compact"
			if off {
				path = "padded"
			}
			b.Run(fmt.Sprintf("%dx%dx%d-k%d-b128/%s", s.in, s.out, s.hw, s.k, path), func(b *testing.B) {
				compactForced = 1
				if off {
					compactForced = -1
				}
				defer func() { compactForced = 0 }()
				grads, back := Grads{}, NewArena()
				for b.Loop() {
					back.Reset()
					if _, err := c.Backward(dy, &Step{Layer: c, In: x, Out: y, arena: back}, Gradient, grads); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkConvHalving compares the stride-2 shifted path (phase planes)
// with unrolling on ResNet-20's stride-2 convolutions at a Slicer's 16
// samples (-cpu 1) and ResNet-18's at 128 channels.
func BenchmarkConvHalving(b *testing.B) {
	for _, s := range []struct{ in, out, hw, n int }{{16, 32, 28, 16}, {32, 64, 14, 16}, {16, 32, 32, 16}, {64, 128, 56, 16}} {
		c, x := randomConv(ConvConfig{In: s.in, Out: s.out, Kernel: 3, Stride: 2, Padding: 1}, rand.New(rand.NewPCG(1, 2)), s.n, s.hw)
		benchShiftedAndUnrolled(b, fmt.Sprintf("%dx%dx%d-b%d", s.in, s.out, s.hw, s.n), c, x)
	}
}

// A pointwise convolution on maps of at least pointwiseAlone pixels runs a
// product a sample, in place, with the bias or a fused epilogue after it:
// over several samples, the output must be the definition's, and the
// epilogue's values of it.
func TestPointwiseSamplesAloneAreTheConvolution(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cfg := ConvConfig{In: 6, Out: 5, Kernel: 1, Bias: true}
	c, x := randomConv(cfg, rng, 7, 8)
	g, err := c.geometry(x)
	if err != nil {
		t.Fatal(err)
	}
	if g.cols < pointwiseAlone {
		t.Fatalf("%d columns: not alone", g.cols)
	}
	want := convByDefinition(c, g, x)
	y, _, err := c.Forward(x, &Context{})
	if err != nil {
		t.Fatal(err)
	}
	closeSlices(t, cfg, "y", y.Data, want)
	// Fused: (conv + b)*scale + shift, clamped to [0, 6].
	scale, shift := randTensor(rng, cfg.Out).Data, randTensor(rng, cfg.Out).Data
	e := &epilogue{scale: scale, shift: append([]float32(nil), shift...), clamp: true, lo: 0, hi: 6}
	for k := range e.shift {
		e.shift[k] += c.Bias.Value.Data[k] * scale[k]
	}
	fused, err := c.forward(x, &Context{Fuse: true}, e)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		k := i / g.cols % cfg.Out
		want[i] = min(max((want[i]-c.Bias.Value.Data[k])*scale[k]+e.shift[k], 0), 6)
	}
	closeSlices(t, cfg, "fused y", fused.Data, want)
}
