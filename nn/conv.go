package nn

import (
	"fmt"
	"math"
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
// convolutions (G = C is a depthwise convolution). In a fused evaluation a
// 3x3 "same" convolution with enough channels and pixels runs Winograd's
// F(2x2, 3x3) (winograd.go). Otherwise a convolution whose
// padding keeps the map's size (or halves it at stride 2) runs as one
// product over the padded images per run of samples (convshift.go);
// others run as im2col + SGEMM per group and run of samples (one sample on
// large maps, several side by side on small ones: sampleChunks); one whose
// kernel covers its whole input runs as a linear layer over the batch
// (dense); a depthwise convolution (G = C = K) runs a direct kernel
// instead (depthwise.go), as does one with a channel multiplier (K = mC).
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

// dense reports a direct convolution with one output pixel (LeNet-5's C5):
// over a batch it is a linear layer, one product for many samples, with
// no unrolling and no per-sample products of one column.
func (c *Conv2d) dense(g convGeometry) bool { return c.direct(g) && g.cols == 1 }

// implicit reports a convolution that packs its unrolled input panel by
// panel from the images (kernel.SgemmConv) instead of unrolling it first.
// Measured against unrolling (BenchmarkConvForward, nn/conv_test.go), it
// wins in two cases: a single sample (serving at batch 1) whose unrolled
// matrix would not stay in L2 (colBudget), on maps wide enough to fill the
// product's tiles (1.05-1.5x on VGG's and ResNet's layers at 224); and an
// unpadded stride-1 convolution (LeNet-5's second layer: 1.06x, batch 64),
// whose unrolling is a short copy per output row and tap either way. On
// batches of padded maps, where Im2col copies each tap's rows as one run
// and its product packs the panels while it multiplies, unrolling is
// faster (0.5-0.9x for ResNet-20's layers at batch 64).
func (c *Conv2d) implicit(g convGeometry) bool {
	if noImplicit || c.direct(g) || g.cols < 64 && g.n == 1 {
		return false
	}
	return g.n < max(kernel.Workers(), 2) && g.rows*g.cols > colBudget || c.Stride == 1 && g.ow != g.w
}

// noImplicit turns implicit products off (the benchmarks' comparison).
var noImplicit bool

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
	b, ok := scratch.Get().(*[]float32)
	if ok && cap(*b) >= n {
		*b = (*b)[:n]
	} else {
		s := make([]float32, n)
		b = &s
	}
	if poisonScratch {
		for i := range *b {
			(*b)[i] = float32(math.NaN())
		}
	}
	return b
}

// poisonScratch fills every scratch buffer with NaN as it is handed out,
// so that a test sees any value a path reads without writing it first
// (a fresh buffer's zeros would hide it).
var poisonScratch bool

func putScratch(b *[]float32) { scratch.Put(b) }

// wideColumns is how many columns a product of the unrolled input is made
// up to: on small maps (49 columns a sample at 7x7) the register tiles run
// partly empty and the product loses up to a quarter of its speed, so
// samples are unrolled side by side into one wider matrix. colBudget caps
// that matrix at 512 KiB of floats, so that it stays in L2 between the
// unrolling and the product. ResNet-20 at 1x28x28 trains about 5% faster
// for it (runs of 10 samples at 7x7, 2 at 14x14; `convscope bench -only
// train_img_per_s.resnet20`).
const (
	wideColumns = 1024
	colBudget   = 1 << 17
)

// pointwiseAlone is the narrowest map on which a pointwise convolution
// runs a product a sample, reading the sample's planes where they are and
// writing its output in place, rather than copying samples side by side
// into one wider product and its output back out.
var pointwiseAlone = 64

// sampleChunks splits n samples, each cols output columns and an unrolled
// matrix of rows rows, into runs of consecutive samples (wideColumns and
// colBudget), the same number of runs for every worker: it returns how
// many and run i's samples [lo, hi). Batch 1, and large maps, give one
// sample a run.
func sampleChunks(n, cols, rows int) (count int, span func(i int) (lo, hi int)) {
	return runsOf(n, max(1, min(wideColumns/cols, colBudget/(rows*cols))))
}

// runsOf splits n samples into runs of at most per consecutive samples,
// the same number of runs for every worker: it returns how many and run
// i's samples [lo, hi).
func runsOf(n, per int) (count int, span func(i int) (lo, hi int)) {
	w := kernel.Workers()
	count = min(n, w*(((n+w-1)/w+per-1)/per))
	return count, func(i int) (int, int) { return i * n / count, (i + 1) * n / count }
}

// unrollAt writes the unrolled group gi of sample xi into dst, rows ld
// floats apart: at a column offset of a matrix several samples wide.
func (c *Conv2d) unrollAt(g convGeometry, xi []float32, gi int, dst []float32, ld int) {
	plane := g.h * g.w
	xg := xi[gi*g.cg*plane : (gi+1)*g.cg*plane]
	if !c.direct(g) {
		kernel.Im2colLd(xg, g.cg, g.h, g.w, c.Kernel, c.Stride, c.Padding, c.Dilation, g.oh, g.ow, dst, ld)
		return
	}
	for r := 0; r < g.rows; r++ {
		copy(dst[r*ld:r*ld+g.cols], xg[r*g.cols:])
	}
}

// scatterPlanes copies a product's output (ch rows of nb*hw values, one
// block of hw per sample) into channels [c0, c0+ch) of samples lo.. of a
// (N, C, hw) tensor, applying e (when not nil) to each plane on the way:
// the bias or a fused pass's batch norm and rectifier cost no pass of
// their own.
func scatterPlanes(wide []float32, ch, hw, nb int, t []float32, lo, c, c0 int, e *epilogue) {
	width := nb * hw
	for b := 0; b < nb; b++ {
		dst := t[((lo+b)*c+c0)*hw:]
		for k := 0; k < ch; k++ {
			if e != nil {
				e.planeFrom(dst[k*hw:(k+1)*hw], wide[k*width+b*hw:][:hw], c0+k)
				continue
			}
			copy(dst[k*hw:(k+1)*hw], wide[k*width+b*hw:])
		}
	}
}

// Forward computes y = conv(x, W) + b: per run of samples (sampleChunks)
// and group, im2col and one product, runs split across cores. Depthwise
// convolutions run the direct kernel instead (kernel.DepthwiseConv).
func (c *Conv2d) Forward(x *Tensor, ctx *Context) (*Tensor, any, error) {
	y, err := c.forward(x, ctx, nil)
	return y, nil, err
}

// forward is Forward with an epilogue (a fused pass, Context.Fuse) in
// place of the bias when e is not nil.
func (c *Conv2d) forward(x *Tensor, ctx *Context, e *epilogue) (*Tensor, error) {
	g, err := c.geometry(x)
	if err != nil {
		return nil, err
	}
	y := ctx.arena().Uninit(g.n, c.Out, g.oh, g.ow) // every value is written (beta 0, or cleared by the depthwise kernel)
	if c.depthwise() {
		c.depthwiseForward(g, x, y, e)
		return y, nil
	}
	if ctx != nil && ctx.Fuse && !ctx.Train && c.winograd(g) {
		c.forwardWinograd(g, x, y, e)
		return y, nil
	}
	if c.shifted(g) {
		count, span := runsOf(g.n, c.shiftedConv(g).perRun())
		sc := make([]shiftedRun, kernel.Workers())
		kernel.ParallelFor(count, func(wk, ci int) {
			lo, hi := span(ci)
			c.forwardShifted(g, x, y, lo, hi, &sc[wk], e)
		})
		for i := range sc {
			sc[i].release()
		}
		return y, nil
	}
	count, span := sampleChunks(g.n, g.cols, g.rows)
	if c.pointwise() && g.cols >= pointwiseAlone {
		count, span = runsOf(g.n, 1)
	}
	widest := (g.n + count - 1) / count * g.cols
	type work struct{ col, out *[]float32 }
	sc := make([]work, kernel.Workers())
	kernel.ParallelFor(count, func(wk, ci int) {
		lo, hi := span(ci)
		if c.dense(g) {
			c.denseForward(g, x, y, lo, hi, e)
			return
		}
		s := &sc[wk]
		if s.col == nil && !c.implicit(g) && (!c.direct(g) || widest > g.cols) {
			s.col = getScratch(g.rows * widest)
		}
		if s.out == nil && widest > g.cols {
			s.out = getScratch(g.kg * widest)
		}
		c.forwardRun(g, x, y, lo, hi, s.col, s.out, e)
	})
	for _, s := range sc {
		for _, b := range []*[]float32{s.col, s.out} {
			if b != nil {
				putScratch(b)
			}
		}
	}
	return y, nil
}

// forwardRun computes samples [lo, hi) of y: with one sample the product
// writes y in place; with more, their unrolled inputs sit side by side in
// col, and the product goes through out into y.
func (c *Conv2d) forwardRun(g convGeometry, x, y *Tensor, lo, hi int, col, out *[]float32, e *epilogue) {
	nb, in := hi-lo, c.In*g.h*g.w
	width := nb * g.cols
	e = c.withBias(e)
	for gi := 0; gi < c.Groups; gi++ {
		w := c.Weight.Value.Data[gi*g.kg*g.rows : (gi+1)*g.kg*g.rows]
		if c.implicit(g) {
			plane := g.h * g.w
			src := &kernel.ConvInput{X: x.Data[lo*in+gi*g.cg*plane : hi*in], Stride: in, C: g.cg, H: g.h, W: g.w,
				K: c.Kernel, S: c.Stride, P: c.Padding, D: c.Dilation, OH: g.oh, OW: g.ow}
			if nb == 1 {
				kernel.SgemmConv(g.kg, g.cols, g.rows, 1, w, g.rows, src, 0, y.Data[(lo*c.Out+gi*g.kg)*g.cols:], g.cols)
				continue
			}
			kernel.SgemmConv(g.kg, width, g.rows, 1, w, g.rows, src, 0, *out, width)
			scatterPlanes(*out, g.kg, g.cols, nb, y.Data, lo, c.Out, gi*g.kg, e)
			continue
		}
		if nb == 1 {
			var buf []float32
			if col != nil {
				buf = *col
			}
			cols := c.im2col(g, x.Data[lo*in:(lo+1)*in], gi, buf)
			kernel.Sgemm(false, false, g.kg, g.cols, g.rows, 1, w, g.rows, cols, g.cols, 0, y.Data[(lo*c.Out+gi*g.kg)*g.cols:], g.cols)
			continue
		}
		for b := 0; b < nb; b++ {
			c.unrollAt(g, x.Data[(lo+b)*in:(lo+b+1)*in], gi, (*col)[b*g.cols:], width)
		}
		kernel.Sgemm(false, false, g.kg, width, g.rows, 1, w, g.rows, *col, width, 0, *out, width)
		scatterPlanes(*out, g.kg, g.cols, nb, y.Data, lo, c.Out, gi*g.kg, e)
	}
	if nb == 1 && e != nil { // the product wrote y in place
		for k := range c.Out {
			e.plane(y.Data[(lo*c.Out+k)*g.cols:][:g.cols], k)
		}
	}
}

// denseForward computes samples [lo, hi) of a dense convolution: per
// group, y = x · W^T over the samples' rows, as a linear layer.
func (c *Conv2d) denseForward(g convGeometry, x, y *Tensor, lo, hi int, e *epilogue) {
	in := c.In * g.h * g.w
	for gi := 0; gi < c.Groups; gi++ {
		w := c.Weight.Value.Data[gi*g.kg*g.rows : (gi+1)*g.kg*g.rows]
		kernel.Sgemm(false, true, hi-lo, g.kg, g.rows, 1, x.Data[lo*in+gi*g.rows:], in, w, g.rows, 0, y.Data[lo*c.Out+gi*g.kg:], c.Out)
	}
	switch {
	case e != nil:
		for i := lo; i < hi; i++ {
			e.row(y.Data[i*c.Out : (i+1)*c.Out])
		}
	case c.Bias != nil:
		for i := lo; i < hi; i++ {
			yi := y.Data[i*c.Out : (i+1)*c.Out]
			kernel.Add(yi, yi, c.Bias.Value.Data)
		}
	}
}

// addTransposed adds the transpose of t (rows×cols) to d (cols×rows):
// transposed into scratch by blocks, then added, both vector loops.
func addTransposed(d, t []float32, rows, cols int) {
	tmp := getScratch(rows * cols)
	kernel.Transpose(*tmp, t, rows, cols)
	kernel.Add(d, d, *tmp)
	putScratch(tmp)
}

// Backward computes dx = conv_transpose(dy, W) (the same for every rule) and,
// when g is not nil, dW += dy · im2col(x)^T and db += sum of dy over N,H',W'.
// Work is split in the forward pass's runs of samples (sampleChunks). Each
// worker sums its own samples' dW and db; the workers' sums are then added
// in worker order, and which samples a worker gets depends on N alone, so
// the gradients are the same bits every run.
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
		// The depthwise kernel with a channel multiplier accumulates into
		// dx, and so does Col2im, which clears its samples first (in
		// parallel); the other paths write every value of dx.
		if c.depthwise() && g.kg > 1 {
			dx = st.arena.Zeros(x.Shape...)
		} else {
			dx = st.arena.Uninit(x.Shape...)
		}
	}
	if c.depthwise() && !skipDx {
		c.depthwiseBackward(g, x, dy, dx, grads)
		return dx, nil
	}
	flip, shiftDx := c.flipped(g), c.shiftedBack(g) && !skipDx
	var wf []float32
	if flip && !skipDx {
		wf = c.flipWeights(g)
	}
	count, span := sampleChunks(g.n, g.cols, g.rows)
	// On the shifted path the weight gradient comes from the input
	// gradient's padded dy (weightGradShifted) instead of an unrolled x,
	// and runs are as long as the path's budget allows: the input
	// gradient's product gets wider and the weight gradient's longer.
	tapped := grads != nil && c.tappedGrad(g)
	if shiftDx || tapped {
		count, span = runsOf(g.n, c.backShiftedConv(g).perRunWithin(shiftedBackBudget))
	}
	widest := (g.n + count - 1) / count
	plane := g.h * g.w
	// dcol is, with flip, the unrolled dy of a run of samples (K/G*k*k,
	// nb*H*W), and out the product's (C/G, nb*H*W) before it is scattered
	// into dx; otherwise dcol is one sample's W^T dy.
	dcolLen, outLen := g.rows*g.cols, 0
	if flip {
		dcolLen = g.kg * c.Kernel * c.Kernel * plane * widest
		if widest > 1 {
			outLen = g.cg * plane * widest
		}
	}
	type work struct {
		col, dcol, out *[]float32
		sums           *[]float32 // dwT or taps, then db
		dwT, db        []float32  // dW transposed per group (C/G*k*k, K/G), and db
		taps           []float32  // or dW per group as k*k (K/G, C/G) matrices
		shifted        shiftedRun
	}
	sc := make([]*work, kernel.Workers())
	kernel.ParallelFor(count, func(wk, ci int) {
		s := sc[wk]
		if s == nil {
			s = &work{}
			if !c.direct(g) {
				if !skipDx && !shiftDx {
					s.dcol = getScratch(dcolLen)
				}
				if grads != nil && !tapped {
					s.col = getScratch(g.rows * g.cols)
				}
			}
			if !skipDx && !shiftDx && outLen > 0 {
				s.out = getScratch(outLen)
			}
			if grads != nil { // the worker's sums: taps or dwT, and db
				s.sums = getScratch(c.Weight.Value.Len() + c.Out)
				clear(*s.sums)
				if tapped {
					s.taps = (*s.sums)[:c.Weight.Value.Len()]
				} else {
					s.dwT = (*s.sums)[:c.Weight.Value.Len()]
				}
				s.db = (*s.sums)[c.Weight.Value.Len():]
			}
			sc[wk] = s
		}
		lo, hi := span(ci)
		switch {
		case tapped:
			addBiasGrad(s.db, dy.Data, lo, hi, g.cols)
		case grads != nil:
			c.weightGradRun(g, x, dy, lo, hi, s.col, s.dwT, s.db)
		}
		if tapped || shiftDx {
			c.backwardShifted(g, x, dy, dx, wf, lo, hi, &s.shifted, s.taps)
			return
		}
		if skipDx {
			return
		}
		for gi := 0; gi < c.Groups; gi++ {
			if flip {
				c.flipRun(g, dy, dx, wf, gi, lo, hi, s.dcol, s.out)
				continue
			}
			if c.dense(g) { // dx = dy · W over the run's samples
				in := c.In * plane
				w := c.Weight.Value.Data[gi*g.kg*g.rows : (gi+1)*g.kg*g.rows]
				kernel.Sgemm(false, false, hi-lo, g.rows, g.kg, 1, dy.Data[lo*c.Out+gi*g.kg:], c.Out, w, g.rows, 0, dx.Data[lo*in+gi*g.rows:], in)
				continue
			}
			if gi == 0 && !c.direct(g) { // Col2im adds into dx
				in := c.In * plane
				clear(dx.Data[lo*in : hi*in])
			}
			for i := lo; i < hi; i++ {
				c.inputGradSample(g, dy, dx, gi, i, s.dcol)
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
			for gi := 0; gi < c.Groups; gi++ {
				lo := gi * g.kg * g.rows
				if tapped {
					addTaps(dW[lo:lo+g.kg*g.rows], s.taps[lo:lo+g.kg*g.rows], g.kg, g.cg, c.Kernel*c.Kernel)
					continue
				}
				addTransposed(dW[lo:lo+g.kg*g.rows], s.dwT[lo:lo+g.kg*g.rows], g.rows, g.kg)
			}
			for j := range db {
				db[j] += s.db[j]
			}
		}
	}
	for _, s := range sc {
		if s == nil {
			continue
		}
		s.shifted.release()
		for _, b := range []*[]float32{s.col, s.dcol, s.out, s.sums} {
			if b != nil {
				putScratch(b)
			}
		}
	}
	return dx, nil
}

// weightGradRun adds samples [lo, hi)'s gradients into a worker's dW^T
// and db: per sample and group, dW^T += im2col(x) · dy^T, which reads the
// unrolled input in place and transposes only the short dy into panels.
func (c *Conv2d) weightGradRun(g convGeometry, x, dy *Tensor, lo, hi int, col *[]float32, dwT, db []float32) {
	in := c.In * g.h * g.w
	if c.dense(g) { // dW^T += x^T · dy over the run's samples
		for gi := 0; gi < c.Groups; gi++ {
			kernel.Sgemm(true, false, g.rows, g.kg, hi-lo, 1, x.Data[lo*in+gi*g.rows:], in, dy.Data[lo*c.Out+gi*g.kg:], c.Out, 1, dwT[gi*g.kg*g.rows:(gi+1)*g.kg*g.rows], g.kg)
		}
		for i := lo; i < hi; i++ {
			kernel.Add(db, db, dy.Data[i*c.Out:(i+1)*c.Out])
		}
		return
	}
	var buf []float32
	if col != nil {
		buf = *col
	}
	for i := lo; i < hi; i++ {
		xi := x.Data[i*in : (i+1)*in]
		dyi := dy.Data[i*c.Out*g.cols : (i+1)*c.Out*g.cols]
		for gi := 0; gi < c.Groups; gi++ {
			dyg := dyi[gi*g.kg*g.cols : (gi+1)*g.kg*g.cols]
			cols := c.im2col(g, xi, gi, buf)
			kernel.Sgemm(false, true, g.rows, g.kg, g.cols, 1, cols, g.cols, dyg, g.cols, 1, dwT[gi*g.kg*g.rows:(gi+1)*g.kg*g.rows], g.kg)
		}
	}
	addBiasGrad(db, dy.Data, lo, hi, g.cols)
}

// addBiasGrad adds samples [lo, hi)'s bias gradient to db: the sum of each
// output channel's plane of dy (cols floats).
func addBiasGrad(db, dy []float32, lo, hi, cols int) {
	out := len(db)
	for i := lo; i < hi; i++ {
		dyi := dy[i*out*cols : (i+1)*out*cols]
		for k := range db {
			db[k] += kernel.Sum(dyi[k*cols : (k+1)*cols])
		}
	}
}

// addTaps adds to d (rows of the weights' (C/G, k, k) order, K/G of them)
// the gradient t of weightGradShifted (kk matrices of K/G rows and C/G
// columns, one a tap).
func addTaps(d, t []float32, kg, cg, kk int) {
	for tap := 0; tap < kk; tap++ {
		for k := 0; k < kg; k++ {
			row, src := d[k*cg*kk:(k+1)*cg*kk], t[(tap*kg+k)*cg:][:cg]
			for ci, v := range src {
				row[ci*kk+tap] += v
			}
		}
	}
}

// flipRun computes group gi of samples [lo, hi) of dx as a plain
// convolution of dy with the flipped filters wf (padding d(k-1)-p): the
// samples' unrolled dy side by side in dcol, one product, scattered into
// dx through out (or, for one sample, written in place).
func (c *Conv2d) flipRun(g convGeometry, dy, dx *Tensor, wf []float32, gi, lo, hi int, dcol, out *[]float32) {
	nb, plane := hi-lo, g.h*g.w
	fr, width := g.kg*c.Kernel*c.Kernel, nb*plane
	pad := c.Dilation*(c.Kernel-1) - c.Padding
	for b := 0; b < nb; b++ {
		dyg := dy.Data[((lo+b)*c.Out+gi*g.kg)*g.cols:][:g.kg*g.cols]
		if nb == 1 {
			unroll(g.n, dyg, g.kg, g.oh, g.ow, c.Kernel, 1, pad, c.Dilation, g.h, g.w, *dcol)
			break
		}
		kernel.Im2colLd(dyg, g.kg, g.oh, g.ow, c.Kernel, 1, pad, c.Dilation, g.h, g.w, (*dcol)[b*plane:], width)
	}
	wg := wf[gi*g.cg*fr : (gi+1)*g.cg*fr]
	if nb == 1 {
		kernel.Sgemm(false, false, g.cg, plane, fr, 1, wg, fr, *dcol, plane, 0, dx.Data[(lo*c.In+gi*g.cg)*plane:], plane)
		return
	}
	kernel.Sgemm(false, false, g.cg, width, fr, 1, wg, fr, *dcol, width, 0, *out, width)
	scatterPlanes(*out, g.cg, plane, nb, dx.Data, lo, c.In, gi*g.cg, nil)
}

// inputGradSample computes group gi of sample i of dx = W^T dy: in place
// for a direct convolution, else into dcol and added back by col2im.
func (c *Conv2d) inputGradSample(g convGeometry, dy, dx *Tensor, gi, i int, dcol *[]float32) {
	plane := g.h * g.w
	dyg := dy.Data[(i*c.Out+gi*g.kg)*g.cols:][:g.kg*g.cols]
	dxi := dx.Data[i*c.In*plane : (i+1)*c.In*plane]
	w := c.Weight.Value.Data[gi*g.kg*g.rows : (gi+1)*g.kg*g.rows]
	if c.direct(g) {
		kernel.Sgemm(true, false, g.rows, g.cols, g.kg, 1, w, g.rows, dyg, g.cols, 0, dxi[gi*g.cg*plane:], g.cols)
		return
	}
	kernel.Sgemm(true, false, g.rows, g.cols, g.kg, 1, w, g.rows, dyg, g.cols, 0, *dcol, g.cols)
	c.col2im(g, *dcol, dxi, gi)
}
