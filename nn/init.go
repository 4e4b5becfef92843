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
