package nn

import (
	"fmt"

	"github.com/convscope/convscope/nn/kernel"
)

// Linear is PyTorch's Linear: y = x W^T + b over the last axis, x (N,...,in),
// W (out,in), y (N,...,out); the leading axes are rows of one product.
type Linear struct {
	base
	InFeatures, OutFeatures int
	Weight, Bias            *Param
}

// NewLinear makes a fully connected layer with zero weights.
func NewLinear(name string, in, out int, bias bool) *Linear {
	l := &Linear{base: base{name}, InFeatures: in, OutFeatures: out}
	l.Weight = &Param{Name: name + ".weight", Value: New(out, in)}
	if bias {
		l.Bias = &Param{Name: name + ".bias", Value: New(out), NoDecay: true}
	}
	return l
}

// Type is "Linear".
func (l *Linear) Type() string { return "Linear" }

// Params are the weight and, if present, the bias.
func (l *Linear) Params() []*Param {
	if l.Bias == nil {
		return []*Param{l.Weight}
	}
	return []*Param{l.Weight, l.Bias}
}

// OutputShape maps (...,in) to (...,out).
func (l *Linear) OutputShape(in []int) ([]int, error) {
	if len(in) == 0 || in[len(in)-1] != l.InFeatures {
		return nil, shapeError(l, fmt.Sprintf("(...,%d)", l.InFeatures), in)
	}
	out := append([]int(nil), in...)
	out[len(out)-1] = l.OutFeatures
	return out, nil
}

// MACs is in*out per row.
func (l *Linear) MACs(in []int) int64 {
	return int64(Numel(in)/l.InFeatures) * int64(l.InFeatures) * int64(l.OutFeatures)
}

// Forward computes x W^T + b.
func (l *Linear) Forward(x *Tensor, ctx *Context) (*Tensor, any, error) {
	if len(x.Shape) < 2 || x.Shape[len(x.Shape)-1] != l.InFeatures {
		return nil, nil, shapeError(l, fmt.Sprintf("(N,...,%d)", l.InFeatures), x.Shape)
	}
	n := len(x.Data) / l.InFeatures
	outShape := append([]int(nil), x.Shape...)
	outShape[len(outShape)-1] = l.OutFeatures
	y := ctx.arena().Uninit(outShape...) // every value is written: the bias rows, or beta 0
	beta := float32(0)
	if l.Bias != nil {
		fillRows(y.Data[:n*l.OutFeatures], l.Bias.Value.Data)
		beta = 1
	}
	kernel.Sgemm(false, true, n, l.OutFeatures, l.InFeatures, 1, x.Data, l.InFeatures, l.Weight.Value.Data, l.InFeatures, beta, y.Data, l.OutFeatures)
	return y, nil, nil
}

// Backward computes dx = dy W and, when g is not nil, dW += dy^T x, db += sum_n dy.
func (l *Linear) Backward(dy *Tensor, st *Step, _ Rule, g Grads) (*Tensor, error) {
	if err := checkDy(l, dy, st); err != nil {
		return nil, err
	}
	n := len(dy.Data) / l.OutFeatures
	dx := st.arena.Uninit(st.In.Shape...) // beta 0 writes every value
	kernel.Sgemm(false, false, n, l.InFeatures, l.OutFeatures, 1, dy.Data, l.OutFeatures, l.Weight.Value.Data, l.InFeatures, 0, dx.Data, l.InFeatures)
	if g != nil {
		kernel.Sgemm(true, false, l.OutFeatures, l.InFeatures, n, 1, dy.Data, l.OutFeatures, st.In.Data, l.InFeatures, 1, g.For(l.Weight).Data, l.InFeatures)
		if l.Bias != nil {
			db := g.For(l.Bias).Data
			for i := 0; i < n; i++ {
				kernel.Add(db, db, dy.Data[i*l.OutFeatures:(i+1)*l.OutFeatures])
			}
		}
	}
	return dx, nil
}

// fillRows repeats row over dst (whose length is a multiple of row's) in
// doubling copies: a few long memmoves instead of one short copy per row.
func fillRows(dst, row []float32) {
	done := copy(dst, row)
	for done < len(dst) {
		done += copy(dst[done:], dst[:done])
	}
}

// Flatten reshapes (N,C,H,W) to (N,C*H*W), as torch.flatten(x, 1).
type Flatten struct{ base }

// NewFlatten makes a flatten layer.
func NewFlatten(name string) *Flatten { return &Flatten{base{name}} }

// Type is "Flatten".
func (*Flatten) Type() string { return "Flatten" }

// OutputShape is the product of in.
func (*Flatten) OutputShape(in []int) ([]int, error) { return []int{Numel(in)}, nil }

// Forward reshapes without copying.
func (f *Flatten) Forward(x *Tensor, _ *Context) (*Tensor, any, error) {
	return x.Reshape(x.Shape[0], Numel(x.Shape[1:])), nil, nil
}

// Backward reshapes dy back to the input's shape.
func (f *Flatten) Backward(dy *Tensor, st *Step, _ Rule, _ Grads) (*Tensor, error) {
	if err := checkDy(f, dy, st); err != nil {
		return nil, err
	}
	return dy.Reshape(st.In.Shape...), nil
}

// Dropout zeroes each element with probability P during training and scales
// the survivors by 1/(1-P) ("inverted dropout"), so that evaluation is the
// identity. The seed's formulation instead keeps each unit with probability
// p_keep = 1-P and multiplies the weights by p_keep at test time; both give
// the same expected activation, inverted dropout moves the scaling to
// training so the trained network runs unchanged. The mask lives in the Step.
type Dropout struct {
	elementwise
	P float32
}

// NewDropout makes a dropout layer with drop probability p.
func NewDropout(name string, p float32) *Dropout { return &Dropout{elementwise{base{name}}, p} }

// Type is "Dropout".
func (*Dropout) Type() string { return "Dropout" }

// Forward applies a fresh mask in training mode and is the identity otherwise.
func (d *Dropout) Forward(x *Tensor, ctx *Context) (*Tensor, any, error) {
	if ctx == nil || !ctx.Train || d.P == 0 {
		return x, nil, nil
	}
	r := ctx.Rand
	if r == nil {
		return nil, nil, fmt.Errorf("%s (Dropout): training pass without a random source", d.name)
	}
	keep := 1 / (1 - d.P)
	mask := make([]float32, len(x.Data))
	for i := range mask {
		if r.Float32() >= d.P {
			mask[i] = keep
		}
	}
	return masked(x, mask, ctx.arena()), mask, nil
}

// Backward multiplies dy by the recorded mask (identity in eval mode).
func (d *Dropout) Backward(dy *Tensor, st *Step, _ Rule, _ Grads) (*Tensor, error) {
	if err := checkDy(d, dy, st); err != nil {
		return nil, err
	}
	return applyMask(dy, st.Saved, st.arena), nil
}

// applyMask multiplies dy by the mask a training pass of Dropout,
// Dropout2d or StochasticDepth recorded: one value per element, channel
// plane or sample, each covering len(dy)/len(mask) consecutive elements. No
// mask (an evaluation pass) leaves dy as it is.
func applyMask(dy *Tensor, saved any, a *Arena) *Tensor {
	mask, _ := saved.([]float32)
	if mask == nil {
		return dy
	}
	return masked(dy, mask, a)
}

// masked is x times a mask of one value per element, channel plane or
// sample (each covering len(x)/len(mask) consecutive elements), from the
// arena: the vector product for an element mask, a scaled copy or zeros per
// plane or sample (a dropped plane or sample is zero whatever x holds).
func masked(x *Tensor, mask []float32, a *Arena) *Tensor {
	y := a.Uninit(x.Shape...)
	per := len(x.Data) / len(mask)
	if per == 1 {
		kernel.Mul(y.Data, x.Data, mask)
		return y
	}
	kernel.ParallelFor(len(mask), func(_, i int) {
		dst := y.Data[i*per : (i+1)*per]
		if m := mask[i]; m == 0 {
			clear(dst)
		} else {
			kernel.Affine(dst, x.Data[i*per:(i+1)*per], m, 0)
		}
	})
	return y
}
