package nn

import "fmt"

// The layer tree as a visitor sees it. A block opens to its inside: a
// residual block to its main path, its shortcut and the addition (then the
// layer after the sum); an Inception-style concatenation to its branches'
// layers and the concatenation; an auxiliary head to its layers. The chains
// that only group layers inside a block (a residual body, a shortcut, a
// branch) are not shown themselves: a chain's output is its last layer's.
// Points of a block that have no layer of their own are shown as Marks: an
// identity shortcut, the residual addition, the concatenation. Every entry,
// mark or layer, is addressed by its dotted name, and every one of them has
// a Step in a Trace (Locate) from which a backward pass can start.

// Part is one entry of a block's inside.
type Part struct {
	Layer Layer
	// Branch groups parts that run side by side: "main" and "shortcut" in a
	// residual block, the branch's name in a concatenation; empty for the
	// parts where the paths have met (the addition, the concatenation, the
	// layer after the sum) and for the layers of a plain chain.
	Branch string
	// From, for the parts of a Graph, lists the parts whose outputs this
	// one reads by their index in Inside() (-1: the block's input); nil
	// for the other blocks, whose parts follow Branch.
	From []int
}

// Opener is implemented by layers that open to other layers (blocks).
type Opener interface {
	// Inside lists the block's parts in the order they run.
	Inside() []Part
}

// Mark is a named point of a block that is not a layer of its own: an
// identity shortcut (Type "Identity", its output is the block's input), a
// residual addition ("Add", the sum), a concatenation ("Cat") or, in a
// Graph, a product of two values ("Mul"). Its
// forward and backward pass the signal through unchanged.
type Mark struct {
	elementwise
	kind string
}

// NewMark makes a mark of type kind ("Identity", "Add", "Cat").
func NewMark(name, kind string) *Mark { return &Mark{elementwise{base{name}}, kind} }

// Type is the mark's kind.
func (m *Mark) Type() string { return m.kind }

// Forward returns x.
func (m *Mark) Forward(x *Tensor, _ *Context) (*Tensor, any, error) { return x, nil, nil }

// Backward returns dy.
func (m *Mark) Backward(dy *Tensor, st *Step, _ Rule, _ Grads) (*Tensor, error) {
	if err := checkDy(m, dy, st); err != nil {
		return nil, err
	}
	return dy, nil
}

// opened is implemented by blocks whose Step can be opened: the steps of
// their parts and the way back from any of them to the block's input.
type opened interface {
	Opener
	// partSteps are the steps a pass recorded for Inside()'s parts, aligned
	// with it; nil where a part did not run (an evaluation pass's
	// auxiliary head).
	partSteps(st *Step) []*Step
	// backFromPart maps the signal at the input of part i (the seed has
	// already walked through that part) to the signal at the block's input.
	backFromPart(st *Step, i int, d *Tensor, rule Rule, g Grads) (*Tensor, error)
}

// chainParts lists a chain's layers as parts of one branch.
func chainParts(c *Chain, branch string) []Part {
	out := make([]Part, len(c.Layers))
	for i, l := range c.Layers {
		out[i] = Part{Layer: l, Branch: branch}
	}
	return out
}

// chainSteps lists a chain step's sub-steps.
func chainSteps(st *Step) []*Step {
	tr := st.Saved.(*Trace)
	out := make([]*Step, len(tr.Steps))
	for i := range tr.Steps {
		out[i] = &tr.Steps[i]
	}
	return out
}

// backInChain maps a signal at the input of sub-step i of a chain's step to
// the chain's input.
func backInChain(st *Step, i int, d *Tensor, rule Rule, g Grads) (*Tensor, error) {
	if i == 0 {
		return d, nil
	}
	return backChain(st.Saved.(*Trace), i-1, d, rule, g)
}

// Locate finds the layer or mark called name anywhere in the trace: its
// path (the top-level step index, then the part index in each block on the
// way down) and its step.
func (t *Trace) Locate(name string) ([]int, *Step, bool) {
	for i := range t.Steps {
		if path, st, ok := locateIn(&t.Steps[i], name); ok {
			return append([]int{i}, path...), st, true
		}
	}
	return nil, nil, false
}

func locateIn(st *Step, name string) ([]int, *Step, bool) {
	if st.Layer.Name() == name {
		return nil, st, true
	}
	b, ok := st.Layer.(opened)
	if !ok {
		return nil, nil, false
	}
	for j, sub := range b.partSteps(st) {
		if sub == nil {
			continue
		}
		if path, found, ok := locateIn(sub, name); ok {
			return append([]int{j}, path...), found, true
		}
	}
	return nil, nil, false
}

// BackwardFromPath is Backward for a seed dy at the output of the layer at
// path (from Locate), however deep it sits: the seed walks back through that
// layer, out of every enclosing block, and down the top-level steps.
func (s *Sequential) BackwardFromPath(tr *Trace, path []int, dy *Tensor, rule Rule, g Grads) (*Tensor, error) {
	d, err := tr.BackToStepInput(path, dy, rule, g)
	if err != nil || path[0] == 0 {
		return d, err
	}
	return backChain(tr, path[0]-1, d, rule, g)
}

// BackToStepInput walks a seed dy at the output of the layer at path back
// to the input of the top-level step path[0] that holds it (for a
// top-level layer, through that layer alone).
func (t *Trace) BackToStepInput(path []int, dy *Tensor, rule Rule, g Grads) (*Tensor, error) {
	if len(path) == 0 || path[0] < 0 || path[0] >= len(t.Steps) {
		return nil, fmt.Errorf("backward from path %v of a %d-step trace", path, len(t.Steps))
	}
	return backFromPath(&t.Steps[path[0]], path[1:], dy, rule, g)
}

// backFromPath walks a seed at the output of the step at path under st
// back to st's input.
func backFromPath(st *Step, path []int, dy *Tensor, rule Rule, g Grads) (*Tensor, error) {
	if len(path) == 0 {
		return st.Layer.Backward(dy, st, rule, g)
	}
	b, ok := st.Layer.(opened)
	if !ok {
		return nil, fmt.Errorf("%s has no parts", st.Layer.Name())
	}
	subs := b.partSteps(st)
	if path[0] < 0 || path[0] >= len(subs) || subs[path[0]] == nil {
		return nil, fmt.Errorf("%s has no recorded part %d", st.Layer.Name(), path[0])
	}
	d, err := backFromPath(subs[path[0]], path[1:], dy, rule, g)
	if err != nil {
		return nil, err
	}
	return b.backFromPart(st, path[0], d, rule, g)
}

// Inside is the chain's layers.
func (c *Chain) Inside() []Part { return chainParts(c, "") }

func (c *Chain) partSteps(st *Step) []*Step { return chainSteps(st) }

func (c *Chain) backFromPart(st *Step, i int, d *Tensor, rule Rule, g Grads) (*Tensor, error) {
	return backInChain(st, i, d, rule, g)
}

// Inside is the main path's layers, the shortcut's (or an "Identity" mark
// named NAME.shortcut), the "Add" mark NAME.add, and the layer after the sum.
func (r *Residual) Inside() []Part {
	parts := chainParts(r.Body, "main")
	if r.Shortcut != nil {
		parts = append(parts, chainParts(r.Shortcut, "shortcut")...)
	} else {
		parts = append(parts, Part{Layer: NewMark(r.name+".shortcut", "Identity"), Branch: "shortcut"})
	}
	parts = append(parts, Part{Layer: NewMark(r.name+".add", "Add"), Branch: ""})
	if r.After != nil {
		parts = append(parts, Part{Layer: r.After, Branch: ""})
	}
	return parts
}

// partSteps follow Inside: the body's sub-steps, the shortcut's (or the
// identity's, whose output is the block's input), the sum, the after step.
func (r *Residual) partSteps(st *Step) []*Step {
	s := st.Saved.(residualSaved)
	out := chainSteps(&s.body)
	if r.Shortcut != nil {
		out = append(out, chainSteps(&s.short)...)
	} else {
		out = append(out, &Step{Layer: NewMark(r.name+".shortcut", "Identity"), In: st.In, Out: st.In, arena: st.arena})
	}
	sum := st.Out
	if s.after != nil {
		sum = s.after.In
	}
	out = append(out, &Step{Layer: NewMark(r.name+".add", "Add"), In: sum, Out: sum, arena: st.arena})
	if s.after != nil {
		out = append(out, s.after)
	}
	return out
}

// backFromPart: inside the main path or the shortcut, the signal walks back
// along that path to the block's input (the other path carries nothing of
// a seed placed inside this one); at the sum or after it, it goes down both
// paths.
func (r *Residual) backFromPart(st *Step, i int, d *Tensor, rule Rule, g Grads) (*Tensor, error) {
	s := st.Saved.(residualSaved)
	body := len(r.Body.Layers)
	short := 1
	if r.Shortcut != nil {
		short = len(r.Shortcut.Layers)
	}
	switch {
	case i < body:
		return backInChain(&s.body, i, d, rule, g)
	case i < body+short:
		if r.Shortcut == nil {
			return d, nil
		}
		return backInChain(&s.short, i-body, d, rule, g)
	}
	afterless := *st
	afterless.Saved = residualSaved{body: s.body, short: s.short}
	return r.Backward(d, &afterless, rule, g)
}

// Inside is every branch's layers, side by side, then the "Cat" mark
// NAME.cat (the module's output).
func (c *Concat) Inside() []Part {
	var parts []Part
	for _, b := range c.Branches {
		parts = append(parts, chainParts(b, b.name)...)
	}
	return append(parts, Part{Layer: NewMark(c.name+".cat", "Cat"), Branch: ""})
}

func (c *Concat) partSteps(st *Step) []*Step {
	var out []*Step
	steps := st.Saved.([]Step)
	for i := range steps {
		out = append(out, chainSteps(&steps[i])...)
	}
	return append(out, &Step{Layer: NewMark(c.name+".cat", "Cat"), In: st.Out, Out: st.Out, arena: st.arena})
}

// backFromPart: a branch's layer walks back along its branch (every branch
// reads the block's input); the concatenation goes down every branch.
func (c *Concat) backFromPart(st *Step, i int, d *Tensor, rule Rule, g Grads) (*Tensor, error) {
	steps := st.Saved.([]Step)
	for b := range c.Branches {
		n := len(c.Branches[b].Layers)
		if i < n {
			return backInChain(&steps[b], i, d, rule, g)
		}
		i -= n
	}
	return c.Backward(d, st, rule, g)
}

// Inside is the head's layers.
func (a *AuxHead) Inside() []Part { return chainParts(a.Head, "") }

func (a *AuxHead) partSteps(st *Step) []*Step {
	s, _ := st.Saved.(*auxSaved)
	if s == nil {
		return make([]*Step, len(a.Head.Layers))
	}
	return chainSteps(&s.head)
}

// backFromPart: the head reads the block's input.
func (a *AuxHead) backFromPart(st *Step, i int, d *Tensor, rule Rule, g Grads) (*Tensor, error) {
	return backInChain(&st.Saved.(*auxSaved).head, i, d, rule, g)
}

// Parts returns the steps of a block's parts, aligned with its Inside();
// nil for a layer that does not open. An entry is nil where a part did not
// run (an evaluation pass's auxiliary head).
func (st *Step) Parts() []*Step {
	if b, ok := st.Layer.(opened); ok {
		return b.partSteps(st)
	}
	return nil
}
