package kernel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// saturating counts the ParallelFor and ParallelRange calls now running a
// share on every core. While one does, a product started inside it stays
// on its goroutine (the other cores are busy with its siblings).
var saturating atomic.Int32

// crowded counts the parallel calls now running shares on goroutines of
// their own, beside the helpers (fanOut found them busy). While one does,
// Sgemm's idle helpers park instead of polling, which would take turns on
// the busy cores: in ResNet-20's training step the polling cost 6%.
var crowded atomic.Int32

// saturate marks a parallel call that uses w goroutines; the returned
// function unmarks it.
func saturate(w int) func() {
	if w < Workers() {
		return func() {}
	}
	saturating.Add(1)
	return func() { saturating.Add(-1) }
}

// fanOut calls share(id) for every id in [0, w) and returns when all are
// done: share(0) on the caller's goroutine, the others on Sgemm's pool
// helpers (pool.go) where they are free, else on goroutines of their own.
// A helper that has just finished work polls for more before it parks, so
// a stream of parallel loops (a training step's) hands each share over in
// microseconds; a new goroutine waited 100µs on average to start in a
// ResNet-32 training step (runtime/trace), the other core idle meanwhile.
func fanOut(w int, share func(id int)) {
	defer saturate(w)()
	hs := startHelpers(w - 1)
	call := callPool.Get().(*gemmCall)
	if cap(call.jobs) < w {
		call.jobs = make([]gemmJob, w)
	}
	call.jobs = call.jobs[:w]
	call.begin()
	labels := profileLabels.Load()
	var wg sync.WaitGroup
	spawned := false
	for id, h := 1, 0; id < w; id++ {
		j := &call.jobs[id]
		*j = gemmJob{task: share, id: id, call: call, labels: labels}
		claimed := false
		for ; h < len(hs) && !claimed; h++ {
			call.pending.Add(1)
			if claimed = hs[h].claim(j); !claimed {
				call.pending.Add(-1)
			}
		}
		if claimed {
			continue
		}
		if !spawned {
			crowded.Add(1)
			defer crowded.Add(-1)
			spawned = true
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			share(id)
		}()
	}
	share(0)
	wg.Wait()
	call.wait()
	for i := range call.jobs {
		call.jobs[i] = gemmJob{}
	}
	callPool.Put(call)
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
	fanOut(w, func(id int) {
		for i := id * n / w; i < (id+1)*n/w; i++ {
			fn(id, i)
		}
	})
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
	fanOut(w, func(id int) { fn(id*n/w, (id+1)*n/w) })
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
	var next atomic.Int32
	fanOut(w, func(int) {
		for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
			fn(i)
		}
	})
}
