package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// copyRows (into a padded plane) and compactRows (out of one) write
// exactly the rows' floats, whatever the width's remainder of a vector,
// and leave everything around them alone, in the assembly and in the Go
// loop.
func TestStridedRowCopiesWriteOnlyTheRows(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, name := range []string{"copyRows", "compactRows"} {
		for _, w := range []int{1, 3, 4, 7, 8, 9, 14, 16, 17, 28, 31} {
			for _, rows := range []int{1, 2, 5} {
				ld := w + 2 + r.IntN(3)
				ldDst, ldSrc, copyFn := ld, w, copyRows
				if name == "compactRows" {
					ldDst, ldSrc, copyFn = w, ld, compactRows
				}
				src := randSlice(r, (rows-1)*ldSrc+w)
				for _, goLoop := range []bool{false, true} {
					dst := make([]float32, 1+rows*ldDst+8)
					for i := range dst {
						dst[i] = -1
					}
					run := func() { copyFn(dst[1:], src, rows, w, ld) }
					if goLoop {
						withGoLoops(run)
					} else {
						run()
					}
					for i, v := range dst {
						want := float32(-1)
						if o := i - 1; o >= 0 && o%ldDst < w && o/ldDst < rows {
							want = src[o/ldDst*ldSrc+o%ldDst]
						}
						if v != want {
							t.Fatalf("%s w=%d rows=%d ld=%d Go=%v: dst[%d] = %g, want %g", name, w, rows, ld, goLoop, i, v, want)
						}
					}
				}
			}
		}
	}
}

// A scratch reused across planes of different layouts and fills (a layer's
// depthwise planes, then a max pool's, then another layer's) gives the same
// plane as a fresh one: the fill is skipped only for the layout it holds.
func TestReusedPlaneScratchMatchesFresh(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	type shape struct{ h, w, p, k int }
	shapes := []shape{{7, 7, 1, 3}, {7, 7, 2, 3}, {8, 7, 1, 3}, {14, 14, 3, 7}, {4, 4, 1, 3}}
	fills := []float32{0, float32(math.Inf(-1))}
	var reused planeScratch
	for i := 0; i < 200; i++ {
		s, fill := shapes[r.IntN(len(shapes))], fills[r.IntN(len(fills))]
		x := randSlice(r, s.h*s.w)
		var fresh planeScratch
		if r.IntN(2) == 0 {
			n := s.h * (s.w + 2*s.p)
			got, _ := paddedPlane(&reused, x, s.h, s.w, s.p, s.k, n, fill)
			want, _ := paddedPlane(&fresh, x, s.h, s.w, s.p, s.k, n, fill)
			if !slices.Equal(got, want) {
				t.Fatalf("step %d, %+v fill %g: the reused plane differs from a fresh one", i, s, fill)
			}
			continue
		}
		oh, ow := (s.h+2*s.p-s.k)/2+1, (s.w+2*s.p-s.k)/2+1
		owv := (ow + lanes - 1) &^ (lanes - 1)
		got := evenOddPlane(&reused, x, s.h, s.w, s.k, s.p, oh, owv, fill)
		want := evenOddPlane(&fresh, x, s.h, s.w, s.k, s.p, oh, owv, fill)
		if !slices.Equal(got.plane, want.plane) || got.hp != want.hp || got.half != want.half {
			t.Fatalf("step %d, %+v fill %g: the reused even/odd plane differs from a fresh one", i, s, fill)
		}
	}
}

func BenchmarkPaddedPlane(b *testing.B) {
	for _, hw := range []int{4, 7, 14, 28, 56} {
		x := make([]float32, hw*hw)
		var ps planeScratch
		b.Run(fmt.Sprintf("%dx%d", hw, hw), func(b *testing.B) {
			for b.Loop() {
				paddedPlane(&ps, x, hw, hw, 1, 3, hw*(hw+2), 0)
			}
		})
	}
}

// EpilogueRows writes exactly the rows' floats, each AffineClamp's value
// of its source, then with a residual the sum clamped as Add and Clamp
// give it (a NaN staying NaN), whatever the width's remainder of a
// vector, and leaves everything around them alone, in the assembly and
// in the Go loop.
func TestEpilogueRowsIsAffineClampThenTheResidual(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	const a, b, lo, hi, sumHi = 1.5, -0.25, 0, 6, 4
	nan := float32(math.NaN())
	for _, w := range []int{1, 3, 4, 7, 8, 9, 14, 16, 17, 28, 31} {
		for _, rows := range []int{1, 2, 5} {
			ldDst, ldSrc := w+r.IntN(3), w+1+r.IntN(3)
			src := randSlice(r, (rows-1)*ldSrc+w)
			src[r.IntN(len(src))] = nan
			res := randSlice(r, (rows-1)*ldDst+w)
			for _, residual := range []bool{false, true} {
				for _, goLoop := range []bool{false, true} {
					dst := make([]float32, 1+rows*ldDst+8)
					for i := range dst {
						dst[i] = -1
					}
					var rs []float32
					if residual {
						rs = res
					}
					run := func() { EpilogueRows(dst[1:], src, rs, rows, w, ldDst, ldSrc, a, b, lo, hi, sumHi) }
					if goLoop {
						withGoLoops(run)
					} else {
						run()
					}
					for i, v := range dst {
						o := i - 1
						if o < 0 || o%ldDst >= w || o/ldDst >= rows {
							if v != -1 {
								t.Fatalf("w=%d rows=%d residual=%v Go=%v: dst[%d] = %g, outside the rows", w, rows, residual, goLoop, i, v)
							}
							continue
						}
						x := src[o/ldDst*ldSrc+o%ldDst]
						want := min(max(a*x+b, lo), hi)
						if residual {
							want = min(max(want+res[o], 0), sumHi)
						}
						if math.IsNaN(float64(x)) {
							if !math.IsNaN(float64(v)) {
								t.Fatalf("w=%d rows=%d residual=%v Go=%v: dst[%d] = %g from a NaN", w, rows, residual, goLoop, i, v)
							}
							continue
						}
						if !sameUpToRounding(v, want, 1) {
							t.Fatalf("w=%d rows=%d residual=%v Go=%v: dst[%d] = %g, want %g", w, rows, residual, goLoop, i, v, want)
						}
					}
				}
			}
		}
	}
}
