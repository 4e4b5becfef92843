package nn

import (
	"fmt"
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

// A convolution whose window covers its whole input (a 1x1 map: the dense
// path, one value per channel and sample) fuses its bias, batch norm and
// ReLU6 per value, as the plain pass computes them.
func TestFusedDenseConvolution(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	net := &Sequential{Layers: []Layer{NewConv2d("conv", 3, 16, 4, 1, 0, true), NewBatchNorm2d("bn", 16), NewReLU6("relu")}}
	Init(net.Layers, rng)
	bn := net.Layers[1].(*BatchNorm2d)
	for i := range bn.RunningMean.Value.Data {
		bn.RunningMean.Value.Data[i], bn.RunningVar.Value.Data[i] = float32(rng.NormFloat64()), 0.5+rng.Float32()
		bn.Weight.Value.Data[i], bn.Bias.Value.Data[i] = 20*float32(rng.NormFloat64()), 4*float32(rng.NormFloat64())
	}
	x := randTensor(rng, 5, 3, 4, 4)
	plain, err := net.Forward(x, &Context{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fused, err := net.Forward(x, &Context{Fuse: true, InPlace: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := fused.Steps[2].Saved.(fusedStep); !ok {
		t.Fatal("the dense convolution did not fuse")
	}
	var clamped [2]int
	for i, v := range fused.Output().Data {
		want := plain.Output().Data[i]
		if math.Abs(float64(v-want)) > 1e-5*(1+math.Abs(float64(want))) {
			t.Fatalf("value %d: fused %g, plain %g", i, v, want)
		}
		switch want {
		case 0:
			clamped[0]++
		case 6:
			clamped[1]++
		}
	}
	if clamped[0] == 0 || clamped[1] == 0 {
		t.Errorf("the values clamped at 0 and 6: %v; the test needs both", clamped)
	}
}

// BenchmarkFusedEpilogue times a fused convolution (batch norm's scale and
// shift, a rectifier, and with res=true a residual sum) on a Slicer's 16
// samples, on the shifted path (16 channels) and Winograd's (32 and 64):
// run with -cpu 1 for a slice's core, and against another build to
// compare epilogues.
func BenchmarkFusedEpilogue(b *testing.B) {
	for _, s := range []struct{ ch, hw, n int }{{16, 32, 16}, {16, 28, 16}, {32, 16, 16}, {64, 8, 16}} {
		rng := rand.New(rand.NewPCG(1, 2))
		c, x := randomConv(ConvConfig{In: s.ch, Out: s.ch, Kernel: 3, Stride: 1, Padding: 1}, rng, s.n, s.hw)
		scale, shift := randTensor(rng, s.ch).Data, randTensor(rng, s.ch).Data
		res := randTensor(rng, s.n, s.ch, s.hw, s.hw)
		for _, withRes := range []bool{false, true} {
			b.Run(fmt.Sprintf("%dx%d-b%d/res=%v", s.ch, s.hw, s.n, withRes), func(b *testing.B) {
				e := &epilogue{scale: scale, shift: shift, clamp: true, lo: 0, hi: 1e30}
				if withRes {
					e.residual, e.sumHi = res, 1e30
				}
				ctx := &Context{Fuse: true, Arena: NewArena()}
				for b.Loop() {
					ctx.Arena.Reset()
					if _, err := c.forward(x, ctx, e); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
