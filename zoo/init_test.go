package zoo

import (
	"math"
	"strings"
	"testing"

	"github.com/convscope/convscope/nn"
)

// ConvNeXt families start as torchvision's ConvNeXt does (weights from a
// normal of standard deviation 0.02, zero biases); the others keep
// PyTorch's per-layer defaults (uniform within 1/sqrt(fan_in)).
func TestConvNeXtStartsAsTorchvision(t *testing.T) {
	m, err := Build("convnext_mini", nil, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	var sum, sq float64
	var n int
	for _, p := range m.Net.Params() {
		switch {
		case len(p.Value.Shape) >= 2: // convolution and linear weights
			for _, v := range p.Value.Data {
				sum, sq, n = sum+float64(v), sq+float64(v)*float64(v), n+1
			}
		case strings.HasSuffix(p.Name, ".bias") && !isNorm(m, p):
			for _, v := range p.Value.Data {
				if v != 0 {
					t.Fatalf("%s is not zero: %g", p.Name, v)
				}
			}
		}
	}
	mean, std := sum/float64(n), math.Sqrt(sq/float64(n)-(sum/float64(n))*(sum/float64(n)))
	if math.Abs(mean) > 2e-4 || math.Abs(std-0.02) > 2e-4 {
		t.Errorf("convnext_mini's %d weights: mean %g, std %g, want 0 and 0.02", n, mean, std)
	}
	r, err := Build("resnet20", nil, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	w := r.Net.Layers[0].(*nn.Conv2d).Weight.Value.Data // fan_in 27: bound 0.192
	bound, big := float32(1/math.Sqrt(27)), 0
	for _, v := range w {
		if v < -bound || v > bound {
			t.Fatalf("resnet20's conv1 weight %g outside ±%g", v, bound)
		}
		if v > bound/2 || v < -bound/2 {
			big++
		}
	}
	if big < len(w)/4 {
		t.Errorf("resnet20's conv1: %d of %d weights beyond half the bound, not uniform", big, len(w))
	}
}

// isNorm reports whether p belongs to a LayerNorm (its bias starts at 0
// anyway, but is not the initialisation's to set).
func isNorm(m *Model, p *nn.Param) bool {
	norm := false
	nn.Walk(m.Net.Layers, func(l nn.Layer) {
		if ln, ok := l.(*nn.LayerNorm); ok {
			for _, q := range ln.Params() {
				norm = norm || q == p
			}
		}
	})
	return norm
}
