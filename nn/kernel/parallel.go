package kernel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// saturating counts the ParallelFor and ParallelRange calls now running a
// goroutine on every core. While one does, a product started inside it
// stays on its goroutine (the other cores are busy with its siblings) and
// Sgemm's idle helpers park instead of polling, which would take turns on
// the busy cores: in ResNet-20's training step the polling cost 6%.
var saturating atomic.Int32

// saturate marks a parallel call that uses w goroutines; the returned
// function unmarks it.
func saturate(w int) func() {
	if w < Workers() {
		return func() {}
	}
	saturating.Add(1)
	return func() { saturating.Add(-1) }
}

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
	defer saturate(w)()
	var wg sync.WaitGroup
	for id := 1; id < w; id++ {
		lo, hi := id*n/w, (id+1)*n/w
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				fn(id, i)
			}
		}()
	}
	for i := 0; i < n/w; i++ { // the first chunk on the caller's goroutine
		fn(0, i)
	}
	wg.Wait()
}

// elemChunk is the fewest elements an elementwise pass gives a goroutine of
// its own: below it, starting one costs more than the loop.
const elemChunk = 1 << 15

// ParallelRange calls fn(lo, hi) on contiguous pieces that cover [0, n),
// one per worker when n is large enough to pay for the goroutines, else
// fn(0, n) on the caller's. Which piece goes to which goroutine is fixed by
// n alone, so an elementwise pass computes the same bits every run.
func ParallelRange(n int, fn func(lo, hi int)) {
	w := min(Workers(), n/elemChunk)
	if w <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	defer saturate(w)()
	var wg sync.WaitGroup
	for id := 1; id < w; id++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(id*n/w, (id+1)*n/w)
		}()
	}
	fn(0, n/w)
	wg.Wait()
}

// ParallelTasks calls fn(i) for every i in [0, n), each on whichever
// worker is free next, in order of i: for a few tasks of unequal cost (the
// branches of an Inception module), where fixed chunks would leave a core
// idle. Work started inside stays on its goroutine, as in ParallelFor.
func ParallelTasks(n int, fn func(i int)) {
	w := min(Workers(), n)
	if w <= 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	defer saturate(w)()
	var next atomic.Int32
	var wg sync.WaitGroup
	work := func() {
		for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
			fn(i)
		}
	}
	for id := 1; id < w; id++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
}
