package nn

import (
	"fmt"
	"sync"

	"github.com/convscope/convscope/nn/kernel"
)

// Conv2d is PyTorch's Conv2d with square kernels, stride, zero padding,
// dilation and groups:
//
//	y[n,k,oy,ox] = b[k] + sum_{c in group(k), ky, kx} W[k,c,ky,kx] * x[n,c,oy*s-p+ky*d,ox*s-p+kx*d]
//
// x is (N,C,H,W); y is (N,K,H',W') with H' = (H+2p-d(k-1)-1)/s + 1. Weight is
// (K,C/G,k,k), Bias is (K) or nil. Groups G split C and K into G independent
// convolutions (G = C is a depthwise convolution). It runs as im2col + SGEMM
// per sample and group; a depthwise convolution (G = C = K) runs a direct
// kernel instead (depthwise.go), as does one with a channel multiplier (K = mC).
type Conv2d struct {
	base
	ConvConfig
	Weight, Bias *Param
}

// ConvConfig holds a convolution's hyper-parameters, as Conv2d's arguments.
// Zero Stride, Dilation and Groups mean 1.
type ConvConfig struct {
	In, Out, Kernel, Stride, Padding, Dilation, Groups int
	Bias                                               bool
}

// NewConv2d makes a plain convolution (dilation 1, groups 1) with zero
// weights; call Init (or load a checkpoint) before use.
func NewConv2d(name string, in, out, kernel, stride, padding int, bias bool) *Conv2d {
	return NewConv(name, ConvConfig{In: in, Out: out, Kernel: kernel, Stride: stride, Padding: padding, Bias: bias})
}

// NewConv makes a convolution from a full configuration. It panics when
// Groups does not divide In and Out: model definitions are code.
func NewConv(name string, cfg ConvConfig) *Conv2d {
	cfg.Stride, cfg.Dilation, cfg.Groups = max(cfg.Stride, 1), max(cfg.Dilation, 1), max(cfg.Groups, 1)
	if cfg.In%cfg.Groups != 0 || cfg.Out%cfg.Groups != 0 {
		panic(fmt.Sprintf("nn.NewConv %s: %d groups do not divide %d in and %d out channels", name, cfg.Groups, cfg.In, cfg.Out))
	}
	c := &Conv2d{base: base{name}, ConvConfig: cfg}
	c.Weight = &Param{Name: name + ".weight", Value: New(cfg.Out, cfg.In/cfg.Groups, cfg.Kernel, cfg.Kernel)}
	if cfg.Bias {
		c.Bias = &Param{Name: name + ".bias", Value: New(cfg.Out), NoDecay: true}
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

// extent is the span of the dilated kernel: d(k-1)+1.
func (c *Conv2d) extent() int { return c.Dilation*(c.Kernel-1) + 1 }

// Window is (d(k-1)+1, s, p): a dilated kernel sees as far as a dense one
// of its extent.
func (c *Conv2d) Window() (int, int, int) { return c.extent(), c.Stride, c.Padding }

// OutputShape maps (C,H,W) to (K,H',W').
func (c *Conv2d) OutputShape(in []int) ([]int, error) {
	if len(in) != 3 || in[0] != c.In || in[1]+2*c.Padding < c.extent() || in[2]+2*c.Padding < c.extent() {
		return nil, shapeError(c, c.wantShape(false), in)
	}
	return []int{c.Out, (in[1]+2*c.Padding-c.extent())/c.Stride + 1, (in[2]+2*c.Padding-c.extent())/c.Stride + 1}, nil
}

func (c *Conv2d) wantShape(batched bool) string {
	n := ""
	if batched {
		n = "N,"
	}
	return fmt.Sprintf("(%s%d,H,W) with H,W >= %d", n, c.In, c.extent()-2*c.Padding)
}

// MACs is K*(C/G)*k*k*H'*W'.
func (c *Conv2d) MACs(in []int) int64 {
	out, err := c.OutputShape(in)
	if err != nil {
		return 0
	}
	return int64(c.Out) * int64(c.In/c.Groups*c.Kernel*c.Kernel) * int64(out[1]*out[2])
}

// convGeometry is one pass's sizes: per group, the im2col matrix has rows
// (C/G)*k*k and cols H'*W'; the group's filters are kg = K/G rows of W.
type convGeometry struct {
	n, h, w, oh, ow, cg, kg, rows, cols int
}

func (c *Conv2d) geometry(x *Tensor) (convGeometry, error) {
	if len(x.Shape) != 4 {
		return convGeometry{}, shapeError(c, c.wantShape(true), x.Shape)
	}
	out, err := c.OutputShape(x.Shape[1:])
	if err != nil {
		return convGeometry{}, shapeError(c, c.wantShape(true), x.Shape)
	}
	g := convGeometry{n: x.Shape[0], h: x.Shape[2], w: x.Shape[3], oh: out[1], ow: out[2],
		cg: c.In / c.Groups, kg: c.Out / c.Groups}
	g.rows, g.cols = g.cg*c.Kernel*c.Kernel, g.oh*g.ow
	return g, nil
}

// pointwise reports a 1x1 convolution with stride 1 and no padding: its
// im2col matrix is the input itself, so no copy is made.
func (c *Conv2d) pointwise() bool { return c.Kernel == 1 && c.Stride == 1 && c.Padding == 0 }

// direct reports a convolution whose im2col matrix is the input itself:
// pointwise, or a dense kernel that covers the whole unpadded input (one
// output pixel, as LeNet-5's C5).
func (c *Conv2d) direct(g convGeometry) bool {
	return c.pointwise() || (c.Padding == 0 && c.Dilation == 1 && c.Kernel == g.h && c.Kernel == g.w)
}

// im2col returns the unrolled group gi of sample xi: col itself, filled,
// or, for a pointwise convolution, the input's own slice.
func (c *Conv2d) im2col(g convGeometry, xi []float32, gi int, col []float32) []float32 {
	plane := g.h * g.w
	xg := xi[gi*g.cg*plane : (gi+1)*g.cg*plane]
	if c.direct(g) {
		return xg
	}
	unroll(g.n, xg, g.cg, g.h, g.w, c.Kernel, c.Stride, c.Padding, c.Dilation, g.oh, g.ow, col)
	return col
}

// unroll is kernel.Im2col of ch channels. With fewer samples n than cores
// (batch 1 while serving) the channels are unrolled in parallel; with more,
// each worker already has a sample of its own.
func unroll(n int, x []float32, ch, h, w, k, s, p, d, oh, ow int, col []float32) {
	if n >= kernel.Workers() || ch == 1 {
		kernel.Im2col(x, ch, h, w, k, s, p, d, oh, ow, col)
		return
	}
	plane, rows := h*w, k*k*oh*ow
	kernel.ParallelFor(ch, func(_, ci int) {
		kernel.Im2col(x[ci*plane:(ci+1)*plane], 1, h, w, k, s, p, d, oh, ow, col[ci*rows:(ci+1)*rows])
	})
}

// col2im adds the unrolled gradient dcol of group gi into sample dxi,
// channels in parallel for small batches as im2col.
func (c *Conv2d) col2im(g convGeometry, dcol, dxi []float32, gi int) {
	plane := g.h * g.w
	dxg := dxi[gi*g.cg*plane : (gi+1)*g.cg*plane]
	if g.n >= kernel.Workers() || g.cg == 1 {
		kernel.Col2im(dcol, g.cg, g.h, g.w, c.Kernel, c.Stride, c.Padding, c.Dilation, g.oh, g.ow, dxg)
		return
	}
	rows := c.Kernel * c.Kernel * g.cols
	kernel.ParallelFor(g.cg, func(_, ci int) {
		kernel.Col2im(dcol[ci*rows:(ci+1)*rows], 1, g.h, g.w, c.Kernel, c.Stride, c.Padding, c.Dilation, g.oh, g.ow, dxg[ci*plane:(ci+1)*plane])
	})
}

// flipped reports whether backward-to-input runs as a plain convolution of
// dy with the flipped, transposed filters: im2col of dy and one product
// with a long inner dimension, instead of a product with an inner
// dimension of K/G and a col2im. It does for stride-1 convolutions that
// keep the size (padding d(k-1)/2, so the flipped padding d(k-1)-p is p):
// where the output is smaller, the unrolled dy would be mostly padding.
func (c *Conv2d) flipped(g convGeometry) bool {
	return c.Stride == 1 && !c.direct(g) && g.oh == g.h && g.ow == g.w
}

// flipWeights returns, per group, the (C/G, (K/G)*k*k) filters of the
// transposed convolution: Wf[c][kk][ky][kx] = W[kk][c][k-1-ky][k-1-kx].
func (c *Conv2d) flipWeights(g convGeometry) []float32 {
	k2 := c.Kernel * c.Kernel
	w := c.Weight.Value.Data
	wf := make([]float32, len(w))
	for gi := 0; gi < c.Groups; gi++ {
		for kk := 0; kk < g.kg; kk++ {
			for ci := 0; ci < g.cg; ci++ {
				src := w[((gi*g.kg+kk)*g.cg+ci)*k2:][:k2]
				dst := wf[((gi*g.cg+ci)*g.kg+kk)*k2:][:k2]
				for j, v := range src {
					dst[k2-1-j] = v
				}
			}
		}
	}
	return wf
}

// scratch hands out float32 buffers that outlive one call: the unrolled
// matrices, which are overwritten before they are read, so a recycled
// buffer needs no clearing.
var scratch sync.Pool

func getScratch(n int) *[]float32 {
	if b, ok := scratch.Get().(*[]float32); ok && cap(*b) >= n {
		*b = (*b)[:n]
		return b
	}
	b := make([]float32, n)
	return &b
}

func putScratch(b *[]float32) { scratch.Put(b) }

// Forward computes y = conv(x, W) + b: per sample and group, im2col and one
// product, samples split across cores. Depthwise convolutions run the
// direct kernel instead (kernel.DepthwiseConv).
func (c *Conv2d) Forward(x *Tensor, ctx *Context) (*Tensor, any, error) {
	g, err := c.geometry(x)
	if err != nil {
		return nil, nil, err
	}
	y := ctx.arena().Uninit(g.n, c.Out, g.oh, g.ow) // every value is written (beta 0, or cleared by the depthwise kernel)
	if c.depthwise() {
		c.depthwiseForward(g, x, y)
		return y, nil, nil
	}
	bufs := make([]*[]float32, kernel.Workers())
	kernel.ParallelFor(g.n, func(wk, i int) {
		if bufs[wk] == nil && !c.direct(g) {
			bufs[wk] = getScratch(g.rows * g.cols)
		}
		var col []float32
		if bufs[wk] != nil {
			col = *bufs[wk]
		}
		xi := x.Data[i*c.In*g.h*g.w : (i+1)*c.In*g.h*g.w]
		yi := y.Data[i*c.Out*g.cols : (i+1)*c.Out*g.cols]
		for gi := 0; gi < c.Groups; gi++ {
			cols := c.im2col(g, xi, gi, col)
			w := c.Weight.Value.Data[gi*g.kg*g.rows : (gi+1)*g.kg*g.rows]
			kernel.Sgemm(false, false, g.kg, g.cols, g.rows, 1, w, g.rows, cols, g.cols, 0, yi[gi*g.kg*g.cols:], g.cols)
		}
		if c.Bias != nil {
			addBias(yi, c.Bias.Value.Data, g.cols)
		}
	})
	for _, b := range bufs {
		if b != nil {
			putScratch(b)
		}
	}
	return y, nil, nil
}

// addBias adds b[k] to plane k of y (K planes of hw values).
func addBias(y, b []float32, hw int) {
	for k, v := range b {
		plane := y[k*hw : (k+1)*hw]
		kernel.Affine(plane, plane, 1, v)
	}
}

// Backward computes dx = conv_transpose(dy, W) (the same for every rule) and,
// when g is not nil, dW += dy · im2col(x)^T and db += sum of dy over N,H',W'.
// Each worker sums its own samples' dW and db; the workers' sums are then
// added in worker order, and which samples a worker gets depends on N
// alone, so the gradients are the same bits every run.
func (c *Conv2d) Backward(dy *Tensor, st *Step, _ Rule, grads Grads) (*Tensor, error) {
	if err := checkDy(c, dy, st); err != nil {
		return nil, err
	}
	x := st.In
	g, err := c.geometry(x)
	if err != nil {
		return nil, err
	}
	// With SkipInputGrad (and the weights' gradients asked for) only
	// those are computed, and dx is nil.
	skipDx := st.SkipInputGrad && grads != nil
	var dx *Tensor
	if !skipDx {
		dx = st.arena.Zeros(x.Shape...) // Col2im and the depthwise kernel accumulate
	}
	if c.depthwise() && !skipDx {
		c.depthwiseBackward(g, x, dy, dx, grads)
		return dx, nil
	}
	flip := c.flipped(g)
	var wf []float32
	if flip && !skipDx {
		wf = c.flipWeights(g)
	}
	k2 := c.Kernel * c.Kernel
	plane := g.h * g.w
	// With flip, the unrolled dy of a group is (K/G*k*k, H*W).
	dcolLen := g.rows * g.cols
	if flip {
		dcolLen = g.kg * k2 * plane
	}
	type work struct {
		col, dcol *[]float32
		dw, db    []float32
	}
	sc := make([]*work, kernel.Workers())
	kernel.ParallelFor(g.n, func(wk, i int) {
		s := sc[wk]
		if s == nil {
			s = &work{}
			if !c.direct(g) {
				if !skipDx {
					s.dcol = getScratch(dcolLen)
				}
				if grads != nil {
					s.col = getScratch(g.rows * g.cols)
				}
			}
			if grads != nil {
				s.dw = make([]float32, c.Weight.Value.Len())
				s.db = make([]float32, c.Out)
			}
			sc[wk] = s
		}
		var col, dcol []float32
		if s.col != nil {
			col = *s.col
		}
		if s.dcol != nil {
			dcol = *s.dcol
		}
		xi := x.Data[i*c.In*plane : (i+1)*c.In*plane]
		dyi := dy.Data[i*c.Out*g.cols : (i+1)*c.Out*g.cols]
		var dxi []float32
		if !skipDx {
			dxi = dx.Data[i*c.In*plane : (i+1)*c.In*plane]
		}
		for gi := 0; gi < c.Groups; gi++ {
			dyg := dyi[gi*g.kg*g.cols : (gi+1)*g.kg*g.cols]
			var dxg []float32
			if !skipDx {
				dxg = dxi[gi*g.cg*plane : (gi+1)*g.cg*plane]
			}
			wlo, whi := gi*g.kg*g.rows, (gi+1)*g.kg*g.rows
			if grads != nil {
				cols := c.im2col(g, xi, gi, col)
				kernel.Sgemm(false, true, g.kg, g.rows, g.cols, 1, dyg, g.cols, cols, g.cols, 1, s.dw[wlo:whi], g.rows)
			}
			switch {
			case skipDx: // nothing consumes dx
			case c.direct(g): // dx = W^T dy, written in place
				kernel.Sgemm(true, false, g.rows, g.cols, g.kg, 1, c.Weight.Value.Data[wlo:whi], g.rows, dyg, g.cols, 0, dxg, g.cols)
			case flip: // dx = Wf · im2col(dy), padding d(k-1)-p
				unroll(g.n, dyg, g.kg, g.oh, g.ow, c.Kernel, 1, c.Dilation*(c.Kernel-1)-c.Padding, c.Dilation, g.h, g.w, dcol)
				fr := g.kg * k2
				kernel.Sgemm(false, false, g.cg, plane, fr, 1, wf[gi*g.cg*fr:(gi+1)*g.cg*fr], fr, dcol, plane, 0, dxg, plane)
			default:
				kernel.Sgemm(true, false, g.rows, g.cols, g.kg, 1, c.Weight.Value.Data[wlo:whi], g.rows, dyg, g.cols, 0, dcol, g.cols)
				c.col2im(g, dcol, dxi, gi)
			}
		}
		if grads != nil {
			for k := range s.db {
				s.db[k] += kernel.Sum(dyi[k*g.cols : (k+1)*g.cols])
			}
		}
	})
	if grads != nil {
		dW := grads.For(c.Weight).Data
		var db []float32
		if c.Bias != nil {
			db = grads.For(c.Bias).Data
		}
		for _, s := range sc {
			if s == nil {
				continue
			}
			kernel.Add(dW, dW, s.dw)
			for j := range db {
				db[j] += s.db[j]
			}
		}
	}
	for _, s := range sc {
		if s == nil {
			continue
		}
		for _, b := range []*[]float32{s.col, s.dcol} {
			if b != nil {
				putScratch(b)
			}
		}
	}
	return dx, nil
}
