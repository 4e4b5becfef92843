package kernel

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// Sgemm equals the naive triple loop for every transpose combination, odd
// sizes and non-trivial alpha, beta and leading dimensions.
func TestSgemmMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, sz := range [][3]int{{1, 1, 1}, {3, 5, 7}, {17, 33, 65}, {64, 130, 9}, {6, 784, 25}} {
		m, n, k := sz[0], sz[1], sz[2]
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				lda, ldb, ldc := k+1, n+2, n+3
				if ta {
					lda = m + 1
				}
				if tb {
					ldb = k + 2
				}
				a, b := randSlice(r, 200+max(m, k)*lda), randSlice(r, 200+max(k, n)*ldb)
				c1 := randSlice(r, m*ldc)
				c2 := append([]float32(nil), c1...)
				Sgemm(ta, tb, m, n, k, 0.5, a, lda, b, ldb, 0.25, c1, ldc)
				SgemmNaive(ta, tb, m, n, k, 0.5, a, lda, b, ldb, 0.25, c2, ldc)
				for i := range c1 {
					if d := math.Abs(float64(c1[i] - c2[i])); d > 1e-4*float64(k) {
						t.Fatalf("%dx%dx%d ta=%v tb=%v: c[%d] = %g, naive %g", m, n, k, ta, tb, i, c1[i], c2[i])
					}
				}
			}
		}
	}
}

// Col2im is the adjoint of Im2col: <Im2col(x), c> = <x, Col2im(c)> for any x
// and c, which is exactly what convolution's backward needs.
func TestCol2imIsAdjoint(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, g := range [][6]int{{2, 5, 6, 3, 1, 1}, {3, 7, 7, 3, 2, 0}, {1, 8, 5, 2, 3, 2}} {
		for _, d := range []int{1, 2} {
			c, h, w, k, s, p := g[0], g[1], g[2], g[3], g[4], g[5]
			oh, ow := (h+2*p-d*(k-1)-1)/s+1, (w+2*p-d*(k-1)-1)/s+1
			if oh <= 0 || ow <= 0 {
				continue
			}
			x := randSlice(r, c*h*w)
			cols := randSlice(r, c*k*k*oh*ow)
			got := make([]float32, len(cols))
			Im2col(x, c, h, w, k, s, p, d, oh, ow, got)
			back := make([]float32, len(x))
			Col2im(cols, c, h, w, k, s, p, d, oh, ow, back)
			var lhs, rhs float64
			for i := range cols {
				lhs += float64(got[i]) * float64(cols[i])
			}
			for i := range x {
				rhs += float64(x[i]) * float64(back[i])
			}
			if math.Abs(lhs-rhs) > 1e-3*math.Max(1, math.Abs(lhs)) {
				t.Errorf("%v d=%d: <im2col x, c> = %g, <x, col2im c> = %g", g, d, lhs, rhs)
			}
		}
	}
}

func TestParallelForCoversRange(t *testing.T) {
	for _, n := range []int{0, 1, 7, 100} {
		seen := make([]int, n)
		ParallelFor(n, func(w, i int) {
			if w < 0 || w >= Workers() {
				t.Errorf("worker %d", w)
			}
			seen[i]++
		})
		for i, v := range seen {
			if v != 1 {
				t.Fatalf("n=%d: index %d ran %d times", n, i, v)
			}
		}
	}
}

// A parallel loop's shares beyond the caller's run on Sgemm's pool helpers
// (fanOut), no new goroutine per loop; loops nested in a share, and loops
// from many goroutines at once, which find the helpers busy, run their
// shares on goroutines of their own and still cover their range once.
func TestParallelLoopsShareTheHelpers(t *testing.T) {
	if Workers() < 2 {
		t.Skip("one core: nothing to share")
	}
	ParallelFor(Workers(), func(int, int) {}) // the helpers exist from here on
	before := runtime.NumGoroutine()
	var during atomic.Int32
	ParallelFor(Workers(), func(w, _ int) {
		if w == 1 {
			during.Store(int32(runtime.NumGoroutine()))
		}
	})
	if int(during.Load()) != before {
		t.Errorf("%d goroutines during a loop, %d before: its shares did not run on the helpers", during.Load(), before)
	}
	const n = 37
	var wg sync.WaitGroup
	counts := make([][n]atomic.Int32, 8)
	for c := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ParallelFor(n, func(_, i int) {
				var covered atomic.Int64
				ParallelRange(4*elemChunk, func(lo, hi int) { covered.Add(int64(hi - lo)) })
				if covered.Load() != 4*elemChunk {
					t.Errorf("a nested ParallelRange covered %d of %d", covered.Load(), 4*elemChunk)
				}
				counts[c][i].Add(1)
			})
		}()
	}
	wg.Wait()
	for c := range counts {
		for i := range counts[c] {
			if v := counts[c][i].Load(); v != 1 {
				t.Fatalf("caller %d: index %d ran %d times", c, i, v)
			}
		}
	}
	if crowded.Load() != 0 || saturating.Load() != 0 {
		t.Errorf("crowded %d, saturating %d after every loop returned", crowded.Load(), saturating.Load())
	}
}

// A parallel call returns only once every share is done, however the
// helpers' finishing interleaves with the caller handing shares out: with
// four workers, the first helper done at once and the others past the
// caller's polling (helperSpin).
func TestParallelLoopsWaitForEveryHelper(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	for range 20 {
		var done [4]atomic.Bool
		ParallelFor(4, func(w, _ int) {
			if w >= 2 {
				time.Sleep(2 * helperSpin)
			}
			done[w].Store(true)
		})
		for w := range done {
			if !done[w].Load() {
				t.Fatalf("ParallelFor returned before worker %d's share was done", w)
			}
		}
	}
}

// While a ParallelFor keeps every core busy, products inside it stay on
// their goroutine (saturating); a product inside one that leaves a core
// free, and any product after it returns, may split again. The products
// still match the naive loop.
func TestParallelForSaturatesCores(t *testing.T) {
	if Workers() < 2 {
		t.Skip("one core: nothing to saturate")
	}
	const m, n, k = 96, 128, 160 // large enough to split (m*n*k >= parMin)
	r := rand.New(rand.NewPCG(9, 10))
	a, b := randSlice(r, m*k), randSlice(r, k*n)
	want := make([]float32, m*n)
	SgemmNaive(false, false, m, n, k, 1, a, k, b, n, 0, want, n)
	got := make([][]float32, Workers())
	ParallelFor(Workers(), func(w, _ int) {
		if saturating.Load() == 0 {
			t.Error("ParallelFor over every core does not mark the cores busy")
		}
		got[w] = make([]float32, m*n)
		Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, got[w], n)
	})
	ParallelFor(1, func(int, int) {
		if saturating.Load() != 0 {
			t.Error("ParallelFor on one goroutine marks the cores busy")
		}
	})
	if saturating.Load() != 0 {
		t.Fatalf("saturating = %d after ParallelFor returned", saturating.Load())
	}
	for w, g := range got {
		for i := range g {
			if d := g[i] - want[i]; d > 1e-3 || d < -1e-3 {
				t.Fatalf("worker %d: C[%d] = %g, naive %g", w, i, g[i], want[i])
			}
		}
	}
}
