package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// maxPoolNaive is nn.MaxPool2d's loop: the window clipped to the image,
// the first element taken, then any larger one or any NaN.
func maxPoolNaive(x []float32, h, w, k, s, p, oh, ow int, y []float32, sw []int32) {
	for oy := 0; oy < oh; oy++ {
		y0, y1 := max(oy*s-p, 0), min(oy*s-p+k, h)
		for ox := 0; ox < ow; ox++ {
			x0, x1 := max(ox*s-p, 0), min(ox*s-p+k, w)
			best, at := float32(0), int32(-1)
			for iy := y0; iy < y1; iy++ {
				for ix := x0; ix < x1; ix++ {
					if v := x[iy*w+ix]; at < 0 || v > best || v != v {
						best, at = v, int32(iy*w+ix)
					}
				}
			}
			y[oy*ow+ox], sw[oy*ow+ox] = best, at
		}
	}
}

// The vector max pooling gives the loop's maxima and switches exactly, with
// ties, NaN, -Inf windows, padding, ceil-mode outputs and ragged widths.
func TestMaxPoolMatchesLoop(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	n := 0
	for _, hw := range [][2]int{{4, 4}, {7, 7}, {14, 14}, {15, 9}, {28, 28}, {5, 33}, {4, 70}} {
		for _, k := range []int{1, 2, 3, 5} {
			for _, s := range []int{1, 2, 3} {
				for p := 0; p <= k/2; p++ {
					for _, ceil := range []bool{false, true} {
						h, w := hw[0], hw[1]
						out := func(in int) int {
							num := in + 2*p - k
							if num < 0 {
								return 0
							}
							o := num/s + 1
							if ceil && num%s != 0 {
								o++
								if (o-1)*s >= in+p { // PyTorch: the last window starts inside
									o--
								}
							}
							return o
						}
						oh, ow := out(h), out(w)
						if oh <= 0 || ow <= 0 {
							continue
						}
						x := make([]float32, h*w)
						for i := range x {
							x[i] = float32(r.IntN(7)) // ties
						}
						x[r.IntN(len(x))] = float32(math.NaN())
						for i := 0; i < len(x)/5; i++ {
							x[r.IntN(len(x))] = float32(math.Inf(-1))
						}
						if h == 4 {
							for i := range x {
								x[i] = float32(math.Inf(-1))
							}
						}
						// y1 and s1 have canaries past their ends, for the
						// kernels' whole-vector stores.
						y1, y2 := make([]float32, oh*ow+8), make([]float32, oh*ow)
						s1, s2 := make([]int32, oh*ow+8), make([]int32, oh*ow)
						for i := oh * ow; i < len(y1); i++ {
							y1[i], s1[i] = -12345, -12345
						}
						y1, s1 = y1[:oh*ow], s1[:oh*ow]
						if !MaxPool(x, h, w, k, s, p, oh, ow, y1, s1) {
							if useAVX2 && s <= 2 {
								t.Fatalf("k%d s%d: no vector path", k, s)
							}
							continue
						}
						n++
						maxPoolNaive(x, h, w, k, s, p, oh, ow, y2, s2)
						for i := oh * ow; i < oh*ow+8; i++ {
							if y1[:i+1][i] != -12345 || s1[:i+1][i] != -12345 {
								t.Fatalf("%dx%d k%d s%d p%d ceil %v: wrote past the output, at +%d", h, w, k, s, p, ceil, i-oh*ow)
							}
						}
						for i := range y2 {
							same := y1[i] == y2[i] || math.IsNaN(float64(y1[i])) && math.IsNaN(float64(y2[i]))
							if !same || s1[i] != s2[i] {
								t.Fatalf("%dx%d k%d s%d p%d ceil %v: output %d = %g at %d, loop %g at %d",
									h, w, k, s, p, ceil, i, y1[i], s1[i], y2[i], s2[i])
							}
						}
					}
				}
			}
		}
	}
	if useAVX2 && n == 0 {
		t.Fatal("no geometry took the vector path")
	}
}
