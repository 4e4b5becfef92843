// Command elementwise generates convscope's vectorised elementwise kernels
// with avo: ../../elementwise_amd64.s and their Go declarations
// ../../elementwise_stubs_amd64.go. Regenerate with
//
//	cd nn/kernel/asm/elementwise && go run . -out ../../elementwise_amd64.s -stubs ../../elementwise_stubs_amd64.go -pkg kernel
//
// (go generate ./nn/kernel/ runs the same). The kernels use AVX2 and FMA
// (8 floats per ymm register): these loops stream memory, so wider vectors
// would buy little. Each takes n, a multiple of 8; the Go wrappers in
// elementwise.go do the last n%8 elements. The main loop handles 4 vectors
// (32 floats) a step with independent accumulators, then one vector a step.
// Reductions leave their 8 lane sums in out and the wrapper adds them up.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

const (
	unroll = 4  // vectors per step of the main loop
	lanes  = 8  // floats per ymm register
	vbytes = 32 // bytes per ymm register
)

func main() {
	ConstraintExpr("amd64,!noasm")
	sums()
	sumDot()
	affine()
	linearCombination()
	clamp()
	maskBetween()
	add()
	axpy()
	dot()
	Generate()
}

// pointers loads the named pointer arguments.
func pointers(names ...string) []GPVirtual {
	p := make([]GPVirtual, len(names))
	for i, n := range names {
		p[i] = Load(Param(n), GP64()).(GPVirtual)
	}
	return p
}

// broadcast loads the named float32 argument into every lane of a register.
func broadcast(name string) VecVirtual {
	x := Load(Param(name), XMM())
	y := YMM()
	VBROADCASTSS(x, y)
	return y
}

// at is the v-th vector from p.
func at(p GPVirtual, v int) Mem { return Mem{Base: p, Disp: v * vbytes} }

// loops emits the main loop (unroll vectors a step) and the single-vector
// loop over n floats; body(k) handles k vectors from the current pointers.
func loops(n GPVirtual, ptrs []GPVirtual, body func(k int)) {
	for _, k := range []int{unroll, 1} {
		top, done := fmt.Sprintf("loop%d", k), fmt.Sprintf("done%d", k)
		Label(top)
		CMPQ(n, Imm(uint64(lanes*k)))
		JL(LabelRef(done))
		body(k)
		for _, p := range ptrs {
			ADDQ(Imm(uint64(vbytes*k)), p)
		}
		SUBQ(Imm(uint64(lanes*k)), n)
		JMP(LabelRef(top))
		Label(done)
	}
}

// zeros returns k zeroed accumulators.
func zeros(k int) []VecVirtual {
	acc := make([]VecVirtual, k)
	for i := range acc {
		acc[i] = YMM()
		VXORPS(acc[i], acc[i], acc[i])
	}
	return acc
}

// storeSum adds the accumulators and stores their lanes at out+disp.
func storeSum(acc []VecVirtual, out GPVirtual, disp int) {
	for i := 1; i < len(acc); i++ {
		VADDPS(acc[i], acc[0], acc[0])
	}
	VMOVUPS(acc[0], Mem{Base: out, Disp: disp})
}

func sums() {
	TEXT("sumsAVX2", NOSPLIT, "func(x *float32, n int, mu float32, out *[16]float32)")
	Doc("sumsAVX2 leaves the lanes of sum(x-mu) in out[:8] and of sum((x-mu)²) in out[8:].")
	p := pointers("x")
	n := Load(Param("n"), GP64()).(GPVirtual)
	mu := broadcast("mu")
	s, q := zeros(unroll), zeros(unroll)
	loops(n, p, func(k int) {
		for v := 0; v < k; v++ {
			x := YMM()
			VMOVUPS(at(p[0], v), x)
			VSUBPS(mu, x, x)
			VADDPS(x, s[v], s[v])
			VFMADD231PS(x, x, q[v])
		}
	})
	out := pointers("out")[0]
	storeSum(s, out, 0)
	storeSum(q, out, vbytes)
	VZEROUPPER()
	RET()
}

func sumDot() {
	TEXT("sumDotAVX2", NOSPLIT, "func(d, x *float32, n int, mu float32, out *[16]float32)")
	Doc("sumDotAVX2 leaves the lanes of sum(d) in out[:8] and of sum(d*(x-mu)) in out[8:].")
	p := pointers("d", "x")
	n := Load(Param("n"), GP64()).(GPVirtual)
	mu := broadcast("mu")
	s, q := zeros(unroll), zeros(unroll)
	loops(n, p, func(k int) {
		for v := 0; v < k; v++ {
			d, x := YMM(), YMM()
			VMOVUPS(at(p[0], v), d)
			VMOVUPS(at(p[1], v), x)
			VSUBPS(mu, x, x)
			VADDPS(d, s[v], s[v])
			VFMADD231PS(d, x, q[v])
		}
	})
	out := pointers("out")[0]
	storeSum(s, out, 0)
	storeSum(q, out, vbytes)
	VZEROUPPER()
	RET()
}

func affine() {
	TEXT("affineAVX2", NOSPLIT, "func(dst, x *float32, n int, a, b float32)")
	Doc("affineAVX2 sets dst = a*x + b.")
	p := pointers("dst", "x")
	n := Load(Param("n"), GP64()).(GPVirtual)
	a, b := broadcast("a"), broadcast("b")
	loops(n, p, func(k int) {
		for v := 0; v < k; v++ {
			x := YMM()
			VMOVUPS(at(p[1], v), x)
			VFMADD213PS(b, a, x)
			VMOVUPS(x, at(p[0], v))
		}
	})
	VZEROUPPER()
	RET()
}

func linearCombination() {
	TEXT("linearCombinationAVX2", NOSPLIT, "func(dst, d, x *float32, n int, a, b, mu, c float32)")
	Doc("linearCombinationAVX2 sets dst = a*d + b*(x-mu) + c.")
	p := pointers("dst", "d", "x")
	n := Load(Param("n"), GP64()).(GPVirtual)
	a, b, mu, c := broadcast("a"), broadcast("b"), broadcast("mu"), broadcast("c")
	loops(n, p, func(k int) {
		for v := 0; v < k; v++ {
			x := YMM()
			VMOVUPS(at(p[2], v), x)
			VSUBPS(mu, x, x)
			VFMADD213PS(c, b, x)
			VFMADD231PS(at(p[1], v), a, x)
			VMOVUPS(x, at(p[0], v))
		}
	})
	VZEROUPPER()
	RET()
}

func clamp() {
	TEXT("clampAVX2", NOSPLIT, "func(dst, x *float32, n int, lo, hi float32)")
	Doc("clampAVX2 sets dst = min(max(x, lo), hi); a NaN in x stays NaN.")
	p := pointers("dst", "x")
	n := Load(Param("n"), GP64()).(GPVirtual)
	lo, hi := broadcast("lo"), broadcast("hi")
	loops(n, p, func(k int) {
		for v := 0; v < k; v++ {
			x, y := YMM(), YMM()
			VMOVUPS(at(p[1], v), x)
			// MAXPS and MINPS return their second source operand (Go's
			// first) when either is NaN: x, so NaN propagates.
			VMAXPS(x, lo, y)
			VMINPS(y, hi, y)
			VMOVUPS(y, at(p[0], v))
		}
	})
	VZEROUPPER()
	RET()
}

func maskBetween() {
	TEXT("maskBetweenAVX2", NOSPLIT, "func(dst, dy, x *float32, n int, lo, hi float32)")
	Doc("maskBetweenAVX2 sets dst = dy where lo < x < hi, else +0 (also where x is NaN).")
	p := pointers("dst", "dy", "x")
	n := Load(Param("n"), GP64()).(GPVirtual)
	lo, hi := broadcast("lo"), broadcast("hi")
	loops(n, p, func(k int) {
		for v := 0; v < k; v++ {
			x, above, below := YMM(), YMM(), YMM()
			VMOVUPS(at(p[2], v), x)
			VCMPPS(Imm(0x1e), lo, x, above) // GT_OQ: x > lo
			VCMPPS(Imm(0x11), hi, x, below) // LT_OQ: x < hi
			VANDPS(above, below, below)
			VANDPS(at(p[1], v), below, below)
			VMOVUPS(below, at(p[0], v))
		}
	})
	VZEROUPPER()
	RET()
}

func add() {
	TEXT("addAVX2", NOSPLIT, "func(dst, a, b *float32, n int)")
	Doc("addAVX2 sets dst = a + b.")
	p := pointers("dst", "a", "b")
	n := Load(Param("n"), GP64()).(GPVirtual)
	loops(n, p, func(k int) {
		for v := 0; v < k; v++ {
			x := YMM()
			VMOVUPS(at(p[1], v), x)
			VADDPS(at(p[2], v), x, x)
			VMOVUPS(x, at(p[0], v))
		}
	})
	VZEROUPPER()
	RET()
}

func axpy() {
	TEXT("axpyAVX2", NOSPLIT, "func(dst, x *float32, n int, a float32)")
	Doc("axpyAVX2 sets dst += a*x (one rounding per element: a fused multiply-add).")
	p := pointers("dst", "x")
	n := Load(Param("n"), GP64()).(GPVirtual)
	a := broadcast("a")
	loops(n, p, func(k int) {
		for v := 0; v < k; v++ {
			y := YMM()
			VMOVUPS(at(p[0], v), y)
			VFMADD231PS(at(p[1], v), a, y)
			VMOVUPS(y, at(p[0], v))
		}
	})
	VZEROUPPER()
	RET()
}

func dot() {
	TEXT("dotAVX2", NOSPLIT, "func(a, b *float32, n int, out *[8]float32)")
	Doc("dotAVX2 leaves the lanes of sum(a*b) in out.")
	p := pointers("a", "b")
	n := Load(Param("n"), GP64()).(GPVirtual)
	s := zeros(unroll)
	loops(n, p, func(k int) {
		for v := 0; v < k; v++ {
			x := YMM()
			VMOVUPS(at(p[0], v), x)
			VFMADD231PS(at(p[1], v), x, s[v])
		}
	})
	storeSum(s, pointers("out")[0], 0)
	VZEROUPPER()
	RET()
}
