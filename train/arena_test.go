package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/zoo"
)

// TestArenaStepsMatchFreshAllocations: training steps that recycle their
// tensors (with every recycled value poisoned to NaN) and rectify in place
// give bit-identical weights to steps that allocate fresh zeroed tensors
// and keep every output, for every family's small form, so no layer reads
// a value it did not write, or one a rectifier wrote over.
func TestArenaStepsMatchFreshAllocations(t *testing.T) {
	models := []string{"lenet5", "lenet5_1998", "alexnet_small", "zfnet_small", "vgg_small", "googlenet_small",
		"resnet20", "mobilenet_v1_small_050", "mobilenet_v2_small", "convnext_mini"}
	if testing.Short() {
		models = models[:3]
	}
	defer func(r, p, o bool) { reuseBuffers, poisonBuffers, rectifyInPlace = r, p, o }(reuseBuffers, poisonBuffers, rectifyInPlace)
	for _, name := range models {
		var weights [2][][]float32
		// Fresh zeroed tensors and every output kept, against recycled
		// poisoned tensors and rectifiers writing over their inputs.
		for k, reuse := range []bool{false, true} {
			reuseBuffers, poisonBuffers, rectifyInPlace = reuse, true, reuse
			m, err := zoo.Build(name, []int{1, 28, 28}, 10, 3)
			if err != nil {
				t.Fatal(err)
			}
			st, err := NewStepper(m, Config{BatchSize: 4, LR: 0.01, Momentum: 0.9, Seed: 5})
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(1, 2))
			for step := 0; step < 3; step++ {
				x := nn.New(4, 1, 28, 28)
				for i := range x.Data {
					x.Data[i] = float32(r.NormFloat64())
				}
				if _, err := st.Step(x, []int{1, 2, 3, step}); err != nil {
					t.Fatal(err)
				}
			}
			for _, p := range m.Net.Params() {
				weights[k] = append(weights[k], append([]float32(nil), p.Value.Data...))
			}
		}
		for i := range weights[0] {
			for j, v := range weights[0][i] {
				w := weights[1][i][j]
				if math.Float32bits(v) != math.Float32bits(w) {
					t.Fatalf("%s: parameter %d[%d] is %g with the arena, %g without", name, i, j, w, v)
				}
			}
		}
	}
}
