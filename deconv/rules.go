package deconv

import (
	"context"

	"github.com/convscope/convscope/nn"
)

// ruleMethod walks one seed back to the input through nn's backward under
// a rule; the three rules differ only at the rectifiers (nn.Rule):
//
//   - deconvnet (Zeiler & Fergus 2014): the unit keeps its activation,
//     every other is zero; max pooling puts the signal back where the
//     forward pass's maximum was (the switches), a rectifier passes
//     max(signal, 0), a convolution is transposed with its own filters.
//   - gradient (Simonyan et al. 2014): the gradient of the goal's value.
//   - guided (Springenberg et al. 2015): a rectifier passes the signal only
//     where it and the forward input are both positive.
//
// A unit is seeded with its activation under the deconvnet (the paper's
// reconstruction) and with 1 under the other two (a gradient); a class's
// logit is seeded with 1 under all three.
type ruleMethod struct {
	rule  nn.Rule
	about string
}

func init() {
	register(ruleMethod{nn.Deconvnet, "Zeiler & Fergus' deconvnet: the unit's activation walked back through unpooling switches, rectification and the transposed filters"})
	register(ruleMethod{nn.Gradient, "Simonyan et al.'s saliency: the gradient of the unit or class with respect to each input pixel"})
	register(ruleMethod{nn.Guided, "Springenberg et al.'s guided backpropagation: the gradient, passed only where the signal and the forward input are both positive"})
}

func (r ruleMethod) Name() string  { return r.rule.String() }
func (r ruleMethod) About() string { return r.about }
func (r ruleMethod) Heat() bool    { return false }
func (ruleMethod) Long() bool      { return false }

func (r ruleMethod) explain(_ context.Context, j *job) (*nn.Tensor, error) {
	path, i, err := j.scalar(j.tr, 0)
	if err != nil {
		return nil, err
	}
	st := stepAt(j.tr, path)
	seed := nn.New(st.Out.Shape...)
	seed.Data[i] = 1
	if r.rule == nn.Deconvnet && j.target != nil {
		seed.Data[i] = st.Out.Data[i]
	}
	return j.model.Net.BackwardFromPath(j.tr, path, seed, r.rule, nil)
}
