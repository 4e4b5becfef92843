package deconv

import (
	"fmt"
	"slices"

	"github.com/convscope/convscope/nn"
)

// Caveats names, in a sentence each, the layers on the walk back whose
// treatment under the method is a choice rather than the method's paper
// (docs/DECISIONS.md, "Attribution at each layer type"): the deconvnet
// was defined on ReLU, max pooling and convolutions only; guided
// backpropagation on ReLU. Gradient-based methods (gradient, Grad-CAM,
// integrated gradients, SmoothGrad) and occlusion follow each layer's own
// derivative or forward pass, so they have none. tr is the input's pass
// and r its result.
func Caveats(tr *nn.Trace, r *Result) []string {
	if r.Method != "deconvnet" && r.Method != "guided" {
		return nil
	}
	// The steps the walk may cross: every step up to the target's
	// top-level one (all of a class's), with their parts.
	last := len(tr.Steps) - 1
	if r.Layer != "" && r.Class < 0 {
		if path, _, ok := tr.Locate(r.Layer); ok {
			last = path[0]
		}
	}
	var types []string
	var visit func(st *nn.Step)
	visit = func(st *nn.Step) {
		if st == nil {
			return
		}
		if !slices.Contains(types, st.Layer.Type()) {
			types = append(types, st.Layer.Type())
		}
		for _, p := range st.Parts() {
			visit(p)
		}
	}
	for i := 0; i <= last; i++ {
		visit(&tr.Steps[i])
	}
	var out []string
	for _, t := range types {
		if s := caveat(r.Method, t); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// caveat is the sentence for one layer type under a method, or "".
func caveat(method, typ string) string {
	switch typ {
	case "ReLU6", "LeakyReLU", "GELU", "SiLU", "Hardswish":
		if method == "deconvnet" {
			return fmt.Sprintf("%s counts as a rectifier: the signal passes where it is positive, whatever %s's shape (its cap or negative part is ignored)", typ, typ)
		}
		return fmt.Sprintf("%s passes the signal where it is positive, times %s's own slope (which is negative in places for GELU and SiLU)", typ, typ)
	case "Tanh", "Sigmoid", "Hardsigmoid", "LeCunTanh":
		if method == "deconvnet" {
			return fmt.Sprintf("%s is not a rectifier: the deconvnet passes the signal through it unchanged", typ)
		}
		return fmt.Sprintf("%s is not a rectifier: guided backpropagation keeps the positive signal times its slope", typ)
	case "Mul":
		return "a product of two signals (a gate times its maps) sends each factor the signal times the other factor, as the gradient does: the paper defines no product"
	case "LayerNorm", "LocalResponseNorm":
		return fmt.Sprintf("%s is walked back by its full derivative (it has no switch to reverse): there the picture is a gradient", typ)
	}
	return ""
}
