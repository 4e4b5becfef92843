package nn

import (
	"fmt"

	"github.com/convscope/convscope/nn/kernel"
)

// Conv2d is PyTorch's Conv2d with square kernels, stride and zero padding:
//
//	y[n,k,oy,ox] = b[k] + sum_{c,ky,kx} W[k,c,ky,kx] * x[n,c,oy*s-p+ky,ox*s-p+kx]
//
// x is (N,C,H,W); y is (N,K,H',W') with H' = (H+2p-k)/s + 1. Weight is
// (K,C,k,k), Bias is (K) or nil. It runs as im2col + SGEMM per sample.
type Conv2d struct {
	base
	InChannels, OutChannels, Kernel, Stride, Padding int
	Weight, Bias                                     *Param
}

// NewConv2d makes a convolution with zero weights; call Init (or load a
// checkpoint) before use.
func NewConv2d(name string, in, out, kernel, stride, padding int, bias bool) *Conv2d {
	c := &Conv2d{base: base{name}, InChannels: in, OutChannels: out, Kernel: kernel, Stride: stride, Padding: padding}
	c.Weight = &Param{Name: name + ".weight", Value: New(out, in, kernel, kernel)}
	if bias {
		c.Bias = &Param{Name: name + ".bias", Value: New(out), NoDecay: true}
	}
	return c
}

// Type is "Conv2d".
func (c *Conv2d) Type() string { return "Conv2d" }

// Params are the weight and, if present, the bias.
func (c *Conv2d) Params() []*Param {
	if c.Bias == nil {
		return []*Param{c.Weight}
	}
	return []*Param{c.Weight, c.Bias}
}

// Window is (k, s, p).
func (c *Conv2d) Window() (int, int, int) { return c.Kernel, c.Stride, c.Padding }

// OutputShape maps (C,H,W) to (K,H',W').
func (c *Conv2d) OutputShape(in []int) ([]int, error) {
	want := fmt.Sprintf("(%d,H,W) with H,W >= %d", c.InChannels, c.Kernel-2*c.Padding)
	if len(in) != 3 || in[0] != c.InChannels {
		return nil, shapeError(c, want, in)
	}
	oh := (in[1]+2*c.Padding-c.Kernel)/c.Stride + 1
	ow := (in[2]+2*c.Padding-c.Kernel)/c.Stride + 1
	if in[1]+2*c.Padding < c.Kernel || in[2]+2*c.Padding < c.Kernel {
		return nil, shapeError(c, want, in)
	}
	return []int{c.OutChannels, oh, ow}, nil
}

// MACs is K*C*k*k*H'*W'.
func (c *Conv2d) MACs(in []int) int64 {
	out, err := c.OutputShape(in)
	if err != nil {
		return 0
	}
	return int64(c.OutChannels) * int64(c.InChannels*c.Kernel*c.Kernel) * int64(out[1]*out[2])
}

// geometry returns the per-sample sizes of one pass over x.
func (c *Conv2d) geometry(x *Tensor) (n, h, w, oh, ow int, err error) {
	if len(x.Shape) != 4 {
		return 0, 0, 0, 0, 0, shapeError(c, fmt.Sprintf("(N,%d,H,W)", c.InChannels), x.Shape)
	}
	out, err := c.OutputShape(x.Shape[1:])
	if err != nil {
		return 0, 0, 0, 0, 0, shapeError(c, fmt.Sprintf("(N,%d,H,W) with H,W >= %d", c.InChannels, c.Kernel-2*c.Padding), x.Shape)
	}
	return x.Shape[0], x.Shape[2], x.Shape[3], out[1], out[2], nil
}

// Forward computes y = conv(x, W) + b.
func (c *Conv2d) Forward(x *Tensor, _ *Context) (*Tensor, any, error) {
	n, h, w, oh, ow, err := c.geometry(x)
	if err != nil {
		return nil, nil, err
	}
	y := New(n, c.OutChannels, oh, ow)
	rows, cols := c.InChannels*c.Kernel*c.Kernel, oh*ow
	scratch := make([][]float32, kernel.Workers())
	kernel.ParallelFor(n, func(wk, i int) {
		if scratch[wk] == nil {
			scratch[wk] = make([]float32, rows*cols)
		}
		col := scratch[wk]
		xi := x.Data[i*c.InChannels*h*w : (i+1)*c.InChannels*h*w]
		yi := y.Data[i*c.OutChannels*cols : (i+1)*c.OutChannels*cols]
		kernel.Im2col(xi, c.InChannels, h, w, c.Kernel, c.Stride, c.Padding, oh, ow, col)
		kernel.Sgemm(false, false, c.OutChannels, cols, rows, 1, c.Weight.Value.Data, rows, col, cols, 0, yi, cols)
		if c.Bias != nil {
			for k, b := range c.Bias.Value.Data {
				plane := yi[k*cols : (k+1)*cols]
				for j := range plane {
					plane[j] += b
				}
			}
		}
	})
	return y, nil, nil
}

// Backward computes dx = conv_transpose(dy, W) (the same for every rule) and,
// when g is not nil, dW += dy · im2col(x)^T and db += sum of dy over N,H',W'.
func (c *Conv2d) Backward(dy *Tensor, st *Step, _ Rule, g Grads) (*Tensor, error) {
	if err := checkDy(c, dy, st); err != nil {
		return nil, err
	}
	x := st.In
	n, h, w, oh, ow, err := c.geometry(x)
	if err != nil {
		return nil, err
	}
	dx := New(x.Shape...)
	rows, cols := c.InChannels*c.Kernel*c.Kernel, oh*ow
	workers := kernel.Workers()
	type scratch struct{ col, dcol, dw, db []float32 }
	sc := make([]*scratch, workers)
	kernel.ParallelFor(n, func(wk, i int) {
		s := sc[wk]
		if s == nil {
			s = &scratch{col: make([]float32, rows*cols), dcol: make([]float32, rows*cols)}
			if g != nil {
				s.dw = make([]float32, c.OutChannels*rows)
				s.db = make([]float32, c.OutChannels)
			}
			sc[wk] = s
		}
		dyi := dy.Data[i*c.OutChannels*cols : (i+1)*c.OutChannels*cols]
		if g != nil {
			xi := x.Data[i*c.InChannels*h*w : (i+1)*c.InChannels*h*w]
			kernel.Im2col(xi, c.InChannels, h, w, c.Kernel, c.Stride, c.Padding, oh, ow, s.col)
			kernel.Sgemm(false, true, c.OutChannels, rows, cols, 1, dyi, cols, s.col, cols, 1, s.dw, rows)
			for k := range s.db {
				var sum float32
				for _, v := range dyi[k*cols : (k+1)*cols] {
					sum += v
				}
				s.db[k] += sum
			}
		}
		kernel.Sgemm(true, false, rows, cols, c.OutChannels, 1, c.Weight.Value.Data, rows, dyi, cols, 0, s.dcol, cols)
		kernel.Col2im(s.dcol, c.InChannels, h, w, c.Kernel, c.Stride, c.Padding, oh, ow, dx.Data[i*c.InChannels*h*w:(i+1)*c.InChannels*h*w])
	})
	if g != nil {
		dW := g.For(c.Weight).Data
		var db []float32
		if c.Bias != nil {
			db = g.For(c.Bias).Data
		}
		for _, s := range sc {
			if s == nil {
				continue
			}
			for j, v := range s.dw {
				dW[j] += v
			}
			for j := range db {
				db[j] += s.db[j]
			}
		}
	}
	return dx, nil
}
