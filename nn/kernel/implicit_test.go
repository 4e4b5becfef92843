package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// SgemmConv gives Sgemm's product with Im2col's matrix bit for bit, on
// every path and every geometry of the Im2col tests, over one to three
// samples with a gap between them, rows above and below a tile, beta 0
// over NaN and beta 1, and products large enough to be split across cores.
func TestSgemmConvMatchesIm2col(t *testing.T) {
	geoms := im2colGeometries()
	if testing.Short() {
		geoms = geoms[:len(geoms)/4]
	}
	eachPath(t, func(path string) {
		r := rand.New(rand.NewPCG(21, 22))
		cases := 0
		for gi, g := range geoms {
			c, h, w, k, s, p, d := g[0], g[1], g[2], g[3], g[4], g[5], g[6]
			if h+2*p < d*(k-1)+1 || w+2*p < d*(k-1)+1 {
				continue
			}
			oh, ow := outSize(h, k, s, p, d), outSize(w, k, s, p, d)
			nb, m := 1+gi%3, []int{1, 7, 16}[gi%3]
			if h*w > 1000 {
				nb, m = 2, 70
			}
			gap := gi % 5
			stride := c*h*w + gap
			x := randSlice(r, (nb-1)*stride+c*h*w)
			per, rows := oh*ow, c*k*k
			cols := make([]float32, rows*nb*per)
			for b := range nb {
				Im2colLd(x[b*stride:], c, h, w, k, s, p, d, oh, ow, cols[b*per:], nb*per)
			}
			a := randSlice(r, m*rows)
			alpha, beta := float32(1), float32(0)
			if gi%2 == 1 {
				alpha, beta = -0.5, 1
			}
			want, got := randSlice(r, m*nb*per), make([]float32, m*nb*per)
			if beta == 0 {
				for i := range want {
					want[i] = float32(math.NaN())
				}
			}
			copy(got, want)
			Sgemm(false, false, m, nb*per, rows, alpha, a, rows, cols, nb*per, beta, want, nb*per)
			in := &ConvInput{X: x, Stride: stride, C: c, H: h, W: w, K: k, S: s, P: p, D: d, OH: oh, OW: ow}
			SgemmConv(m, nb*per, rows, alpha, a, rows, in, beta, got, nb*per)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s: %d samples of %v into %d rows: C[%d] = %g, Sgemm with Im2col %g", path, nb, g, m, i, got[i], want[i])
				}
			}
			cases++
		}
		if cases < 100 {
			t.Fatalf("%s: only %d geometries", path, cases)
		}
	})
}

// SgemmConv refuses a matrix that is not its input's unrolling.
func TestSgemmConvRefusesAWrongShape(t *testing.T) {
	in := &ConvInput{X: make([]float32, 2*3*5*5), Stride: 3 * 5 * 5, C: 3, H: 5, W: 5, K: 3, S: 1, P: 1, D: 1, OH: 5, OW: 5}
	for _, c := range []struct {
		name string
		n, k int
	}{{"k not C*K*K", 25, 26}, {"columns not whole samples", 30, 27}, {"more samples than X holds", 75, 27}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", c.name)
				}
			}()
			SgemmConv(4, c.n, c.k, 1, make([]float32, 4*c.k), c.k, in, 0, make([]float32, 4*c.n), c.n)
		}()
	}
}
