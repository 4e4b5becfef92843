package kernel

import (
	"runtime"
	"sync"
)

// Workers is the number of goroutines ParallelFor uses: one per core.
func Workers() int { return runtime.GOMAXPROCS(0) }

// ParallelFor calls fn(worker, i) for every i in [0, n), splitting the range
// into contiguous chunks, one per worker; worker is in [0, Workers()) so fn
// can index per-worker scratch buffers. It returns when all calls are done.
func ParallelFor(n int, fn func(worker, i int)) {
	w := min(Workers(), n)
	if w <= 1 {
		for i := 0; i < n; i++ {
			fn(0, i)
		}
		return
	}
	var wg sync.WaitGroup
	for id := 0; id < w; id++ {
		lo, hi := id*n/w, (id+1)*n/w
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				fn(id, i)
			}
		}()
	}
	wg.Wait()
}
