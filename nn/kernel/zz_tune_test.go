package kernel

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestZZTune(t *testing.T) {
	spec := os.Getenv("TUNE")
	if spec == "" {
		t.Skip()
	}
	ks := avx512Kernels
	for _, f := range strings.Split(spec, ";") {
		kv := strings.Split(f, "=")
		var vals []int
		for _, v := range strings.Split(kv[1], ",") {
			x, _ := strconv.Atoi(v)
			vals = append(vals, x)
		}
		for _, v := range vals {
			switch kv[0] {
			case "kc":
				ks.kc = v
			case "nc":
				ks.nc = v
			case "split":
				forceSplit = v
			case "mc":
				ks.mc = v
			}
			fmt.Printf("%s=%d:", kv[0], v)
			for _, s := range benchShapes[:5] {
				fmt.Printf(" %7.1f", BenchSgemm(s[0], s[1], s[2], 20, 5))
			}
			fmt.Println()
		}
	}
}

func TestZZPeak(t *testing.T) {
	if os.Getenv("TUNE") == "" {
		t.Skip()
	}
	for _, k := range []int{64, 128, 256} {
		a := make([]float32, 6*k)
		b := make([]float32, k*64)
		c := make([]float32, 6*64)
		for _, kern := range []struct {
			name string
			f    microKernel
		}{{"R6V4", sgemmAVX512R6V4}, {"R4V4", sgemmAVX512R4V4}, {"R6V2", sgemmAVX512R6V2}} {
			best := 0.0
			for w := 0; w < 5; w++ {
				n := 20000
				st := testingNow()
				for i := 0; i < n; i++ {
					kern.f(k, &a[0], k, &b[0], &c[0], 64, 1, 1)
				}
				el := testingSince(st)
				rows := map[string]float64{"R6V4": 6 * 64, "R4V4": 4 * 64, "R6V2": 6 * 32}[kern.name]
				best = max(best, 2*rows*float64(k)*float64(n)/el/1e9)
			}
			fmt.Printf("k=%d %s %.1f GFLOPS\n", k, kern.name, best)
		}
	}
}

func TestZZProf(t *testing.T) {
	s := os.Getenv("PROFSHAPE")
	if s == "" {
		t.Skip()
	}
	var m, n, k int
	fmt.Sscanf(s, "%dx%dx%d", &m, &n, &k)
	fmt.Println(BenchSgemm(m, n, k, 400, 3))
}

func TestZZHalves(t *testing.T) {
	s := os.Getenv("HALVES")
	if s == "" {
		t.Skip()
	}
	var m, n, k int
	fmt.Sscanf(s, "%dx%dx%d", &m, &n, &k)
	a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	for i := range a {
		a[i] = 1
	}
	for i := range b {
		b[i] = 1
	}
	ks := avx512Kernels
	half := n / 2
	run := func(part int) {
		ws := wsPool.Get().(*workspace)
		ks.gemm(ws, false, false, m, half, k, 1, a, k, b[part*half:], n, 0, c[part*half:], n)
		wsPool.Put(ws)
	}
	const iters = 200
	best := func(f func()) float64 {
		bt := 1e9
		for w := 0; w < 5; w++ {
			st := testingNow()
			for i := 0; i < iters; i++ {
				f()
			}
			bt = min(bt, testingSince(st)/iters*1e6)
		}
		return bt
	}
	alone := best(func() { run(0) })
	both := best(func() {
		done := make(chan bool)
		go func() { run(1); done <- true }()
		run(0)
		<-done
	})
	// both halves concurrently in two long-running goroutines, no per-call sync
	var conc float64
	{
		done := make(chan float64)
		for p := 0; p < 2; p++ {
			go func() { done <- best(func() { run(p) }) }()
		}
		conc = max(<-done, <-done)
	}
	full := best(func() { Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n) })
	fmt.Printf("%s: half alone %.1fus, halves concurrently (spawn per call) %.1fus, free-running %.1fus, Sgemm %.1fus\n", s, alone, both, conc, full)
}
