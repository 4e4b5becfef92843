package kernel

import (
	"math/rand/v2"
	"time"
)

// BenchSgemm measures Sgemm the way ../shared/tools/torch_anchor.py measures
// numpy's: A (m×k) and B (k×n) uniform in [0, 1), one untimed product, then
// the best of `windows` timed windows of `iters` products, in GFLOPS
// (2*m*n*k flops a product). The anchor uses iters = 20, windows = 3. Unlike
// numpy's a @ b, which allocates its result each time, C is reused.
func BenchSgemm(m, n, k, iters, windows int) float64 {
	r := rand.New(rand.NewPCG(uint64(m), uint64(n*k)))
	a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	for i := range a {
		a[i] = r.Float32()
	}
	for i := range b {
		b[i] = r.Float32()
	}
	Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
	best := 0.0
	for w := 0; w < windows; w++ {
		t := time.Now()
		for i := 0; i < iters; i++ {
			Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
		}
		best = max(best, 2*float64(m)*float64(n)*float64(k)*float64(iters)/time.Since(t).Seconds()/1e9)
	}
	return best
}
