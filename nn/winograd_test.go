package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The Winograd path must be the convolution's definition: maps from 2x2
// (one tile) up, one sample and several, blocks of one tile row and of
// many (the budget), channel counts that do not fill a vector, with the
// bias and with a fused epilogue.
func TestWinogradIsTheConvolution(t *testing.T) {
	defer func(b, m, wb, wt int) {
		winogradBudget, winogradMinTiles, winogradWideBudget, winogradWideTiles = b, m, wb, wt
	}(winogradBudget, winogradMinTiles, winogradWideBudget, winogradWideTiles)
	for _, s := range []struct{ cin, cout, hw, n, budget int }{
		{16, 16, 2, 3, 1 << 18}, {16, 24, 8, 3, 1 << 18}, {24, 16, 14, 1, 1 << 18}, {16, 16, 28, 2, 1}, {32, 32, 28, 3, 1 << 16},
		{32, 16, 16, 5, 1 << 12}, {17, 19, 30, 1, 1 << 18}, {16, 32, 56, 1, 1 << 14}, {16, 16, 6, 2, 1 << 18}, {40, 36, 14, 4, 1 << 18},
		{17, 19, 6, 1, 1 << 10}, {32, 32, 7, 5, 1 << 18}, {16, 20, 15, 2, 1 << 12}, {19, 17, 1, 3, 1 << 18},
		{16, 16, 33, 1, 1 << 12}, {20, 16, 9, 1, 1 << 18},
	} {
		winogradBudget, winogradMinTiles, winogradWideBudget, winogradWideTiles = s.budget, 1, s.budget, 1
		cfg := ConvConfig{In: s.cin, Out: s.cout, Kernel: 3, Stride: 1, Padding: 1, Bias: true}
		c, x := randomConv(cfg, rand.New(rand.NewPCG(3, 4)), s.n, s.hw)
		g, _ := c.geometry(x)
		y := &Tensor{Shape: []int{s.n, s.cout, s.hw, s.hw}, Data: make([]float32, s.n*s.cout*s.hw*s.hw)}
		c.forwardWinograd(g, x, y, nil)
		closeSlices(t, cfg, fmt.Sprintf("y at %dx%d, batch %d", s.hw, s.hw, s.n), y.Data, convByDefinition(c, g, x))
	}
}

// A fused evaluation's epilogue on the Winograd path: each plane scaled,
// shifted and clamped, then the residual added and the sum clamped, on
// maps written in place (8 tiles a row and more) and through the scratch
// plane (fewer).
func TestWinogradEpilogue(t *testing.T) {
	for _, hw := range []int{7, 8, 16, 20, 23} {
		rng := rand.New(rand.NewPCG(13, 14))
		cfg := ConvConfig{In: 32, Out: 32, Kernel: 3, Stride: 1, Padding: 1}
		c, x := randomConv(cfg, rng, 3, hw)
		g, _ := c.geometry(x)
		res := randTensor(rng, 3, 32, hw, hw)
		e := &epilogue{scale: randTensor(rng, 32).Data, shift: randTensor(rng, 32).Data, clamp: true, lo: -0.5, hi: 0.7,
			residual: res, sumHi: 1.1}
		y := &Tensor{Shape: []int{3, 32, hw, hw}, Data: make([]float32, 3*32*hw*hw)}
		c.forwardWinograd(g, x, y, e)
		want := convByDefinition(c, g, x)
		for i := range want {
			k := (i / (hw * hw)) % 32
			v := min(max(want[i]*e.scale[k]+e.shift[k], e.lo), e.hi)
			want[i] = min(max(v+res.Data[i], 0), e.sumHi)
		}
		closeSlices(t, cfg, fmt.Sprintf("fused y at %dx%d", hw, hw), y.Data, want)
	}
}

// BenchmarkWinograd compares the Winograd path with the one a
// convolution takes without it (the shifted path, or unrolling) on
// ResNet-20's layers at batch 64 and VGG-16's and ResNet-18's at batch 1,
// those it declines (Conv2d.winograd) included.
func BenchmarkWinograd(b *testing.B) {
	forceWinograd = true
	defer func() { forceWinograd = false }()
	for _, s := range []struct{ ch, hw, n int }{
		{32, 14, 64}, {64, 7, 64}, {128, 7, 64}, {16, 28, 64}, {16, 32, 64}, {32, 16, 64}, {64, 8, 64}, {64, 224, 1}, {128, 112, 1}, {256, 56, 1}, {512, 28, 1}, {64, 56, 1}, {128, 28, 1}, {256, 28, 1}, {512, 14, 1},
	} {
		c, x := randomConv(ConvConfig{In: s.ch, Out: s.ch, Kernel: 3, Stride: 1, Padding: 1}, rand.New(rand.NewPCG(1, 2)), s.n, s.hw)
		benchWithAndWithout(b, fmt.Sprintf("%dx%d-b%d", s.ch, s.hw, s.n), c, x, &Context{Fuse: true}, &noWinograd, "winograd", "before")
	}
}
