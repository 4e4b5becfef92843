package nn

import (
	"errors"
	"math"

	"github.com/convscope/convscope/nn/kernel"
)

// Fused evaluation (Context.Fuse): a convolution, the batch norm after it
// and the rectifier after that run as one pass over the convolution's
// output, each plane scaled, shifted and clamped right after its product,
// while it is still in cache: y = clamp(conv(x)*scale + shift). It is the
// folding of batch norm into the convolution that inference engines do,
// without changing the weights.

// errFusedBackward is the backward of a fused step: a fused pass keeps no
// input for the batch norm or the rectifier.
var errFusedBackward = errors.New("a fused pass (Context.Fuse) has no backward pass; run the pass without Fuse")

// fusedStep is the Saved of a fused group's steps.
type fusedStep struct{}

// epilogue is what a fused convolution does to output plane k after its
// product: y = y*scale[k] + shift[k] (scale nil: 1), then, when clamp,
// y = min(max(y, lo), hi).
type epilogue struct {
	scale, shift []float32
	clamp        bool
	lo, hi       float32
	// residual, when not nil, is added to the output after the rest, and
	// the sum clamped to [0, sumHi] (Residual.forwardTail); the shifted
	// path's copy-out and the Winograd path's output apply it (rowsFrom).
	residual *Tensor
	sumHi    float32
}

// withBias is e, or for a nil e the plain pass's epilogue of c: its bias
// (nil when it has none).
func (c *Conv2d) withBias(e *epilogue) *epilogue {
	if e == nil && c.Bias != nil {
		return &epilogue{shift: c.Bias.Value.Data}
	}
	return e
}

// plane applies the epilogue to plane k.
func (e *epilogue) plane(y []float32, k int) { e.planeFrom(y, y, k) }

// planeFrom sets y to plane k of a product, src, with the epilogue applied:
// one pass that reads src and writes y (src may be y), the clamp then
// running over y while it is in cache.
func (e *epilogue) planeFrom(y, src []float32, k int) {
	if e.shift != nil { // the scalars straight to the kernel: planes of 49 floats feel any more
		a := float32(1)
		if e.scale != nil {
			a = e.scale[k]
		}
		lo, hi := e.bounds()
		kernel.AffineClamp(y, src, a, e.shift[k], lo, hi)
		return
	}
	if len(y) > 0 && &y[0] != &src[0] {
		copy(y, src)
	}
	if e.clamp {
		kernel.Clamp(y, y, e.lo, e.hi)
	}
}

// rowsFrom sets y, plane k of the output (at floats into the output
// tensor), to rows rows of w floats of a product, ld floats apart in
// src, with the epilogue and the residual applied (kernel.EpilogueRows):
// the copy-out of a padded-width product in one pass. A nil e copies.
func (e *epilogue) rowsFrom(y, src []float32, rows, w, ld, k, at int) {
	if e == nil {
		kernel.CopyStrided(y, src, rows, w, w, ld)
		return
	}
	a, b := float32(1), float32(math.Copysign(0, -1)) // v*1 + -0 is v, -0 included
	if e.scale != nil {
		a = e.scale[k]
	}
	if e.shift != nil {
		b = e.shift[k]
	}
	lo, hi := e.bounds()
	var res []float32
	if e.residual != nil {
		res = e.residual.Data[at : at+len(y)]
	}
	kernel.EpilogueRows(y, src, res, rows, w, w, ld, a, b, lo, hi, e.sumHi)
}

// planes is the epilogue of planes lo..hi-1 for kernel.DepthwisePlanes;
// ok is false for a nil epilogue and one with no shift (only a clamp).
func (e *epilogue) planes(lo, hi int) (ep kernel.PlaneEpilogue, ok bool) {
	if e == nil || e.shift == nil {
		return ep, false
	}
	ep = kernel.PlaneEpilogue{Shift: e.shift[lo:hi]}
	if e.scale != nil {
		ep.Scale = e.scale[lo:hi]
	}
	ep.Lo, ep.Hi = e.bounds()
	return ep, true
}

// bounds is the clamp's range, -Inf to +Inf for an epilogue that does not
// clamp.
func (e *epilogue) bounds() (lo, hi float32) {
	if e.clamp {
		return e.lo, e.hi
	}
	return float32(math.Inf(-1)), float32(math.Inf(1))
}

// row applies the epilogue to one sample's outputs of a dense convolution
// (one value per channel).
func (e *epilogue) row(y []float32) {
	for k, v := range y { // plane's arithmetic on planes of one value
		if e.shift != nil {
			sc := float32(1)
			if e.scale != nil {
				sc = e.scale[k]
			}
			v = sc*v + e.shift[k]
		}
		if e.clamp && v < e.lo { // kernel.Clamp's tests: NaN and -0 stay
			v = e.lo
		}
		if e.clamp && v > e.hi {
			v = e.hi
		}
		y[k] = v
	}
}

// fusedGroup reports how many layers from ls[0] run as one fused
// convolution under ctx (0: none) and the epilogue that stands for the
// ones after the convolution: a Conv2d, then a BatchNorm2d of its output
// channels, and a rectifier (ReLU, ReLU6) after either, in an evaluation
// pass with Fuse set.
func fusedGroup(ls []Layer, ctx *Context) (int, *epilogue) {
	if ctx == nil || !ctx.Fuse || ctx.Train || len(ls) < 2 {
		return 0, nil
	}
	c, ok := ls[0].(*Conv2d)
	if !ok || ctx.keeps(c) {
		return 0, nil
	}
	n, e := 1, &epilogue{}
	if c.Bias != nil {
		e.shift = c.Bias.Value.Data
	}
	if bn, ok := ls[1].(*BatchNorm2d); ok && bn.Features == c.Out {
		scale, shift := bn.evalAffine()
		if c.Bias != nil {
			for k := range shift { // (conv + b)*scale + shift
				shift[k] = float32(float64(shift[k]) + float64(c.Bias.Value.Data[k])*float64(scale[k]))
			}
		}
		e.scale, e.shift, n = scale, shift, 2
	}
	if n < len(ls) && !ctx.keeps(ls[n-1]) {
		if a, ok := ls[n].(*Activation); ok && a.overwrites() {
			e.clamp, e.lo, e.hi, n = true, 0, a.ceiling(), n+1
		}
	}
	if n == 1 {
		return 0, nil
	}
	return n, e
}

// fusedLayer is a fused group under its convolution's name and type, for
// profiles.
type fusedLayer struct {
	*Conv2d
	e *epilogue
}

// Forward runs the convolution with the group's epilogue.
func (f fusedLayer) Forward(x *Tensor, ctx *Context) (*Tensor, any, error) {
	y, err := f.forward(x, ctx, f.e)
	return y, fusedStep{}, err
}

// runFused runs the group ls[:n] on x and returns its steps: one output
// tensor, the last layer's, for all of them.
func runFused(ls []Layer, n int, e *epilogue, x *Tensor, ctx *Context) ([]Step, error) {
	y, _, err := forward(fusedLayer{ls[0].(*Conv2d), e}, x, ctx)
	if err != nil {
		return nil, err
	}
	steps := []Step{{Layer: ls[0], In: x, Out: y, Saved: fusedStep{}, arena: ctx.arena()}}
	for _, l := range ls[1:n] {
		steps = append(steps, Step{Layer: l, In: y, Out: y, Saved: fusedStep{}, arena: ctx.arena()})
	}
	return steps, nil
}

// evalAffine is the batch norm at evaluation as y = scale*x + shift per
// channel, from the running statistics (in float64, as Forward).
func (b *BatchNorm2d) evalAffine() (scale, shift []float32) {
	scale, shift = make([]float32, b.Features), make([]float32, b.Features)
	for ch := range scale {
		mean := float64(b.RunningMean.Value.Data[ch])
		inv := 1 / math.Sqrt(float64(b.RunningVar.Value.Data[ch])+float64(b.Eps))
		sc := float64(b.Weight.Value.Data[ch]) * inv
		scale[ch], shift[ch] = float32(sc), float32(float64(b.Bias.Value.Data[ch])-mean*sc)
	}
	return scale, shift
}
