package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Under Fuse and InPlace, a layer named by Keep holds its own output (a
// top-9 scan reads it): the group around it stops there, and the rest of
// the pass still fuses. Every other layer's output may be the group's.
func TestFuseKeepsTheNamedLayer(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	net := &Sequential{Layers: []Layer{
		NewConv2d("conv1", 2, 4, 3, 1, 1, true), NewBatchNorm2d("bn1", 4), NewReLU("relu1"),
		NewConv2d("conv2", 4, 4, 3, 1, 1, false), NewBatchNorm2d("bn2", 4), NewReLU6("relu2"),
	}}
	Init(net.Layers, rng)
	for _, l := range []*BatchNorm2d{net.Layers[1].(*BatchNorm2d), net.Layers[4].(*BatchNorm2d)} {
		for i := range l.RunningMean.Value.Data {
			l.RunningMean.Value.Data[i], l.RunningVar.Value.Data[i] = float32(rng.NormFloat64()), 0.5+rng.Float32()
			l.Weight.Value.Data[i], l.Bias.Value.Data[i] = 1+0.3*float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
	}
	x := randTensor(rng, 2, 2, 6, 6)
	plain, err := net.Forward(x, &Context{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	near := func(a, b []float32) bool {
		for i := range a {
			if math.Abs(float64(a[i]-b[i])) > 1e-5*(1+math.Abs(float64(b[i]))) {
				return false
			}
		}
		return true
	}
	for _, keep := range []string{"conv1", "bn1", "relu1", "bn2"} {
		fused, err := net.Forward(x, &Context{Fuse: true, InPlace: true, Keep: keep, Arena: NewArena()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, st := range fused.Steps {
			if st.Layer.Name() == keep && !near(st.Out.Data, plain.Steps[i].Out.Data) {
				t.Errorf("Keep %s: its output is not the plain pass's", keep)
			}
		}
		if !near(fused.Output().Data, plain.Output().Data) {
			t.Errorf("Keep %s: the output is not the plain pass's", keep)
		}
		if _, ok := fused.Steps[5].Saved.(fusedStep); !ok && keep != "bn2" {
			t.Errorf("Keep %s: the second group did not fuse", keep)
		}
	}
}
