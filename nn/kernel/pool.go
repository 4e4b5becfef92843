package kernel

// Sgemm's split across cores: a persistent pool of helper goroutines, one per
// core beyond the caller's. The caller computes one part itself and hands
// each other part to an idle helper; when none is idle (another Sgemm holds
// it, as when convolution already runs one sample per core) it computes that
// part too, so nested callers never wait on each other. Each part is a
// rectangle of C, computed by the blocked driver with its own workspace;
// parts never share memory they write. The same helpers run the shares of
// the parallel loops (ParallelFor, ParallelRange, ParallelTasks: fanOut).
//
// Handing work over through the Go scheduler alone is slow here: a goroutine
// woken by a channel send waits in the sender's run queue, often until the
// sender blocks, which costs more than 100µs a product. So a helper that has
// just finished a part keeps polling for the next one for helperSpin (with
// runtime.Gosched, so it gives way to any other goroutine that wants its
// core) before it parks on a channel, and the caller polls for its helpers'
// completion the same way before it blocks. A product stream, as in training,
// then never parks; an idle program stops spinning after helperSpin.

import (
	"context"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// parMin is the work (m*n*k multiply-adds) below which Sgemm stays on
	// the calling goroutine: measured, products of half a million
	// multiply-adds or more gain from a second core, smaller ones lose.
	parMin = 1 << 19
	// helperSpin is how long an idle helper, or a caller waiting for its
	// helpers, polls before it parks.
	helperSpin = 200 * time.Microsecond
)

var (
	wsPool   = sync.Pool{New: func() any { return new(workspace) }}
	callPool = sync.Pool{New: func() any { return &gemmCall{done: make(chan struct{}, 1)} }}

	helpersMu sync.Mutex
	helpers   atomic.Pointer[[]*helper] // grows, never shrinks
)

// helper is one pool goroutine. A caller claims it by swapping its own job
// into job (nil when the helper is free) and wakes it if it sleeps.
type helper struct {
	job      atomic.Pointer[gemmJob]
	sleeping atomic.Bool
	wake     chan struct{}
}

func (h *helper) loop() {
	for {
		j := h.job.Load()
		if j == nil {
			j = h.poll()
		}
		if j == nil {
			h.sleeping.Store(true)
			if h.job.Load() == nil { // a claim after this finds sleeping set
				<-h.wake
			}
			h.sleeping.Store(false)
			continue
		}
		if j.labels != nil {
			pprof.SetGoroutineLabels(*j.labels)
			j.run()
			pprof.SetGoroutineLabels(context.Background())
		} else {
			j.run()
		}
		call := j.call
		h.job.Store(nil)
		call.finish()
	}
}

// poll waits up to helperSpin for a job.
func (h *helper) poll() *gemmJob {
	start := time.Now()
	for i := 1; ; i++ {
		if j := h.job.Load(); j != nil {
			return j
		}
		if crowded.Load() > 0 {
			return nil // every core is busy: park until claimed
		}
		runtime.Gosched()
		if i%16 == 0 && time.Since(start) > helperSpin {
			return nil
		}
	}
}

// claim gives j to the helper if it is free.
func (h *helper) claim(j *gemmJob) bool {
	if !h.job.CompareAndSwap(nil, j) {
		return false
	}
	if h.sleeping.Load() {
		select {
		case h.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// startHelpers makes sure n helpers exist and returns them all.
func startHelpers(n int) []*helper {
	if hs := helpers.Load(); hs != nil && len(*hs) >= n {
		return *hs
	}
	helpersMu.Lock()
	defer helpersMu.Unlock()
	var hs []*helper
	if p := helpers.Load(); p != nil {
		hs = *p
	}
	for len(hs) < n {
		h := &helper{wake: make(chan struct{}, 1)}
		hs = append(hs, h)
		go h.loop()
	}
	helpers.Store(&hs)
	return hs
}

// gemmJob is one part of a product: the blocked driver's arguments.
type gemmJob struct {
	ks             *kernelSet
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
	src            ConvInput // B when src.X is not nil: its part of an implicit product
	win            windows   // B's row offsets into b (and its columns'), when not nil (SgemmRows, SgemmGather)
	call           *gemmCall
	helped         bool // handed to a helper (else the caller computes it)
	// task, when not nil, is what the job runs instead of a product: a
	// parallel loop's share, task(id) (fanOut).
	task func(id int)
	id   int
	// labels are the caller's pprof labels (profiling only), which the
	// helper wears while it computes the part.
	labels *context.Context
}

func (j *gemmJob) run() {
	if j.task != nil {
		j.task(j.id)
		return
	}
	ws := wsPool.Get().(*workspace)
	var src *ConvInput
	if j.src.X != nil {
		src = &j.src
	}
	j.ks.gemm(ws, j.transA, j.transB, j.m, j.n, j.k, j.alpha, j.a, j.lda, j.b, j.ldb, j.win, j.beta, j.c, j.ldc, src)
	wsPool.Put(ws)
}

// gemmCall is one parallel Sgemm call's parts, reused through callPool.
// pending counts parts still with helpers, plus one that the caller holds
// until it waits (begin, wait), so that it cannot reach zero while the
// caller is still handing parts out; the last one to finish and the caller
// about to block race on state (0 → 1: helpers done first; 0 → 2: the
// caller sleeps on done and the last helper must wake it).
type gemmCall struct {
	jobs    []gemmJob
	pending atomic.Int32
	state   atomic.Int32
	done    chan struct{}
}

// begin readies c for a call: no part handed out, the caller's count held.
func (c *gemmCall) begin() {
	c.pending.Store(1)
	c.state.Store(0)
}

func (c *gemmCall) finish() {
	if c.pending.Add(-1) == 0 && !c.state.CompareAndSwap(0, 1) {
		c.done <- struct{}{}
	}
}

// wait drops the caller's count and returns once every helped part is
// done (at once when none was handed out).
func (c *gemmCall) wait() {
	if c.pending.Add(-1) == 0 {
		return
	}
	start := time.Now()
	for i := 1; c.pending.Load() > 0; i++ {
		runtime.Gosched()
		if i%16 == 0 && time.Since(start) > helperSpin {
			break
		}
	}
	if c.state.CompareAndSwap(0, 2) {
		<-c.done
	}
}

// sgemmParallel splits C into parts, one per core for large products: whole
// vectors of columns when C is wider than it is tall (each part packs its
// own columns of B, so B is packed once in all and A is only read), else
// whole tiles of rows (each part packs all of B, which is then the narrow
// operand).
func sgemmParallel(ks *kernelSet, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmParallelFrom(ks, transA, transB, m, n, k, alpha, a, lda, b, ldb, windows{}, nil, beta, c, ldc)
}

// sgemmParallelFrom is sgemmParallel with B taken from src's unrolled
// images when src is not nil (b is then unused), or with B's row r at
// b[win.rows[r]:] when win.rows is not nil (ldb is then unused), its
// columns at win.cols when that is not nil too.
func sgemmParallelFrom(ks *kernelSet, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, win windows, src *ConvInput, beta float32, c []float32, ldc int) {
	// One part per core, but no part below parMin, and one part when the
	// cores are already busy with the caller's siblings (saturating).
	parts := min(Workers(), max(1, m*n*k/parMin))
	if saturating.Load() > 0 {
		parts = 1
	}
	nvec, mt := (n+ks.w-1)/ks.w, (m+ks.mr-1)/ks.mr
	splitN := n > m && nvec >= parts || mt < parts
	if splitN {
		parts = min(parts, nvec)
	} else {
		parts = min(parts, mt)
	}
	if parts <= 1 {
		ws := wsPool.Get().(*workspace)
		ks.gemm(ws, transA, transB, m, n, k, alpha, a, lda, b, ldb, win, beta, c, ldc, src)
		wsPool.Put(ws)
		return
	}
	hs := startHelpers(parts - 1)
	call := callPool.Get().(*gemmCall)
	if cap(call.jobs) < parts {
		call.jobs = make([]gemmJob, parts)
	}
	call.jobs = call.jobs[:parts]
	call.begin()
	for i := range call.jobs {
		m0, m1, n0, n1 := 0, m, 0, n
		if splitN {
			n0, n1 = nvec*i/parts*ks.w, min(n, nvec*(i+1)/parts*ks.w)
		} else {
			m0, m1 = mt*i/parts*ks.mr, min(m, mt*(i+1)/parts*ks.mr)
		}
		j := &call.jobs[i]
		*j = gemmJob{ks: ks, transA: transA, transB: transB, m: m1 - m0, n: n1 - n0, k: k,
			alpha: alpha, beta: beta, lda: lda, ldb: ldb, ldc: ldc, win: win, call: call, labels: profileLabels.Load()}
		if transA {
			j.a = a[m0:]
		} else {
			j.a = a[m0*lda:]
		}
		switch {
		case src != nil:
			j.src = *src
			j.src.col0 += n0
		case win.cols != nil: // the columns carry their places in b
			j.b = b
			j.win.cols = win.cols[n0:n1]
		case transB:
			j.b = b[n0*ldb:]
		default:
			j.b = b[n0:]
		}
		j.c = c[m0*ldc+n0:]
	}
	// Hand parts 1.. to free helpers; compute part 0 and the rest here.
	for i, h := 1, 0; i < parts && h < len(hs); h++ {
		j := &call.jobs[i]
		call.pending.Add(1)
		if hs[h].claim(j) {
			j.helped = true
			i++
		} else {
			call.pending.Add(-1)
		}
	}

	call.jobs[0].run()
	for i := 1; i < parts; i++ {
		if !call.jobs[i].helped {
			call.jobs[i].run()
		}
	}
	call.wait()
	for i := range call.jobs {
		call.jobs[i] = gemmJob{}
	}
	callPool.Put(call)
}
