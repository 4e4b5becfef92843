package nn

import (
	"fmt"
	"math"

	"github.com/convscope/convscope/nn/kernel"
)

// BatchNorm2d is PyTorch's BatchNorm2d over (N,C,H,W), per channel c:
//
//	train: y = (x - mean_B) / sqrt(var_B + eps) * gamma + beta, then
//	       running = (1-momentum)*running + momentum*batch (var unbiased)
//	eval:  y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta
//
// A training pass updates the running statistics in place: the one place a
// forward pass writes to a layer, and only the trainer runs those. Serving
// runs eval passes, which write nothing.
type BatchNorm2d struct {
	base
	Features      int
	Eps, Momentum float32
	Weight, Bias  *Param
	RunningMean   *Param
	RunningVar    *Param
}

// NewBatchNorm2d makes a batch norm with PyTorch's defaults: gamma 1, beta
// 0, running mean 0 and variance 1, eps 1e-5, momentum 0.1.
func NewBatchNorm2d(name string, features int) *BatchNorm2d {
	b := &BatchNorm2d{base: base{name}, Features: features, Eps: 1e-5, Momentum: 0.1,
		Weight:      &Param{Name: name + ".weight", Value: New(features), NoDecay: true},
		Bias:        &Param{Name: name + ".bias", Value: New(features), NoDecay: true},
		RunningMean: &Param{Name: name + ".running_mean", Value: New(features)},
		RunningVar:  &Param{Name: name + ".running_var", Value: New(features)},
	}
	fill(b.Weight.Value.Data, 1)
	fill(b.RunningVar.Value.Data, 1)
	return b
}

func fill(d []float32, v float32) {
	for i := range d {
		d[i] = v
	}
}

// Type is "BatchNorm2d".
func (b *BatchNorm2d) Type() string { return "BatchNorm2d" }

// Params are gamma and beta.
func (b *BatchNorm2d) Params() []*Param { return []*Param{b.Weight, b.Bias} }

// Buffers are the running mean and variance (state, not learned).
func (b *BatchNorm2d) Buffers() []*Param { return []*Param{b.RunningMean, b.RunningVar} }

// OutputShape is the identity on (C,H,W).
func (b *BatchNorm2d) OutputShape(in []int) ([]int, error) {
	if len(in) != 3 || in[0] != b.Features {
		return nil, shapeError(b, fmt.Sprintf("(%d,H,W)", b.Features), in)
	}
	return append([]int(nil), in...), nil
}

// bnSaved is what a pass's backward needs: the mean and inverse standard
// deviation per channel that normalised the input (xhat is recomputed from
// the step's input, bit for bit what the forward pass computed).
type bnSaved struct {
	mean   []float32
	invstd []float32
	train  bool
}

// Forward normalises with batch statistics in training, running ones
// otherwise. Every pass walks the planes in memory order, in parallel; the
// per-plane sums are then added in sample order, so the result does not
// depend on the split.
func (b *BatchNorm2d) Forward(x *Tensor, ctx *Context) (*Tensor, any, error) {
	return b.forward(x, ctx, nil, nil)
}

// rectified is a batch norm whose output goes through the rectifier r
// in the same pass: y = min(max(scale*x + shift, 0), ceiling). runChain
// runs it for a batch norm followed by a rectifier that may write over
// the norm's output (Context.InPlace), which then leaves the values as
// the two steps would, in one pass over them instead of two.
type rectified struct {
	*BatchNorm2d
	r *Activation
}

// Forward is the batch norm's, rectified.
func (n rectified) Forward(x *Tensor, ctx *Context) (*Tensor, any, error) {
	return n.BatchNorm2d.forward(x, ctx, n.r, nil)
}

// summed is a batch norm whose output goes into a residual sum, short
// added and the sum rectified by r, in the norm's own pass
// (Residual.Forward's fused tail): the norm's output is never stored, its
// backward reading only its input.
type summed struct {
	*BatchNorm2d
	r     *Activation
	short *Tensor
}

// Forward is r(norm(x) + short).
func (n summed) Forward(x *Tensor, ctx *Context) (*Tensor, any, error) {
	return n.BatchNorm2d.forward(x, ctx, n.r, n.short)
}

// forward is Forward, with short added (when not nil) and then rectified
// by r (when not nil).
func (b *BatchNorm2d) forward(x *Tensor, ctx *Context, r *Activation, short *Tensor) (*Tensor, any, error) {
	if len(x.Shape) != 4 || x.Shape[1] != b.Features {
		return nil, nil, shapeError(b, fmt.Sprintf("(N,%d,H,W)", b.Features), x.Shape)
	}
	if short != nil && !SameShape(short.Shape, x.Shape) { // before the running statistics move
		return nil, nil, fmt.Errorf("%s (BatchNorm2d): residual sum of %s and %s", b.name, ShapeString(x.Shape), ShapeString(short.Shape))
	}
	n, c, hw := x.Shape[0], x.Shape[1], x.Shape[2]*x.Shape[3]
	train := ctx != nil && ctx.Train
	s := bnSaved{mean: make([]float32, c), invstd: make([]float32, c), train: train}
	y := ctx.arena().Uninit(x.Shape...)
	m := float64(n * hw)
	mean, variance := make([]float64, c), make([]float64, c)
	if train {
		// Each plane's sum in float32 lanes, the planes' in float64, as PyTorch's CPU kernel.
		planeSums(x.Data, n, c, hw, func(plane []float32, ch int) float32 { return kernel.Sum(plane) }, mean)
		for ch := range mean {
			mean[ch] /= m
			s.mean[ch] = float32(mean[ch])
		}
		planeSums(x.Data, n, c, hw, func(plane []float32, ch int) float32 {
			return kernel.SumSquaredDeviations(plane, s.mean[ch])
		}, variance)
		mom := float64(b.Momentum)
		for ch := range variance {
			variance[ch] /= m
			rm, rv := &b.RunningMean.Value.Data[ch], &b.RunningVar.Value.Data[ch]
			*rm = float32((1-mom)*float64(*rm) + mom*mean[ch])
			*rv = float32((1-mom)*float64(*rv) + mom*variance[ch]*m/max(m-1, 1))
		}
	} else {
		for ch := range mean {
			mean[ch], variance[ch] = float64(b.RunningMean.Value.Data[ch]), float64(b.RunningVar.Value.Data[ch])
			s.mean[ch] = float32(mean[ch])
		}
	}
	// y = (x-mean)*inv*gamma + beta = scale*x + shift
	scale, shift := make([]float32, c), make([]float32, c)
	for ch := range scale {
		inv := 1 / math.Sqrt(variance[ch]+float64(b.Eps))
		s.invstd[ch] = float32(inv)
		sc := float64(b.Weight.Value.Data[ch]) * inv
		scale[ch], shift[ch] = float32(sc), float32(float64(b.Bias.Value.Data[ch])-mean[ch]*sc)
	}
	if short != nil {
		lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
		if r != nil {
			lo, hi = 0, r.ceiling()
		}
		eachPlane(n, c, hw, func(i, j, ch int) { // three calls on a plane in cache
			kernel.Affine(y.Data[i:j], x.Data[i:j], scale[ch], shift[ch])
			kernel.Add(y.Data[i:j], y.Data[i:j], short.Data[i:j])
			kernel.Clamp(y.Data[i:j], y.Data[i:j], lo, hi)
		})
		return y, s, nil
	}
	if r != nil {
		ceiling := r.ceiling()
		eachPlane(n, c, hw, func(lo, hi, ch int) {
			kernel.AffineClamp(y.Data[lo:hi], x.Data[lo:hi], scale[ch], shift[ch], 0, ceiling)
		})
		return y, s, nil
	}
	eachPlane(n, c, hw, func(lo, hi, ch int) { kernel.Affine(y.Data[lo:hi], x.Data[lo:hi], scale[ch], shift[ch]) })
	return y, s, nil
}

// eachPlane calls fn on every (sample, channel) plane [lo, hi) of an
// (N,C,H*W) tensor, in parallel runs of consecutive planes (so each core
// streams through one stretch of memory, at batch 1 too).
func eachPlane(n, c, hw int, fn func(lo, hi, ch int)) {
	kernel.ParallelFor(n*c, func(_, p int) { fn(p*hw, (p+1)*hw, p%c) })
}

// planeSums adds sum(plane, ch) over the samples into total[ch] (float64),
// in sample order whatever the parallel split.
func planeSums(x []float32, n, c, hw int, sum func(plane []float32, ch int) float32, total []float64) {
	part := make([]float32, n*c)
	eachPlane(n, c, hw, func(lo, hi, ch int) { part[lo/hw] = sum(x[lo:hi], ch) })
	for i := 0; i < n; i++ {
		for ch, v := range part[i*c : (i+1)*c] {
			total[ch] += float64(v)
		}
	}
}

// Backward: dx = gamma*invstd/m * (m*dy - sum(dy) - xhat*sum(dy*xhat)) in
// training (the batch statistics depend on x), gamma*invstd*dy in eval;
// dgamma += sum(dy*xhat), dbeta += sum(dy).
func (b *BatchNorm2d) Backward(dy *Tensor, st *Step, _ Rule, g Grads) (*Tensor, error) {
	if err := checkDy(b, dy, st); err != nil {
		return nil, err
	}
	return b.backward(dy, nil, st, g)
}

// backward is Backward; with a rectifier r, dy is the signal at r's output
// and is first masked by r's backward (ordinary gradient), plane by plane
// into dx, which the sums then read while it is still in cache: one pass
// over dy and r's input fewer than the two steps' backwards, and the same
// values.
func (b *BatchNorm2d) backward(dy *Tensor, r *rectifierInput, st *Step, g Grads) (*Tensor, error) {
	s := st.Saved.(bnSaved)
	n, c, hw := dy.Shape[0], dy.Shape[1], dy.Shape[2]*dy.Shape[3]
	dx := st.arena.Uninit(dy.Shape...)
	m := float32(n * hw)
	x := st.In.Data
	src := dy.Data // the signal at the norm's output
	if r != nil {
		src = dx.Data
		if (g == nil && !s.train) || hw < maskedPlaneMin { // no sums to pair the mask with, or planes too short to pay for a call each
			kernel.ParallelRange(len(dy.Data), func(lo, hi int) {
				kernel.MaskBetween(dx.Data[lo:hi], dy.Data[lo:hi], r.in[lo:hi], 0, r.hi)
			})
			r = nil
		}
	}
	sdy, sdyx := make([]float32, c), make([]float32, c) // sum(dy), sum(dy*xhat)
	if g != nil || s.train {
		// Each plane's two sums from one pass: sum(dy) and sum(dy*(x-mean)).
		part := make([]float32, 2*n*c)
		eachPlane(n, c, hw, func(lo, hi, ch int) {
			if r != nil {
				kernel.MaskBetween(dx.Data[lo:hi], dy.Data[lo:hi], r.in[lo:hi], 0, r.hi)
			}
			p := 2 * (lo / hw)
			part[p], part[p+1] = kernel.SumAndDot(src[lo:hi], x[lo:hi], s.mean[ch])
		})
		sd, sdx := make([]float64, c), make([]float64, c)
		for i := 0; i < n; i++ {
			for ch := 0; ch < c; ch++ {
				p := 2 * (i*c + ch)
				sd[ch] += float64(part[p])
				sdx[ch] += float64(part[p+1])
			}
		}
		for ch := range sdy {
			sdy[ch], sdyx[ch] = float32(sd[ch]), float32(sdx[ch]*float64(s.invstd[ch]))
		}
	}
	if g != nil {
		kernel.Add(g.For(b.Weight).Data, g.For(b.Weight).Data, sdyx)
		kernel.Add(g.For(b.Bias).Data, g.For(b.Bias).Data, sdy)
	}
	eachPlane(n, c, hw, func(lo, hi, ch int) {
		inv := s.invstd[ch]
		k := b.Weight.Value.Data[ch] * inv
		if !s.train {
			kernel.Affine(dx.Data[lo:hi], src[lo:hi], k, 0)
			return
		}
		km := k / m
		kernel.LinearCombination(dx.Data[lo:hi], src[lo:hi], x[lo:hi], k, -km*inv*sdyx[ch], s.mean[ch], -km*sdy[ch])
	})
	return dx, nil
}

// maskedPlaneMin is the shortest plane (floats) that a masked norm's
// backward masks plane by plane, beside the plane's sums; shorter planes
// are masked in one pass first (BenchmarkNormRectifierBackward: 4x4 planes
// one by one were 0.95x the two steps apart).
const maskedPlaneMin = 64

// rectifierInput is what a rectifier's backward reads: its input (or its
// output, which gives the same mask 0 < v < hi) and its ceiling hi.
type rectifierInput struct {
	in []float32
	hi float32
}

// maskedNorm is a batch norm's backward step with the backward of the
// rectifier after it (ordinary gradient) done inside it: dy is the signal
// at the rectifier's output.
type maskedNorm struct {
	*BatchNorm2d
	r rectifierInput
}

// Backward is the two steps' backward in one.
func (m maskedNorm) Backward(dy *Tensor, st *Step, _ Rule, g Grads) (*Tensor, error) {
	if err := checkDy(m.BatchNorm2d, dy, st); err != nil {
		return nil, err
	}
	return m.backward(dy, &m.r, st, g)
}

// maskedNormAt reports whether steps[i] is a rectifier of steps[i-1]'s
// output, a batch norm's, whose backwards may run as one (rule Gradient, no
// Watch on the norm's step to see the signal between them), and the
// norm's step that does both.
func maskedNormAt(steps []Step, i int, rule Rule) (maskedNorm, bool) {
	if rule != Gradient || i < 1 {
		return maskedNorm{}, false
	}
	a, ok := steps[i].Layer.(*Activation)
	if !ok || !a.overwrites() {
		return maskedNorm{}, false
	}
	prev := &steps[i-1]
	b, ok := prev.Layer.(*BatchNorm2d)
	if !ok || prev.Watch != nil || !sharesData(prev.Out, steps[i].In) || len(prev.Out.Data) != len(steps[i].In.Data) {
		return maskedNorm{}, false
	}
	if _, ok := prev.Saved.(bnSaved); !ok {
		return maskedNorm{}, false
	}
	return maskedNorm{b, rectifierInput{steps[i].In.Data, a.ceiling()}}, true
}

// LayerNorm is PyTorch's LayerNorm over the last dimension D, or, with
// ChannelsFirst, over the channels of an (N,C,H,W) tensor at each pixel (the
// "channels first" LayerNorm of ConvNeXt's downsampling layers):
//
//	y = (x - mean) / sqrt(var + eps) * gamma + beta   (biased var, per group of D)
type LayerNorm struct {
	base
	Features      int
	Eps           float32
	ChannelsFirst bool
	Weight, Bias  *Param
}

// NewLayerNorm makes a layer norm over features values with gamma 1, beta 0.
func NewLayerNorm(name string, features int, eps float32, channelsFirst bool) *LayerNorm {
	l := &LayerNorm{base: base{name}, Features: features, Eps: eps, ChannelsFirst: channelsFirst,
		Weight: &Param{Name: name + ".weight", Value: New(features), NoDecay: true},
		Bias:   &Param{Name: name + ".bias", Value: New(features), NoDecay: true}}
	fill(l.Weight.Value.Data, 1)
	return l
}

// Type is "LayerNorm".
func (l *LayerNorm) Type() string { return "LayerNorm" }

// Params are gamma and beta.
func (l *LayerNorm) Params() []*Param { return []*Param{l.Weight, l.Bias} }

// OutputShape is the identity.
func (l *LayerNorm) OutputShape(in []int) ([]int, error) {
	if (l.ChannelsFirst && (len(in) != 3 || in[0] != l.Features)) || (!l.ChannelsFirst && (len(in) == 0 || in[len(in)-1] != l.Features)) {
		return nil, shapeError(l, l.want(), in)
	}
	return append([]int(nil), in...), nil
}

func (l *LayerNorm) want() string {
	if l.ChannelsFirst {
		return fmt.Sprintf("(%d,H,W)", l.Features)
	}
	return fmt.Sprintf("(...,%d)", l.Features)
}

// groups is the number of normalised groups of D values in a tensor of
// shape: one per pixel of each sample when channels come first.
func (l *LayerNorm) groups(shape []int) int {
	if !l.ChannelsFirst {
		return Numel(shape) / l.Features
	}
	return shape[0] * shape[2] * shape[3]
}

// lnChunk is how many groups one parallel piece normalises; pieces are
// fixed by the tensor's size alone, so sums over pieces are deterministic.
const lnChunk = 64

type lnSaved struct{ xhat, invstd []float32 }

// Forward normalises each group, groups in parallel pieces.
func (l *LayerNorm) Forward(x *Tensor, ctx *Context) (*Tensor, any, error) {
	if len(x.Shape) < 2 {
		return nil, nil, shapeError(l, "(N,"+l.want()[1:], x.Shape)
	}
	if _, err := l.OutputShape(x.Shape[1:]); err != nil {
		return nil, nil, shapeError(l, "(N,"+l.want()[1:], x.Shape)
	}
	y := ctx.arena().Uninit(x.Shape...) // every value is written
	n := l.groups(x.Shape)
	s := lnSaved{xhat: ctx.arena().Uninit(len(x.Data)).Data, invstd: make([]float32, n)} // every value is written
	w, bias := l.Weight.Value.Data, l.Bias.Value.Data
	if !l.ChannelsFirst {
		// Each group is D contiguous values: the vector kernels' case.
		D := l.Features
		kernel.ParallelFor((n+lnChunk-1)/lnChunk, func(_, c int) {
			for g := c * lnChunk; g < min((c+1)*lnChunk, n); g++ {
				xs, xh := x.Data[g*D:(g+1)*D], s.xhat[g*D:(g+1)*D]
				mean := kernel.Sum(xs) / float32(D)
				variance := kernel.SumSquaredDeviations(xs, mean) / float32(D)
				inv := float32(1 / math.Sqrt(float64(variance)+float64(l.Eps)))
				s.invstd[g] = inv
				kernel.Affine(xh, xs, inv, -mean*inv)
				kernel.MulAdd(y.Data[g*D:(g+1)*D], xh, w, bias)
			}
		})
		return y, s, nil
	}
	l.forwardStrided(x, y, s)
	return y, s, nil
}

// Backward (every rule), per group with dxhat = dy*gamma:
//
//	dx = invstd/D * (D*dxhat - sum(dxhat) - xhat*sum(dxhat*xhat))
//
// dgamma += dy*xhat, dbeta += dy (summed per piece, then over pieces in order).
func (l *LayerNorm) Backward(dy *Tensor, st *Step, _ Rule, g Grads) (*Tensor, error) {
	if err := checkDy(l, dy, st); err != nil {
		return nil, err
	}
	s := st.Saved.(lnSaved)
	dx := st.arena.Uninit(dy.Shape...) // every value is written
	n := l.groups(dy.Shape)
	chunks := (n + lnChunk - 1) / lnChunk
	if l.ChannelsFirst {
		chunks, _ = lnPieces(dy.Shape[0], dy.Shape[2]*dy.Shape[3])
	}
	var partial [][]float32 // per piece: dgamma then dbeta
	if g != nil {
		partial = make([][]float32, chunks)
	}
	d := float32(l.Features)
	w := l.Weight.Value.Data
	if !l.ChannelsFirst {
		// Contiguous groups, with dxhat = dy*gamma:
		// dx = invstd*dxhat - invstd/D*sum(dxhat*xhat)*xhat - invstd/D*sum(dxhat).
		D := l.Features
		kernel.ParallelFor(chunks, func(_, c int) {
			var acc []float32
			if partial != nil {
				acc = make([]float32, 2*D)
				partial[c] = acc
			}
			dxh := make([]float32, D)
			for gi := c * lnChunk; gi < min((c+1)*lnChunk, n); gi++ {
				dys, xh := dy.Data[gi*D:(gi+1)*D], s.xhat[gi*D:(gi+1)*D]
				if acc != nil {
					kernel.MulAdd(acc[:D], dys, xh, acc[:D])
					kernel.Add(acc[D:], acc[D:], dys)
				}
				kernel.Mul(dxh, dys, w)
				sum, sumx := kernel.Sum(dxh), kernel.Dot(dxh, xh)
				inv := s.invstd[gi]
				kernel.LinearCombination(dx.Data[gi*D:(gi+1)*D], dxh, xh, inv, -inv/d*sumx, 0, -inv/d*sum)
			}
		})
	} else {
		l.backwardStrided(dy, dx, s, partial)
	}
	if g != nil {
		dw, db := g.For(l.Weight).Data, g.For(l.Bias).Data
		for _, acc := range partial {
			for j := 0; j < l.Features; j++ {
				dw[j] += acc[j]
				db[j] += acc[l.Features+j]
			}
		}
	}
	return dx, nil
}

// lnPieces splits channels-first groups (N, H*W) into pieces of up to
// lnChunk consecutive pixels of one sample: piece c is sample c/per,
// pixels [lo, hi). The split depends on the shape alone, so sums over
// pieces are deterministic.
func lnPieces(n, hw int) (count int, piece func(c int) (sample, lo, hi int)) {
	per := (hw + lnChunk - 1) / lnChunk
	return n * per, func(c int) (int, int, int) {
		lo := (c % per) * lnChunk
		return c / per, lo, min(lo+lnChunk, hw)
	}
}

// forwardStrided is Forward for channels-first groups (one value per
// channel plane at each pixel): a piece of pixels at a time, walking the
// channel planes in memory order so that every inner loop runs over
// consecutive pixels.
func (l *LayerNorm) forwardStrided(x, y *Tensor, s lnSaved) {
	D, hw := l.Features, x.Shape[2]*x.Shape[3]
	w, bias := l.Weight.Value.Data, l.Bias.Value.Data
	count, piece := lnPieces(x.Shape[0], hw)
	kernel.ParallelFor(count, func(_, c int) {
		sample, lo, hi := piece(c)
		var negMeanBuf, varBuf, diffBuf [lnChunk]float32
		negMean, variance, diff := negMeanBuf[:hi-lo], varBuf[:hi-lo], diffBuf[:hi-lo]
		base := sample * D * hw
		plane := func(j int) []float32 { return x.Data[base+j*hw+lo : base+j*hw+hi] }
		for j := 0; j < D; j++ {
			kernel.Add(negMean, negMean, plane(j))
		}
		kernel.Affine(negMean, negMean, -1/float32(D), 0)
		for j := 0; j < D; j++ {
			kernel.Add(diff, plane(j), negMean)
			kernel.MulAdd(variance, diff, diff, variance)
		}
		inv := s.invstd[sample*hw+lo : sample*hw+hi]
		for k, v := range variance {
			inv[k] = float32(1 / math.Sqrt(float64(v)/float64(D)+float64(l.Eps)))
		}
		for j := 0; j < D; j++ {
			at := base + j*hw
			xh, ys := s.xhat[at+lo:at+hi], y.Data[at+lo:at+hi]
			kernel.Add(xh, plane(j), negMean)
			kernel.Mul(xh, xh, inv)
			kernel.Affine(ys, xh, w[j], bias[j])
		}
	})
}

// backwardStrided is Backward for channels-first groups, a piece of pixels
// at a time as forwardStrided; partial holds each piece's dgamma and dbeta.
func (l *LayerNorm) backwardStrided(dy, dx *Tensor, s lnSaved, partial [][]float32) {
	D, hw := l.Features, dy.Shape[2]*dy.Shape[3]
	d := float32(D)
	w := l.Weight.Value.Data
	count, piece := lnPieces(dy.Shape[0], hw)
	kernel.ParallelFor(count, func(_, c int) {
		var acc []float32
		if partial != nil {
			acc = make([]float32, 2*D)
			partial[c] = acc
		}
		sample, lo, hi := piece(c)
		var sumBuf, sumxBuf, tmpBuf [lnChunk]float32
		sum, sumx, tmp := sumBuf[:hi-lo], sumxBuf[:hi-lo], tmpBuf[:hi-lo]
		base := sample * D * hw
		for j := 0; j < D; j++ {
			at := base + j*hw
			dys, xh := dy.Data[at+lo:at+hi], s.xhat[at+lo:at+hi]
			kernel.Mul(tmp, dys, xh)
			kernel.Axpy(sum, dys, w[j])  // dxhat = dy*gamma
			kernel.Axpy(sumx, tmp, w[j]) // dxhat*xhat
			if acc != nil {
				acc[j], acc[D+j] = kernel.Sum(tmp), kernel.Sum(dys)
			}
		}
		// dx = invstd*gamma*dy - invstd/D*sum - invstd/D*sumx*xhat
		inv := s.invstd[sample*hw+lo : sample*hw+hi]
		for k := range sum {
			sum[k] *= -inv[k] / d
			sumx[k] *= -inv[k] / d
		}
		for j := 0; j < D; j++ {
			at := base + j*hw
			dys, xh, dxs := dy.Data[at+lo:at+hi], s.xhat[at+lo:at+hi], dx.Data[at+lo:at+hi]
			kernel.Mul(dxs, dys, inv)
			kernel.Affine(dxs, dxs, w[j], 0)
			kernel.Add(dxs, dxs, sum)
			kernel.MulAdd(dxs, sumx, xh, dxs)
		}
	})
}
