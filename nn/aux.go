package nn

// AuxHead is an auxiliary classifier branching off the main path, as
// GoogLeNet's aux1 and aux2: the main signal passes through unchanged, and
// in training passes the Head also computes its own logits from the same
// input. The trainer reads those logits from the Trace (AuxOutputs), adds
// Weight times their loss, and hands their gradient back with
// SetAuxGradient before backward; evaluation skips the head entirely.
type AuxHead struct {
	elementwise
	Head   *Chain
	Weight float32
}

// NewAuxHead makes an auxiliary head whose loss counts weight times (0.3 in
// GoogLeNet).
func NewAuxHead(name string, head *Chain, weight float32) *AuxHead {
	return &AuxHead{elementwise{base{name}}, head, weight}
}

// Type is "AuxHead".
func (a *AuxHead) Type() string { return "AuxHead" }

// Children is the head.
func (a *AuxHead) Children() []Layer { return []Layer{a.Head} }

// Params are the head's.
func (a *AuxHead) Params() []*Param { return a.Head.Params() }

// Buffers are the head's.
func (a *AuxHead) Buffers() []*Param { return a.Head.Buffers() }

// auxSaved is one training pass's head record and the gradient of the
// auxiliary loss with respect to its logits, set by the trainer.
type auxSaved struct {
	head   Step
	dout   *Tensor
	weight float32
}

// Forward returns x itself; in training it also runs the head.
func (a *AuxHead) Forward(x *Tensor, ctx *Context) (*Tensor, any, error) {
	if ctx == nil || !ctx.Train {
		return x, nil, nil
	}
	st, err := stepOf(a.Head, x, ctx)
	if err != nil {
		return nil, nil, err
	}
	return x, &auxSaved{head: st, weight: a.Weight}, nil
}

// Backward passes dy through and, when the trainer set the head's
// gradient, adds the head's backward to it.
func (a *AuxHead) Backward(dy *Tensor, st *Step, rule Rule, g Grads) (*Tensor, error) {
	if err := checkDy(a, dy, st); err != nil {
		return nil, err
	}
	s, _ := st.Saved.(*auxSaved)
	if s == nil || s.dout == nil {
		return dy, nil
	}
	dh, err := a.Head.Backward(s.dout, &s.head, rule, g)
	if err != nil {
		return nil, err
	}
	dx := New(dy.Shape...)
	for i, v := range dy.Data {
		dx.Data[i] = v + dh.Data[i]
	}
	return dx, nil
}

// AuxOutput is one auxiliary head's result in a training trace.
type AuxOutput struct {
	// Logits are the head's outputs (N,K).
	Logits *Tensor
	// Weight is how much the head's loss counts.
	Weight float32
	saved  *auxSaved
}

// SetGradient gives the head the gradient of the total loss with respect
// to its logits (Weight times its own loss's gradient); Backward uses it.
func (o AuxOutput) SetGradient(d *Tensor) { o.saved.dout = d }

// AuxOutputs lists the auxiliary heads' outputs of a training trace, in
// layer order (empty for an evaluation trace).
func (t *Trace) AuxOutputs() []AuxOutput {
	var out []AuxOutput
	for i := range t.Steps {
		if s, ok := t.Steps[i].Saved.(*auxSaved); ok {
			out = append(out, AuxOutput{Logits: s.head.Out, Weight: s.weight, saved: s})
		}
	}
	return out
}
