//go:build amd64 && !noasm

package kernel

// The assembly paths on amd64 (kernels generated into sgemm_amd64.s and
// tables_amd64.go by asm/main.go), chosen at run time from what the CPU and OS support.

import "golang.org/x/sys/cpu"

// avx512Kernels: 6×64 tiles (6 rows × 4 zmm: 24 accumulators); a packed
// B micro-panel is kc×64 floats, 32 KiB at kc = 128, so it stays in L1.
var avx512Kernels = &kernelSet{
	name: "avx512", mr: 6, w: 16, nv: 4,
	kc: 128, mc: 768, nc: 2048,
	tile: tilesAVX512, pack: tilesAVX512P, rows: tilesAVX512T, gather: tilesAVX512G,
	transpose: transposeAVX512, tb: 16,
}

// avx2Kernels: 6×16 tiles (6 rows × 2 ymm: 12 accumulators); a packed B
// micro-panel is kc×16 floats, 16 KiB at kc = 256.
var avx2Kernels = &kernelSet{
	name: "avx2", mr: 6, w: 8, nv: 2,
	kc: 256, mc: 384, nc: 2048,
	tile: tilesAVX2, pack: tilesAVX2P, rows: tilesAVX2T,
	transpose: transposeAVX2, tb: 8,
}

// asmKernels lists the assembly paths this CPU runs, fastest first.
func asmKernels() []*kernelSet {
	var s []*kernelSet
	if cpu.X86.HasAVX512F {
		s = append(s, avx512Kernels)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		s = append(s, avx2Kernels)
	}
	return s
}

// useAVX2 selects the assembly of elementwise_amd64.s for the elementwise
// loops (elementwise.go); tests turn it off to compare with the Go loops.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA
