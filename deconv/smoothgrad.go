package deconv

import (
	"context"

	"github.com/convscope/convscope/nn"
)

// smoothGrad is Smilkov et al.'s SmoothGrad (2017): the mean gradient of
// the goal's value over Samples copies of the input with Gaussian noise of
// standard deviation Noise × (max - min of the input), drawn by Normals
// from Seed.
type smoothGrad struct{}

func init() { register(smoothGrad{}) }

func (smoothGrad) Name() string { return "smoothgrad" }
func (smoothGrad) About() string {
	return "Smilkov et al.'s SmoothGrad: the gradient averaged over noisy copies of the input, which calms its speckle"
}
func (smoothGrad) Heat() bool { return false }
func (smoothGrad) Long() bool { return true }

func (smoothGrad) explain(ctx context.Context, j *job) (*nn.Tensor, error) {
	n := j.x.Len()
	lo, hi := j.x.Data[0], j.x.Data[0]
	for _, v := range j.x.Data {
		lo, hi = min(lo, v), max(hi, v)
	}
	sigma := j.opt.Noise * float64(hi-lo)
	sum, err := j.gradientSum(ctx, j.opt.Samples, func(k int, dst []float32) {
		noise := Normals(j.opt.Seed, uint64(k)*uint64(n), n)
		for i, v := range j.x.Data {
			dst[i] = float32(float64(v) + sigma*noise[i])
		}
	})
	if err != nil {
		return nil, err
	}
	out := nn.New(j.x.Shape...)
	for i := range out.Data {
		out.Data[i] = float32(sum[i] / float64(j.opt.Samples))
	}
	return out, nil
}
