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
	m, n := j.opt.Steps, j.x.Len()
	sum := make([]float64, n)
	err := j.batches(ctx, m, func(from, to int) error {
		xs := nn.New(append([]int{to - from}, j.x.Shape[1:]...)...)
		for b := range to - from {
			alpha := float32(from+b+1) / float32(m)
			for i, v := range j.x.Data {
				xs.Data[b*n+i] = alpha * v
			}
		}
		g, err := j.gradients(xs)
		if err != nil {
			return err
		}
		for i, v := range g.Data {
			sum[i%n] += float64(v)
		}
		return nil
	}, nil)
	if err != nil {
		return nil, err
	}
	out := nn.New(j.x.Shape...)
	for i, v := range j.x.Data {
		out.Data[i] = float32(float64(v) * sum[i] / float64(m))
	}
	return out, nil
}
