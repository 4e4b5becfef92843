package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// copyRows writes exactly the rows' floats, whatever the width's remainder
// of a vector, and leaves everything around them (the padding) alone, in
// the assembly and in the Go loop.
func TestCopyRowsWritesOnlyTheRows(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, w := range []int{1, 3, 4, 7, 8, 9, 14, 16, 17, 28, 31} {
		for _, rows := range []int{1, 2, 5} {
			ld := w + 2 + r.IntN(3)
			src := randSlice(r, rows*w)
			for _, goLoop := range []bool{false, true} {
				dst := make([]float32, 1+rows*ld+8)
				for i := range dst {
					dst[i] = -1
				}
				run := func() { copyRows(dst[1:], src, rows, w, ld) }
				if goLoop {
					withGoLoops(run)
				} else {
					run()
				}
				for i, v := range dst {
					want := float32(-1)
					if o := i - 1; o >= 0 && o%ld < w && o/ld < rows {
						want = src[o/ld*w+o%ld]
					}
					if v != want {
						t.Fatalf("w=%d rows=%d ld=%d Go=%v: dst[%d] = %g, want %g", w, rows, ld, goLoop, i, v, want)
					}
				}
			}
		}
	}
}

func BenchmarkPaddedPlane(b *testing.B) {
	for _, hw := range []int{4, 7, 14, 28, 56} {
		x := make([]float32, hw*hw)
		var buf []float32
		b.Run(fmt.Sprintf("%dx%d", hw, hw), func(b *testing.B) {
			for b.Loop() {
				paddedPlane(&buf, x, hw, hw, 1, 3, hw*(hw+2), 0)
			}
		})
	}
}
