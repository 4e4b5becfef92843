package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
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
