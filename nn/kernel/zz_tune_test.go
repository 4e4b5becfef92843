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
