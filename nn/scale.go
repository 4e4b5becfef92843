package nn

import (
	"fmt"

	"github.com/convscope/convscope/nn/kernel"
)

// LayerScale multiplies each channel by a learned gamma (ConvNeXt, CaiT):
// y[n,c,...] = gamma[c] * x[n,c,...]. Its parameter is named exactly as the
// layer (torchvision's "features.1.0.layer_scale") with shape (C,1,1).
type LayerScale struct {
	elementwise
	Gamma *Param
}

// NewLayerScale makes a layer scale over c channels starting at init
// (ConvNeXt uses 1e-6).
func NewLayerScale(name string, c int, init float32) *LayerScale {
	l := &LayerScale{elementwise{base{name}}, &Param{Name: name, Value: New(c, 1, 1), NoDecay: true}}
	fill(l.Gamma.Value.Data, init)
	return l
}

// Type is "LayerScale".
func (*LayerScale) Type() string { return "LayerScale" }

// Params is gamma.
func (l *LayerScale) Params() []*Param { return []*Param{l.Gamma} }

func (l *LayerScale) check(x *Tensor) error {
	if len(x.Shape) < 2 || x.Shape[1] != l.Gamma.Value.Len() {
		return shapeError(l, fmt.Sprintf("(N,%d,...)", l.Gamma.Value.Len()), x.Shape)
	}
	return nil
}

// Forward scales each channel.
func (l *LayerScale) Forward(x *Tensor, ctx *Context) (*Tensor, any, error) {
	if err := l.check(x); err != nil {
		return nil, nil, err
	}
	y := ctx.arena().Uninit(x.Shape...)
	c, plane := x.Shape[1], Numel(x.Shape[2:])
	eachPlane(x.Shape[0], c, plane, func(lo, hi, ch int) {
		kernel.Affine(y.Data[lo:hi], x.Data[lo:hi], l.Gamma.Value.Data[ch], 0)
	})
	return y, nil, nil
}

// Backward (every rule): dx = gamma*dy, dgamma[c] += sum over n and pixels of dy*x.
func (l *LayerScale) Backward(dy *Tensor, st *Step, _ Rule, g Grads) (*Tensor, error) {
	if err := checkDy(l, dy, st); err != nil {
		return nil, err
	}
	dx := st.arena.Uninit(dy.Shape...)
	n, c, plane := dy.Shape[0], dy.Shape[1], Numel(dy.Shape[2:])
	var part []float32 // each plane's sum of dy*x
	if g != nil {
		part = make([]float32, n*c)
	}
	eachPlane(n, c, plane, func(lo, hi, ch int) {
		kernel.Affine(dx.Data[lo:hi], dy.Data[lo:hi], l.Gamma.Value.Data[ch], 0)
		if part != nil {
			part[lo/plane] = kernel.Dot(dy.Data[lo:hi], st.In.Data[lo:hi])
		}
	})
	if g != nil {
		// The planes' sums in sample order, whatever the parallel split.
		dg, sum := g.For(l.Gamma).Data, make([]float64, c)
		for i, v := range part {
			sum[i%c] += float64(v)
		}
		for ch, v := range sum {
			dg[ch] += float32(v)
		}
	}
	return dx, nil
}

// StochasticDepth drops a residual branch for whole samples (torchvision's
// StochasticDepth, mode "row"): in training each sample's input is zeroed
// with probability P and kept ones are scaled by 1/(1-P); evaluation is the
// identity. Put it last in a residual body. The per-sample mask is in the Step.
type StochasticDepth struct {
	elementwise
	P float32
}

// NewStochasticDepth makes a drop-path layer with drop probability p.
func NewStochasticDepth(name string, p float32) *StochasticDepth {
	return &StochasticDepth{elementwise{base{name}}, p}
}

// Type is "StochasticDepth".
func (*StochasticDepth) Type() string { return "StochasticDepth" }

// Forward draws one keep/drop per sample in training.
func (s *StochasticDepth) Forward(x *Tensor, ctx *Context) (*Tensor, any, error) {
	if ctx == nil || !ctx.Train || s.P == 0 {
		return x, nil, nil
	}
	if ctx.Rand == nil {
		return nil, nil, fmt.Errorf("%s (StochasticDepth): training pass without a random source", s.name)
	}
	mask := make([]float32, x.Shape[0])
	for i := range mask {
		if ctx.Rand.Float32() >= s.P {
			mask[i] = 1 / (1 - s.P)
		}
	}
	return masked(x, mask, ctx.arena()), mask, nil
}

// Backward multiplies dy by the recorded per-sample mask.
func (s *StochasticDepth) Backward(dy *Tensor, st *Step, _ Rule, _ Grads) (*Tensor, error) {
	if err := checkDy(s, dy, st); err != nil {
		return nil, err
	}
	return applyMask(dy, st.Saved, st.arena), nil
}

// Permute reorders the axes of each sample, as torch.permute with the batch
// axis fixed: Order lists the input's sample axes (0-based, without N) in
// output order. ConvNeXt's block uses (1,2,0) to go from (C,H,W) to (H,W,C)
// for its Linear layers and (2,0,1) to come back.
type Permute struct {
	base
	Order []int
}

// NewPermute makes a permutation of the sample axes.
func NewPermute(name string, order ...int) *Permute { return &Permute{base{name}, order} }

// Type is "Permute".
func (*Permute) Type() string { return "Permute" }

// OutputShape permutes in.
func (p *Permute) OutputShape(in []int) ([]int, error) {
	if len(in) != len(p.Order) {
		return nil, shapeError(p, fmt.Sprintf("%d axes", len(p.Order)), in)
	}
	out := make([]int, len(in))
	for i, a := range p.Order {
		out[i] = in[a]
	}
	return out, nil
}

// rotation reports an order that moves the first m axes behind the others
// (m, ..., k-1, 0, ..., m-1), as both of ConvNeXt's do: per sample that is
// the transpose of a matrix whose rows are the first m axes.
func (p *Permute) rotation() (m int, ok bool) {
	k := len(p.Order)
	if k == 0 {
		return 0, false
	}
	m = p.Order[k-1] + 1
	for i, a := range p.Order {
		if a != (m+i)%k {
			return 0, false
		}
	}
	return m, m < k
}

// permute moves x (N, in...) to y (N, out...); inverse goes the other way.
// A rotation of the axes runs as one transpose a sample, samples in
// parallel; other orders walk the index.
func (p *Permute) permute(x *Tensor, inShape []int, inverse bool, a *Arena) *Tensor {
	per := Numel(inShape)
	n := len(x.Data) / per
	if m, ok := p.rotation(); ok && per > 0 {
		rows := Numel(inShape[:m])
		cols := per / rows
		if inverse {
			rows, cols = cols, rows
		}
		y := a.Uninit(x.Shape...)
		kernel.ParallelFor(n, func(_, s int) {
			kernel.Transpose(y.Data[s*per:(s+1)*per], x.Data[s*per:(s+1)*per], rows, cols)
		})
		return y
	}
	return p.walk(x, inShape, inverse)
}

// walk is permute for any order: one index step per value.
func (p *Permute) walk(x *Tensor, inShape []int, inverse bool) *Tensor {
	out, _ := p.OutputShape(inShape)
	k := len(inShape)
	inStride := make([]int, k)
	for i, s := k-1, 1; i >= 0; i-- {
		inStride[i] = s
		s *= inShape[i]
	}
	// outStride[i] is the input stride of output axis i.
	outStride := make([]int, k)
	for i, a := range p.Order {
		outStride[i] = inStride[a]
	}
	per := Numel(inShape)
	n := len(x.Data) / per
	y := New(x.Shape...)
	idx := make([]int, k)
	for s := 0; s < n; s++ {
		clear(idx)
		for o := 0; o < per; o++ {
			src := 0
			for i := range idx {
				src += idx[i] * outStride[i]
			}
			if inverse {
				y.Data[s*per+src] = x.Data[s*per+o]
			} else {
				y.Data[s*per+o] = x.Data[s*per+src]
			}
			for i := k - 1; i >= 0; i-- {
				if idx[i]++; idx[i] < out[i] {
					break
				}
				idx[i] = 0
			}
		}
	}
	return y
}

// Forward permutes the axes.
func (p *Permute) Forward(x *Tensor, ctx *Context) (*Tensor, any, error) {
	out, err := p.OutputShape(x.Shape[1:])
	if err != nil {
		return nil, nil, shapeError(p, fmt.Sprintf("(N, %d axes)", len(p.Order)), x.Shape)
	}
	y := p.permute(x, x.Shape[1:], false, ctx.arena())
	y.Shape = append([]int{x.Shape[0]}, out...)
	return y, nil, nil
}

// Backward applies the inverse permutation (every rule).
func (p *Permute) Backward(dy *Tensor, st *Step, _ Rule, _ Grads) (*Tensor, error) {
	if err := checkDy(p, dy, st); err != nil {
		return nil, err
	}
	dx := p.permute(dy, st.In.Shape[1:], true, st.arena)
	dx.Shape = append([]int(nil), st.In.Shape...)
	return dx, nil
}

// ShortcutA is the parameter-free shortcut of the CIFAR ResNets (He et al.
// 2015, option A): subsample by Stride (x[:, :, ::s, ::s]) and pad the
// channels with zeros from In to Out, so y[n,c] = x[n,c,::s,::s] for c < In
// and 0 above.
type ShortcutA struct {
	base
	In, Out, Stride int
}

// NewShortcutA makes an option-A shortcut.
func NewShortcutA(name string, in, out, stride int) *ShortcutA {
	return &ShortcutA{base{name}, in, out, max(stride, 1)}
}

// Type is "ShortcutA".
func (*ShortcutA) Type() string { return "ShortcutA" }

// Window is (1, s, 0).
func (s *ShortcutA) Window() (int, int, int) { return 1, s.Stride, 0 }

// OutputShape maps (In,H,W) to (Out, ceil(H/s), ceil(W/s)).
func (s *ShortcutA) OutputShape(in []int) ([]int, error) {
	if len(in) != 3 || in[0] != s.In || s.Out < s.In {
		return nil, shapeError(s, fmt.Sprintf("(%d,H,W)", s.In), in)
	}
	return []int{s.Out, (in[1] + s.Stride - 1) / s.Stride, (in[2] + s.Stride - 1) / s.Stride}, nil
}

// planes calls fn(b, c) for every kept plane (sample b, channel c < In),
// in parallel.
func (s *ShortcutA) planes(n int, fn func(b, c int)) {
	kernel.ParallelFor(n*s.In, func(_, p int) { fn(p/s.In, p%s.In) })
}

// Forward subsamples and zero-pads.
func (s *ShortcutA) Forward(x *Tensor, ctx *Context) (*Tensor, any, error) {
	if len(x.Shape) != 4 {
		return nil, nil, shapeError(s, fmt.Sprintf("(N,%d,H,W)", s.In), x.Shape)
	}
	out, err := s.OutputShape(x.Shape[1:])
	if err != nil {
		return nil, nil, shapeError(s, fmt.Sprintf("(N,%d,H,W)", s.In), x.Shape)
	}
	n, h, w, oh, ow := x.Shape[0], x.Shape[2], x.Shape[3], out[1], out[2]
	y := ctx.arena().Uninit(n, out[0], oh, ow) // every value is written: the kept planes, then the zeros
	for b := 0; b < n; b++ {
		clear(y.Data[(b*s.Out+s.In)*oh*ow : (b+1)*s.Out*oh*ow])
	}
	s.planes(n, func(b, c int) {
		src, dst := x.Data[(b*s.In+c)*h*w:], y.Data[(b*s.Out+c)*oh*ow:]
		for yy := 0; yy < oh; yy++ {
			row, out := src[yy*s.Stride*w:], dst[yy*ow:(yy+1)*ow]
			for xx := range out {
				out[xx] = row[xx*s.Stride]
			}
		}
	})
	return y, nil, nil
}

// Backward routes the kept channels' signal back to the sampled pixels.
func (s *ShortcutA) Backward(dy *Tensor, st *Step, _ Rule, _ Grads) (*Tensor, error) {
	if err := checkDy(s, dy, st); err != nil {
		return nil, err
	}
	n, h, w, oh, ow := dy.Shape[0], st.In.Shape[2], st.In.Shape[3], dy.Shape[2], dy.Shape[3]
	dx := st.arena.Zeros(st.In.Shape...)
	s.planes(n, func(b, c int) {
		src, dst := dy.Data[(b*s.Out+c)*oh*ow:], dx.Data[(b*s.In+c)*h*w:]
		for yy := 0; yy < oh; yy++ {
			row, in := dst[yy*s.Stride*w:], src[yy*ow:(yy+1)*ow]
			for xx, v := range in {
				row[xx*s.Stride] = v
			}
		}
	})
	return dx, nil
}
