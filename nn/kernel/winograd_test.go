package kernel

import (
	"math/rand/v2"
	"testing"
)

// The matrices of F(2x2, 3x3), as Lavin and Gray print them.
var (
	winogradBT = [4][4]float64{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}}
	winogradG  = [4][3]float64{{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}}
	winogradAT = [2][4]float64{{1, 1, 1, 0}, {0, 1, -1, -1}}
)

// Each tile row length, short rows (one vector, written whole) and long
// ones (the last vector overlapping), on both the assembly and the Go
// loops: V must be Bᵀ d B computed from the matrices, and nothing outside
// the row and its slack may change.
func TestWinogradInputRow(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, tw := range []int{1, 3, 4, 7, 8, 9, 14, 15, 16, 23, 28, 56} {
		for _, goLoops := range []bool{false, true} {
			rs := tw + 1 + WinogradSlack
			ps := 2*rs + 3
			q := randomSlice(r, 4*ps)
			ds := tw + WinogradSlack + 5
			v := make([]float32, 16*ds+7)
			const canary = 12345
			for i := range v {
				v[i] = canary
			}
			run := func() { WinogradInputRow(v, ds, q, ps, rs, tw) }
			if goLoops {
				withGoLoops(run)
			} else {
				run()
			}
			for x := 0; x < 16; x++ {
				i, j := x%4, x/4
				for tile := 0; tile < tw; tile++ {
					var want float64
					for a := 0; a < 4; a++ {
						for b := 0; b < 4; b++ {
							d := float64(q[(2*(a%2)+b%2)*ps+(a/2)*rs+b/2+tile])
							want += winogradBT[i][a] * d * winogradBT[j][b]
						}
					}
					if got := v[x*ds+tile]; !sameUpToRounding(got, float32(want), 10) {
						t.Fatalf("tw %d (Go loops %v): V[%d][%d] of tile %d = %v, want %v", tw, goLoops, i, j, tile, got, want)
					}
				}
				for k := x*ds + max(tw, WinogradSlack); k < (x+1)*ds; k++ {
					if v[k] != canary {
						t.Fatalf("tw %d (Go loops %v): wrote v[%d], past the row's slack", tw, goLoops, k)
					}
				}
			}
		}
	}
}

// As TestWinogradInputRow for the output transform, Aᵀ M A, interleaved
// into two rows of the map.
func TestWinogradOutputRow(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, tw := range []int{1, 3, 4, 7, 8, 9, 14, 15, 16, 23, 28, 56} {
		for _, goLoops := range []bool{false, true} {
			ms := tw + WinogradSlack + 3
			m := randomSlice(r, 16*ms)
			w := 2*tw + 2*WinogradSlack + 1
			y := make([]float32, 3*w)
			const canary = 12345
			for i := range y {
				y[i] = canary
			}
			run := func() { WinogradOutputRow(y, w, m, ms, tw) }
			if goLoops {
				withGoLoops(run)
			} else {
				run()
			}
			for row := 0; row < 2; row++ {
				for tile := 0; tile < tw; tile++ {
					for c := 0; c < 2; c++ {
						var want float64
						for i := 0; i < 4; i++ {
							for j := 0; j < 4; j++ {
								want += winogradAT[row][i] * float64(m[(4*j+i)*ms+tile]) * winogradAT[c][j]
							}
						}
						if got := y[row*w+2*tile+c]; !sameUpToRounding(got, float32(want), 10) {
							t.Fatalf("tw %d (Go loops %v): y[%d][%d] = %v, want %v", tw, goLoops, row, 2*tile+c, got, want)
						}
					}
				}
				for k := row*w + 2*max(tw, WinogradSlack); k < (row+1)*w; k++ {
					if y[k] != canary {
						t.Fatalf("tw %d (Go loops %v): wrote y[%d], past the row's slack", tw, goLoops, k)
					}
				}
			}
			for k := 2 * w; k < 3*w; k++ {
				if y[k] != canary {
					t.Fatalf("tw %d: wrote a third row", tw)
				}
			}
		}
	}
}

// WinogradFilter must be G g Gᵀ.
func TestWinogradFilter(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	g := randomSlice(r, 9)
	const stride = 3
	u := make([]float32, 16*stride)
	WinogradFilter(u, stride, g)
	for x := 0; x < 16; x++ {
		i, j := x%4, x/4
		var want float64
		for a := 0; a < 3; a++ {
			for b := 0; b < 3; b++ {
				want += winogradG[i][a] * float64(g[a*3+b]) * winogradG[j][b]
			}
		}
		if got := u[x*stride]; !sameUpToRounding(got, float32(want), 10) {
			t.Fatalf("U[%d][%d] = %v, want %v", i, j, got, want)
		}
	}
}

// WinogradPhases must place every padded pixel, zeros included, on the
// assembly (whole maps) and the Go loops (bands of rows, and whole maps
// without the assembly), and write nothing else.
func TestWinogradPhases(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, hw := range [][2]int{{2, 2}, {8, 8}, {4, 16}, {16, 16}, {6, 24}, {32, 32}, {14, 14}, {8, 40}, {28, 28}, {4, 2}, {2, 4}, {6, 6}, {10, 22}, {7, 7}, {1, 1}, {3, 5}, {5, 3}, {9, 17}, {15, 15}, {7, 24}, {8, 31}} {
		h, w := hw[0], hw[1]
		th, tw := (h+1)/2, (w+1)/2
		src := randomSlice(r, h*w)
		// The whole map, and bands: the first phase rows, the last ones,
		// and one row inside.
		bands := [][2]int{{0, th + 1}, {0, min(2, th+1)}, {th, 1}, {th / 2, 1}}
		for _, band := range bands {
			r0, rows := band[0], band[1]
			for _, goLoops := range []bool{false, true} {
				rs := tw + 3
				ps := rows*rs + 2
				q := make([]float32, 4*ps)
				const canary = 12345
				for i := range q {
					q[i] = canary
				}
				run := func() { WinogradPhases(q, ps, rs, src, h, w, r0, rows) }
				if goLoops {
					withGoLoops(run)
				} else {
					run()
				}
				for i := range q {
					ph, at := i/ps, i%ps
					row, col := at/rs, at%rs
					if row >= rows || col > tw {
						if q[i] != canary {
							t.Fatalf("%dx%d rows %d+%d (Go loops %v): wrote q[%d], outside the planes", h, w, r0, rows, goLoops, i)
						}
						continue
					}
					y, x := 2*(r0+row)+ph/2-1, 2*col+ph%2-1
					var want float32
					if y >= 0 && y < h && x >= 0 && x < w {
						want = src[y*w+x]
					}
					if q[i] != want {
						t.Fatalf("%dx%d rows %d+%d (Go loops %v): plane %d (%d, %d) = %v, want %v", h, w, r0, rows, goLoops, ph, row, col, q[i], want)
					}
				}
			}
		}
	}
}
