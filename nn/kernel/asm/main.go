// Command asm generates convscope's SGEMM micro-kernels (../sgemm_amd64.s and
// their Go declarations ../stubs_amd64.go) with avo. It is its own module so
// that avo never becomes a dependency of convscope itself. Regenerate with
//
//	cd nn/kernel/asm && go run . -out ../sgemm_amd64.s -stubs ../stubs_amd64.go -pkg kernel
//
// Every kernel computes one register tile of C = alpha*A*B + beta*C:
//
//	for p := 0; p < k; p++ {
//		for i := 0; i < R; i++ {
//			for j := 0; j < V*W; j++ {
//				acc[i][j] += a[i*lda+p] * b[p*V*W+j]
//			}
//		}
//	}
//	c[i*ldc+j] = alpha*acc[i][j] + beta*c[i*ldc+j]   (c is not read when beta == 0)
//
// A is read in place, R rows lda floats apart (an unpacked row-major A or a
// packed one); B is a packed micro-panel, k rows of V*W contiguous floats;
// C is R rows of V*W floats, ldc apart. W is the vector width in floats (16
// for AVX-512, 8 for AVX2) and the kernel for R rows and V vectors is named
// sgemmAVX512R{R}V{V} or sgemmAVX2R{R}V{V}. The main loop is unrolled four
// times; each k step loads V vectors of B, broadcasts R values of A and does
// R*V fused multiply-adds into R*V accumulators, which never leave registers.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// isa describes one instruction set: its vector width and register file.
type isa struct {
	name  string
	width int           // floats per vector
	maxR  int           // most rows of a tile
	maxV  int           // most vectors per row of a tile
	regs  []VecPhysical // the vector registers the kernel may use
	zero  func(r VecPhysical)
}

const unroll = 4

func main() {
	ConstraintExpr("amd64,!noasm")

	zmm := []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
		Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}
	ymm := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}

	sets := []isa{
		// 6 rows x 4 zmm: 24 accumulators, 4 for B, 1 broadcast, 2 for alpha and beta.
		{name: "AVX512", width: 16, maxR: 6, maxV: 4, regs: zmm,
			zero: func(r VecPhysical) { VPXORD(r, r, r) }},
		// 6 rows x 2 ymm: 12 accumulators, 2 for B, 1 broadcast; VEX-encodable only (Y0-Y15).
		{name: "AVX2", width: 8, maxR: 6, maxV: 2, regs: ymm,
			zero: func(r VecPhysical) { VXORPS(r, r, r) }},
	}
	for _, s := range sets {
		for r := 1; r <= s.maxR; r++ {
			for v := 1; v <= s.maxV; v++ {
				kernel(s, r, v)
			}
		}
	}
	Generate()
}

// row returns the address of row i of a matrix whose rows 0-2 hang off
// bases[0], rows 3-5 off bases[1], ..., with stride ld bytes, plus disp.
func row(bases []GPPhysical, ld GPPhysical, i, disp int) Mem {
	m := Mem{Base: bases[i/3], Disp: disp}
	if i%3 > 0 {
		m.Index, m.Scale = ld, uint8(i%3)
	}
	return m
}

// addr is the stack address of the named argument.
func addr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

func kernel(s isa, R, V int) {
	name := fmt.Sprintf("sgemm%sR%dV%d", s.name, R, V)
	TEXT(name, NOSPLIT, "func(k int, a *float32, lda int, b *float32, c *float32, ldc int, alpha, beta float32)")
	Doc(fmt.Sprintf("%s computes a %dx%d tile: c = alpha*a*b + beta*c (see the package comment of the generator).", name, R, V*s.width))

	vb := 4 * s.width // bytes per vector
	acc := func(i, j int) VecPhysical { return s.regs[i*V+j] }
	bv := func(j int) VecPhysical { return s.regs[R*V+j] }
	t := s.regs[R*V+V]
	alpha, beta := s.regs[len(s.regs)-2], s.regs[len(s.regs)-1]

	// General-purpose registers: AX k, BX lda then ldc (bytes), CX b, SI/DI
	// bases of A rows 0-2 and 3-5 (then of C's), DX beta's bits.
	k, ld, bp := RAX, RBX, RCX
	bases := []GPPhysical{RSI, RDI}[:(R+2)/3]

	for i := 0; i < R; i++ {
		for j := 0; j < V; j++ {
			s.zero(acc(i, j))
		}
	}
	Load(Param("k"), k)
	Load(Param("lda"), ld)
	SHLQ(U8(2), ld)
	Load(Param("b"), bp)
	Load(Param("a"), bases[0])
	if len(bases) > 1 {
		LEAQ(Mem{Base: ld, Index: ld, Scale: 2}, bases[1])
		ADDQ(bases[0], bases[1])
	}

	step := func(u int) {
		for j := 0; j < V; j++ {
			VMOVUPS(Mem{Base: bp, Disp: (u*V + j) * vb}, bv(j))
		}
		for i := 0; i < R; i++ {
			VBROADCASTSS(row(bases, ld, i, 4*u), t)
			for j := 0; j < V; j++ {
				VFMADD231PS(bv(j), t, acc(i, j))
			}
		}
	}

	Comment("Main loop: four k steps a turn.")
	CMPQ(k, U8(unroll))
	JL(LabelRef(name + "_tail"))
	Label(name + "_loop")
	for u := 0; u < unroll; u++ {
		step(u)
	}
	for _, b := range bases {
		ADDQ(U8(4*unroll), b)
	}
	ADDQ(U32(unroll*V*vb), bp)
	SUBQ(U8(unroll), k)
	CMPQ(k, U8(unroll))
	JGE(LabelRef(name + "_loop"))

	Comment("Remaining k steps, one at a time.")
	Label(name + "_tail")
	TESTQ(k, k)
	JE(LabelRef(name + "_store"))
	Label(name + "_one")
	step(0)
	for _, b := range bases {
		ADDQ(U8(4), b)
	}
	ADDQ(U32(V*vb), bp)
	DECQ(k)
	JNE(LabelRef(name + "_one"))

	Comment("Write back: c = alpha*acc + beta*c, never reading c when beta is 0.")
	Label(name + "_store")
	Load(Param("ldc"), ld)
	SHLQ(U8(2), ld)
	Load(Param("c"), bases[0])
	if len(bases) > 1 {
		LEAQ(Mem{Base: ld, Index: ld, Scale: 2}, bases[1])
		ADDQ(bases[0], bases[1])
	}
	VBROADCASTSS(addr("alpha"), alpha)
	for i := 0; i < R; i++ {
		for j := 0; j < V; j++ {
			VMULPS(alpha, acc(i, j), acc(i, j))
		}
	}
	// beta == 0 (either sign) is tested on its bits, keeping SSE out of AVX code.
	MOVL(addr("beta"), EDX)
	ANDL(U32(0x7fffffff), EDX)
	JE(LabelRef(name + "_beta0"))
	VBROADCASTSS(addr("beta"), beta)
	for i := 0; i < R; i++ {
		for j := 0; j < V; j++ {
			VFMADD231PS(row(bases, ld, i, j*vb), beta, acc(i, j))
			VMOVUPS(acc(i, j), row(bases, ld, i, j*vb))
		}
	}
	VZEROUPPER()
	RET()

	Label(name + "_beta0")
	for i := 0; i < R; i++ {
		for j := 0; j < V; j++ {
			VMOVUPS(acc(i, j), row(bases, ld, i, j*vb))
		}
	}
	VZEROUPPER()
	RET()
}
