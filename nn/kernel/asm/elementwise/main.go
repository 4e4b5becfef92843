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
	"math"

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
	affineClamp()
	maskBetween()
	add()
	mulAdd()
	axpy()
	dot()
	rational(tanhFn)
	rational(geluFn)
	geluGrad()
	tanhGrad()
	depthwiseTaps()
	tapDots()
	maxTaps()
	maxPoolStride2(2)
	maxPoolStride2(3)
	copyRows()
	epilogueRows(false)
	epilogueRows(true)
	evens()
	winogradInput()
	winogradOutput()
	winogradPhases()
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

// broadcast loads the named float32 argument into every lane of a register,
// straight from the argument's memory: avo's Load would emit MOVSS, and a
// legacy SSE instruction in AVX code costs about 75 ns on Intel's server
// cores (measured: 300 ns instead of 19 ns a LinearCombination of 49
// floats). Kernels here use VEX-encoded instructions only.
func broadcast(name string) VecVirtual {
	y := YMM()
	VBROADCASTSS(argAddr(name), y)
	return y
}

// argAddr is the named argument's place in memory, for instructions that
// read it from there.
func argAddr(name string) Mem {
	arg, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return arg.Addr
}

// at is the v-th vector from p.
func at(p GPVirtual, v int) Mem { return Mem{Base: p, Disp: v * vbytes} }

// loops emits the main loop (unroll vectors a step) and the single-vector
// loop over n floats; body(k) handles k vectors from the current pointers.
func loops(n GPVirtual, ptrs []GPVirtual, body func(k int)) {
	loopsBy(n, ptrs, []int{unroll, 1}, body)
}

// loopsBy is loops with the given steps (vectors a pass, largest first).
func loopsBy(n GPVirtual, ptrs []GPVirtual, steps []int, body func(k int)) {
	for _, k := range steps {
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

// mapKernel emits an elementwise kernel with signature sig over n floats of
// the named pointer arguments, with the named float32 arguments broadcast:
// body handles vector v from the current pointers (the loops of loops).
func mapKernel(name, sig, doc string, ptrs, scalars []string, body func(p []GPVirtual, c []VecVirtual, v int)) {
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape") // nothing is kept: out arrays and offsets may live on the stack
	Doc(doc)
	p := pointers(ptrs...)
	n := Load(Param("n"), GP64()).(GPVirtual)
	c := make([]VecVirtual, len(scalars))
	for i, name := range scalars {
		c[i] = broadcast(name)
	}
	loops(n, p, func(k int) {
		for v := 0; v < k; v++ {
			body(p, c, v)
		}
	})
	VZEROUPPER()
	RET()
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
	Pragma("noescape") // nothing is kept: out arrays and offsets may live on the stack
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
	Pragma("noescape") // nothing is kept: out arrays and offsets may live on the stack
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
	mapKernel("affineAVX2", "func(dst, x *float32, n int, a, b float32)", "affineAVX2 sets dst = a*x + b.",
		[]string{"dst", "x"}, []string{"a", "b"}, func(p []GPVirtual, c []VecVirtual, v int) {
			x := YMM()
			VMOVUPS(at(p[1], v), x)
			VFMADD213PS(c[1], c[0], x)
			VMOVUPS(x, at(p[0], v))
		})
}

func linearCombination() {
	mapKernel("linearCombinationAVX2", "func(dst, d, x *float32, n int, a, b, mu, c float32)",
		"linearCombinationAVX2 sets dst = a*d + b*(x-mu) + c.",
		[]string{"dst", "d", "x"}, []string{"a", "b", "mu", "c"}, func(p []GPVirtual, c []VecVirtual, v int) {
			a, b, mu, cc := c[0], c[1], c[2], c[3]
			x := YMM()
			VMOVUPS(at(p[2], v), x)
			VSUBPS(mu, x, x)
			VFMADD213PS(cc, b, x)
			VFMADD231PS(at(p[1], v), a, x)
			VMOVUPS(x, at(p[0], v))
		})
}

func clamp() {
	mapKernel("clampAVX2", "func(dst, x *float32, n int, lo, hi float32)",
		"clampAVX2 sets dst = min(max(x, lo), hi); a NaN in x stays NaN.",
		[]string{"dst", "x"}, []string{"lo", "hi"}, func(p []GPVirtual, c []VecVirtual, v int) {
			x, y := YMM(), YMM()
			VMOVUPS(at(p[1], v), x)
			// MAXPS and MINPS return their second source operand (Go's
			// first) when either is NaN: x, so NaN propagates.
			VMAXPS(x, c[0], y)
			VMINPS(y, c[1], y)
			VMOVUPS(y, at(p[0], v))
		})
}

func affineClamp() {
	mapKernel("affineClampAVX2", "func(dst, x *float32, n int, a, b, lo, hi float32)",
		"affineClampAVX2 sets dst = min(max(a*x + b, lo), hi): affineAVX2, then clampAVX2, in one pass.",
		[]string{"dst", "x"}, []string{"a", "b", "lo", "hi"}, func(p []GPVirtual, c []VecVirtual, v int) {
			x := YMM()
			VMOVUPS(at(p[1], v), x)
			VFMADD213PS(c[1], c[0], x)
			VMAXPS(x, c[2], x) // x first among the sources: a NaN stays NaN, as in clampAVX2
			VMINPS(x, c[3], x)
			VMOVUPS(x, at(p[0], v))
		})
}

func maskBetween() {
	mapKernel("maskBetweenAVX2", "func(dst, dy, x *float32, n int, lo, hi float32)",
		"maskBetweenAVX2 sets dst = dy where lo < x < hi, else +0 (also where x is NaN).",
		[]string{"dst", "dy", "x"}, []string{"lo", "hi"}, func(p []GPVirtual, c []VecVirtual, v int) {
			x, above, below := YMM(), YMM(), YMM()
			VMOVUPS(at(p[2], v), x)
			VCMPPS(Imm(0x1e), c[0], x, above) // GT_OQ: x > lo
			VCMPPS(Imm(0x11), c[1], x, below) // LT_OQ: x < hi
			VANDPS(above, below, below)
			VANDPS(at(p[1], v), below, below)
			VMOVUPS(below, at(p[0], v))
		})
}

func add() {
	mapKernel("addAVX2", "func(dst, a, b *float32, n int)", "addAVX2 sets dst = a + b.",
		[]string{"dst", "a", "b"}, nil, func(p []GPVirtual, _ []VecVirtual, v int) {
			x := YMM()
			VMOVUPS(at(p[1], v), x)
			VADDPS(at(p[2], v), x, x)
			VMOVUPS(x, at(p[0], v))
		})
}

func mulAdd() {
	mapKernel("mulAVX2", "func(dst, a, b *float32, n int)", "mulAVX2 sets dst = a*b.",
		[]string{"dst", "a", "b"}, nil, func(p []GPVirtual, _ []VecVirtual, v int) {
			x := YMM()
			VMOVUPS(at(p[1], v), x)
			VMULPS(at(p[2], v), x, x)
			VMOVUPS(x, at(p[0], v))
		})
	mapKernel("mulAddAVX2", "func(dst, a, b, c *float32, n int)",
		"mulAddAVX2 sets dst = a*b + c (a fused multiply-add; c may be dst).",
		[]string{"dst", "a", "b", "c"}, nil, func(p []GPVirtual, _ []VecVirtual, v int) {
			x, acc := YMM(), YMM()
			VMOVUPS(at(p[3], v), acc)
			VMOVUPS(at(p[1], v), x)
			VFMADD231PS(at(p[2], v), x, acc)
			VMOVUPS(acc, at(p[0], v))
		})
}

func axpy() {
	mapKernel("axpyAVX2", "func(dst, x *float32, n int, a float32)",
		"axpyAVX2 sets dst += a*x (one rounding per element: a fused multiply-add).",
		[]string{"dst", "x"}, []string{"a"}, func(p []GPVirtual, c []VecVirtual, v int) {
			y := YMM()
			VMOVUPS(at(p[0], v), y)
			VFMADD231PS(at(p[1], v), c[0], y)
			VMOVUPS(y, at(p[0], v))
		})
}

func dot() {
	TEXT("dotAVX2", NOSPLIT, "func(a, b *float32, n int, out *[8]float32)")
	Pragma("noescape") // nothing is kept: out arrays and offsets may live on the stack
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

// oddRational is f(x) = x*P(x²)/Q(x²) on x clamped to ±clamp, the form of
// Eigen's float tanh and erf that kernel.Tanh and kernel.Erf compute in Go.
type oddRational struct {
	name, doc string
	clamp     float32
	tiny      float32   // below it |x| is returned as is (0: no such branch)
	p, q      []float64 // coefficients of P and Q, highest degree first
	gelu      bool      // return 0.5*x*(1+f(s*x)) instead of a*f(s*x)
}

// coefficients are P's then Q's, as float32, for a constant table.
func (f oddRational) coefficients() []float32 {
	var c []float32
	for _, v := range append(append([]float64(nil), f.p...), f.q...) {
		c = append(c, float32(v))
	}
	return c
}

// ratio emits num = x*P(x²)/Q(x²), P's and Q's coefficients at coef(0..);
// den is left holding Q(x²).
func (f oddRational) ratio(coef func(int) Mem, x, x2, num, den VecVirtual) {
	VMOVUPS(coef(0), num)
	for i := 1; i < len(f.p); i++ {
		VFMADD213PS(coef(i), x2, num)
	}
	VMULPS(x, num, num)
	VMOVUPS(coef(len(f.p)), den)
	for i := 1; i < len(f.q); i++ {
		VFMADD213PS(coef(len(f.p)+i), x2, den)
	}
	VDIVPS(den, num, num)
}

var tanhFn = oddRational{name: "tanhAVX2", doc: "tanhAVX2 sets dst = a*tanh(s*x), as kernel.Tanh (NaN stays NaN).",
	clamp: 7.90531110763549805, tiny: 0.0004,
	p: []float64{-2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11, 5.12229709037114e-08,
		1.48572235717979e-05, 6.37261928875436e-04, 4.89352455891786e-03},
	q: []float64{1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03, 4.89352518554385e-03}}

// erfFn is the erf inside geluFn.
var erfFn = oddRational{
	clamp: 4,
	p: []float64{-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06, -5.69250639462346e-05,
		-7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02},
	q: []float64{-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03, -7.37332916720468e-03,
		-1.42647390514189e-02}}

var geluFn = func() oddRational {
	g := erfFn
	g.name, g.doc, g.gelu = "geluAVX2", "geluAVX2 sets dst = 0.5*x*(1+erf(s*x)) (GELU with s = 1/√2), erf as kernel.Erf.", true
	return g
}()

// splat is a read-only table of constants, each repeated in 8 lanes.
func splat(name string, values []float32) Mem {
	m := GLOBL(name, RODATA|NOPTR)
	for i, v := range values {
		for l := 0; l < lanes; l++ {
			DATA(4*(i*lanes+l), U32(math.Float32bits(v)))
		}
	}
	return m
}

func rational(f oddRational) {
	sig := "func(dst, x *float32, n int, s, a float32)"
	TEXT(f.name, NOSPLIT, sig)
	Pragma("noescape") // nothing is kept: out arrays and offsets may live on the stack
	Doc(f.doc)
	// Table: P's and Q's coefficients, then 0.5, 1, the tiny bound and the |x| mask.
	c := append(f.coefficients(), 0.5, 1, f.tiny, math.Float32frombits(0x7fffffff))
	tab := splat(f.name[:len(f.name)-4]+"Coefficients", c)
	coef := func(i int) Mem { return tab.Offset(i * vbytes) }
	half, one, tiny, abs := coef(len(c)-4), coef(len(c)-3), coef(len(c)-2), coef(len(c)-1)

	p := pointers("dst", "x")
	n := Load(Param("n"), GP64()).(GPVirtual)
	sc, a := broadcast("s"), broadcast("a")
	hi, lo := YMM(), YMM()
	VBROADCASTSS(splatScalar(f.clamp), hi)
	VBROADCASTSS(splatScalar(-f.clamp), lo)
	body := func(k int) {
		for v := 0; v < k; v++ {
			x, xc, x2, num, den := YMM(), YMM(), YMM(), YMM(), YMM()
			VMOVUPS(at(p[1], v), x)
			VMULPS(sc, x, x)
			// MAXPS/MINPS return Go's first operand when either is NaN: NaN stays NaN.
			VMAXPS(x, lo, xc)
			VMINPS(xc, hi, xc)
			VMULPS(xc, xc, x2)
			f.ratio(coef, xc, x2, num, den)
			if f.tiny > 0 {
				small := den
				VANDPS(abs, x, small)
				VCMPPS(Imm(0x11), tiny, small, small) // LT_OQ: |s*x| < tiny
				VBLENDVPS(small, x, num, num)
			}
			if f.gelu {
				VADDPS(one, num, num)
				VMOVUPS(at(p[1], v), x)
				VMULPS(x, num, num)
				VMULPS(half, num, num)
			} else {
				VMULPS(a, num, num)
			}
			VMOVUPS(num, at(p[0], v))
		}
	}
	loopsBy(n, p, []int{2, 1}, body)
	VZEROUPPER()
	RET()
}

// geluGrad emits geluGradAVX2, GELU's derivative times dy:
// Φ(x) + x·φ(x), with erf as in geluAVX2 and exp(-x²/2) as Cephes' expf
// (n = round(t·log2 e), r = t - n·ln 2 in two parts, a degree-5
// polynomial, 2^n built in the exponent bits; t is kept above -87 so that
// 2^n stays a normal float).
func geluGrad() {
	TEXT("geluGradAVX2", NOSPLIT, "func(dst, dy, x *float32, n int)")
	Pragma("noescape") // nothing is kept
	Doc("geluGradAVX2 sets dst = dy*(Φ(x) + x*φ(x)), the derivative of GELU, as kernel.GELUGrad.")
	f := erfFn
	c := f.coefficients()
	expPoly := []float32{1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1}
	base := len(c)
	c = append(c, expPoly...)
	c = append(c, 0.5, 1, math.Sqrt2/2, 1.44269504088896341, 0.693359375, -2.12194440e-4,
		float32(1/math.Sqrt(2*math.Pi)), -0.5, math.Float32frombits(127))
	tab := splat("geluGradCoefficients", c)
	coef := func(i int) Mem { return tab.Offset(i * vbytes) }
	p := pointers("dst", "dy", "x")
	n := Load(Param("n"), GP64()).(GPVirtual)
	hi, lo, tmin := YMM(), YMM(), YMM()
	VBROADCASTSS(splatScalar(f.clamp), hi)
	VBROADCASTSS(splatScalar(-f.clamp), lo)
	VBROADCASTSS(splatScalar(-87), tmin)
	// One vector a pass: the body needs most of the 16 registers.
	loopsBy(n, p, []int{1}, func(int) { geluGradVector(f, coef, base, len(expPoly), p, hi, lo, tmin) })
	VZEROUPPER()
	RET()
}

// geluGradVector is geluGradAVX2's body for the vector at p's pointers.
func geluGradVector(f oddRational, coef func(int) Mem, base, nexp int, p []GPVirtual, hi, lo, tmin VecVirtual) {
	k := base + nexp
	half, one, invSqrt2, log2e, ln2hi, ln2lo, invSqrt2Pi, minusHalf, bias := coef(k), coef(k+1), coef(k+2), coef(k+3), coef(k+4), coef(k+5), coef(k+6), coef(k+7), coef(k+8)
	x, u, u2, num, den := YMM(), YMM(), YMM(), YMM(), YMM()
	VMOVUPS(Mem{Base: p[2]}, x)
	// Φ(x) = 0.5 + 0.5*erf(x/√2), erf(u) = u*P(u²)/Q(u²) on u clamped to ±4.
	VMULPS(invSqrt2, x, u)
	VMAXPS(u, lo, u) // NaN stays NaN (first operand)
	VMINPS(u, hi, u)
	VMULPS(u, u, u2)
	f.ratio(coef, u, u2, num, den) // erf
	VMOVUPS(half, den)
	VFMADD213PS(half, den, num) // cdf = 0.5*erf + 0.5
	// φ(x) = exp(t)/√(2π), t = -x²/2 kept above -87.
	t, kk, r, poly := YMM(), YMM(), YMM(), YMM()
	VMULPS(x, x, t)
	VMULPS(minusHalf, t, t)
	VMAXPS(t, tmin, t)
	VMULPS(log2e, t, kk)
	VROUNDPS(Imm(0), kk, kk) // to nearest
	VMOVUPS(t, r)
	VFNMADD231PS(ln2hi, kk, r) // r = t - k*ln2hi
	VFNMADD231PS(ln2lo, kk, r) // r -= k*ln2lo
	VMOVUPS(coef(base), poly)
	for i := 1; i < nexp; i++ {
		VFMADD213PS(coef(base+i), r, poly)
	}
	VMULPS(r, r, u2)
	VFMADD213PS(r, u2, poly) // poly*r² + r
	VADDPS(one, poly, poly)  // exp(r)
	VCVTPS2DQ(kk, kk)
	VPADDD(bias, kk, kk)
	VPSLLD(Imm(23), kk, kk) // 2^k
	VMULPS(kk, poly, poly)
	VMULPS(invSqrt2Pi, poly, poly) // φ(x)
	VFMADD213PS(num, x, poly)      // cdf + x*φ
	VMULPS(Mem{Base: p[1]}, poly, poly)
	VMOVUPS(poly, Mem{Base: p[0]})
}

// copyRows emits copyRowsAVX2, which copies the rows of a plane into the
// interior of a padded one, or back: whole vectors, then the last w%8
// floats of a row through a mask (lanes below w%8), so that nothing past a
// row is read or written and rows shorter than a vector need no loop of
// their own.
func copyRows() {
	TEXT("copyRowsAVX2", NOSPLIT, "func(dst, src *float32, rows, w, ldDst, ldSrc int)")
	Pragma("noescape") // nothing is kept
	Doc("copyRowsAVX2 copies rows rows of w floats, ldSrc floats apart in src, to rows ldDst floats apart in dst.")
	p := pointers("dst", "src")
	dst, src := p[0], p[1]
	rows := Load(Param("rows"), GP64()).(GPVirtual)
	w := Load(Param("w"), GP64()).(GPVirtual)
	ld := Load(Param("ldDst"), GP64()).(GPVirtual)
	lds := Load(Param("ldSrc"), GP64()).(GPVirtual)
	idx := GLOBL("copyRowsLanes", RODATA|NOPTR)
	for l := 0; l < lanes; l++ {
		DATA(4*l, U32(l))
	}
	// mask: lane l on where l < w%8.
	r := GP64()
	MOVQ(w, r)
	ANDQ(Imm(lanes-1), r)
	rx, mask := XMM(), YMM()
	VMOVQ(r, rx) // not MOVQ: see broadcast
	VPBROADCASTD(rx, mask)
	VPCMPGTD(idx, mask, mask)
	wv := GP64() // the floats of a row in whole vectors
	MOVQ(w, wv)
	SHRQ(Imm(3), wv)
	SHLQ(Imm(3), wv)
	SHLQ(Imm(2), ld) // bytes from row to row
	SHLQ(Imm(2), lds)
	Label("rows")
	CMPQ(rows, Imm(0))
	JE(LabelRef("done"))
	j := GP64()
	XORQ(j, j)
	Label("vectors")
	CMPQ(j, wv)
	JGE(LabelRef("tail"))
	v := YMM()
	VMOVUPS(Mem{Base: src, Index: j, Scale: 4}, v)
	VMOVUPS(v, Mem{Base: dst, Index: j, Scale: 4})
	ADDQ(Imm(lanes), j)
	JMP(LabelRef("vectors"))
	Label("tail")
	CMPQ(r, Imm(0))
	JE(LabelRef("next"))
	t := YMM()
	VMASKMOVPS(Mem{Base: src, Index: j, Scale: 4}, mask, t)
	VMASKMOVPS(t, mask, Mem{Base: dst, Index: j, Scale: 4})
	Label("next")
	ADDQ(lds, src)
	ADDQ(ld, dst)
	DECQ(rows)
	JMP(LabelRef("rows"))
	Label("done")
	VZEROUPPER()
	RET()
}

// epilogueRows emits epilogueRowsAVX2, or with residual
// epilogueRowsResidualAVX2: copyRowsAVX2 with a fused evaluation's
// epilogue applied on the way, each value v written as
// min(max(a*v + b, lo), hi) (as affineClampAVX2), then, with residual,
// the residual's value added and the sum clamped to [0, sumHi] (as
// addAVX2 and clampAVX2). The residual's rows are dst's.
func epilogueRows(residual bool) {
	name, sig := "epilogueRowsAVX2", "func(dst, src *float32, rows, w, ldDst, ldSrc int, a, b, lo, hi float32)"
	names := []string{"dst", "src"}
	if residual {
		name, sig = "epilogueRowsResidualAVX2", "func(dst, src, res *float32, rows, w, ldDst, ldSrc int, a, b, lo, hi, sumHi float32)"
		names = append(names, "res")
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape") // nothing is kept
	if residual {
		Doc(name+" sets dst's rows (ldDst floats apart) to min(max(min(max(a*v + b, lo), hi) + r, 0), sumHi)",
			"for src's values v (rows ldSrc apart) and res's r (rows ldDst apart): rows rows of w floats.")
	} else {
		Doc(name+" sets dst's rows (ldDst floats apart) to min(max(a*v + b, lo), hi) for src's values v",
			"(rows ldSrc apart): rows rows of w floats.")
	}
	p := pointers(names...)
	dst, src := p[0], p[1]
	var res GPVirtual
	if residual {
		res = p[2]
	}
	rows := Load(Param("rows"), GP64()).(GPVirtual)
	w := Load(Param("w"), GP64()).(GPVirtual)
	a, b, lo, hi := broadcast("a"), broadcast("b"), broadcast("lo"), broadcast("hi")
	var sumHi, zero VecVirtual
	if residual {
		sumHi = broadcast("sumHi")
		zero = YMM()
		VXORPS(zero, zero, zero)
	}
	idx := GLOBL(name+"Lanes", RODATA|NOPTR)
	for l := 0; l < lanes; l++ {
		DATA(4*l, U32(l))
	}
	// mask: lane l on where l < w%8.
	r := GP64()
	MOVQ(w, r)
	ANDQ(Imm(lanes-1), r)
	rx, mask := XMM(), YMM()
	VMOVQ(r, rx) // not MOVQ: see broadcast
	VPBROADCASTD(rx, mask)
	VPCMPGTD(idx, mask, mask)
	wv := GP64() // the floats of a row in whole vectors
	MOVQ(w, wv)
	SHRQ(Imm(3), wv)
	SHLQ(Imm(3), wv)
	ld := Load(Param("ldDst"), GP64()).(GPVirtual)
	lds := Load(Param("ldSrc"), GP64()).(GPVirtual)
	SHLQ(Imm(2), ld) // bytes from row to row
	SHLQ(Imm(2), lds)
	// apply computes the epilogue on v, with the residual's value at
	// res[j] (under the mask when masked).
	apply := func(v VecVirtual, j GPVirtual, masked bool) {
		VFMADD213PS(b, a, v)
		VMAXPS(v, lo, v)
		VMINPS(v, hi, v)
		if !residual {
			return
		}
		if masked {
			t := YMM()
			VMASKMOVPS(Mem{Base: res, Index: j, Scale: 4}, mask, t)
			VADDPS(t, v, v)
		} else {
			VADDPS(Mem{Base: res, Index: j, Scale: 4}, v, v)
		}
		VMAXPS(v, zero, v)
		VMINPS(v, sumHi, v)
	}
	Label("rows")
	CMPQ(rows, Imm(0))
	JE(LabelRef("done"))
	j := GP64()
	XORQ(j, j)
	Label("vectors")
	CMPQ(j, wv)
	JGE(LabelRef("tail"))
	v := YMM()
	VMOVUPS(Mem{Base: src, Index: j, Scale: 4}, v)
	apply(v, j, false)
	VMOVUPS(v, Mem{Base: dst, Index: j, Scale: 4})
	ADDQ(Imm(lanes), j)
	JMP(LabelRef("vectors"))
	Label("tail")
	CMPQ(r, Imm(0))
	JE(LabelRef("next"))
	t := YMM()
	VMASKMOVPS(Mem{Base: src, Index: j, Scale: 4}, mask, t)
	apply(t, j, true)
	VMASKMOVPS(t, mask, Mem{Base: dst, Index: j, Scale: 4})
	Label("next")
	ADDQ(lds, src)
	ADDQ(ld, dst)
	if residual {
		ADDQ(ld, res)
	}
	DECQ(rows)
	JMP(LabelRef("rows"))
	Label("done")
	VZEROUPPER()
	RET()
}

// evens emits evensAVX2, the gather of a stride-2 convolution's or
// pooling's inputs: two vectors in, their even lanes out.
func evens() {
	TEXT("evensAVX2", NOSPLIT, "func(dst, src *float32, n int)")
	Pragma("noescape") // nothing is kept
	Doc("evensAVX2 sets dst[j] = src[2*j] for j < n, n a multiple of 8; it reads src[:2*n].")
	p := pointers("dst", "src")
	dst, src := p[0], p[1]
	n := Load(Param("n"), GP64()).(GPVirtual)
	Label("loop")
	CMPQ(n, Imm(lanes))
	JL(LabelRef("done"))
	a, b := YMM(), YMM()
	VMOVUPS(Mem{Base: src}, a)
	VMOVUPS(Mem{Base: src, Disp: vbytes}, b)
	VSHUFPS(Imm(0x88), b, a, a) // per 128-bit lane: a0 a2 b0 b2
	VPERMPD(Imm(0xd8), a, a)    // the 64-bit pairs back in order
	VMOVUPS(a, Mem{Base: dst})
	ADDQ(Imm(vbytes), dst)
	ADDQ(Imm(2*vbytes), src)
	SUBQ(Imm(lanes), n)
	JMP(LabelRef("loop"))
	Label("done")
	VZEROUPPER()
	RET()
}

// splatScalar is an xmm register holding v in its low lane.
func splatScalar(v float32) VecVirtual {
	g := GP32()
	MOVL(U32(math.Float32bits(v)), g)
	x := XMM()
	VMOVD(g, x) // not MOVD: see broadcast
	return x
}

func tanhGrad() {
	mapKernel("tanhGradAVX2", "func(dst, dy, y *float32, n int, c0, c1 float32)",
		"tanhGradAVX2 sets dst = dy*(c0 - c1*y²) (the derivative of a*tanh(s*x) from y: c0 = a*s, c1 = s/a).",
		[]string{"dst", "dy", "y"}, []string{"c0", "c1"}, func(p []GPVirtual, c []VecVirtual, v int) {
			y := YMM()
			VMOVUPS(at(p[2], v), y)
			VMULPS(y, y, y)
			VFNMADD213PS(c[0], c[1], y)
			VMULPS(at(p[1], v), y, y)
			VMOVUPS(y, at(p[0], v))
		})
}

func depthwiseTaps() {
	depthwiseTapsKernel(false)
	depthwiseTapsKernel(true)
}

// depthwiseTapsKernel emits depthwiseTapsAVX2, or with epilogue
// depthwiseTapsAffineClampAVX2, which scales, shifts and clamps each sum
// before it stores it, as affineClampAVX2 does (a fused evaluation's batch
// norm and rectifier). They write a plane's rows straight to their places
// in the output, which has no room for a padded plane's throwaway columns,
// and keep four chains of multiply-adds in flight: rows of four vectors or
// more four vectors at a time, their last four ending at the row's end
// (overlapping the ones before: the same sums again); shorter rows four
// rows at a time, a vector of each a step. A row's last n%8 outputs are
// computed as a whole vector; its store runs into the rows after it,
// which are written after it, except where it would run past the output's
// end, where it is masked.
func depthwiseTapsKernel(epilogue bool) {
	if epilogue {
		TEXT("depthwiseTapsAffineClampAVX2", NOSPLIT, "func(out, base *float32, offs *int, w *float32, taps, rows, n, ldOut, ldIn int, a, b, lo, hi float32)")
		Pragma("noescape") // nothing is kept: out arrays and offsets may live on the stack
		Doc("depthwiseTapsAffineClampAVX2 is depthwiseTapsAVX2 with each sum s stored as",
			"min(max(a*s + b, lo), hi) (a fused multiply-add, then the clamp; a NaN stays NaN).")
	} else {
		TEXT("depthwiseTapsAVX2", NOSPLIT, "func(out, base *float32, offs *int, w *float32, taps, rows, n, ldOut, ldIn int)")
		Pragma("noescape") // nothing is kept: out arrays and offsets may live on the stack
		Doc("depthwiseTapsAVX2 sets out[r*ldOut+j] = sum over t < taps, in order, of",
			"w[t]*base[r*ldIn+offs[t]+j] (one fused multiply-add a tap, from 0), for r < rows",
			"and j < n: the output rows of a depthwise convolution whose taps read rows of a",
			"zero-padded plane. Each row's sums are computed in whole vectors, reading base up",
			"to the next multiple of 8 past j; a row's last vector is stored whole, into",
			"the outputs after it (written after it), unless that would run past",
			"out[(rows-1)*ldOut+n], where it is masked.")
	}
	ptrs := pointers("out", "base", "offs", "w")
	out, base, offs, w := ptrs[0], ptrs[1], ptrs[2], ptrs[3]
	rows := Load(Param("rows"), GP64()).(GPVirtual)
	taps := argAddr("taps") // compared from memory: registers are short
	var a, b, lo, hi VecVirtual
	if epilogue {
		a, b, lo, hi = broadcast("a"), broadcast("b"), broadcast("lo"), broadcast("hi")
	}
	prefix := "depthwiseTaps"
	if epilogue {
		prefix = "depthwiseTapsAffineClamp"
	}
	idx := GLOBL(prefix+"Lanes", RODATA|NOPTR)
	for l := 0; l < lanes; l++ {
		DATA(4*l, U32(l))
	}
	mask := YMM() // lane l on where l < n%8, or all lanes when n%8 is 0
	{
		r := Load(Param("n"), GP64()).(GPVirtual)
		SUBQ(Imm(1), r)
		ANDQ(Imm(lanes-1), r)
		ADDQ(Imm(1), r)
		rx := XMM()
		VMOVQ(r, rx) // not MOVQ: see broadcast
		VPBROADCASTD(rx, mask)
		VPCMPGTD(idx, mask, mask)
	}
	// sums computes one vector of sums for each base in bs (at disp),
	// reading them at the taps' offsets (four: four chains in flight),
	// and applies the epilogue.
	sums := func(label string, bs []GPVirtual, disp []int) []VecVirtual {
		acc := zeros(len(bs))
		t, off, wt := GP64(), GP64(), YMM()
		XORQ(t, t)
		Label(label)
		MOVQ(Mem{Base: offs, Index: t, Scale: 8}, off)
		VBROADCASTSS(Mem{Base: w, Index: t, Scale: 4}, wt)
		for v, bp := range bs {
			VFMADD231PS(Mem{Base: bp, Index: off, Scale: 4, Disp: disp[v]}, wt, acc[v])
		}
		INCQ(t)
		CMPQ(t, taps)
		JL(LabelRef(label))
		if epilogue { // as affineClampAVX2
			for v := range acc {
				VFMADD213PS(b, a, acc[v])
				VMAXPS(acc[v], lo, acc[v])
				VMINPS(acc[v], hi, acc[v])
			}
		}
		return acc
	}
	// rowBytes is the vectors a row takes, (n+7)/8, in bytes: the row's
	// last vector starts 32 bytes before it.
	rowBytes := func() GPVirtual {
		nv := Load(Param("n"), GP64()).(GPVirtual)
		ADDQ(Imm(lanes-1), nv)
		SHRQ(Imm(3), nv)
		SHLQ(Imm(5), nv)
		return nv
	}
	// reaches emits a jump to label when the output from the current row
	// on, past its first skip rows, ends within nv bytes of where it
	// starts: ((rows-skip-1)*ldOut + n)*4 < nv, so that a whole vector
	// stored there would run past the output.
	reaches := func(skip int, nv GPVirtual, label string) {
		t := GP64()
		MOVQ(rows, t)
		SUBQ(Imm(uint64(skip+1)), t)
		IMULQ(argAddr("ldOut"), t)
		ADDQ(argAddr("n"), t)
		SHLQ(Imm(2), t)
		CMPQ(t, nv)
		JL(LabelRef(label))
	}
	CMPQ(rowBytes(), Imm(4*vbytes))
	JGE(LabelRef("row"))

	// Short rows go four at a time, each row's vectors from the last to
	// the first, so that a row's last vector, stored whole, runs into the
	// rows after it before they are written; where it would run past the
	// output, the four rows' last vectors are stored under the mask. The
	// rows left at the end (one to three) go as the last four rows again,
	// masked. Fewer than four rows in all go one at a time.
	CMPQ(rows, Imm(4))
	JL(LabelRef("row"))
	// quad computes four rows from out and base, their last vectors
	// under the mask when masked.
	quad := func(name string, masked bool) {
		ldi := Load(Param("ldIn"), GP64()).(GPVirtual)
		SHLQ(Imm(2), ldi)
		nv := rowBytes()
		rb := []GPVirtual{GP64(), GP64(), GP64(), GP64()}
		LEAQ(Mem{Base: base, Index: nv, Scale: 1}, rb[0])
		for r := 1; r < 4; r++ {
			LEAQ(Mem{Base: rb[r-1], Index: ldi, Scale: 1}, rb[r])
		}
		o := GP64() // row 0's vector
		LEAQ(Mem{Base: out, Index: nv, Scale: 1}, o)
		for _, last := range []bool{true, false} {
			label := name + "vec"
			if last {
				label = name + "last"
			} else {
				Label(label)
			}
			SUBQ(Imm(vbytes), o)
			for r := 0; r < 4; r++ {
				SUBQ(Imm(vbytes), rb[r])
			}
			acc := sums(label+"tap", rb, []int{0, 0, 0, 0})
			ldo := Load(Param("ldOut"), GP64()).(GPVirtual)
			SHLQ(Imm(2), ldo)
			at := GP64()
			MOVQ(o, at)
			for r := 0; r < 4; r++ {
				if last && masked {
					VMASKMOVPS(acc[r], mask, Mem{Base: at})
				} else {
					VMOVUPS(acc[r], Mem{Base: at})
				}
				if r < 3 {
					ADDQ(ldo, at)
				}
			}
			CMPQ(o, out)
			JLE(LabelRef(name + "end"))
		}
		JMP(LabelRef(name + "vec"))
		Label(name + "end")
	}
	// four moves out and base four rows on, and rows four down.
	four := func() {
		for _, arg := range []struct {
			p  GPVirtual
			ld string
		}{{out, "ldOut"}, {base, "ldIn"}} {
			ld := Load(Param(arg.ld), GP64()).(GPVirtual)
			SHLQ(Imm(4), ld) // four rows of 4-byte floats
			ADDQ(ld, arg.p)
		}
		SUBQ(Imm(4), rows)
	}
	Label("quad")
	CMPQ(rows, Imm(4))
	JL(LabelRef("mquadrest"))
	reaches(3, rowBytes(), "mquad") // the fourth row's last vector would run past the output
	quad("q", false)
	four()
	JMP(LabelRef("quad"))
	Label("mquad")
	CMPQ(rows, Imm(4))
	JL(LabelRef("mquadrest"))
	quad("m", true)
	four()
	JMP(LabelRef("mquad"))
	Label("mquadrest")
	CMPQ(rows, Imm(0))
	JE(LabelRef("done"))
	{
		// Back to the last four rows: out and base by rows-4 rows.
		k := GP64()
		MOVQ(rows, k)
		SUBQ(Imm(4), k)
		for _, arg := range []struct {
			p  GPVirtual
			ld string
		}{{out, "ldOut"}, {base, "ldIn"}} {
			ld := Load(Param(arg.ld), GP64()).(GPVirtual)
			SHLQ(Imm(2), ld)
			IMULQ(k, ld)
			ADDQ(ld, arg.p)
		}
	}
	quad("r", true)
	JMP(LabelRef("done"))

	// One row at a time: four vectors a step while four are left, then
	// the four that end the row (or, on a row shorter than four vectors,
	// one vector a step).
	Label("row")
	CMPQ(rows, Imm(0))
	JE(LabelRef("done"))
	{
		nv := rowBytes()
		j := GP64()
		XORQ(j, j)
		Label("rowvec")
		end := GP64()
		LEAQ(Mem{Base: j, Disp: 4 * vbytes}, end)
		CMPQ(end, nv)
		JG(LabelRef("rowend"))
		bp, o := GP64(), GP64()
		LEAQ(Mem{Base: base, Index: j, Scale: 1}, bp)
		LEAQ(Mem{Base: out, Index: j, Scale: 1}, o)
		acc := sums("rowtap", []GPVirtual{bp, bp, bp, bp}, []int{0, vbytes, 2 * vbytes, 3 * vbytes})
		for v := 0; v < 3; v++ {
			VMOVUPS(acc[v], at(o, v))
		}
		// The row's last vector (when these four end it) is masked on the
		// last row.
		CMPQ(end, nv)
		JNE(LabelRef("rowwhole"))
		reaches(0, nv, "rowmasked")
		JMP(LabelRef("rowwhole"))
		Label("rowmasked")
		VMASKMOVPS(acc[3], mask, at(o, 3))
		JMP(LabelRef("rowdone"))
		Label("rowwhole")
		VMOVUPS(acc[3], at(o, 3))
		MOVQ(end, j)
		JMP(LabelRef("rowvec"))
		Label("rowend")
		// What is left: if the row has four vectors or more, its last
		// four (again); else its vectors one at a time.
		CMPQ(j, nv)
		JE(LabelRef("rowdone"))
		CMPQ(nv, Imm(4*vbytes))
		JL(LabelRef("rowone"))
		MOVQ(nv, j)
		SUBQ(Imm(4*vbytes), j)
		JMP(LabelRef("rowvec"))
		Label("rowone")
		bp1, o1 := GP64(), GP64()
		LEAQ(Mem{Base: base, Index: j, Scale: 1}, bp1)
		LEAQ(Mem{Base: out, Index: j, Scale: 1}, o1)
		one := sums("onetap", []GPVirtual{bp1}, []int{0})
		ADDQ(Imm(vbytes), j)
		CMPQ(j, nv)
		JNE(LabelRef("onewhole"))
		reaches(0, nv, "onemasked")
		JMP(LabelRef("onewhole"))
		Label("onemasked")
		VMASKMOVPS(one[0], mask, Mem{Base: o1})
		JMP(LabelRef("rowdone"))
		Label("onewhole")
		VMOVUPS(one[0], Mem{Base: o1})
		JMP(LabelRef("rowend"))
	}
	Label("rowdone")
	{
		ld := Load(Param("ldOut"), GP64()).(GPVirtual)
		SHLQ(Imm(2), ld)
		ADDQ(ld, out)
		ldi := Load(Param("ldIn"), GP64()).(GPVirtual)
		SHLQ(Imm(2), ldi)
		ADDQ(ldi, base)
		DECQ(rows)
		JMP(LabelRef("row"))
	}
	Label("done")
	VZEROUPPER()
	RET()
}

func tapDots() {
	TEXT("tapDotsAVX2", NOSPLIT, "func(sums, dy, base *float32, offs *int, taps, n int)")
	Pragma("noescape") // nothing is kept: sums and offsets may live on the stack
	Doc("tapDotsAVX2 adds to sums[t], for t < taps, the dot product of dy[:n] with base[offs[t]:]:",
		"the weight gradient of a depthwise convolution whose output gradient dy is laid out",
		"as wide as its zero-padded input plane, one tap at a time, each sum reduced here.")
	ptrs := pointers("sums", "dy", "base", "offs")
	sums, dy, base, offs := ptrs[0], ptrs[1], ptrs[2], ptrs[3]
	taps := Load(Param("taps"), GP64()).(GPVirtual)
	n := Load(Param("n"), GP64()).(GPVirtual)
	t := GP64()
	XORQ(t, t)
	Label("tap")
	m, d, b, off := GP64(), GP64(), GP64(), GP64()
	MOVQ(n, m)
	MOVQ(dy, d)
	MOVQ(Mem{Base: offs, Index: t, Scale: 8}, off)
	LEAQ(Mem{Base: base, Index: off, Scale: 4}, b)
	acc := zeros(unroll)
	loops(m, []GPVirtual{d, b}, func(k int) {
		for v := 0; v < k; v++ {
			x := YMM()
			VMOVUPS(at(d, v), x)
			VFMADD231PS(at(b, v), x, acc[v])
		}
	})
	for i := 1; i < len(acc); i++ {
		VADDPS(acc[i], acc[0], acc[0])
	}
	hi, lo := XMM(), acc[0].AsX()
	VEXTRACTF128(Imm(1), acc[0], hi)
	VADDPS(hi, lo, lo)
	VHADDPS(lo, lo, lo)
	VHADDPS(lo, lo, lo)
	sum := Mem{Base: sums, Index: t, Scale: 4}
	VADDSS(sum, lo, lo)
	VMOVSS(lo, sum)
	INCQ(t)
	CMPQ(t, taps)
	JL(LabelRef("tap"))
	VZEROUPPER()
	RET()
}

// maxPoolStride2 emits maxPool2x2AVX2 (k 2: VGG's pools) or
// maxPool3x3AVX2 (k 3: AlexNet's), max pooling at stride 2 without
// padding straight from the plane: each window row's values come from
// two vectors of the row split into their even and odd columns in
// registers (VSHUFPS, VPERMPD), the third column (k 3) from the same
// split two floats on; each window's values are compared in row-major
// order as maxTapsAVX2 does, and the winners' positions kept as vectors
// of int32, so that there is no padded copy and no tap number to turn
// into a position. A row's last ow%8 outputs go through masks.
func maxPoolStride2(k int) {
	name := fmt.Sprintf("maxPool%dx%dAVX2", k, k)
	TEXT(name, NOSPLIT, "func(y *float32, sw *int32, x *float32, offs *int32, w, rows, ow int)")
	Pragma("noescape") // nothing is kept
	Doc(fmt.Sprintf("%s sets y[r*ow+j] to the largest of the %dx%d window of x at row 2r, column 2j,", name, k, k),
		"in row-major order (a later value wins only if it is larger or NaN, as PyTorch's max",
		"pooling), and sw[r*ow+j] to its position in x, for r < rows and j < ow: offs holds",
		"the window's positions from its corner (t/k*w + t%k). Every window lies inside x, and",
		"only the windows' rows and columns are read.")
	ptrs := pointers("y", "sw", "x", "offs")
	y, sw, x, offs := ptrs[0], ptrs[1], ptrs[2], ptrs[3]
	rows := Load(Param("rows"), GP64()).(GPVirtual)
	idx := GLOBL(name+"Lanes", RODATA|NOPTR)
	for l := 0; l < lanes; l++ {
		DATA(4*l, U32(l))
	}
	sixteen := YMM()
	VPCMPEQD(sixteen, sixteen, sixteen)
	VPSRLD(Imm(31), sixteen, sixteen)
	VPSLLD(Imm(4), sixteen, sixteen)
	row := GP64() // 2r*w: the window row's first position in x
	XORQ(row, row)
	// mask returns lane < n-sub (n in a register) for the row's tail.
	mask := func(n GPVirtual, sub int) VecVirtual {
		t := GP64()
		MOVQ(n, t)
		if sub != 0 {
			SUBQ(Imm(uint64(sub)), t)
		}
		tx, m := XMM(), YMM()
		VMOVQ(t, tx)
		VPBROADCASTD(tx, m)
		VPCMPGTD(idx, m, m)
		return m
	}
	// body computes eight windows from r0 whose corners are at positions
	// ev, and stores them at yo and so (under masks for the last tail
	// outputs when tail is not nil: ow%8 in a register).
	body := func(r0, yo, so GPVirtual, ev VecVirtual, tail GPVirtual) {
		best, at := YMM(), YMM()
		w4 := Load(Param("w"), GP64()).(GPVirtual)
		SHLQ(Imm(2), w4) // bytes
		rp := GP64()
		MOVQ(r0, rp)
		t := 0
		for ky := 0; ky < k; ky++ {
			// The window row's columns 2j (+2 for k 3) and 2j+1.
			split := func(disp int) (even, odd VecVirtual) {
				var a [2]VecVirtual
				for h := 0; h < 2; h++ {
					a[h] = YMM()
					m := Mem{Base: rp, Disp: disp + h*vbytes}
					if tail == nil {
						VMOVUPS(m, a[h])
						continue
					}
					// Floats needed from disp: 2r (disp 0: the even and
					// odd columns) or 2r-1 (disp 8: the even ones).
					n := GP64()
					MOVQ(tail, n)
					SHLQ(Imm(1), n)
					VMASKMOVPS(m, mask(n, disp/8+h*lanes), a[h])
				}
				even, odd = YMM(), YMM()
				VSHUFPS(Imm(0x88), a[1], a[0], even)
				VPERMPD(Imm(0xd8), even, even)
				VSHUFPS(Imm(0xdd), a[1], a[0], odd)
				VPERMPD(Imm(0xd8), odd, odd)
				return even, odd
			}
			e, o := split(0)
			cols := []VecVirtual{e, o}
			if k == 3 {
				e2, _ := split(8)
				cols = append(cols, e2)
			}
			for _, v := range cols {
				if t == 0 {
					VMOVUPS(v, best)
					VMOVDQU(ev, at)
					t++
					continue
				}
				gt, nan, pos := YMM(), YMM(), YMM()
				VCMPPS(Imm(0x1e), best, v, gt) // GT_OQ: v > best
				VCMPPS(Imm(0x03), v, v, nan)   // UNORD_Q: v is NaN
				VORPS(nan, gt, gt)
				VBLENDVPS(gt, v, best, best)
				VPBROADCASTD(Mem{Base: offs, Disp: 4 * t}, pos)
				VPADDD(ev, pos, pos)
				VBLENDVPS(gt, pos, at, at)
				t++
			}
			if ky < k-1 {
				ADDQ(w4, rp)
			}
		}
		if tail != nil {
			m := mask(tail, 0)
			VMASKMOVPS(best, m, Mem{Base: yo})
			VMASKMOVPS(at, m, Mem{Base: so})
			return
		}
		VMOVUPS(best, Mem{Base: yo})
		VMOVDQU(at, Mem{Base: so})
	}
	Label("row")
	CMPQ(rows, Imm(0))
	JE(LabelRef("done"))
	{
		r0, yo, so := GP64(), GP64(), GP64()
		LEAQ(Mem{Base: x, Index: row, Scale: 4}, r0)
		MOVQ(y, yo)
		MOVQ(sw, so)
		m := Load(Param("ow"), GP64()).(GPVirtual)
		ev := YMM() // the windows' corners: row + 2j
		rx := XMM()
		VMOVQ(row, rx)
		VPBROADCASTD(rx, ev)
		lane2 := YMM()
		VMOVDQU(idx, lane2)
		VPADDD(lane2, lane2, lane2)
		VPADDD(lane2, ev, ev)
		Label("vec")
		// k 3: a whole vector's third columns read one float past its
		// last window, which may be past the plane; the last eight
		// windows go through the masks.
		CMPQ(m, Imm(uint64(lanes+k-2)))
		JL(LabelRef("tail"))
		body(r0, yo, so, ev, nil)
		ADDQ(Imm(2*vbytes), r0)
		ADDQ(Imm(vbytes), yo)
		ADDQ(Imm(vbytes), so)
		VPADDD(sixteen, ev, ev)
		SUBQ(Imm(lanes), m)
		JMP(LabelRef("vec"))
		Label("tail")
		CMPQ(m, Imm(0))
		JE(LabelRef("next"))
		body(r0, yo, so, ev, m)
		Label("next")
	}
	{
		ow4 := Load(Param("ow"), GP64()).(GPVirtual)
		SHLQ(Imm(2), ow4)
		ADDQ(ow4, y)
		ADDQ(ow4, sw)
		w2 := Load(Param("w"), GP64()).(GPVirtual)
		SHLQ(Imm(1), w2)
		ADDQ(w2, row)
		DECQ(rows)
		JMP(LabelRef("row"))
	}
	Label("done")
	VZEROUPPER()
	RET()
}

func maxTaps() {
	TEXT("maxTapsAVX2", NOSPLIT, "func(out *float32, arg *int32, base *float32, offs *int, taps, n int)")
	Pragma("noescape") // nothing is kept: out arrays and offsets may live on the stack
	Doc("maxTapsAVX2 sets out[j] to the largest of base[offs[t]+j] over t < taps, in order, and arg[j]",
		"to the t that gave it: a later value wins only if it is larger or NaN, as PyTorch's max",
		"pooling; -1 where no value beat -Inf. Max-pooling windows read from a padded plane.")
	ptrs := pointers("out", "arg", "base", "offs")
	out, arg, base, offs := ptrs[0], ptrs[1], ptrs[2], ptrs[3]
	taps := Load(Param("taps"), GP64()).(GPVirtual)
	n := Load(Param("n"), GP64()).(GPVirtual)
	negInf := YMM()
	VBROADCASTSS(splatScalar(float32(math.Inf(-1))), negInf)
	for _, k := range []int{4, 1} { // 4 vectors: 4 independent compare-and-blend chains
		top, done, tap := fmt.Sprintf("loop%d", k), fmt.Sprintf("done%d", k), fmt.Sprintf("tap%d", k)
		Label(top)
		CMPQ(n, Imm(uint64(lanes*k)))
		JL(LabelRef(done))
		best, won := make([]VecVirtual, k), make([]VecVirtual, k)
		for v := 0; v < k; v++ {
			best[v], won[v] = YMM(), YMM()
			VMOVUPS(negInf, best[v])
			VPCMPEQD(won[v], won[v], won[v]) // all ones: -1
		}
		// cand holds the tap number in every lane, counted up in the
		// vector unit (a legacy-SSE move from t here, with the upper
		// halves dirty, costs a state transition every tap).
		t, off, cand, one := GP64(), GP64(), YMM(), YMM()
		VPXOR(cand, cand, cand)
		VPCMPEQD(one, one, one)
		VPSRLD(Imm(31), one, one) // 1 in every lane
		XORQ(t, t)
		Label(tap)
		MOVQ(Mem{Base: offs, Index: t, Scale: 8}, off)
		for v := 0; v < k; v++ {
			x, gt, nan := YMM(), YMM(), YMM()
			VMOVUPS(Mem{Base: base, Index: off, Scale: 4, Disp: v * vbytes}, x)
			VCMPPS(Imm(0x1e), best[v], x, gt) // GT_OQ: x > best
			VCMPPS(Imm(0x03), x, x, nan)      // UNORD_Q: x is NaN
			VORPS(nan, gt, gt)
			VBLENDVPS(gt, x, best[v], best[v])
			VBLENDVPS(gt, cand, won[v], won[v])
		}
		VPADDD(one, cand, cand)
		INCQ(t)
		CMPQ(t, taps)
		JL(LabelRef(tap))
		for v := 0; v < k; v++ {
			VMOVUPS(best[v], at(out, v))
			VMOVUPS(won[v], Mem{Base: arg, Disp: v * vbytes})
		}
		ADDQ(Imm(uint64(vbytes*k)), out)
		ADDQ(Imm(uint64(vbytes*k)), arg)
		ADDQ(Imm(uint64(vbytes*k)), base)
		SUBQ(Imm(uint64(lanes*k)), n)
		JMP(LabelRef(top))
		Label(done)
	}
	VZEROUPPER()
	RET()
}

// winogradInput emits winogradInputAVX2: one tile row of Winograd's
// F(2x2, 3x3) input transform, Bᵀ d B, 8 tiles a step (nn/winograd.go).
func winogradInput() {
	TEXT("winogradInputAVX2", NOSPLIT, "func(v *float32, ds int, q *float32, ps, rs, tw int)")
	Pragma("noescape") // nothing is kept
	Doc("winogradInputAVX2 sets v[(4*j+i)*ds+t] = (Bᵀ d B)[i][j] for the tw tiles t of one tile row,",
		"d[a][b] = q[(2*(a%2)+b%2)*ps + (a/2)*rs + b/2 + t] (four phase planes of the padded map).",
		"With tw < 8 it writes (and reads) a whole vector of 8 tiles; with more, the last vector",
		"overlaps the one before.")
	ptrs := pointers("v", "q")
	o, q := ptrs[0], ptrs[1]
	ds := Load(Param("ds"), GP64()).(GPVirtual)
	ps := Load(Param("ps"), GP64()).(GPVirtual)
	rs := Load(Param("rs"), GP64()).(GPVirtual)
	n := Load(Param("tw"), GP64()).(GPVirtual)
	SHLQ(Imm(2), ds)
	SHLQ(Imm(2), ps)
	SHLQ(Imm(2), rs)
	// Row a's base: phase 2*(a%2) (+1 for odd b, through ps), row a/2.
	rows := [4]GPVirtual{q, GP64(), GP64(), GP64()}
	MOVQ(q, rows[1])
	ADDQ(ps, rows[1])
	ADDQ(ps, rows[1])
	MOVQ(q, rows[2])
	ADDQ(rs, rows[2])
	MOVQ(rows[1], rows[3])
	ADDQ(rs, rows[3])
	ds2, p := GP64(), GP64()
	MOVQ(ds, ds2)
	SHLQ(Imm(1), ds2)
	// d[a][b] for this step's 8 tiles.
	d := func(a, b int) Mem {
		m := Mem{Base: rows[a], Disp: 4 * (b / 2)}
		if b%2 == 1 {
			m.Index, m.Scale = ps, 1
		}
		return m
	}
	step := func() {
		MOVQ(o, p)
		for j := 0; j < 4; j++ {
			var t [4]VecVirtual
			for a := 0; a < 4; a++ {
				t[a] = YMM()
				switch j { // (Bᵀ row j) · (d[a][0], d[a][1], d[a][2], d[a][3])
				case 0:
					VMOVUPS(d(a, 0), t[a])
					VSUBPS(d(a, 2), t[a], t[a])
				case 1:
					VMOVUPS(d(a, 1), t[a])
					VADDPS(d(a, 2), t[a], t[a])
				case 2:
					VMOVUPS(d(a, 2), t[a])
					VSUBPS(d(a, 1), t[a], t[a])
				case 3:
					VMOVUPS(d(a, 1), t[a])
					VSUBPS(d(a, 3), t[a], t[a])
				}
			}
			r := [4]VecVirtual{YMM(), YMM(), YMM(), YMM()}
			VSUBPS(t[2], t[0], r[0]) // t0 - t2
			VADDPS(t[2], t[1], r[1]) // t1 + t2
			VSUBPS(t[1], t[2], r[2]) // t2 - t1
			VSUBPS(t[3], t[1], r[3]) // t1 - t3
			VMOVUPS(r[0], Mem{Base: p})
			VMOVUPS(r[1], Mem{Base: p, Index: ds, Scale: 1})
			ADDQ(ds2, p)
			VMOVUPS(r[2], Mem{Base: p})
			VMOVUPS(r[3], Mem{Base: p, Index: ds, Scale: 1})
			ADDQ(ds2, p)
		}
	}
	advance := func(by GPVirtual, sub bool) {
		for _, r := range append(rows[:], o) {
			if sub {
				SUBQ(by, r)
			} else {
				ADDQ(by, r)
			}
		}
	}
	vb := GP64()
	MOVQ(U32(vbytes), vb)
	windowedLoop(n, step, func() { advance(vb, false) }, func(back GPVirtual) { advance(back, true) })
	VZEROUPPER()
	RET()
}

// windowedLoop runs step over n tiles, 8 a step (advance moves the
// pointers on by a vector): with n < 8 once, over a whole vector; else
// over whole vectors, and a last one moved back (retreat, by that many
// bytes) to end at the n-th tile.
func windowedLoop(n GPVirtual, step, advance func(), retreat func(back GPVirtual)) {
	CMPQ(n, Imm(lanes))
	JL(LabelRef("short"))
	Label("whole")
	step()
	advance()
	SUBQ(Imm(lanes), n)
	CMPQ(n, Imm(lanes))
	JGE(LabelRef("whole"))
	TESTQ(n, n)
	JZ(LabelRef("done"))
	back := GP64()
	MOVQ(U32(lanes), back)
	SUBQ(n, back)
	SHLQ(Imm(2), back)
	retreat(back)
	Label("short")
	step()
	Label("done")
}

// winogradOutput emits winogradOutputAVX2: one tile row of Winograd's
// F(2x2, 3x3) output transform, Aᵀ m A, 8 tiles a step.
func winogradOutput() {
	TEXT("winogradOutputAVX2", NOSPLIT, "func(y *float32, w int, m *float32, ms, tw int)")
	Pragma("noescape") // nothing is kept
	Doc("winogradOutputAVX2 sets y[r*w + 2*t + c] = (Aᵀ M A)[r][c] for the tw tiles t of one tile row,",
		"M[i][j] = m[(4*j+i)*ms + t]. With tw < 8 it writes (and reads) a whole vector of 8 tiles,",
		"16 floats a row; with more, the last vector overlaps the one before.")
	ptrs := pointers("y", "m")
	y, m := ptrs[0], ptrs[1]
	w := Load(Param("w"), GP64()).(GPVirtual)
	ms := Load(Param("ms"), GP64()).(GPVirtual)
	n := Load(Param("tw"), GP64()).(GPVirtual)
	SHLQ(Imm(2), w)
	SHLQ(Imm(2), ms)
	ms2, p := GP64(), GP64()
	MOVQ(ms, ms2)
	SHLQ(Imm(1), ms2)
	step := func() {
		MOVQ(m, p)
		var s [2][4]VecVirtual
		for j := 0; j < 4; j++ {
			var mv [4]VecVirtual
			for i := range mv {
				mv[i] = YMM()
			}
			VMOVUPS(Mem{Base: p}, mv[0])
			VMOVUPS(Mem{Base: p, Index: ms, Scale: 1}, mv[1])
			ADDQ(ms2, p)
			VMOVUPS(Mem{Base: p}, mv[2])
			VMOVUPS(Mem{Base: p, Index: ms, Scale: 1}, mv[3])
			ADDQ(ms2, p)
			s[0][j], s[1][j] = YMM(), YMM()
			VADDPS(mv[1], mv[0], s[0][j])
			VADDPS(mv[2], s[0][j], s[0][j]) // m0 + m1 + m2
			VSUBPS(mv[2], mv[1], s[1][j])
			VSUBPS(mv[3], s[1][j], s[1][j]) // m1 - m2 - m3
		}
		for r := 0; r < 2; r++ {
			y0, y1 := YMM(), YMM()
			VADDPS(s[r][1], s[r][0], y0)
			VADDPS(s[r][2], y0, y0) // s0 + s1 + s2
			VSUBPS(s[r][2], s[r][1], y1)
			VSUBPS(s[r][3], y1, y1) // s1 - s2 - s3
			lo, hi := YMM(), YMM()
			VUNPCKLPS(y1, y0, lo) // per 128-bit lane: y0[0] y1[0] y0[1] y1[1]
			VUNPCKHPS(y1, y0, hi) // y0[2] y1[2] y0[3] y1[3]
			first, second := YMM(), YMM()
			VPERM2F128(Imm(0x20), hi, lo, first)  // both low lanes: tiles 0-3
			VPERM2F128(Imm(0x31), hi, lo, second) // both high lanes: tiles 4-7
			row := Mem{Base: y}
			if r == 1 {
				row = Mem{Base: y, Index: w, Scale: 1}
			}
			VMOVUPS(first, row)
			row.Disp = vbytes
			VMOVUPS(second, row)
		}
	}
	advance := func(back GPVirtual, sub bool) {
		if sub {
			SUBQ(back, m)
			SUBQ(back, y)
			SUBQ(back, y) // two outputs a tile
			return
		}
		ADDQ(Imm(vbytes), m)
		ADDQ(Imm(2*vbytes), y)
	}
	windowedLoop(n, step, func() { advance(nil, false) }, func(back GPVirtual) { advance(back, true) })
	VZEROUPPER()
	RET()
}

// winogradPhases emits winogradPhasesAVX2: a map's four phase planes for
// the Winograd input transform, its even and odd columns split in
// registers as evensAVX2 does.
func winogradPhases() {
	TEXT("winogradPhasesAVX2", NOSPLIT, "func(q *float32, ps, rs int, src *float32, h, w int, masks *[16]int32)")
	Pragma("noescape") // nothing is kept
	Doc("winogradPhasesAVX2 writes the image rows of the four phase planes of the map src",
		"(h rows of w floats): padded pixel (2r+a, 2c+b), image pixel (2r+a-1, 2c+b-1), goes to",
		"q[(2a+b)*ps + r*rs + c]. The padding's zeros are not written. A row's last w%8 floats",
		"are read under masks[:8], their even ones written under masks[8:12], odd ones under masks[12:].")
	ptrs := pointers("q", "src", "masks")
	q, src, masks := ptrs[0], ptrs[1], ptrs[2]
	ps := Load(Param("ps"), GP64()).(GPVirtual)
	rs := Load(Param("rs"), GP64()).(GPVirtual)
	h := Load(Param("h"), GP64()).(GPVirtual)
	w := Load(Param("w"), GP64()).(GPVirtual)
	SHLQ(Imm(2), ps)
	SHLQ(Imm(2), rs)
	// Image row 2k is padded row 2k+1: its even columns go to plane 3
	// (odd row, odd column) row k, its odd ones to plane 2 row k from
	// column 1. Image row 2k+1 goes to planes 1 and 0, row k+1.
	e3, o2, e1, o0 := GP64(), GP64(), GP64(), GP64()
	MOVQ(q, o0)
	ADDQ(rs, o0)
	ADDQ(Imm(4), o0) // plane 0, row 1, column 1
	MOVQ(q, e1)
	ADDQ(ps, e1)
	ADDQ(rs, e1) // plane 1, row 1
	MOVQ(q, o2)
	ADDQ(ps, o2)
	ADDQ(ps, o2)
	ADDQ(Imm(4), o2) // plane 2, row 0, column 1
	MOVQ(o2, e3)
	ADDQ(ps, e3)
	SUBQ(Imm(4), e3) // plane 3, row 0
	off, n := GP64(), GP64()
	loadMask, evenMask, oddMask := YMM(), XMM(), XMM()
	VMOVDQU(Mem{Base: masks}, loadMask)
	VMOVDQU(Mem{Base: masks, Disp: 32}, evenMask)
	VMOVDQU(Mem{Base: masks, Disp: 48}, oddMask)
	split := func(e, o GPVirtual, label string) {
		XORQ(off, off) // bytes into the phase rows; src moves on by twice that
		MOVQ(w, n)
		Label(label + "pairs")
		CMPQ(n, Imm(2*lanes))
		JL(LabelRef(label + "tail"))
		a, b, ev, od := YMM(), YMM(), YMM(), YMM()
		VMOVUPS(Mem{Base: src}, a)
		VMOVUPS(Mem{Base: src, Disp: vbytes}, b)
		VSHUFPS(Imm(0x88), b, a, ev) // per 128-bit lane: a0 a2 b0 b2
		VSHUFPS(Imm(0xdd), b, a, od) // a1 a3 b1 b3
		VPERMPD(Imm(0xd8), ev, ev)   // the 64-bit pairs back in order
		VPERMPD(Imm(0xd8), od, od)
		VMOVUPS(ev, Mem{Base: e, Index: off, Scale: 1})
		VMOVUPS(od, Mem{Base: o, Index: off, Scale: 1})
		ADDQ(Imm(2*vbytes), src)
		ADDQ(Imm(vbytes), off)
		SUBQ(Imm(2*lanes), n)
		JMP(LabelRef(label + "pairs"))
		Label(label + "tail")
		CMPQ(n, Imm(lanes))
		JL(LabelRef(label + "partial"))
		a2, ev2, od2 := YMM(), YMM(), YMM()
		VMOVUPS(Mem{Base: src}, a2)
		VSHUFPS(Imm(0x88), a2, a2, ev2)
		VSHUFPS(Imm(0xdd), a2, a2, od2)
		VPERMPD(Imm(0xd8), ev2, ev2) // the low half: a0 a2 a4 a6
		VPERMPD(Imm(0xd8), od2, od2)
		VMOVUPS(ev2.AsX(), Mem{Base: e, Index: off, Scale: 1})
		VMOVUPS(od2.AsX(), Mem{Base: o, Index: off, Scale: 1})
		ADDQ(Imm(vbytes), src)
		ADDQ(Imm(vbytes/2), off)
		SUBQ(Imm(lanes), n)
		Label(label + "partial")
		TESTQ(n, n)
		JZ(LabelRef(label + "done"))
		// The row's last n < 8 floats, under masks: nothing past the row is
		// read, nothing past its halves written.
		a3, ev3, od3 := YMM(), YMM(), YMM()
		VMASKMOVPS(Mem{Base: src}, loadMask, a3)
		VSHUFPS(Imm(0x88), a3, a3, ev3)
		VSHUFPS(Imm(0xdd), a3, a3, od3)
		VPERMPD(Imm(0xd8), ev3, ev3)
		VPERMPD(Imm(0xd8), od3, od3)
		VMASKMOVPS(ev3.AsX(), evenMask, Mem{Base: e, Index: off, Scale: 1})
		VMASKMOVPS(od3.AsX(), oddMask, Mem{Base: o, Index: off, Scale: 1})
		LEAQ(Mem{Base: src, Index: n, Scale: 4}, src)
		Label(label + "done")
	}
	Label("rows")
	TESTQ(h, h)
	JZ(LabelRef("end"))
	split(e3, o2, "even")
	DECQ(h)
	JZ(LabelRef("end"))
	split(e1, o0, "odd")
	DECQ(h)
	for _, r := range []GPVirtual{e3, o2, e1, o0} {
		ADDQ(rs, r)
	}
	JMP(LabelRef("rows"))
	Label("end")
	VZEROUPPER()
	RET()
}
