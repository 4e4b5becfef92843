package deconv

import (
	"context"

	"github.com/convscope/convscope/nn"
)

// integratedGradients is Sundararajan et al.'s integrated gradients (2017)
// from the zero baseline in normalised input space (the mean picture):
// x · (1/M) Σ_{k=1..M} ∇f(k/M · x), the right Riemann sum of the path
// integral, f the goal's value.
type integratedGradients struct{}

func init() { register(integratedGradients{}) }

func (integratedGradients) Name() string { return "ig" }
func (integratedGradients) About() string {
	return "Sundararajan et al.'s integrated gradients: the input times the mean gradient along the straight path from the mean picture"
}
func (integratedGradients) Heat() bool { return false }
func (integratedGradients) Long() bool { return true }

func (integratedGradients) explain(ctx context.Context, j *job) (*nn.Tensor, error) {
	m := j.opt.Steps
	sum, err := j.gradientSum(ctx, m, func(k int, dst []float32) {
		alpha := float32(k+1) / float32(m)
		for i, v := range j.x.Data {
			dst[i] = alpha * v
		}
	})
	if err != nil {
		return nil, err
	}
	out := nn.New(j.x.Shape...)
	for i, v := range j.x.Data {
		out.Data[i] = float32(float64(v) * sum[i] / float64(m))
	}
	return out, nil
}
