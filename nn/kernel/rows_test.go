package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"
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

// gatherColumns is a convolution's output columns on the shifted path
// (nb samples of h×w pixels in a padded layout of rows wp floats, sp a
// sample) followed by extra columns: the places of the pixels in order,
// ragged at the end.
func gatherColumns(nb, h, w, wp, sp, extra int) []int {
	var cols []int
	for b := 0; b < nb; b++ {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				cols = append(cols, b*sp+y*wp+x)
			}
		}
	}
	for i := 0; i < extra; i++ {
		cols = append(cols, cols[len(cols)-1])
	}
	return cols
}

// SgemmGather gives Sgemm's product with the matrix its rows and columns
// make, bit for bit, on every path: a convolution's columns (whose
// vectors the AVX-512 kernels pack), columns scattered too far for them
// (packed in Go), columns whose last window would run past x, ragged
// widths, heights above and below a tile and a kc block, beta 0 over NaN
// and beta 1, and products large enough to split.
func TestSgemmGatherMatchesSgemm(t *testing.T) {
	eachPath(t, func(path string) {
		r := rand.New(rand.NewPCG(33, 34))
		for _, tc := range []struct {
			name string
			m, k int
			cols []int
		}{
			{"13x13 maps", 64, 800, gatherColumns(12, 13, 13, 15, 225, 0)},
			{"6x6 maps, ragged", 7, 300, gatherColumns(9, 6, 6, 7, 49, 5)},
			{"one column", 1, 1, []int{3}},
			{"scattered", 13, 150, func() []int {
				c := make([]int, 333)
				for i := range c {
					c[i] = r.IntN(2000)
				}
				return c
			}()},
			{"wide, split", 70, 200, gatherColumns(40, 7, 7, 8, 64, 0)},
		} {
			n, cmax := len(tc.cols), slices.Max(tc.cols)
			x := randSlice(r, cmax+500)
			rows := make([]int, tc.k)
			b := make([]float32, tc.k*n)
			for i := range rows {
				rows[i] = r.IntN(len(x) - cmax)
				for j, c := range tc.cols {
					b[i*n+j] = x[rows[i]+c]
				}
			}
			// The last row at the end of x: its windows run past x, so
			// the panels near it are packed in Go.
			rows[tc.k/2] = len(x) - cmax - 1
			for j, c := range tc.cols {
				b[tc.k/2*n+j] = x[rows[tc.k/2]+c]
			}
			for _, beta := range []float32{0, 1} {
				a := randSlice(r, tc.m*tc.k)
				want, got := randSlice(r, tc.m*n), make([]float32, tc.m*n)
				if beta == 0 {
					for i := range want {
						want[i] = float32(math.NaN())
					}
				}
				copy(got, want)
				Sgemm(false, false, tc.m, n, tc.k, 0.75, a, tc.k, b, n, beta, want, n)
				SgemmGather(tc.m, 0.75, a, tc.k, x, rows, tc.cols, beta, got, n)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s: %s beta %g: C[%d] = %g, Sgemm %g", path, tc.name, beta, i, got[i], want[i])
					}
				}
			}
		}
	})
}

// The assembly reads a gatherVec's lanes at its start and its window's
// offset 64 bytes in, 80 bytes an entry (asm/main.go's gatherVecBytes).
func TestGatherVecLayout(t *testing.T) {
	var g gatherVec
	if size, off := unsafe.Sizeof(g), unsafe.Offsetof(g.off); size != 80 || off != 64 {
		t.Fatalf("gatherVec: %d bytes, off at %d; the kernels read 80 and 64", size, off)
	}
}

// ImageColumnsLen agrees with ImageColumns' length, and ImageColumns
// lists each image's pixels in order from its start, every vector of
// whole images' columns within the window, over images of 1x1 to 30x30
// pixels with margins of 0 to 3.
func TestImageColumns(t *testing.T) {
	r := rand.New(rand.NewPCG(35, 36))
	for range 2000 {
		h, w, p, nb := 1+r.IntN(30), 1+r.IntN(30), r.IntN(4), 1+r.IntN(20)
		wp, sp := w+p, (h+p)*(w+p)
		cols, starts := ImageColumns(nil, nil, nb, h, w, sp, wp)
		if n := ImageColumnsLen(nb, h, w, sp, wp); n != len(cols) || n%GatherLanes != 0 {
			t.Fatalf("%d images of %dx%d, margin %d: ImageColumnsLen %d, ImageColumns %d", nb, h, w, p, n, len(cols))
		}
		for b, s := range starts {
			for i := range h * w {
				if want := b*sp + i/w*wp + i%w; cols[s+i] != want {
					t.Fatalf("%d images of %dx%d, margin %d: image %d pixel %d at %d, want %d", nb, h, w, p, b, i, cols[s+i], want)
				}
			}
		}
		if w > 1 && (GatherLanes+w-1)/w*p+GatherLanes <= GatherWindow { // an image's own vectors fit
			for v := 0; v < len(cols); v += GatherLanes {
				if spread := slices.Max(cols[v:v+GatherLanes]) - slices.Min(cols[v:v+GatherLanes]); spread >= GatherWindow {
					t.Fatalf("%d images of %dx%d, margin %d: vector at %d spread over %d", nb, h, w, p, v, spread)
				}
			}
		}
	}
}

// The AVX-512 kernels take a vector whose columns lie within 32 floats,
// as a convolution's do on 13x13 maps with margins of 2, with each lane's
// place relative to its window; not one spread wider, nor one whose last
// window would end past x.
func TestGatherTable(t *testing.T) {
	var ws workspace
	cols := gatherColumns(1, 13, 13, 15, 225, 0)[:64]
	ws.gatherTable(cols, 16, 100, 100+cols[48]+32) // the last vector's window: 32 floats from cols[48]
	if len(ws.gv) != 4 || !gathers(ws.gv) {
		t.Fatalf("a 13x13 map's first panel refused: %+v", ws.gv)
	}
	for v, g := range ws.gv {
		for i, c := range cols[v*16 : (v+1)*16] {
			if g.off/4+int(g.idx[i]) != c || g.idx[i] < 0 || g.idx[i] >= 32 {
				t.Fatalf("vector %d lane %d: window at %d, lane %d; want column %d within 32", v, i, g.off/4, g.idx[i], c)
			}
		}
	}
	ws.gatherTable(cols, 16, 100, 100+cols[48]+31)
	if gathers(ws.gv) || !gathers(ws.gv[:3]) {
		t.Errorf("a window ending past x: %v, want only the last vector refused", ws.gv)
	}
	wide := gatherColumns(1, 3, 3, 20, 60, 7)[:16] // rows of 3 pixels 20 floats apart
	if ws.gatherTable(wide, 16, 0, 1000); gathers(ws.gv) {
		t.Error("a vector spread over more than 32 floats accepted")
	}
}

// BenchmarkSgemmGather compares a shifted convolution's product over
// every column of its padded layout (NAME/rows, SgemmRows) with the
// product over its output pixels' columns only (NAME/gather,
// SgemmGather), for m output channels: 13x13 maps with margins of 2
// (AlexNet-small's 5x5 layer), 6x6 and 14x14 with margins of 1, and 28x28
// with 2 and 1. nn's gathers rule is read off it.
func BenchmarkSgemmGather(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, g := range []struct{ h, p, cin, nb int }{{13, 2, 32, 16}, {6, 1, 64, 32}, {14, 1, 32, 16}, {28, 2, 32, 4}, {28, 1, 16, 8}} {
		wp, k := g.h+g.p, g.cin*(2*g.p+1)*(2*g.p+1)
		sp := (g.h + g.p) * wp
		n, plane := g.nb*sp, g.nb*sp+2*g.p*(wp+1)
		x := randSlice(r, g.cin*plane+GatherWindow)
		var rows []int
		for c := 0; c < g.cin; c++ {
			for ky := 0; ky <= 2*g.p; ky++ {
				for kx := 0; kx <= 2*g.p; kx++ {
					rows = append(rows, c*plane+ky*wp+kx)
				}
			}
		}
		cols, _ := ImageColumns(nil, nil, g.nb, g.h, g.h, sp, wp)
		for _, m := range []int{12, 16, 32, 64} {
			a, c := randSlice(r, m*k), make([]float32, m*n)
			name := fmt.Sprintf("%dx%d-p%d-k%d-m%d", g.h, g.h, g.p, k, m)
			b.Run(name+"/rows", func(b *testing.B) {
				for b.Loop() {
					SgemmRows(m, n, 1, a, k, x, rows, 0, c, n)
				}
			})
			b.Run(name+"/gather", func(b *testing.B) {
				for b.Loop() {
					SgemmGather(m, 1, a, k, x, rows, cols, 0, c, len(cols))
				}
			})
		}
	}
}

// GatherPays takes the gathered product only on a path with gathering
// kernels, and there only where the columns saved times the rows reach
// six times the gathered ones.
func TestGatherPays(t *testing.T) {
	eachPath(t, func(path string) {
		hasKernels := active.gather != nil
		if got := GatherPays(225, 176, 32); got != hasKernels { // 13x13 maps, margins of 2, 32 rows
			t.Errorf("%s: 13x13 at 32 rows: %v, want %v", path, got, hasKernels)
		}
		if GatherPays(225, 176, 16) || GatherPays(841, 784, 64) { // 49*16 < 6*176; 57*64 < 6*784
			t.Errorf("%s: gathered below the crossing", path)
		}
	})
}
