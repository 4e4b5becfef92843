package nn

import (
	"math"
	"math/rand/v2"
)

// Init fills every Conv2d, ConvTranspose2d and Linear in the tree of layers as PyTorch's reset_parameters
// does: weight ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform_ with
// a=sqrt(5)) and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), with fan_in = C*k*k
// for a convolution (C per group) and in for a linear layer. r makes it reproducible.
func Init(layers []Layer, r *rand.Rand) {
	Walk(layers, func(l Layer) {
		var w, b *Param
		var fanIn int
		switch v := l.(type) {
		case *Conv2d:
			w, b, fanIn = v.Weight, v.Bias, v.In/v.Groups*v.Kernel*v.Kernel
		case *Linear:
			w, b, fanIn = v.Weight, v.Bias, v.InFeatures
		case *ConvTranspose2d: // PyTorch's fan_in of a (C,K,k,k) weight is K*k*k
			w, b, fanIn = v.Weight, v.Bias, v.Out*v.Kernel*v.Kernel
		default:
			return
		}
		bound := float32(1 / math.Sqrt(float64(fanIn)))
		uniform(w.Value.Data, bound, r)
		if b != nil {
			uniform(b.Value.Data, bound, r)
		}
	})
}

func uniform(d []float32, bound float32, r *rand.Rand) {
	for i := range d {
		d[i] = (2*r.Float32() - 1) * bound
	}
}

// InitTruncNormal fills every Conv2d and Linear weight in the tree of
// layers from a normal distribution of standard deviation std cut to
// [-2, 2] (torch.nn.init.trunc_normal_ with its default bounds) and zeroes
// their biases: the initialisation of torchvision's ConvNeXt (std 0.02).
func InitTruncNormal(layers []Layer, std float64, r *rand.Rand) {
	Walk(layers, func(l Layer) {
		var w, b *Param
		switch v := l.(type) {
		case *Conv2d:
			w, b = v.Weight, v.Bias
		case *Linear:
			w, b = v.Weight, v.Bias
		default:
			return
		}
		for i := range w.Value.Data {
			v := r.NormFloat64() * std
			for v < -2 || v > 2 {
				v = r.NormFloat64() * std
			}
			w.Value.Data[i] = float32(v)
		}
		if b != nil {
			clear(b.Value.Data)
		}
	})
}
