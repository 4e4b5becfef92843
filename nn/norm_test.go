package nn

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// A batch norm's backward with the rectifier after it done inside it
// (maskedNorm) gives the bits of the two steps' backwards, in training and
// evaluation, with and without parameter gradients, over a rectifier that
// wrote over the norm's output (InPlace) or kept its own; a Watch on the
// rectifier's step still sees the signal at its output, and a Watch on the
// norm's step (which must see the signal between the two) keeps them
// apart.
func TestRectifierBackwardInsideTheNorm(t *testing.T) {
	for _, hw := range [][2]int{{6, 5}, {9, 8}} { // planes masked in one pass first, and one by one
		t.Run(fmt.Sprintf("%dx%d", hw[0], hw[1]), func(t *testing.T) { testRectifierBackwardInsideTheNorm(t, hw[0], hw[1]) })
	}
}

func testRectifierBackwardInsideTheNorm(t *testing.T, h, w int) {
	rng := rand.New(rand.NewPCG(5, 6))
	net := &Sequential{Layers: []Layer{
		NewConv2d("c1", 2, 3, 3, 1, 1, false), NewBatchNorm2d("bn1", 3), NewReLU("relu1"),
		NewConv2d("c2", 3, 4, 3, 1, 1, false), NewBatchNorm2d("bn2", 4), NewReLU6("relu2"),
		NewBatchNorm2d("bn3", 4), NewTanh("tanh"),
		NewFlatten("flat"), NewLinear("fc", 4*h*w, 3, true),
	}}
	Init(net.Layers, rng)
	for _, l := range net.Layers { // running statistics and affine parameters away from 1 and 0
		if b, ok := l.(*BatchNorm2d); ok {
			for i := range b.Features {
				b.RunningMean.Value.Data[i] = float32(rng.NormFloat64())
				b.RunningVar.Value.Data[i] = 0.5 + rng.Float32()
				b.Weight.Value.Data[i] = 0.5 + rng.Float32()
				b.Bias.Value.Data[i] = float32(rng.NormFloat64())
			}
		}
	}
	x := randTensor(rng, 3, 2, h, w)
	r := randTensor(rng, 3, 3)
	for _, train := range []bool{true, false} {
		for _, inPlace := range []bool{false, true} {
			for _, withGrads := range []bool{true, false} {
				run := func(apart bool) (*Tensor, Grads, []*Tensor) {
					tr, err := net.Forward(x.Clone(), &Context{Train: train, InPlace: inPlace}, nil)
					if err != nil {
						t.Fatal(err)
					}
					var seen []*Tensor
					for i := range tr.Steps {
						st := &tr.Steps[i]
						switch st.Layer.(type) {
						case *Activation:
							st.Watch = func(dy *Tensor) { seen = append(seen, dy.Clone()) }
						case *BatchNorm2d:
							if apart {
								st.Watch = func(*Tensor) {}
							}
						}
					}
					for _, i := range []int{2, 5} {
						if _, ok := maskedNormAt(tr.Steps, i, Gradient); ok == apart {
							t.Errorf("train %v, InPlace %v: steps %d-%d in one: %v", train, inPlace, i-1, i, ok)
						}
					}
					if _, ok := maskedNormAt(tr.Steps, 7, Gradient); ok {
						t.Error("a tanh's backward went inside the norm's")
					}
					var g Grads
					if withGrads {
						g = Grads{}
					}
					dx, err := net.Backward(tr, len(tr.Steps)-1, r, Gradient, g)
					if err != nil {
						t.Fatal(err)
					}
					return dx, g, seen
				}
				dxApart, gApart, seenApart := run(true)
				dx, g, seen := run(false)
				if !slices.Equal(dx.Data, dxApart.Data) {
					t.Errorf("train %v, InPlace %v, grads %v: the input's gradient differs", train, inPlace, withGrads)
				}
				for _, p := range net.Params() {
					if withGrads && !slices.Equal(g.For(p).Data, gApart.For(p).Data) {
						t.Errorf("train %v, InPlace %v: %s's gradient differs", train, inPlace, p.Name)
					}
				}
				if len(seen) != len(seenApart) {
					t.Fatalf("the rectifiers' watches saw %d signals, %d apart", len(seen), len(seenApart))
				}
				for k := range seen {
					if !slices.Equal(seen[k].Data, seenApart[k].Data) {
						t.Errorf("train %v, InPlace %v: watch %d saw another signal", train, inPlace, k)
					}
				}
			}
		}
	}
}

// Other rules keep the rectifier's own backward: guided backpropagation
// and the deconvnet do not mask by the rectifier's input.
func TestOnlyTheGradientMasksInsideTheNorm(t *testing.T) {
	steps := []Step{
		{Layer: NewBatchNorm2d("bn", 1), Saved: bnSaved{}},
		{Layer: NewReLU("relu")},
	}
	y := New(1, 1, 2, 2)
	steps[0].Out, steps[1].In, steps[1].Out = y, y, y
	if _, ok := maskedNormAt(steps, 1, Gradient); !ok {
		t.Fatal("the gradient's backwards stayed apart")
	}
	for _, rule := range []Rule{Guided, Deconvnet} {
		if _, ok := maskedNormAt(steps, 1, rule); ok {
			t.Errorf("rule %v went inside the norm", rule)
		}
	}
	steps[1].In = New(1, 1, 2, 2)
	if _, ok := maskedNormAt(steps, 1, Gradient); ok {
		t.Error("a rectifier of another tensor went inside the norm")
	}
}

// BenchmarkNormRectifierBackward times a training batch norm's backward
// with its rectifier's, apart (a Watch on the norm's step) and inside it,
// at the shapes of MobileNet v1-small's and ResNet-20's blocks at batch
// 128.
func BenchmarkNormRectifierBackward(b *testing.B) {
	for _, shape := range [][]int{{128, 16, 32, 32}, {128, 64, 16, 16}, {128, 128, 8, 8}, {128, 256, 4, 4}} {
		rng := rand.New(rand.NewPCG(1, 2))
		net := &Sequential{Layers: []Layer{NewBatchNorm2d("bn", shape[1]), NewReLU("relu")}}
		Init(net.Layers, rng)
		x, dy := randTensor(rng, shape...), randTensor(rng, shape...)
		for _, apart := range []bool{true, false} {
			name := ShapeString(shape) + map[bool]string{true: "/apart", false: "/inside"}[apart]
			b.Run(name, func(b *testing.B) {
				ctx := &Context{Train: true, InPlace: true, Arena: NewArena()}
				for b.Loop() {
					ctx.Arena.Reset()
					tr, err := net.Forward(x, ctx, nil)
					if err != nil {
						b.Fatal(err)
					}
					if apart {
						tr.Steps[0].Watch = func(*Tensor) {}
					}
					if _, err := net.Backward(tr, 1, dy, Gradient, Grads{}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkNormForward times a training batch norm's forward pass (the
// batch's moments, then the affine pass) at the shapes of ResNet-20's and
// MobileNet v1-small's blocks at batch 128.
func BenchmarkNormForward(b *testing.B) {
	for _, shape := range [][]int{{128, 16, 32, 32}, {128, 64, 16, 16}, {128, 64, 8, 8}, {128, 256, 4, 4}} {
		rng := rand.New(rand.NewPCG(1, 2))
		bn := NewBatchNorm2d("bn", shape[1])
		Init([]Layer{bn}, rng)
		x := randTensor(rng, shape...)
		b.Run(ShapeString(shape), func(b *testing.B) {
			ctx := &Context{Train: true, Arena: NewArena()}
			for b.Loop() {
				ctx.Arena.Reset()
				if _, _, err := bn.Forward(x, ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
