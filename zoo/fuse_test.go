package zoo

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/convscope/convscope/nn"
)

// A fused evaluation pass (nn.Context Fuse and InPlace: each convolution
// with the batch norm and rectifier after it as one pass) gives the
// logits of the plain pass, for every small form, with batch norms whose
// statistics are not the identity; a network with a convolution before a
// batch norm or a rectifier does fuse: its fused trace refuses a backward
// pass.
func TestFusedEvaluationMatchesThePlainPass(t *testing.T) {
	for _, c := range []struct {
		name  string
		fuses bool // a convolution followed by a batch norm or a rectifier
	}{{"lenet5", false}, {"alexnet_small", true}, {"zfnet_small", true}, {"vgg_small", true}, {"googlenet_small", true},
		{"resnet20", true}, {"mobilenet_v1_small_050", true}, {"mobilenet_v2_small", true}, {"convnext_mini", false}} {
		m, err := Build(c.name, []int{1, 28, 28}, 10, 7)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(1, 2))
		for _, b := range m.Net.Buffers() {
			for i := range b.Value.Data {
				if len(b.Name) > 12 && b.Name[len(b.Name)-12:] == ".running_var" {
					b.Value.Data[i] = 0.5 + r.Float32()
				} else {
					b.Value.Data[i] = 0.2 * float32(r.NormFloat64())
				}
			}
		}
		for _, p := range m.Net.Params() {
			if len(p.Value.Shape) == 1 { // norms' gamma and beta, biases
				for i := range p.Value.Data {
					p.Value.Data[i] += 0.1 * float32(r.NormFloat64())
				}
			}
		}
		x := nn.New(3, 1, 28, 28)
		for i := range x.Data {
			x.Data[i] = float32(r.NormFloat64())
		}
		plain, err := m.Net.Forward(x, &nn.Context{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		fused, err := m.Net.Forward(x, &nn.Context{Fuse: true, InPlace: true, Arena: nn.NewArena()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		want, got := plain.Output().Data, fused.Output().Data
		scale := 0.0
		for _, v := range want {
			scale = max(scale, math.Abs(float64(v)))
		}
		for i := range want {
			if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*scale+1e-6 {
				t.Fatalf("%s: logit %d fused %g, plain %g", c.name, i, got[i], want[i])
			}
		}
		_, err = m.Net.Backward(fused, len(fused.Steps)-1, nn.New(fused.Output().Shape...), nn.Gradient, nil)
		if refused := err != nil; refused != c.fuses {
			t.Errorf("%s: backward of the fused pass: %v (layers to fuse: %v)", c.name, err, c.fuses)
		}
	}
}
