package nn

import (
	"fmt"
	"sort"
	"strings"
)

// Trace is the record of one forward pass: the input and one Step per layer,
// in order. It is the only per-pass state; the model is not touched.
type Trace struct {
	Input *Tensor
	Steps []Step
}

// Output is the last step's output (the logits of a classifier).
func (t *Trace) Output() *Tensor { return t.Steps[len(t.Steps)-1].Out }

// Find returns the index of the step whose layer is called name, or -1.
func (t *Trace) Find(name string) int {
	for i := range t.Steps {
		if t.Steps[i].Layer.Name() == name {
			return i
		}
	}
	return -1
}

// Sequential runs layers one after another, like PyTorch's nn.Sequential.
type Sequential struct {
	Layers []Layer
}

// StepFunc is called after each layer of a forward pass with the step's
// index and record, so that a caller can stream results as they appear.
// Returning an error stops the pass.
type StepFunc func(i int, st *Step) error

// Forward runs x (N,...) through every layer and returns the Trace. onStep,
// if not nil, sees each step as soon as it is computed.
func (s *Sequential) Forward(x *Tensor, ctx *Context, onStep StepFunc) (*Trace, error) {
	return runChain(s.Layers, x, ctx, onStep)
}

// Backward walks the trace from step `from` down to the input: dy is shaped
// like Steps[from].Out and the result like the trace's input. Parameter
// gradients are added to g when it is not nil.
func (s *Sequential) Backward(tr *Trace, from int, dy *Tensor, rule Rule, g Grads) (*Tensor, error) {
	return backChain(tr, from, dy, rule, g)
}

// Params lists every learnable tensor in layer order.
func (s *Sequential) Params() []*Param { return chainParams(s.Layers) }

// Buffers lists every non-learned state tensor (running statistics).
func (s *Sequential) Buffers() []*Param { return chainBuffers(s.Layers) }

// stateEntries is every tensor of the state_dict: parameters, then buffers.
func (s *Sequential) stateEntries() []*Param { return append(s.Params(), s.Buffers()...) }

// State returns the state_dict: name to tensor (shared, not copied), the
// parameters and buffers under PyTorch's keys.
func (s *Sequential) State() map[string]*Tensor {
	m := map[string]*Tensor{}
	for _, p := range s.stateEntries() {
		m[p.Name] = p.Value
	}
	return m
}

// Load copies a state_dict into the model's parameters and buffers. Every
// missing, unexpected or wrong-shaped key is listed in the error, and on
// error nothing is changed. BatchNorm's num_batches_tracked counters, which
// PyTorch saves and convscope does not use, are ignored.
func (s *Sequential) Load(state map[string]*Tensor) error {
	var problems []string
	seen := map[string]bool{}
	for _, p := range s.stateEntries() {
		seen[p.Name] = true
		t, ok := state[p.Name]
		switch {
		case !ok:
			problems = append(problems, "missing "+p.Name)
		case !SameShape(t.Shape, p.Value.Shape):
			problems = append(problems, fmt.Sprintf("%s has shape %s, want %s", p.Name, ShapeString(t.Shape), ShapeString(p.Value.Shape)))
		}
	}
	var extra []string
	for k := range state {
		if !seen[k] && !strings.HasSuffix(k, ".num_batches_tracked") {
			extra = append(extra, "unexpected "+k)
		}
	}
	sort.Strings(extra)
	problems = append(problems, extra...)
	if len(problems) > 0 {
		return fmt.Errorf("state_dict does not fit the model: %s", strings.Join(problems, "; "))
	}
	for _, p := range s.stateEntries() {
		copy(p.Value.Data, state[p.Name].Data)
	}
	return nil
}
