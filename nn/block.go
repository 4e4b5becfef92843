package nn

import (
	"fmt"

	"github.com/convscope/convscope/nn/kernel"
)

// Blocks: layers built from other layers, for the networks that are not a
// plain chain. Each keeps its sub-traces in its Step's Saved, so the
// one-reader-many-passes rule holds inside them too.

// runChain runs layers in order from x and records every step.
func runChain(layers []Layer, x *Tensor, ctx *Context, onStep StepFunc) (*Trace, error) {
	tr := &Trace{Input: x, Steps: make([]Step, 0, len(layers))}
	cur := x
	for i := 0; i < len(layers); i++ {
		l := layers[i]
		if n, e := fusedGroup(layers[i:], ctx); n > 0 {
			steps, err := runFused(layers[i:], n, e, cur, ctx)
			if err != nil {
				return nil, err
			}
			for k := range steps {
				tr.Steps = append(tr.Steps, steps[k])
				if onStep != nil {
					if err := onStep(i+k, &tr.Steps[i+k]); err != nil {
						return nil, err
					}
				}
			}
			cur, i = steps[n-1].Out, i+n-1
			continue
		}
		if a := rectifierAfter(layers[i:], ctx); a != nil {
			// A batch norm and the rectifier that may write over its
			// output: one pass, both steps holding the rectified values.
			y, saved, err := forward(rectified{l.(*BatchNorm2d), a}, cur, ctx)
			if err != nil {
				return nil, err
			}
			tr.Steps = append(tr.Steps, Step{Layer: l, In: cur, Out: y, Saved: saved, arena: ctx.arena()},
				Step{Layer: a, In: y, Out: y, arena: ctx.arena()})
			if onStep != nil {
				for k := i; k < i+2; k++ {
					if err := onStep(k, &tr.Steps[k]); err != nil {
						return nil, err
					}
				}
			}
			cur, i = y, i+1
			continue
		}
		private := i > 0 && keepsOutputPrivate(layers[i-1]) && !ctx.keeps(layers[i-1]) // the chain's input is its caller's
		y, saved, err := forwardOver(l, private, cur, ctx)
		if err != nil {
			return nil, err
		}
		tr.Steps = append(tr.Steps, Step{Layer: l, In: cur, Out: y, Saved: saved, arena: ctx.arena()})
		if onStep != nil {
			if err := onStep(i, &tr.Steps[i]); err != nil {
				return nil, err
			}
		}
		cur = y
	}
	return tr, nil
}

// rectifierAfter is the rectifier of ls[1] when ls[0] is a batch norm
// whose output it may write over (Context.InPlace, the norm's output not
// kept), nil otherwise.
func rectifierAfter(ls []Layer, ctx *Context) *Activation {
	if len(ls) < 2 || ctx == nil || !ctx.InPlace || ctx.keeps(ls[0]) {
		return nil
	}
	if _, ok := ls[0].(*BatchNorm2d); !ok {
		return nil
	}
	if a, ok := ls[1].(*Activation); ok && a.overwrites() {
		return a
	}
	return nil
}

// backChain walks tr's steps from `from` down to its input.
func backChain(tr *Trace, from int, dy *Tensor, rule Rule, g Grads) (*Tensor, error) {
	if from < 0 || from >= len(tr.Steps) {
		return nil, fmt.Errorf("backward from step %d of %d", from, len(tr.Steps))
	}
	in := dy
	for i := from; i >= 0; i-- {
		st := &tr.Steps[i]
		l := st.Layer
		if m, ok := maskedNormAt(tr.Steps, i, rule); ok {
			// The rectifier's backward inside the norm's: one step fewer.
			if st.Watch != nil {
				st.Watch(dy)
			}
			i--
			st, l = &tr.Steps[i], m
		}
		dx, err := backward(l, dy, st, rule, g)
		if err != nil {
			return nil, err
		}
		// dy is spent: its buffer can hold a gradient further down, still
		// in cache (unless it is the caller's or dx shares its values).
		if dy != in && !sharesData(dx, dy) {
			st.arena.Release(dy)
		}
		dy = dx
	}
	return dy, nil
}

// sharesData reports whether a and b are views of the same values.
func sharesData(a, b *Tensor) bool {
	return a != nil && b != nil && len(a.Data) > 0 && len(b.Data) > 0 && &a.Data[0] == &b.Data[0]
}

// chainShape is the output shape of layers for a per-sample input shape.
func chainShape(layers []Layer, in []int) ([]int, error) {
	shape := in
	for _, l := range layers {
		var err error
		if shape, err = l.OutputShape(shape); err != nil {
			return nil, err
		}
	}
	return shape, nil
}

// chainParams lists layers' parameters, and with buffers also their buffers.
func chainParams(layers []Layer) []*Param {
	var ps []*Param
	for _, l := range layers {
		ps = append(ps, l.Params()...)
	}
	return ps
}

func chainBuffers(layers []Layer) []*Param {
	var bs []*Param
	for _, l := range layers {
		if b, ok := l.(Buffered); ok {
			bs = append(bs, b.Buffers()...)
		}
	}
	return bs
}

// Chain is a named sequence of layers used inside a block (a ResNet stage's
// body, an Inception branch). As a Layer its Saved is its sub-Trace.
type Chain struct {
	base
	Layers []Layer
}

// NewChain makes a chain; its name is the state_dict prefix of its layers
// (the layers carry their full names themselves).
func NewChain(name string, layers ...Layer) *Chain { return &Chain{base{name}, layers} }

// Children are the sub-layers.
func (c *Chain) Children() []Layer { return c.Layers }

// Type is "Sequential", as PyTorch's container.
func (c *Chain) Type() string { return "Sequential" }

// Params lists the sub-layers' parameters.
func (c *Chain) Params() []*Param { return chainParams(c.Layers) }

// Buffers lists the sub-layers' buffers.
func (c *Chain) Buffers() []*Param { return chainBuffers(c.Layers) }

// OutputShape chains the sub-layers' shapes.
func (c *Chain) OutputShape(in []int) ([]int, error) { return chainShape(c.Layers, in) }

// Forward runs the sub-layers; Saved is the sub-Trace.
func (c *Chain) Forward(x *Tensor, ctx *Context) (*Tensor, any, error) {
	if len(c.Layers) == 0 {
		return x, &Trace{Input: x}, nil
	}
	tr, err := runChain(c.Layers, x, ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	return tr.Output(), tr, nil
}

// Backward walks the sub-Trace.
func (c *Chain) Backward(dy *Tensor, st *Step, rule Rule, g Grads) (*Tensor, error) {
	tr := st.Saved.(*Trace)
	if len(tr.Steps) == 0 {
		return dy, nil
	}
	return backChain(tr, len(tr.Steps)-1, dy, rule, g)
}

// Residual is a residual block (He et al. 2015): y = After(Body(x) + Shortcut(x)),
// with Shortcut nil for the identity and After nil for none (ResNet puts a
// ReLU there). Saved holds the sub-traces.
type Residual struct {
	base
	Body, Shortcut *Chain
	After          Layer
}

// NewResidual makes a residual block; shortcut and after may be nil.
func NewResidual(name string, body, shortcut *Chain, after Layer) *Residual {
	return &Residual{base{name}, body, shortcut, after}
}

// Type is "Residual".
func (r *Residual) Type() string { return "Residual" }

func (r *Residual) parts() []Layer {
	ls := []Layer{r.Body}
	if r.Shortcut != nil {
		ls = append(ls, r.Shortcut)
	}
	if r.After != nil {
		ls = append(ls, r.After)
	}
	return ls
}

// Children are the body, the shortcut and the layer after the sum.
func (r *Residual) Children() []Layer { return r.parts() }

// Params lists the body's, shortcut's and after's parameters.
func (r *Residual) Params() []*Param { return chainParams(r.parts()) }

// Buffers lists their buffers.
func (r *Residual) Buffers() []*Param { return chainBuffers(r.parts()) }

// OutputShape is the body's, which must equal the shortcut's.
func (r *Residual) OutputShape(in []int) ([]int, error) {
	body, err := r.Body.OutputShape(in)
	if err != nil {
		return nil, err
	}
	short := in
	if r.Shortcut != nil {
		if short, err = r.Shortcut.OutputShape(in); err != nil {
			return nil, err
		}
	}
	if !SameShape(body, short) {
		return nil, fmt.Errorf("%s (Residual): body gives %s, shortcut %s", r.name, ShapeString(body), ShapeString(short))
	}
	if r.After != nil {
		return r.After.OutputShape(body)
	}
	return body, nil
}

type residualSaved struct {
	body, short Step
	after       *Step
}

// Forward computes the sum and the optional activation after it.
func (r *Residual) Forward(x *Tensor, ctx *Context) (*Tensor, any, error) {
	if a := r.fusedRectifier(ctx); a != nil {
		switch body := r.Body.Layers; {
		case ctx.Train && len(body) >= 2:
			if _, ok := body[len(body)-1].(*BatchNorm2d); ok {
				return r.forwardTail(x, ctx, a, nil)
			}
		case !ctx.Train && len(body) >= 3:
			if n, e := fusedGroup(body[len(body)-2:], ctx); n == 2 {
				return r.forwardTail(x, ctx, a, e)
			}
		}
	}
	body, err := stepOf(r.Body, x, ctx)
	if err != nil {
		return nil, nil, err
	}
	return r.sumAfter(x, body, ctx)
}

// sumAfter is Forward after the body's step: the shortcut, the sum and
// the layer after it.
func (r *Residual) sumAfter(x *Tensor, body Step, ctx *Context) (*Tensor, any, error) {
	s := residualSaved{body: body}
	var err error
	if s.short, err = r.shortcut(x, ctx); err != nil {
		return nil, nil, err
	}
	short := s.short.Out
	if !SameShape(s.body.Out.Shape, short.Shape) {
		return nil, nil, fmt.Errorf("%s (Residual): body gives %s, shortcut %s", r.name, ShapeString(s.body.Out.Shape), ShapeString(short.Shape))
	}
	sum := ctx.arena().Uninit(short.Shape...)
	// The sum is the block's own, read by nothing else (unless the pass
	// keeps it: Context.Keep naming "NAME.add"); a rectifier after it may
	// write over it, and then does so in the same pass as the sum, piece
	// by piece while each is in cache.
	private := !ctx.keepsInside(r)
	if a, ok := r.After.(*Activation); ok && private && ctx != nil && ctx.InPlace && a.overwrites() {
		hi := a.ceiling()
		body := s.body.Out.Data
		kernel.ParallelRange(len(sum.Data), func(lo, end int) {
			kernel.Add(sum.Data[lo:end], body[lo:end], short.Data[lo:end])
			kernel.Clamp(sum.Data[lo:end], sum.Data[lo:end], 0, hi)
		})
		s.after = &Step{Layer: r.After, In: sum, Out: sum, arena: ctx.arena()}
		return sum, s, nil
	}
	addInto(sum.Data, s.body.Out.Data, short.Data)
	if r.After == nil {
		return sum, s, nil
	}
	y, saved, err := forwardOver(r.After, private, sum, ctx)
	if err != nil {
		return nil, nil, err
	}
	s.after = &Step{Layer: r.After, In: sum, Out: y, Saved: saved, arena: ctx.arena()}
	return y, s, nil
}

// shortcut is the shortcut's step on x: the identity's is x itself, with
// no layer.
func (r *Residual) shortcut(x *Tensor, ctx *Context) (Step, error) {
	if r.Shortcut == nil {
		return Step{In: x, Out: x}, nil
	}
	return stepOf(r.Shortcut, x, ctx)
}

// fusedRectifier is the rectifier after the sum when Forward may run the
// body's last layers itself, the sum and the rectifier inside their pass
// (forwardTail): in a training pass that writes rectifiers over their
// input (Context.InPlace) or an evaluation pass with Fuse, where nothing
// inside the block is kept. It is nil otherwise.
func (r *Residual) fusedRectifier(ctx *Context) *Activation {
	if ctx == nil || ctx.keepsInside(r) || !(ctx.Train && ctx.InPlace || !ctx.Train && ctx.Fuse) {
		return nil
	}
	if a, ok := r.After.(*Activation); ok && a.overwrites() {
		return a
	}
	return nil
}

// forwardTail runs the body's layers but its last tail ones, then the
// shortcut, then the tail with the shortcut added and the sum rectified
// by a in the tail's own pass: one pass over the block's output fewer,
// and no tensor for the body's output. The tail is a training batch norm
// (tail 1: its backward reads only its input) or, in a fused evaluation,
// a convolution and batch norm on the shifted path (tail 2: the sum in
// the product's copy-out, e the pair's fused epilogue); other
// convolutions run the usual way. The tail's steps hold the sum as their
// output.
func (r *Residual) forwardTail(x *Tensor, ctx *Context, a *Activation, e *epilogue) (*Tensor, any, error) {
	body := r.Body.Layers
	tail := 1
	if e != nil {
		tail = 2
	}
	head := body[:len(body)-tail]
	tr, err := runChain(head, x, ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	in := tr.Output()
	var out []int // the convolution's output shape (tail 2)
	if tail == 2 {
		c := body[len(body)-2].(*Conv2d)
		g, err := c.geometry(in)
		out = []int{g.n, c.Out, g.oh, g.ow}
		if err != nil || !c.shifted(g) {
			// The usual way: the rest of the body, then the sum.
			rest, err := runChain(body[len(head):], in, ctx, nil)
			if err != nil {
				return nil, nil, err
			}
			tr.Steps = append(tr.Steps, rest.Steps...)
			return r.sumAfter(x, Step{Layer: r.Body, In: x, Out: tr.Output(), Saved: tr, arena: ctx.arena()}, ctx)
		}
	}
	var s residualSaved
	if s.short, err = r.shortcut(x, ctx); err != nil {
		return nil, nil, err
	}
	short := s.short.Out
	var sum *Tensor
	if tail == 1 {
		bn := body[len(body)-1].(*BatchNorm2d)
		var saved any
		if sum, saved, err = forward(summed{bn, a, short}, in, ctx); err != nil {
			return nil, nil, err
		}
		tr.Steps = append(tr.Steps, Step{Layer: bn, In: in, Out: sum, Saved: saved, arena: ctx.arena()})
	} else {
		if !SameShape(out, short.Shape) {
			return nil, nil, fmt.Errorf("%s (Residual): body gives %s, shortcut %s", r.name, ShapeString(out), ShapeString(short.Shape))
		}
		e.residual, e.sumHi = short, a.ceiling()
		steps, err := runFused(body[len(body)-2:], 2, e, in, ctx)
		if err != nil {
			return nil, nil, err
		}
		sum = steps[1].Out
		tr.Steps = append(tr.Steps, steps...)
	}
	s.body = Step{Layer: r.Body, In: x, Out: sum, Saved: tr, arena: ctx.arena()}
	s.after = &Step{Layer: r.After, In: sum, Out: sum, arena: ctx.arena()}
	return sum, s, nil
}

// Backward sends the signal through After, then into both paths, and adds
// the two input signals: dx = dBody + dShortcut (dShortcut = dsum for the identity).
func (r *Residual) Backward(dy *Tensor, st *Step, rule Rule, g Grads) (*Tensor, error) {
	s := st.Saved.(residualSaved)
	var err error
	if s.after != nil {
		if dy, err = backward(r.After, dy, s.after, rule, g); err != nil {
			return nil, err
		}
	}
	dx, err := r.Body.Backward(dy, &s.body, rule, g)
	if err != nil {
		return nil, err
	}
	dshort := dy
	if r.Shortcut != nil {
		if dshort, err = r.Shortcut.Backward(dy, &s.short, rule, g); err != nil {
			return nil, err
		}
	}
	out := st.arena.Uninit(dx.Shape...)
	addInto(out.Data, dx.Data, dshort.Data)
	return out, nil
}

// addInto sets dst = a + b elementwise, in parallel pieces when large.
func addInto(dst, a, b []float32) {
	kernel.ParallelRange(len(dst), func(lo, hi int) {
		kernel.Add(dst[lo:hi], a[lo:hi], b[lo:hi])
	})
}

// stepOf runs one layer and records its step.
func stepOf(l Layer, x *Tensor, ctx *Context) (Step, error) {
	y, saved, err := forward(l, x, ctx)
	return Step{Layer: l, In: x, Out: y, Saved: saved, arena: ctx.arena()}, err
}

// Concat runs branches on the same input and concatenates their outputs
// along the channels, as an Inception module (torch.cat(outputs, 1)).
type Concat struct {
	base
	Branches []*Chain
}

// NewConcat makes a concatenation of branches.
func NewConcat(name string, branches ...*Chain) *Concat { return &Concat{base{name}, branches} }

// Type is "Concat".
func (c *Concat) Type() string { return "Concat" }

func (c *Concat) parts() []Layer {
	ls := make([]Layer, len(c.Branches))
	for i, b := range c.Branches {
		ls[i] = b
	}
	return ls
}

// Children are the branches.
func (c *Concat) Children() []Layer { return c.parts() }

// Params lists the branches' parameters.
func (c *Concat) Params() []*Param { return chainParams(c.parts()) }

// Buffers lists the branches' buffers.
func (c *Concat) Buffers() []*Param { return chainBuffers(c.parts()) }

// OutputShape sums the branches' channels; their H and W must agree.
func (c *Concat) OutputShape(in []int) ([]int, error) {
	var out []int
	for _, b := range c.Branches {
		s, err := b.OutputShape(in)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = append([]int(nil), s...)
			continue
		}
		if len(s) != len(out) || !SameShape(s[1:], out[1:]) {
			return nil, fmt.Errorf("%s (Concat): branch %s gives %s, others %s", c.name, b.name, ShapeString(s), ShapeString(out))
		}
		out[0] += s[0]
	}
	if out == nil {
		return nil, fmt.Errorf("%s (Concat): no branches", c.name)
	}
	return out, nil
}

// Forward runs every branch and stacks the outputs' channels per sample.
func (c *Concat) Forward(x *Tensor, ctx *Context) (*Tensor, any, error) {
	steps := make([]Step, len(c.Branches))
	errs := make([]error, len(c.Branches))
	run := func(i int) { steps[i], errs[i] = stepOf(c.Branches[i], x, ctx) }
	if ctx == nil || ctx.Rand == nil {
		// No random draws (dropout's masks need them in order): the
		// branches side by side, each on a core; the same numbers as one
		// after another, since no branch reads another's.
		kernel.ParallelTasks(len(c.Branches), run)
	} else {
		for i := range c.Branches {
			run(i)
		}
	}
	channels := 0
	for i, b := range c.Branches {
		if err := errs[i]; err != nil {
			return nil, nil, err
		}
		if i > 0 && !SameShape(steps[i].Out.Shape[2:], steps[0].Out.Shape[2:]) {
			return nil, nil, fmt.Errorf("%s (Concat): branch %s gives %s, branch %s %s", c.name, b.name, ShapeString(steps[i].Out.Shape), c.Branches[0].name, ShapeString(steps[0].Out.Shape))
		}
		channels += steps[i].Out.Shape[1]
	}
	first := steps[0].Out.Shape
	y := ctx.arena().Uninit(append([]int{first[0], channels}, first[2:]...)...) // every value is copied in
	hw := Numel(first[2:])
	for n := 0; n < first[0]; n++ {
		at := n * channels * hw
		for _, s := range steps {
			per := s.Out.Shape[1] * hw
			at += copy(y.Data[at:], s.Out.Data[n*per:(n+1)*per])
		}
	}
	return y, steps, nil
}

// Backward splits dy by channels, walks each branch and adds the signals.
func (c *Concat) Backward(dy *Tensor, st *Step, rule Rule, g Grads) (*Tensor, error) {
	steps := st.Saved.([]Step)
	channels, hw := dy.Shape[1], Numel(dy.Shape[2:])
	dx := st.arena.Uninit(st.In.Shape...) // the first branch's signal is copied in
	offset := 0
	for i, b := range c.Branches {
		s := &steps[i]
		part := st.arena.Uninit(s.Out.Shape...)
		per := s.Out.Shape[1] * hw
		for n := 0; n < dy.Shape[0]; n++ {
			copy(part.Data[n*per:(n+1)*per], dy.Data[n*channels*hw+offset:])
		}
		offset += per
		d, err := b.Backward(part, s, rule, g)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			copy(dx.Data, d.Data)
		} else {
			addInto(dx.Data, dx.Data, d.Data)
		}
		// Both are spent: their buffers serve the next branch, in cache.
		if !sharesData(d, part) {
			st.arena.Release(d)
		}
		st.arena.Release(part)
	}
	return dx, nil
}

// composeWindows folds a chain of windows (k_i, s_i, p_i) into the single
// window with the same receptive field: with J_i the product of the strides
// before layer i, K = 1 + sum (k_i-1) J_i, S = prod s_i, P = sum p_i J_i.
// Layers without a window count as (1, 1, 0).
func composeWindows(layers []Layer) (k, s, p int) {
	k, s = 1, 1
	for _, l := range layers {
		w, ok := l.(Windowed)
		if !ok {
			continue
		}
		lk, ls, lp := w.Window()
		k += (lk - 1) * s
		p += lp * s
		s *= ls
	}
	return k, s, p
}

// widest returns the window of the path that sees the most.
func widest(paths ...[]Layer) (k, s, p int) {
	for _, path := range paths {
		if pk, ps, pp := composeWindows(path); pk > k {
			k, s, p = pk, ps, pp
		}
	}
	return k, s, p
}

// Window is the chain's composed window.
func (c *Chain) Window() (int, int, int) { return composeWindows(c.Layers) }

// Window is the wider of the body's and the shortcut's composed windows.
func (r *Residual) Window() (int, int, int) {
	paths := [][]Layer{r.Body.Layers}
	if r.Shortcut != nil {
		paths = append(paths, r.Shortcut.Layers)
	}
	return widest(paths...)
}

// Window is the widest branch's composed window.
func (c *Concat) Window() (int, int, int) {
	paths := make([][]Layer, len(c.Branches))
	for i, b := range c.Branches {
		paths[i] = b.Layers
	}
	return widest(paths...)
}

// chainMACs sums the MACs of layers for a per-sample input shape.
func chainMACs(layers []Layer, in []int) int64 {
	var total int64
	shape := in
	for _, l := range layers {
		if c, ok := l.(Coster); ok {
			total += c.MACs(shape)
		}
		next, err := l.OutputShape(shape)
		if err != nil {
			return total
		}
		shape = next
	}
	return total
}

// MACs sums the sub-layers'.
func (c *Chain) MACs(in []int) int64 { return chainMACs(c.Layers, in) }

// MACs sums the body's, the shortcut's and the after layer's.
func (r *Residual) MACs(in []int) int64 {
	total := r.Body.MACs(in)
	if r.Shortcut != nil {
		total += r.Shortcut.MACs(in)
	}
	if c, ok := r.After.(Coster); ok {
		if out, err := r.Body.OutputShape(in); err == nil {
			total += c.MACs(out)
		}
	}
	return total
}

// MACs sums the branches'.
func (c *Concat) MACs(in []int) int64 {
	var total int64
	for _, b := range c.Branches {
		total += b.MACs(in)
	}
	return total
}
