package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// eachPath runs f once per SGEMM path this machine has (avx512, avx2, go),
// with Sgemm switched to it.
func eachPath(t testing.TB, f func(path string)) {
	for _, p := range Paths() {
		prev, err := UsePath(p)
		if err != nil {
			t.Fatal(err)
		}
		f(p)
		UsePath(prev)
	}
}

// gemmCase is one product to check: sizes, transposes, scalars and the
// padding added to each leading dimension.
type gemmCase struct {
	m, n, k        int
	transA, transB bool
	alpha, beta    float32
	padA, padB     int
	padC           int
	gemv           bool // let single rows times a transposed B go to gonum, as Sgemm does
}

func (g gemmCase) String() string {
	return fmt.Sprintf("%dx%dx%d ta=%v tb=%v alpha=%g beta=%g pad=%d,%d,%d",
		g.m, g.n, g.k, g.transA, g.transB, g.alpha, g.beta, g.padA, g.padB, g.padC)
}

// checkGemmCase runs the active path (every shape on the blocked product,
// so that each path sees single rows too) and SgemmNaive on the same random operands and
// fails if they differ by more than float32 rounding allows: both sums carry
// at most about k*eps*sum|a*b| error, so the bound is twice that (plus the
// beta term). C is padded on the right of each row and after its last row
// with a sentinel that must survive; with beta = 0 it starts as NaN, which
// must not leak into the result.
func checkGemmCase(t *testing.T, r *rand.Rand, g gemmCase) {
	t.Helper()
	m, n, k := g.m, g.n, g.k
	ar, ac := m, k
	if g.transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if g.transB {
		br, bc = n, k
	}
	lda, ldb, ldc := max(1, ac)+g.padA, max(1, bc)+g.padB, n+g.padC
	a := randSlice(r, max(0, (ar-1)*lda+ac))
	b := randSlice(r, max(0, (br-1)*ldb+bc))
	clen := max(0, (m-1)*ldc+n)
	const guard = 40
	sentinel := float32(-12345)
	c := make([]float32, clen+guard)
	want := make([]float32, clen)
	for i := range c {
		c[i] = sentinel
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			if g.beta == 0 {
				c[i*ldc+j] = float32(math.NaN())
				want[i*ldc+j] = 0
			} else {
				c[i*ldc+j] = float32(r.NormFloat64())
				want[i*ldc+j] = c[i*ldc+j]
			}
		}
	}
	sgemm(active, g.gemv, g.transA, g.transB, m, n, k, g.alpha, a, lda, b, ldb, g.beta, c[:clen], ldc)
	SgemmNaive(g.transA, g.transB, m, n, k, g.alpha, a, lda, b, ldb, g.beta, want, ldc)
	const eps = 1.0 / (1 << 23)
	for i := 0; i < m; i++ {
		for j := 0; j < ldc && i*ldc+j < len(c); j++ {
			got := c[i*ldc+j]
			if j >= n {
				if got != sentinel {
					t.Fatalf("%v: wrote c[%d][%d] past column n: %g", g, i, j, got)
				}
				continue
			}
			var s float64 // sum |opA[i][p]*opB[p][j]|
			for p := 0; p < k; p++ {
				var av, bv float32
				if g.transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if g.transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += math.Abs(float64(av) * float64(bv))
			}
			tol := 2*float64(k+1)*eps*(math.Abs(float64(g.alpha))*s) + 4*eps*math.Abs(float64(want[i*ldc+j]))
			if d := math.Abs(float64(got - want[i*ldc+j])); !(d <= tol) {
				t.Fatalf("%v: c[%d][%d] = %g, naive %g (|diff| %g > %g)", g, i, j, got, want[i*ldc+j], d, tol)
			}
		}
	}
	for i := clen; i < len(c); i++ {
		if c[i] != sentinel {
			t.Fatalf("%v: wrote c[%d] past the end of C", g, i)
		}
	}
}

// Every path agrees with the naive loop on sizes around its tile and block
// edges (1, primes, one more or less than 6, 16, 64, kc = 128, nc = 2048),
// large enough ones to be split across cores, all four transpose
// combinations, several alpha and beta (beta 0 over NaN) and leading
// dimensions wider than the rows.
func TestSgemmPathsMatchNaive(t *testing.T) {
	sizes := [][3]int{
		{1, 1, 1}, {1, 1, 7}, {2, 3, 5}, {7, 11, 13}, {6, 16, 4}, {5, 15, 3}, {6, 64, 8},
		{7, 65, 9}, {12, 128, 4}, {13, 67, 129}, {11, 97, 257}, {31, 200, 31},
		{64, 130, 9}, {6, 784, 25}, {16, 100, 150}, {97, 101, 103}, {130, 17, 300},
		{257, 3, 40}, {2, 2100, 3}, {19, 2063, 5}, {200, 49, 100}, {97, 1, 65}, {512, 16, 64},
	}
	if testing.Short() {
		sizes = sizes[:12]
	}
	scalars := [][2]float32{{1, 0}, {0.5, 1}, {-2, 0.25}}
	eachPath(t, func(path string) {
		r := rand.New(rand.NewPCG(1, 2))
		for si, sz := range sizes {
			for tr := 0; tr < 4; tr++ {
				sc := scalars[(si+tr)%len(scalars)]
				g := gemmCase{m: sz[0], n: sz[1], k: sz[2], transA: tr&1 != 0, transB: tr&2 != 0,
					alpha: sc[0], beta: sc[1], padA: (si + tr) % 3, padB: si % 2 * 5, padC: (tr + 1) % 3}
				t.Run(path, func(t *testing.T) { checkGemmCase(t, r, g) })
			}
		}
	})
}

// A B of whole vectors no wider than a tile, its rows packed together
// (ldb = n), is read where it is, with no packing: over several kc blocks,
// a ragged last block and both betas it agrees with the naive loop.
func TestSgemmNarrowBReadInPlace(t *testing.T) {
	eachPath(t, func(path string) {
		r := rand.New(rand.NewPCG(3, 4))
		for _, n := range []int{16, 32, 48, 64} {
			for _, k := range []int{7, 128, 385} {
				for _, beta := range []float32{0, 1} {
					g := gemmCase{m: 17, n: n, k: k, alpha: 1, beta: beta, padA: 3, padC: 1}
					t.Run(path, func(t *testing.T) { checkGemmCase(t, r, g) })
				}
			}
		}
	})
}

// Sgemm's single-row, transposed-B products (gonum's dot products) agree
// with the naive loop too.
func TestSgemmSingleRow(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 10, 84, 130} {
		for _, ta := range []bool{false, true} {
			checkGemmCase(t, r, gemmCase{m: 1, n: n, k: 120, transA: ta, transB: true, alpha: 1.5, beta: 0, padA: 1, padB: 3, padC: 2, gemv: true})
			checkGemmCase(t, r, gemmCase{m: 1, n: n, k: 33, transA: ta, transB: true, alpha: -1, beta: 0.5, gemv: true})
		}
	}
}

// Each path's transpose (assembly blocks, Go edges, zero padding) is exact.
func TestTransposeInto(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, ks := range paths {
		for _, sz := range [][2]int{{1, 1}, {3, 17}, {16, 16}, {17, 33}, {8, 8}, {40, 9}, {64, 128}, {25, 112}, {9, 40}} {
			for _, pad := range []bool{false, true} {
				rows, cols := sz[0], sz[1]
				ls, ld := cols+3, rows+32
				src := randSlice(r, rows*ls)
				dst := make([]float32, cols*ld)
				for i := range dst {
					dst[i] = 7
				}
				var scratch []float32
				done := ks.transposeInto(rows, cols, src, ls, dst, ld, pad, &scratch)
				for c := 0; c < cols; c++ {
					for rr := 0; rr < ld; rr++ {
						got := dst[c*ld+rr]
						want := float32(7)
						switch {
						case rr < rows:
							want = src[rr*ls+c]
						case c < done && ks.tb > 0 && rr < (rows+ks.tb-1)/ks.tb*ks.tb:
							want = 0
						}
						if got != want {
							t.Fatalf("%s %dx%d pad=%v: dst[%d][%d] = %g, want %g", ks.name, rows, cols, pad, c, rr, got, want)
						}
					}
				}
			}
		}
	}
}

// With k = 0 or alpha = 0 there is no product: C becomes beta*C, and zeros
// (not NaN*0) when beta is 0.
func TestSgemmNoProduct(t *testing.T) {
	a, b := []float32{1, 2, 3, 4}, []float32{5, 6, 7, 8}
	for _, k := range []int{0, 2} {
		for _, beta := range []float32{0, 2} {
			c := []float32{float32(math.NaN()), 1, 2, 3}
			if beta != 0 {
				c[0] = 1
			}
			alpha := float32(0)
			Sgemm(false, false, 2, 2, k, alpha, a, 2, b, 2, beta, c, 2)
			for i, x := range c {
				w := beta * []float32{1, 1, 2, 3}[i]
				if x != w {
					t.Errorf("k=%d beta=%g: c[%d] = %g, want %g", k, beta, i, x, w)
				}
			}
		}
	}
}

// Several goroutines may call Sgemm at once (convolution runs one sample per
// core, each calling it), large products then contend for the helpers.
func TestSgemmConcurrent(t *testing.T) {
	const m, n, k = 96, 100, 80 // above parMin, so each call splits
	r := rand.New(rand.NewPCG(5, 6))
	a, b := randSlice(r, m*k), randSlice(r, k*n)
	want := make([]float32, m*n)
	SgemmNaive(false, false, m, n, k, 1, a, k, b, n, 0, want, n)
	done := make(chan []float32)
	for g := 0; g < 4; g++ {
		go func() {
			c := make([]float32, m*n)
			for it := 0; it < 20; it++ {
				Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
			}
			done <- c
		}()
	}
	for g := 0; g < 4; g++ {
		c := <-done
		for i := range c {
			if d := math.Abs(float64(c[i] - want[i])); d > 1e-3 {
				t.Fatalf("c[%d] = %g, want %g", i, c[i], want[i])
			}
		}
	}
}

// In steady state Sgemm allocates nothing: packing buffers and the parallel
// split's bookkeeping are pooled.
func TestSgemmNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items")
	}
	r := rand.New(rand.NewPCG(7, 8))
	eachPath(t, func(path string) {
		for _, sz := range [][3]int{{6, 784, 25}, {64, 576, 64}, {130, 67, 300}} {
			m, n, k := sz[0], sz[1], sz[2]
			a, b, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
			for i, f := range []func(){
				func() { Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n) },
				func() { Sgemm(false, true, m, n, k, 1, a, k, b, k, 0.5, c, n) },
				func() { Sgemm(true, false, m, n, k, 1, a, m, b, n, 1, c, n) },
			} {
				if allocs := testing.AllocsPerRun(20, f); allocs != 0 {
					t.Errorf("%s %v case %d: %g allocations per call", path, sz, i, allocs)
				}
			}
		}
	})
}

// benchShapes: the five anchor shapes of torch_anchor.py, then per-sample
// convolution products (LeNet's conv1 and conv3, a ResNet-20 stage-3 conv).
var benchShapes = [][3]int{
	{64, 1024, 576}, {128, 256, 1152}, {256, 196, 2304}, {512, 512, 512}, {16, 50176, 27},
	{6, 784, 25}, {16, 100, 150}, {64, 576, 64},
}

// BenchmarkSgemm times Sgemm on every path, gonum's Sgemm (the portable
// reference this package used before) and the naive loop, reporting GFLOPS:
//
//	go test -run NONE -bench Sgemm ./nn/kernel/
func BenchmarkSgemm(b *testing.B) {
	impls := map[string]func(m, n, k int, a, bb, c []float32){}
	order := []string{}
	for _, p := range Paths() {
		impls[p] = func(m, n, k int, a, bb, c []float32) {
			Sgemm(false, false, m, n, k, 1, a, k, bb, n, 0, c, n)
		}
		order = append(order, p)
	}
	var g gonum.Implementation
	impls["gonum"] = func(m, n, k int, a, bb, c []float32) {
		g.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, bb, n, 0, c, n)
	}
	impls["naive"] = func(m, n, k int, a, bb, c []float32) {
		SgemmNaive(false, false, m, n, k, 1, a, k, bb, n, 0, c, n)
	}
	order = append(order, "gonum", "naive")
	r := rand.New(rand.NewPCG(9, 10))
	for _, sz := range benchShapes {
		m, n, k := sz[0], sz[1], sz[2]
		a, bb, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
		for _, name := range order {
			f := impls[name]
			b.Run(fmt.Sprintf("%dx%dx%d/%s", m, n, k, name), func(b *testing.B) {
				if prev, err := UsePath(name); err == nil {
					defer UsePath(prev)
				}
				f(m, n, k, a, bb, c)
				b.ResetTimer()
				for b.Loop() {
					f(m, n, k, a, bb, c)
				}
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
			})
		}
	}
}
