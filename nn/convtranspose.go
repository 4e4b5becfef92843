package nn

import (
	"fmt"

	"github.com/convscope/convscope/nn/kernel"
)

// ConvTranspose2d is PyTorch's ConvTranspose2d (groups 1, dilation 1): the
// adjoint of a convolution, each input pixel spreading a k×k patch of its
// filters into the output:
//
//	y[n,k,iy*s-p+ky,ix*s-p+kx] += sum_c x[n,c,iy,ix] * W[c,k,ky,kx];  y += b[k]
//
// x is (N,C,H,W); y is (N,K,H',W') with H' = (H-1)s - 2p + k + output_padding.
// Weight is (C,K,k,k) as in PyTorch. It runs as SGEMM + col2im per sample.
type ConvTranspose2d struct {
	base
	In, Out, Kernel, Stride, Padding, OutputPadding int
	Weight, Bias                                    *Param
}

// NewConvTranspose2d makes a transposed convolution with zero weights.
func NewConvTranspose2d(name string, in, out, kernel, stride, padding, outputPadding int, bias bool) *ConvTranspose2d {
	c := &ConvTranspose2d{base: base{name}, In: in, Out: out, Kernel: kernel, Stride: max(stride, 1), Padding: padding, OutputPadding: outputPadding}
	c.Weight = &Param{Name: name + ".weight", Value: New(in, out, kernel, kernel)}
	if bias {
		c.Bias = &Param{Name: name + ".bias", Value: New(out), NoDecay: true}
	}
	return c
}

// Type is "ConvTranspose2d".
func (c *ConvTranspose2d) Type() string { return "ConvTranspose2d" }

// Params are the weight and, if present, the bias.
func (c *ConvTranspose2d) Params() []*Param {
	if c.Bias == nil {
		return []*Param{c.Weight}
	}
	return []*Param{c.Weight, c.Bias}
}

// OutputShape maps (C,H,W) to (K,H',W').
func (c *ConvTranspose2d) OutputShape(in []int) ([]int, error) {
	if len(in) != 3 || in[0] != c.In {
		return nil, shapeError(c, fmt.Sprintf("(%d,H,W)", c.In), in)
	}
	oh := (in[1]-1)*c.Stride - 2*c.Padding + c.Kernel + c.OutputPadding
	ow := (in[2]-1)*c.Stride - 2*c.Padding + c.Kernel + c.OutputPadding
	if oh <= 0 || ow <= 0 || c.OutputPadding >= c.Stride {
		return nil, shapeError(c, fmt.Sprintf("(%d,H,W) giving a positive output, with output_padding < stride", c.In), in)
	}
	return []int{c.Out, oh, ow}, nil
}

// MACs is C*K*k*k*H*W (every input pixel meets every filter tap once).
func (c *ConvTranspose2d) MACs(in []int) int64 {
	return int64(c.In) * int64(c.Out*c.Kernel*c.Kernel) * int64(in[1]*in[2])
}

// Forward computes y = col2im(W^T x) + b per sample.
func (c *ConvTranspose2d) Forward(x *Tensor, _ *Context) (*Tensor, any, error) {
	if len(x.Shape) != 4 {
		return nil, nil, shapeError(c, fmt.Sprintf("(N,%d,H,W)", c.In), x.Shape)
	}
	out, err := c.OutputShape(x.Shape[1:])
	if err != nil {
		return nil, nil, shapeError(c, fmt.Sprintf("(N,%d,H,W)", c.In), x.Shape)
	}
	n, h, w, oh, ow := x.Shape[0], x.Shape[2], x.Shape[3], out[1], out[2]
	rows := c.Out * c.Kernel * c.Kernel
	y := New(n, c.Out, oh, ow)
	scratch := make([][]float32, kernel.Workers())
	kernel.ParallelFor(n, func(wk, i int) {
		if scratch[wk] == nil {
			scratch[wk] = make([]float32, rows*h*w)
		}
		cols := scratch[wk]
		kernel.Sgemm(true, false, rows, h*w, c.In, 1, c.Weight.Value.Data, rows, x.Data[i*c.In*h*w:], h*w, 0, cols, h*w)
		yi := y.Data[i*c.Out*oh*ow : (i+1)*c.Out*oh*ow]
		// The output is the convolution's input: col2im with the output's
		// geometry and the input's grid as the "output" positions.
		kernel.Col2im(cols, c.Out, oh, ow, c.Kernel, c.Stride, c.Padding, 1, h, w, yi)
		if c.Bias != nil {
			for k, b := range c.Bias.Value.Data {
				for j := k * oh * ow; j < (k+1)*oh*ow; j++ {
					yi[j] += b
				}
			}
		}
	})
	return y, nil, nil
}

// Backward (every rule): dx = W · im2col(dy) (a plain convolution of dy with
// the same filters) and, when g is not nil, dW += x · im2col(dy)^T, db += sum dy.
func (c *ConvTranspose2d) Backward(dy *Tensor, st *Step, _ Rule, g Grads) (*Tensor, error) {
	if err := checkDy(c, dy, st); err != nil {
		return nil, err
	}
	x := st.In
	n, h, w, oh, ow := x.Shape[0], x.Shape[2], x.Shape[3], dy.Shape[2], dy.Shape[3]
	rows := c.Out * c.Kernel * c.Kernel
	dx := New(x.Shape...)
	type scratch struct{ cols, dw, db []float32 }
	sc := make([]*scratch, kernel.Workers())
	kernel.ParallelFor(n, func(wk, i int) {
		s := sc[wk]
		if s == nil {
			s = &scratch{cols: make([]float32, rows*h*w)}
			if g != nil {
				s.dw, s.db = make([]float32, c.Weight.Value.Len()), make([]float32, c.Out)
			}
			sc[wk] = s
		}
		dyi := dy.Data[i*c.Out*oh*ow : (i+1)*c.Out*oh*ow]
		kernel.Im2col(dyi, c.Out, oh, ow, c.Kernel, c.Stride, c.Padding, 1, h, w, s.cols)
		kernel.Sgemm(false, false, c.In, h*w, rows, 1, c.Weight.Value.Data, rows, s.cols, h*w, 0, dx.Data[i*c.In*h*w:], h*w)
		if g != nil {
			kernel.Sgemm(false, true, c.In, rows, h*w, 1, x.Data[i*c.In*h*w:], h*w, s.cols, h*w, 1, s.dw, rows)
			for k := range s.db {
				for _, v := range dyi[k*oh*ow : (k+1)*oh*ow] {
					s.db[k] += v
				}
			}
		}
	})
	if g != nil {
		dW := g.For(c.Weight).Data
		for _, s := range sc {
			if s == nil {
				continue
			}
			for j, v := range s.dw {
				dW[j] += v
			}
			if c.Bias != nil {
				db := g.For(c.Bias).Data
				for j, v := range s.db {
					db[j] += v
				}
			}
		}
	}
	return dx, nil
}
