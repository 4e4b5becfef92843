package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// im2colGeometries are (c, h, w, k, s, p, d): odd sizes, strides above the
// kernel, padding wider than the kernel, dilation, 1x1 and 11x11/4.
func im2colGeometries() [][7]int {
	var gs [][7]int
	for _, hw := range [][2]int{{1, 1}, {5, 6}, {7, 7}, {8, 5}, {13, 11}} {
		for _, k := range []int{1, 2, 3, 5} {
			for _, s := range []int{1, 2, 3, 4} {
				for _, p := range []int{0, 1, 2, 4} {
					for _, d := range []int{1, 2, 3} {
						gs = append(gs, [7]int{2, hw[0], hw[1], k, s, p, d})
					}
				}
			}
		}
	}
	return append(gs, [7]int{3, 227, 227, 11, 4, 2, 1}, [7]int{1, 32, 32, 7, 1, 3, 1})
}

func outSize(n, k, s, p, d int) int { return (n+2*p-d*(k-1)-1)/s + 1 }

// Im2col and Col2im agree with their naive loops bit for bit (the fast
// versions add in the same order) on every geometry, and Im2col overwrites
// every entry of cols, whatever it held.
func TestIm2colCol2imMatchNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	n := 0
	for _, g := range im2colGeometries() {
		c, h, w, k, s, p, d := g[0], g[1], g[2], g[3], g[4], g[5], g[6]
		oh, ow := outSize(h, k, s, p, d), outSize(w, k, s, p, d)
		if h+2*p < d*(k-1)+1 || w+2*p < d*(k-1)+1 {
			continue
		}
		n++
		x := randSlice(r, c*h*w)
		got, want := randSlice(r, c*k*k*oh*ow), make([]float32, c*k*k*oh*ow)
		Im2col(x, c, h, w, k, s, p, d, oh, ow, got)
		Im2colNaive(x, c, h, w, k, s, p, d, oh, ow, want)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("Im2col %v: cols[%d] = %g, naive %g", g, i, got[i], want[i])
			}
		}
		cols := randSlice(r, len(got))
		dx1 := randSlice(r, len(x))
		dx2 := append([]float32(nil), dx1...)
		Col2im(cols, c, h, w, k, s, p, d, oh, ow, dx1)
		Col2imNaive(cols, c, h, w, k, s, p, d, oh, ow, dx2)
		for i := range dx1 {
			if dx1[i] != dx2[i] {
				t.Fatalf("Col2im %v: dx[%d] = %g, naive %g", g, i, dx1[i], dx2[i])
			}
		}
	}
	if n < 500 {
		t.Fatalf("only %d geometries tested", n)
	}
}

// Im2colLd writes the same rows as Im2col at a column offset of a wider
// matrix and leaves the other columns alone.
func TestIm2colLdWritesItsColumnsOnly(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, g := range [][7]int{{3, 7, 7, 3, 1, 1, 1}, {2, 8, 5, 3, 2, 1, 1}, {4, 14, 14, 1, 1, 0, 1}} {
		c, h, w, k, s, p, d := g[0], g[1], g[2], g[3], g[4], g[5], g[6]
		oh, ow := outSize(h, k, s, p, d), outSize(w, k, s, p, d)
		n, rows := oh*ow, c*k*k
		ld, at := 3*n+1, n+1 // the image's block starts at column n+1 of 3n+1
		x := randSlice(r, c*h*w)
		want := make([]float32, rows*n)
		Im2col(x, c, h, w, k, s, p, d, oh, ow, want)
		wide := randSlice(r, rows*ld)
		before := append([]float32(nil), wide...)
		Im2colLd(x, c, h, w, k, s, p, d, oh, ow, wide[at:], ld)
		for row := 0; row < rows; row++ {
			for j := 0; j < ld; j++ {
				got, exp := wide[row*ld+j], before[row*ld+j]
				if j >= at && j < at+n {
					exp = want[row*n+j-at]
				}
				if got != exp {
					t.Fatalf("Im2colLd %v: row %d column %d = %g, want %g", g, row, j, got, exp)
				}
			}
		}
	}
}

// im2colBenchShapes are ResNet-20's and a 224 network's convolutions:
// (c, h, w, k, s, p).
var im2colBenchShapes = [][6]int{{16, 32, 32, 3, 1, 1}, {16, 28, 28, 3, 1, 1}, {64, 7, 7, 3, 1, 1}, {64, 8, 8, 3, 1, 1}, {32, 16, 16, 3, 2, 1}, {64, 56, 56, 3, 1, 1}, {3, 224, 224, 7, 2, 3}}

func BenchmarkIm2col(b *testing.B) {
	for _, g := range im2colBenchShapes {
		c, h, w, k, s, p := g[0], g[1], g[2], g[3], g[4], g[5]
		oh, ow := outSize(h, k, s, p, 1), outSize(w, k, s, p, 1)
		x, cols := make([]float32, c*h*w), make([]float32, c*k*k*oh*ow)
		for _, impl := range []struct {
			name string
			f    func([]float32, int, int, int, int, int, int, int, int, int, []float32)
		}{{"fast", Im2col}, {"naive", Im2colNaive}} {
			b.Run(fmt.Sprintf("%s/%dx%dx%d_k%ds%d", impl.name, c, h, w, k, s), func(b *testing.B) {
				b.SetBytes(int64(4 * len(cols)))
				for b.Loop() {
					impl.f(x, c, h, w, k, s, p, 1, oh, ow, cols)
				}
			})
		}
	}
}

func BenchmarkCol2im(b *testing.B) {
	for _, g := range im2colBenchShapes {
		c, h, w, k, s, p := g[0], g[1], g[2], g[3], g[4], g[5]
		oh, ow := outSize(h, k, s, p, 1), outSize(w, k, s, p, 1)
		dx, cols := make([]float32, c*h*w), make([]float32, c*k*k*oh*ow)
		for _, impl := range []struct {
			name string
			f    func([]float32, int, int, int, int, int, int, int, int, int, []float32)
		}{{"fast", Col2im}, {"naive", Col2imNaive}} {
			b.Run(fmt.Sprintf("%s/%dx%dx%d_k%ds%d", impl.name, c, h, w, k, s), func(b *testing.B) {
				b.SetBytes(int64(4 * len(cols)))
				for b.Loop() {
					impl.f(cols, c, h, w, k, s, p, 1, oh, ow, dx)
				}
			})
		}
	}
}
