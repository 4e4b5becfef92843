package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The direct depthwise path (G = C, K = mC) gives what the im2col path
// gives: each input channel is run as its own ordinary convolution (groups
// 1, so im2col + SGEMM) and the outputs, input gradients and filter and
// bias gradients are compared. The two sum in different orders, so they
// agree to float32 rounding of k*k (forward) and N*H'*W' (filter gradient)
// terms: 1e-5 relative to the largest value.
func TestDepthwiseMatchesIm2col(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	randT := func(shape ...int) *Tensor {
		t := New(shape...)
		for i := range t.Data {
			t.Data[i] = float32(r.NormFloat64())
		}
		return t
	}
	for _, cfg := range []struct{ n, c, m, hw, k, s, p, d int }{
		{2, 4, 1, 9, 3, 1, 1, 1}, {1, 3, 2, 8, 3, 2, 1, 1}, {3, 5, 1, 11, 7, 1, 3, 1},
		{2, 2, 3, 10, 5, 3, 4, 1}, {1, 4, 1, 9, 3, 1, 2, 2}, {2, 3, 1, 7, 1, 2, 0, 1},
	} {
		name := fmt.Sprintf("%+v", cfg)
		dw := NewConv("dw", ConvConfig{In: cfg.c, Out: cfg.c * cfg.m, Kernel: cfg.k, Stride: cfg.s, Padding: cfg.p, Dilation: cfg.d, Groups: cfg.c, Bias: true})
		copy(dw.Weight.Value.Data, randT(dw.Weight.Value.Shape...).Data)
		copy(dw.Bias.Value.Data, randT(dw.Bias.Value.Shape...).Data)
		x := randT(cfg.n, cfg.c, cfg.hw, cfg.hw)
		y, _, err := dw.Forward(x, &Context{})
		if err != nil {
			t.Fatal(err)
		}
		dy := randT(y.Shape...)
		g := Grads{}
		dx, err := dw.Backward(dy, &Step{Layer: dw, In: x, Out: y}, Gradient, g)
		if err != nil {
			t.Fatal(err)
		}
		k2, plane, oplane := cfg.k*cfg.k, cfg.hw*cfg.hw, y.Shape[2]*y.Shape[3]
		for ci := 0; ci < cfg.c; ci++ {
			one := NewConv("one", ConvConfig{In: 1, Out: cfg.m, Kernel: cfg.k, Stride: cfg.s, Padding: cfg.p, Dilation: cfg.d, Bias: true})
			copy(one.Weight.Value.Data, dw.Weight.Value.Data[ci*cfg.m*k2:])
			copy(one.Bias.Value.Data, dw.Bias.Value.Data[ci*cfg.m:])
			xc, dyc := New(cfg.n, 1, cfg.hw, cfg.hw), New(cfg.n, cfg.m, y.Shape[2], y.Shape[3])
			for i := 0; i < cfg.n; i++ {
				copy(xc.Data[i*plane:(i+1)*plane], x.Data[(i*cfg.c+ci)*plane:])
				copy(dyc.Data[i*cfg.m*oplane:(i+1)*cfg.m*oplane], dy.Data[(i*cfg.c+ci)*cfg.m*oplane:])
			}
			yc, _, _ := one.Forward(xc, &Context{})
			gc := Grads{}
			dxc, _ := one.Backward(dyc, &Step{Layer: one, In: xc, Out: yc}, Gradient, gc)
			for i := 0; i < cfg.n; i++ {
				near(t, name+" y", y.Data[(i*cfg.c+ci)*cfg.m*oplane:][:cfg.m*oplane], yc.Data[i*cfg.m*oplane:][:cfg.m*oplane])
				near(t, name+" dx", dx.Data[(i*cfg.c+ci)*plane:][:plane], dxc.Data[i*plane:][:plane])
			}
			near(t, name+" dW", g[dw.Weight].Data[ci*cfg.m*k2:][:cfg.m*k2], gc[one.Weight].Data)
			near(t, name+" db", g[dw.Bias].Data[ci*cfg.m:][:cfg.m], gc[one.Bias].Data)
		}
	}
}

// near fails unless got and want agree to 1e-5 of want's largest magnitude.
func near(t *testing.T, what string, got, want []float32) {
	t.Helper()
	scale := 0.0
	for _, v := range want {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*math.Max(scale, 1) {
			t.Fatalf("%s[%d] = %g, im2col path %g", what, i, got[i], want[i])
		}
	}
}

// A depthwise layer's batch backward walks the planes in memory order and
// adds each plane's filter and bias gradients in sample order after: its
// gradients are, bit for bit, those of the samples' backwards one after
// the other, and its input gradient each sample's own. Covered: one filter
// per channel at strides 1 and 2 (the shared padded and upsampled dy), a
// channel multiplier of 2, a bias, and more channels than cores.
func TestDepthwiseBatchGradientsAreTheSamplesInOrder(t *testing.T) {
	const n, hw = 5, 9
	for _, cfg := range []ConvConfig{
		{In: 6, Out: 6, Kernel: 3, Stride: 1, Padding: 1, Groups: 6},
		{In: 7, Out: 7, Kernel: 3, Stride: 2, Padding: 1, Groups: 7, Bias: true},
		{In: 3, Out: 6, Kernel: 3, Stride: 1, Padding: 1, Groups: 3, Bias: true},
		{In: 4, Out: 4, Kernel: 5, Stride: 1, Padding: 2, Groups: 4},
	} {
		rng := rand.New(rand.NewPCG(9, 10))
		c, x := randomConv(cfg, rng, n, hw)
		ctx := &Context{}
		y, _, err := c.Forward(x, ctx)
		if err != nil {
			t.Fatal(err)
		}
		dy := randTensor(rng, y.Shape...)
		batch, alone := Grads{}, Grads{}
		dx, err := c.Backward(dy, &Step{Layer: c, In: x, Out: y, arena: ctx.arena()}, Gradient, batch)
		if err != nil {
			t.Fatal(err)
		}
		in, out := len(x.Data)/n, len(y.Data)/n
		for i := 0; i < n; i++ {
			xi := FromData(x.Data[i*in:(i+1)*in], 1, cfg.In, hw, hw)
			yi, _, err := c.Forward(xi, ctx)
			if err != nil {
				t.Fatal(err)
			}
			dxi, err := c.Backward(FromData(dy.Data[i*out:(i+1)*out], yi.Shape...), &Step{Layer: c, In: xi, Out: yi, arena: ctx.arena()}, Gradient, alone)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(dx.Data[i*in:(i+1)*in], dxi.Data) {
				t.Errorf("%+v: sample %d's input gradient differs from its own", cfg, i)
			}
		}
		for _, p := range c.Params() {
			if !slices.Equal(batch.For(p).Data, alone.For(p).Data) {
				t.Errorf("%+v: d%s is not the samples' in order", cfg, p.Name)
			}
		}
	}
}

// BenchmarkDepthwiseBackward times a depthwise layer's backward (input,
// filter gradients) at MobileNet v1-small's shapes at batch 128.
func BenchmarkDepthwiseBackward(b *testing.B) {
	for _, s := range []struct{ ch, hw, stride int }{{32, 32, 1}, {64, 32, 2}, {128, 16, 1}, {256, 8, 1}} {
		rng := rand.New(rand.NewPCG(1, 2))
		c, x := randomConv(ConvConfig{In: s.ch, Out: s.ch, Kernel: 3, Stride: s.stride, Padding: 1, Groups: s.ch}, rng, 128, s.hw)
		ctx := &Context{Arena: NewArena()}
		y, _, err := c.Forward(x, ctx)
		if err != nil {
			b.Fatal(err)
		}
		dy := randTensor(rng, y.Shape...)
		b.Run(fmt.Sprintf("%dx%dx%d_s%d", s.ch, s.hw, s.hw, s.stride), func(b *testing.B) {
			for b.Loop() {
				ctx.Arena.Reset()
				if _, err := c.Backward(dy, &Step{Layer: c, In: x, Out: y, arena: ctx.arena()}, Gradient, Grads{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
