package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// SgemmRows gives Sgemm's product with the matrix its rows make, bit for
// bit, on every path: rows in any order and overlapping, widths that end
// mid-vector and mid-tile, heights above and below a tile and a kc block,
// beta 0 over NaN and beta 1, and products large enough to split.
func TestSgemmRowsMatchesSgemm(t *testing.T) {
	eachPath(t, func(path string) {
		r := rand.New(rand.NewPCG(31, 32))
		for _, sz := range [][3]int{{1, 1, 1}, {6, 64, 9}, {16, 840, 144}, {7, 77, 13}, {32, 300, 288}, {70, 1100, 300}, {5, 17, 600}, {64, 2000, 576}} {
			m, n, k := sz[0], sz[1], sz[2]
			x := randSlice(r, 3*n+50)
			rows := make([]int, k)
			b := make([]float32, k*n)
			for i := range rows {
				rows[i] = r.IntN(len(x) - n + 1)
				copy(b[i*n:], x[rows[i]:rows[i]+n])
			}
			for _, beta := range []float32{0, 1} {
				a := randSlice(r, m*k)
				want, got := randSlice(r, m*n), make([]float32, m*n)
				if beta == 0 {
					for i := range want {
						want[i] = float32(math.NaN())
					}
				}
				copy(got, want)
				Sgemm(false, false, m, n, k, 0.75, a, k, b, n, beta, want, n)
				SgemmRows(m, n, 0.75, a, k, x, rows, beta, got, n)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s: %v beta %g: C[%d] = %g, Sgemm %g", path, sz, beta, i, got[i], want[i])
					}
				}
			}
		}
	})
}

// SgemmRows refuses rows outside x and an A or C too short.
func TestSgemmRowsRefusesBadShapes(t *testing.T) {
	x := make([]float32, 100)
	for _, c := range []struct {
		name string
		rows []int
		la   int
	}{{"a row past the end", []int{0, 60}, 8}, {"a negative row", []int{-1, 0}, 8}, {"A too short", []int{0, 1}, 7}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", c.name)
				}
			}()
			SgemmRows(4, 50, 1, make([]float32, c.la), 2, x, c.rows, 0, make([]float32, 4*50), 50)
		}()
	}
}
