package nn

import "fmt"

// Finding and walking back from layers inside blocks (a ResNet block's
// conv2, an Inception branch's 3x3): the Trace keeps only top-level steps,
// and each block keeps its children's steps in its own Saved.

// nested is implemented by blocks.
type nested interface {
	Container
	// subSteps are the steps a pass recorded for the children, aligned with
	// Children(); nil where a child did not run (an evaluation pass's
	// auxiliary head).
	subSteps(st *Step) []*Step
	// backFromChild maps the signal at the input of child `child` (the seed
	// already walked through that child) to the signal at the block's input.
	backFromChild(st *Step, child int, d *Tensor, rule Rule, g Grads) (*Tensor, error)
}

// Locate finds the layer called name anywhere in the trace: its path (the
// top-level step index, then the child index in each block on the way
// down) and its step.
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
	b, ok := st.Layer.(nested)
	if !ok {
		return nil, nil, false
	}
	for j, sub := range b.subSteps(st) {
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
	b, ok := st.Layer.(nested)
	if !ok {
		return nil, fmt.Errorf("%s has no children", st.Layer.Name())
	}
	subs := b.subSteps(st)
	if path[0] < 0 || path[0] >= len(subs) || subs[path[0]] == nil {
		return nil, fmt.Errorf("%s has no recorded child %d", st.Layer.Name(), path[0])
	}
	d, err := backFromPath(subs[path[0]], path[1:], dy, rule, g)
	if err != nil {
		return nil, err
	}
	return b.backFromChild(st, path[0], d, rule, g)
}

func (c *Chain) subSteps(st *Step) []*Step {
	tr := st.Saved.(*Trace)
	out := make([]*Step, len(tr.Steps))
	for i := range tr.Steps {
		out[i] = &tr.Steps[i]
	}
	return out
}

func (c *Chain) backFromChild(st *Step, child int, d *Tensor, rule Rule, g Grads) (*Tensor, error) {
	if child == 0 {
		return d, nil
	}
	return backChain(st.Saved.(*Trace), child-1, d, rule, g)
}

// subSteps follow parts(): body, then the shortcut and the layer after the
// sum where they exist.
func (r *Residual) subSteps(st *Step) []*Step {
	s := st.Saved.(residualSaved)
	out := []*Step{&s.body}
	if r.Shortcut != nil {
		out = append(out, &s.short)
	}
	if r.After != nil {
		out = append(out, s.after)
	}
	return out
}

// backFromChild: inside the body or the shortcut, the signal at that
// path's input is the block's (the other path carries nothing of a seed
// placed inside this one); after the sum, it goes down both paths.
func (r *Residual) backFromChild(st *Step, child int, d *Tensor, rule Rule, g Grads) (*Tensor, error) {
	if r.After == nil || child != len(r.parts())-1 {
		return d, nil
	}
	s := st.Saved.(residualSaved)
	afterless := *st
	afterless.Saved = residualSaved{body: s.body, short: s.short}
	return r.Backward(d, &afterless, rule, g)
}

func (c *Concat) subSteps(st *Step) []*Step {
	steps := st.Saved.([]Step)
	out := make([]*Step, len(steps))
	for i := range steps {
		out[i] = &steps[i]
	}
	return out
}

// backFromChild: every branch reads the block's input.
func (c *Concat) backFromChild(_ *Step, _ int, d *Tensor, _ Rule, _ Grads) (*Tensor, error) {
	return d, nil
}

func (a *AuxHead) subSteps(st *Step) []*Step {
	s, _ := st.Saved.(*auxSaved)
	if s == nil {
		return []*Step{nil}
	}
	return []*Step{&s.head}
}

// backFromChild: the head reads the block's input.
func (a *AuxHead) backFromChild(_ *Step, _ int, d *Tensor, _ Rule, _ Grads) (*Tensor, error) {
	return d, nil
}
