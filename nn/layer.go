package nn

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Rule selects how a backward pass treats the rectifiers.
type Rule int

const (
	// Gradient is ordinary backpropagation: dx = dy * 1[x > 0] at a ReLU.
	Gradient Rule = iota
	// Deconvnet is Zeiler & Fergus' reconstruction: dx = max(dy, 0) at a ReLU,
	// whatever the forward activation was.
	Deconvnet
	// Guided is guided backpropagation (Springenberg et al. 2015):
	// dx = max(dy, 0) * 1[x > 0] at a ReLU.
	Guided
)

// String names the rule as the CLI and the web protocol spell it.
func (r Rule) String() string {
	switch r {
	case Gradient:
		return "gradient"
	case Deconvnet:
		return "deconvnet"
	case Guided:
		return "guided"
	}
	return fmt.Sprintf("Rule(%d)", int(r))
}

// ParseRule is the inverse of Rule.String.
func ParseRule(s string) (Rule, error) {
	for _, r := range []Rule{Gradient, Deconvnet, Guided} {
		if r.String() == s {
			return r, nil
		}
	}
	return 0, fmt.Errorf("unknown backward rule %q (want gradient, deconvnet or guided)", s)
}

// Param is one learnable tensor, named by its state_dict key ("c1.weight").
type Param struct {
	Name  string
	Value *Tensor
	// NoDecay marks parameters that weight decay must skip (biases, norms).
	NoDecay bool
}

// Grads accumulates parameter gradients during a backward pass. A nil Grads
// means the caller wants only the input signal (attribution, deconvnet), and
// layers skip the parameter work.
type Grads map[*Param]*Tensor

// For returns the gradient buffer of p, allocating a zero one on first use.
func (g Grads) For(p *Param) *Tensor {
	t, ok := g[p]
	if !ok {
		t = New(p.Value.Shape...)
		g[p] = t
	}
	return t
}

// Context is what one forward pass knows besides its input.
type Context struct {
	// Train selects training behaviour (dropout active).
	Train bool
	// Rand drives dropout masks; it may be nil in eval mode.
	Rand *rand.Rand
	// Arena, if not nil, provides the pass's tensors, forward and backward
	// (see Arena: its owner resets it when the pass is over).
	Arena *Arena
	// InPlace lets a rectifier (ReLU, ReLU6) write its output over its
	// input where nothing else reads that input: right after a
	// convolution, a batch norm or a linear layer of the same chain, or
	// after a residual sum. It is PyTorch's ReLU(inplace=True), one
	// activation less to keep per rectifier in a training step; the
	// trace then holds the rectified values as that layer's output too,
	// so a pass whose steps are shown (the explorer's) leaves it off.
	InPlace bool
	// Fuse lets an evaluation pass (not Train) run a convolution, the
	// batch norm after it and the rectifier after them as one pass over
	// the convolution's output (see fuse.go). The three steps of the trace
	// then share one output, the last layer's, and the pass has no
	// backward: for batch passes that read only the logits (evaluation).
	Fuse bool
	// Keep names a layer whose own output the pass must hold under Fuse
	// and InPlace (a top-9 scan's layer): no fused group ends after it
	// and no rectifier writes over it.
	Keep string
}

// keeps reports whether the pass must hold l's own output (Keep).
func (ctx *Context) keeps(l Layer) bool { return ctx != nil && ctx.Keep != "" && l.Name() == ctx.Keep }

// keepsInside reports whether Keep names l or a part of it ("layer1.0.add"
// of the block "layer1.0").
func (ctx *Context) keepsInside(l Layer) bool {
	return ctx.keeps(l) || ctx != nil && strings.HasPrefix(ctx.Keep, l.Name()+".")
}

// arena is ctx's arena, nil for a nil ctx.
func (ctx *Context) arena() *Arena {
	if ctx == nil {
		return nil
	}
	return ctx.Arena
}

// Step is one layer's record in a Trace: its input, its output and whatever
// its backward needs (Saved: pooling switches, dropout masks).
type Step struct {
	Layer Layer
	In    *Tensor
	Out   *Tensor
	Saved any
	// SkipInputGrad tells Backward that nothing needs this step's input
	// gradient (a trainer's first layer: the images are not learned). A
	// Conv2d then computes only its weights' gradients and returns a nil
	// gradient; other layers ignore it.
	SkipInputGrad bool
	// Watch, if not nil, sees the signal that reaches this step's output
	// during a backward pass, before the layer's own backward uses it (how
	// Grad-CAM reads the gradient at a layer anywhere in the network). The
	// signal's buffer may be reused afterwards: Watch copies what it keeps.
	Watch func(dy *Tensor)
	// arena is the forward pass's Context.Arena, for the backward's tensors.
	arena *Arena
}

// Layer is one named operation of a model. Implementations hold only
// weights and hyper-parameters; everything a pass produces goes in the Step.
type Layer interface {
	// Name is the layer's state_dict prefix, e.g. "features.0" or "c1".
	Name() string
	// Type is PyTorch's class name, e.g. "Conv2d".
	Type() string
	// OutputShape maps a per-sample input shape (no N) to the output's.
	OutputShape(in []int) ([]int, error)
	// Forward computes y from x (N first) and returns what Backward needs.
	Forward(x *Tensor, ctx *Context) (y *Tensor, saved any, err error)
	// Backward maps dy (shaped like st.Out) to dx (shaped like st.In) under
	// rule, adding parameter gradients to g when g is not nil.
	Backward(dy *Tensor, st *Step, rule Rule, g Grads) (dx *Tensor, err error)
	// Params lists the learnable tensors, nil for none.
	Params() []*Param
}

// Buffered is implemented by layers with state that is saved and loaded
// but not learned (BatchNorm's running statistics).
type Buffered interface {
	Buffers() []*Param
}

// Container is implemented by layers made of other layers (blocks).
type Container interface {
	Children() []Layer
}

// Walk calls fn for every layer of the tree under layers, parents first.
func Walk(layers []Layer, fn func(Layer)) {
	for _, l := range layers {
		fn(l)
		if c, ok := l.(Container); ok {
			Walk(c.Children(), fn)
		}
	}
}

// Windowed is implemented by layers that slide a window over H and W
// (convolution, pooling); receptive-field arithmetic reads it.
type Windowed interface {
	Window() (kernel, stride, padding int)
}

// InputWindowed is implemented by layers whose window depends on the input
// size (adaptive pooling).
type InputWindowed interface {
	WindowFor(in []int) (kernel, stride, padding int)
}

// Coster is implemented by layers that do multiply-accumulates.
type Coster interface {
	// MACs is the multiply-accumulate count for one sample of shape in.
	MACs(in []int) int64
}

// shapeError names the layer and both shapes, as every layer's input check does.
func shapeError(l Layer, want string, got []int) error {
	return fmt.Errorf("%s (%s): input shape %s, want %s", l.Name(), l.Type(), ShapeString(got), want)
}

// checkDy verifies an upstream gradient matches the step's output.
func checkDy(l Layer, dy *Tensor, st *Step) error {
	if !SameShape(dy.Shape, st.Out.Shape) {
		return fmt.Errorf("%s (%s): backward signal shape %s, want %s", l.Name(), l.Type(), ShapeString(dy.Shape), ShapeString(st.Out.Shape))
	}
	return nil
}

// base holds a layer's name.
type base struct{ name string }

func (b base) Name() string     { return b.name }
func (b base) Params() []*Param { return nil }
