package kernel

// Sgemm's split across cores: a persistent pool of helper goroutines, one per
// core beyond the caller's, fed through a channel. The caller computes one
// part itself and hands each other part to an idle helper; when no helper is
// idle (another Sgemm holds it, as when convolution already runs one sample
// per core) it computes that part too, so nested callers never wait on each
// other. Each part is a rectangle of C and is computed by the blocked driver
// with its own workspace; parts never share memory they write.

import (
	"sync"
	"sync/atomic"
)

// parMin is the work (m*n*k multiply-adds) below which Sgemm stays on the
// calling goroutine: handing a part to a helper costs a few microseconds.
const parMin = 1 << 18

var (
	wsPool   = sync.Pool{New: func() any { return new(workspace) }}
	callPool = sync.Pool{New: func() any { return &gemmCall{done: make(chan struct{}, 64)} }}

	helpers struct {
		sync.Mutex
		started int
		idle    atomic.Int32
		jobs    chan *gemmJob
	}
)

// gemmJob is one part of a product: the blocked driver's arguments.
type gemmJob struct {
	ks             *kernelSet
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
	done           chan struct{}
	inline         bool // computed by the caller, no helper being idle
}

func (j *gemmJob) run() {
	ws := wsPool.Get().(*workspace)
	j.ks.gemm(ws, j.transA, j.transB, j.m, j.n, j.k, j.alpha, j.a, j.lda, j.b, j.ldb, j.beta, j.c, j.ldc)
	wsPool.Put(ws)
}

// gemmCall is one parallel Sgemm call's parts, reused through callPool.
type gemmCall struct {
	jobs []gemmJob
	done chan struct{}
}

// startHelpers makes sure n helpers exist.
func startHelpers(n int) {
	if int(helpers.idle.Load()) >= n {
		return
	}
	helpers.Lock()
	defer helpers.Unlock()
	if helpers.jobs == nil {
		helpers.jobs = make(chan *gemmJob, 64)
	}
	for ; helpers.started < min(n, cap(helpers.jobs)); helpers.started++ {
		helpers.idle.Add(1)
		go func() {
			for j := range helpers.jobs {
				j.run()
				helpers.idle.Add(1)
				j.done <- struct{}{}
			}
		}()
	}
}

// claimHelper reserves an idle helper, or reports that none is idle.
func claimHelper() bool {
	for {
		n := helpers.idle.Load()
		if n <= 0 {
			return false
		}
		if helpers.idle.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// sgemmParallel splits C into parts, one per core for large products: whole
// vectors of columns when C is at least as wide as it is tall (each part packs
// its own columns of B, so B is packed once in all and A is only read), else
// whole tiles of rows (each part packs all of B, which is then the narrow
// operand).
func sgemmParallel(ks *kernelSet, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	parts := 1
	if P := Workers(); P > 1 && m*n*k >= parMin {
		parts = P
	}
	nvec, mt := (n+ks.w-1)/ks.w, (m+ks.mr-1)/ks.mr
	splitN := n >= m && nvec >= parts || mt < parts
	if forceSplit == 1 {
		splitN = true
	} else if forceSplit == 2 {
		splitN = false
	}
	if splitN {
		parts = min(parts, nvec)
	} else {
		parts = min(parts, mt)
	}
	if parts <= 1 {
		ws := wsPool.Get().(*workspace)
		ks.gemm(ws, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		wsPool.Put(ws)
		return
	}
	startHelpers(parts - 1)
	call := callPool.Get().(*gemmCall)
	if cap(call.jobs) < parts {
		call.jobs = make([]gemmJob, parts)
	}
	call.jobs = call.jobs[:parts]
	for i := range call.jobs {
		m0, m1, n0, n1 := 0, m, 0, n
		if splitN {
			n0, n1 = nvec*i/parts*ks.w, min(n, nvec*(i+1)/parts*ks.w)
		} else {
			m0, m1 = mt*i/parts*ks.mr, min(m, mt*(i+1)/parts*ks.mr)
		}
		j := &call.jobs[i]
		*j = gemmJob{ks: ks, transA: transA, transB: transB, m: m1 - m0, n: n1 - n0, k: k,
			alpha: alpha, beta: beta, lda: lda, ldb: ldb, ldc: ldc, done: call.done}
		if transA {
			j.a = a[m0:]
		} else {
			j.a = a[m0*lda:]
		}
		if transB {
			j.b = b[n0*ldb:]
		} else {
			j.b = b[n0:]
		}
		j.c = c[m0*ldc+n0:]
	}
	// Hand parts 1.. to idle helpers; compute part 0 and the rest here.
	sent := 0
	for i := 1; i < parts; i++ {
		j := &call.jobs[i]
		j.inline = !claimHelper()
		if !j.inline {
			helpers.jobs <- j
			sent++
		}
	}
	call.jobs[0].run()
	for i := 1; i < parts; i++ {
		if call.jobs[i].inline {
			call.jobs[i].run()
		}
	}
	for ; sent > 0; sent-- {
		<-call.done
	}
	for i := range call.jobs {
		call.jobs[i] = gemmJob{}
	}
	callPool.Put(call)
}

var forceSplit = 0 // TEMP
