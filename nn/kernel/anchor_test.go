package kernel

import (
	"fmt"
	"os"
	"testing"
)

// TestSgemmAnchor prints the five sgemm_gflops figures of torch_anchor.py for
// every path (best of 3 windows of 20 products), to set beside numpy's from
// the same run. It only runs when asked:
//
//	SGEMM_ANCHOR=1 go test -run SgemmAnchor -v ./nn/kernel/
//
// (SGEMM_ANCHOR=avx512 limits it to one path.)
func TestSgemmAnchor(t *testing.T) {
	want := os.Getenv("SGEMM_ANCHOR")
	if want == "" {
		t.Skip("set SGEMM_ANCHOR=1 (or a path name) to print the anchor figures")
	}
	for _, p := range Paths() {
		if want != "1" && want != p {
			continue
		}
		prev, _ := UsePath(p)
		for _, s := range benchShapes[:5] {
			fmt.Printf("%-7s sgemm_gflops.%dx%dx%d %10.2f\n", p, s[0], s[1], s[2], BenchSgemm(s[0], s[1], s[2], 20, 3))
		}
		UsePath(prev)
	}
}
