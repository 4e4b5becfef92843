// Command asm generates convscope's SGEMM micro-kernels with avo:
// ../sgemm_amd64.s, their Go declarations ../stubs_amd64.go and the tables
// that index them, ../tables_amd64.go. It is its own module so that avo never
// becomes a dependency of convscope itself. Regenerate with
//
//	cd nn/kernel/asm && go run . -out ../sgemm_amd64.s -stubs ../stubs_amd64.go -pkg kernel -tables ../tables_amd64.go
//
// (go generate ./nn/kernel/ runs the same). Every kernel computes one
// register tile of C = alpha*A*B + beta*C:
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
// R*V fused multiply-adds into accumulators that never leave registers.
// Tiles too small to keep 8 multiply-adds in flight (two FMA units, four
// cycles each) use 2 or 4 sets of accumulators on alternate k steps, summed
// at the end.
//
// The ...P variants read B unpacked (k rows ldb floats apart, prefetching a
// few rows ahead) and store the packed panel as they go: the driver runs one
// on the first tile of each panel, so packing B costs no pass of its own.
// The ...T variants are the ...P ones for a B whose rows are not evenly
// spaced: row p starts rows[p] floats after b (a table of at least
// k + 1<<prefetchShift entries, the extra ones only prefetched), as the
// shifted windows of a padded image are for a convolution
// (kernel.SgemmRows).
// The ...G variants (AVX-512 only) are the ...T ones for a B whose columns
// are not contiguous either: element (p, j) is at rows[p] plus column j's
// place (kernel.SgemmGather). For each vector of the panel a table gives
// the byte offset of a 32-float window and the 16 lanes' places in it;
// the kernel loads the window's two halves and picks the lanes with one
// VPERMT2PS, so a convolution's output columns can skip the margins of
// its padded images without a pass of their own.
// transposeAVX512 and transposeAVX2 transpose whole 16×16 or 8×8 blocks in
// registers, to pack a transposed A or B.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"

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

// modes is the ways of reading B the set has kernels for.
func (s isa) modes() []mode {
	if s.width == 16 {
		return modes
	}
	return modes[:3]
}

// placesHeld reports whether a gathered kernel of R rows and V vectors
// keeps its V vectors of lane places in registers, beside its
// accumulators, V vectors of B, the broadcast, and alpha and beta; the
// 6x4 one has no room and loads each vector's places as it needs them.
func placesHeld(s isa, R, V int) bool {
	return accSets(R, V)*R*V+2*V+1+2 <= len(s.regs)
}

// accSets is how many sets of accumulators a tile of R rows and V
// vectors takes alternate k steps with: enough for 8 multiply-adds in
// flight (four cycles each, two FMA units).
func accSets(R, V int) int {
	S := 1
	for R*V*S < 8 && S < unroll {
		S *= 2
	}
	return S
}

// gatherVecBytes is the size of one vector's entry in a gathered kernel's
// table (kernel.gatherVec): 16 int32 lanes, then the window's byte offset
// and a pad.
const gatherVecBytes = 80

const unroll = 4

// mode is how a kernel reads B: packed, unpacked with rows ldb apart
// (packing it on the way), or unpacked with rows where a table says.
type mode struct{ suffix, typ string }

var (
	packed  = mode{"", "microKernel"}
	strided = mode{"P", "packKernel"}
	tabled  = mode{"T", "rowsKernel"}
	// gathered is AVX-512 only (VPERMT2PS picks from two zmm halves).
	gathered = mode{"G", "gatherKernel"}
	modes    = []mode{packed, strided, tabled, gathered}
)

// The packing kernels prefetch the row of B 1<<prefetchShift rows ahead.
var prefetchShift = 3

var tables = flag.String("tables", "", "Go file to write the kernel tables to")

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
		for _, m := range s.modes() {
			for r := 1; r <= s.maxR; r++ {
				for v := 1; v <= s.maxV; v++ {
					kernel(s, r, v, m)
				}
			}
		}
	}
	transpose(sets[0], 16, transpose16x16)
	transpose(sets[1], 8, transpose8x8)
	Generate()
	if *tables != "" {
		writeTables(*tables, sets)
	}
}

// writeTables writes the Go tables that index the kernels by rows and vectors.
func writeTables(path string, sets []isa) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by command: go run main.go %s. DO NOT EDIT.\n\n", joinArgs())
	fmt.Fprintf(&b, "//go:build amd64 && !noasm\n\npackage kernel\n\n")
	for _, s := range sets {
		for _, m := range s.modes() {
			typ, suffix := m.typ, m.suffix
			fmt.Fprintf(&b, "// tiles%s%s[r-1][v-1] is the %s kernel for r rows and v vectors.\n", s.name, suffix, s.name)
			fmt.Fprintf(&b, "var tiles%s%s = [][]%s{\n", s.name, suffix, typ)
			for r := 1; r <= s.maxR; r++ {
				b.WriteString("{")
				for v := 1; v <= s.maxV; v++ {
					fmt.Fprintf(&b, "sgemm%sR%dV%d%s, ", s.name, r, v, suffix)
				}
				b.WriteString("},\n")
			}
			b.WriteString("}\n\n")
		}
	}
	src, err := format.Source(b.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(path, src, 0o644); err != nil {
		log.Fatal(err)
	}
}

func joinArgs() string {
	var b bytes.Buffer
	for i, a := range os.Args[1:] {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(a)
	}
	return b.String()
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

// kernel emits the tile kernel for R rows and V vectors; unless B is
// packed it reads B unpacked (k rows, ldb floats apart or where a table of
// row offsets says) and also writes the packed panel to bp, so that the
// first tile of a panel packs it for the others for free.
func kernel(s isa, R, V int, m mode) {
	pack, table, gather := m != packed, m == tabled || m == gathered, m == gathered
	name := fmt.Sprintf("sgemm%sR%dV%d%s", s.name, R, V, m.suffix)
	sig := "func(k int, a *float32, lda int, b *float32, c *float32, ldc int, alpha, beta float32)"
	doc := fmt.Sprintf("%s computes a %dx%d tile: c = alpha*a*b + beta*c, b packed.", name, R, V*s.width)
	switch m {
	case strided:
		sig = "func(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, bp *float32)"
		doc = fmt.Sprintf("%s computes a %dx%d tile: c = alpha*a*b + beta*c, b unpacked (ldb apart), and packs b into bp.", name, R, V*s.width)
	case tabled:
		sig = "func(k int, a *float32, lda int, b *float32, rows *int, c *float32, ldc int, alpha, beta float32, bp *float32)"
		doc = fmt.Sprintf("%s computes a %dx%d tile: c = alpha*a*b + beta*c, b's row p at rows[p] floats from b, and packs b into bp.", name, R, V*s.width)
	case gathered:
		sig = "func(k int, a *float32, lda int, b *float32, rows *int, gv *int32, c *float32, ldc int, alpha, beta float32, bp *float32)"
		doc = fmt.Sprintf("%s computes a %dx%d tile: c = alpha*a*b + beta*c, b's element (p, j) at rows[p] floats from b plus column j's place in gv (a kernel.gatherVec table), and packs b into bp.", name, R, V*s.width)
	}
	TEXT(name, NOSPLIT, sig)
	Doc(doc)

	vb := 4 * s.width // bytes per vector
	// S sets of accumulators take alternate k steps when R*V alone would
	// leave the FMA units waiting on latency (4 cycles, 2 units: 8 chains).
	S := accSets(R, V)
	acc := func(set, i, j int) VecPhysical { return s.regs[(set*R+i)*V+j] }
	nacc := S * R * V
	bv := func(j int) VecPhysical { return s.regs[nacc+j] }
	t := s.regs[nacc+V]
	// gathered: vector j's lane places, held or loaded into one register
	held := gather && placesHeld(s, R, V)
	zi := func(j int) VecPhysical {
		if held {
			return s.regs[nacc+V+1+j]
		}
		return s.regs[nacc+V+1]
	}
	alpha, beta := s.regs[len(s.regs)-2], s.regs[len(s.regs)-1]

	// General-purpose registers: AX k, BX lda then ldc (bytes), CX b, SI/DI
	// bases of A rows 0-2 and 3-5 (then of C's), DX beta's bits; packing:
	// R8 ldb (bytes) or the row table, R9 bp, R10 the prefetch distance
	// (strided) or the row ahead's offset (tabled), R11 the row's offset;
	// gathered: R11 and R10 the row offsets, DX, R12, R13, R14 the
	// vectors' windows (b plus their offsets) and R15 the table.
	k, ld, bptr := RAX, RBX, RCX
	ldb, out, pf, at := R8, R9, R10, R11
	win, places := []GPPhysical{RDX, R12, R13, R14}, R15
	bases := []GPPhysical{RSI, RDI}[:(R+2)/3]

	for set := 0; set < S; set++ {
		for i := 0; i < R; i++ {
			for j := 0; j < V; j++ {
				s.zero(acc(set, i, j))
			}
		}
	}
	Load(Param("k"), k)
	Load(Param("lda"), ld)
	SHLQ(U8(2), ld)
	Load(Param("b"), bptr)
	if table {
		Load(Param("rows"), ldb)
		Load(Param("bp"), out)
		if gather {
			// Each vector's window and lane places, kept for the whole
			// tile where there is room.
			Load(Param("gv"), places)
			for j := 0; j < V; j++ {
				MOVQ(Mem{Base: places, Disp: j*gatherVecBytes + 64}, win[j])
				ADDQ(bptr, win[j])
				if held {
					VMOVDQU32(Mem{Base: places, Disp: j * gatherVecBytes}, zi(j))
				}
			}
		}
	} else if pack {
		Load(Param("ldb"), ldb)
		SHLQ(U8(2), ldb)
		Load(Param("bp"), out)
		// R10 = prefetchRows*ldb: B is read a row at a time, each row in
		// another page, where hardware prefetchers do not follow.
		MOVQ(ldb, pf)
		SHLQ(U8(prefetchShift), pf)
	}
	Load(Param("a"), bases[0])
	if len(bases) > 1 {
		LEAQ(Mem{Base: ld, Index: ld, Scale: 2}, bases[1])
		ADDQ(bases[0], bases[1])
	}

	step := func(u, set int) {
		if gather {
			// This row's offset and the one ahead's.
			MOVQ(Mem{Base: ldb}, at)
			MOVQ(Mem{Base: ldb, Disp: 8 << prefetchShift}, pf)
			ADDQ(U8(8), ldb)
		} else if table {
			MOVQ(Mem{Base: ldb}, at)
		}
		for j := 0; j < V; j++ {
			if gather {
				if !held {
					VMOVDQU32(Mem{Base: places, Disp: j * gatherVecBytes}, zi(j))
				}
				VMOVUPS(Mem{Base: win[j], Index: at, Scale: 4}, bv(j))
				VPERMT2PS(Mem{Base: win[j], Index: at, Scale: 4, Disp: 64}, zi(j), bv(j))
				VMOVUPS(bv(j), Mem{Base: out, Disp: (u*V + j) * vb})
				PREFETCHT0(Mem{Base: win[j], Index: pf, Scale: 4})
				if j == V-1 {
					PREFETCHT0(Mem{Base: win[j], Index: pf, Scale: 4, Disp: 64})
				}
			} else if table {
				VMOVUPS(Mem{Base: bptr, Index: at, Scale: 4, Disp: j * vb}, bv(j))
				VMOVUPS(bv(j), Mem{Base: out, Disp: (u*V + j) * vb})
			} else if pack {
				VMOVUPS(Mem{Base: bptr, Disp: j * vb}, bv(j))
				VMOVUPS(bv(j), Mem{Base: out, Disp: (u*V + j) * vb})
			} else {
				VMOVUPS(Mem{Base: bptr, Disp: (u*V + j) * vb}, bv(j))
			}
		}
		switch {
		case gather:
		case table:
			MOVQ(Mem{Base: ldb, Disp: 8 << prefetchShift}, pf)
			for j := 0; j < V; j += 64 / vb {
				PREFETCHT0(Mem{Base: bptr, Index: pf, Scale: 4, Disp: j * vb})
			}
			ADDQ(U8(8), ldb)
		case pack:
			for j := 0; j < V; j += 64 / vb {
				PREFETCHT0(Mem{Base: bptr, Index: pf, Scale: 1, Disp: j * vb})
			}
			ADDQ(ldb, bptr)
		}
		for i := 0; i < R; i++ {
			VBROADCASTSS(row(bases, ld, i, 4*u), t)
			for j := 0; j < V; j++ {
				VFMADD231PS(bv(j), t, acc(set, i, j))
			}
		}
	}
	advance := func(steps int) {
		for _, b := range bases {
			ADDQ(U8(4*steps), b)
		}
		if pack {
			ADDQ(U32(steps*V*vb), out)
		} else {
			ADDQ(U32(steps*V*vb), bptr)
		}
	}

	Comment("Main loop: four k steps a turn.")
	CMPQ(k, U8(unroll))
	JL(LabelRef(name + "_tail"))
	Label(name + "_loop")
	for u := 0; u < unroll; u++ {
		step(u, u%S)
	}
	advance(unroll)
	SUBQ(U8(unroll), k)
	CMPQ(k, U8(unroll))
	JGE(LabelRef(name + "_loop"))

	Comment("Remaining k steps, one at a time.")
	Label(name + "_tail")
	TESTQ(k, k)
	JE(LabelRef(name + "_store"))
	Label(name + "_one")
	step(0, 0)
	advance(1)
	DECQ(k)
	JNE(LabelRef(name + "_one"))

	Label(name + "_store")
	if S > 1 {
		Comment("Sum the accumulator sets.")
		for set := 1; set < S; set++ {
			for i := 0; i < R; i++ {
				for j := 0; j < V; j++ {
					VADDPS(acc(set, i, j), acc(0, i, j), acc(0, i, j))
				}
			}
		}
	}
	Comment("Write back: c = alpha*acc + beta*c, never reading c when beta is 0.")
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
			VMULPS(alpha, acc(0, i, j), acc(0, i, j))
		}
	}
	// beta == 0 (either sign) is tested on its bits, keeping SSE out of AVX code.
	MOVL(addr("beta"), EDX)
	ANDL(U32(0x7fffffff), EDX)
	JE(LabelRef(name + "_beta0"))
	VBROADCASTSS(addr("beta"), beta)
	for i := 0; i < R; i++ {
		for j := 0; j < V; j++ {
			VFMADD231PS(row(bases, ld, i, j*vb), beta, acc(0, i, j))
			VMOVUPS(acc(0, i, j), row(bases, ld, i, j*vb))
		}
	}
	VZEROUPPER()
	RET()

	Label(name + "_beta0")
	for i := 0; i < R; i++ {
		for j := 0; j < V; j++ {
			VMOVUPS(acc(0, i, j), row(bases, ld, i, j*vb))
		}
	}
	VZEROUPPER()
	RET()
}

// transpose emits transpose{ISA}(rows, cols, src, ls, dst, ld), which sets
// dst[c*ld+r] = src[r*ls+c] for r < rows, c < cols, both multiples of the
// block size bs, one bs×bs block at a time in registers. It packs
// transposed operands (op(B) when transB, op(A) when transA).
func transpose(s isa, bs int, block func(r []VecPhysical) []VecPhysical) {
	name := "transpose" + s.name
	TEXT(name, NOSPLIT, "func(rows, cols int, src *float32, ls int, dst *float32, ld int)")
	Doc(fmt.Sprintf("%s sets dst[c*ld+r] = src[r*ls+c] for r < rows, c < cols, both multiples of %d.", name, bs))
	rows, cols, src, ls, dst, ld := RAX, RBX, RSI, RCX, RDI, RDX
	c, p, q := R8, R9, R10
	Load(Param("rows"), rows)
	Load(Param("cols"), cols)
	Load(Param("src"), src)
	Load(Param("ls"), ls)
	SHLQ(U8(2), ls)
	Load(Param("dst"), dst)
	Load(Param("ld"), ld)
	SHLQ(U8(2), ld)
	TESTQ(rows, rows)
	JE(LabelRef(name + "_done"))
	TESTQ(cols, cols)
	JE(LabelRef(name + "_done"))
	r := s.regs[:2*bs]

	Comment("For each band of bs source rows ...")
	Label(name + "_rows")
	XORQ(c, c)
	Comment("... and each bs×bs block in it: load, transpose, store.")
	Label(name + "_cols")
	// p = src + c*4 (block's first row), q = dst + c*ld (block's first row in dst).
	LEAQ(Mem{Base: src, Index: c, Scale: 4}, p)
	MOVQ(c, q)
	IMULQ(ld, q)
	ADDQ(dst, q)
	for i := 0; i < bs; i++ {
		VMOVUPS(Mem{Base: p}, r[i])
		ADDQ(ls, p)
	}
	out := block(r)
	for i := 0; i < bs; i++ {
		VMOVUPS(out[i], Mem{Base: q})
		ADDQ(ld, q)
	}
	ADDQ(U8(bs), c)
	CMPQ(c, cols)
	JL(LabelRef(name + "_cols"))

	// Next band: src += bs rows, dst += bs floats.
	MOVQ(ls, p)
	SHLQ(U8(log2(bs)), p)
	ADDQ(p, src)
	ADDQ(U8(4*bs), dst)
	SUBQ(U8(bs), rows)
	JNE(LabelRef(name + "_rows"))

	Label(name + "_done")
	VZEROUPPER()
	RET()
}

func log2(n int) int {
	l := 0
	for ; n > 1; n >>= 1 {
		l++
	}
	return l
}

// transpose16x16 transposes the 16 zmm rows r[0:16] in place, with r[16:32]
// as scratch: 32-bit, then 64-bit interleaves, then two 128-bit lane shuffles.
func transpose16x16(r []VecPhysical) []VecPhysical {
	x, t := r[:16], r[16:32]
	for i := 0; i < 16; i += 2 {
		VUNPCKLPS(x[i+1], x[i], t[i])
		VUNPCKHPS(x[i+1], x[i], t[i+1])
	}
	for i := 0; i < 16; i += 4 {
		VUNPCKLPD(t[i+2], t[i], x[i])
		VUNPCKHPD(t[i+2], t[i], x[i+1])
		VUNPCKLPD(t[i+3], t[i+1], x[i+2])
		VUNPCKHPD(t[i+3], t[i+1], x[i+3])
	}
	for h := 0; h < 16; h += 8 {
		for i := 0; i < 4; i++ {
			VSHUFF32X4(U8(0x88), x[h+i+4], x[h+i], t[h+i])
			VSHUFF32X4(U8(0xdd), x[h+i+4], x[h+i], t[h+i+4])
		}
	}
	for i := 0; i < 8; i++ {
		VSHUFF32X4(U8(0x88), t[i+8], t[i], x[i])
		VSHUFF32X4(U8(0xdd), t[i+8], t[i], x[i+8])
	}
	return x
}

// transpose8x8 transposes the 8 ymm rows r[0:8] into r[8:16]: 32-bit
// interleaves, 64-bit shuffles, then 128-bit lane swaps.
func transpose8x8(r []VecPhysical) []VecPhysical {
	x, t := r[:8], r[8:16]
	for i := 0; i < 8; i += 2 {
		VUNPCKLPS(x[i+1], x[i], t[i])
		VUNPCKHPS(x[i+1], x[i], t[i+1])
	}
	for i := 0; i < 8; i += 4 {
		VSHUFPS(U8(0x44), t[i+2], t[i], x[i])
		VSHUFPS(U8(0xee), t[i+2], t[i], x[i+1])
		VSHUFPS(U8(0x44), t[i+3], t[i+1], x[i+2])
		VSHUFPS(U8(0xee), t[i+3], t[i+1], x[i+3])
	}
	for i := 0; i < 4; i++ {
		VPERM2F128(U8(0x20), x[i+4], x[i], t[i])
		VPERM2F128(U8(0x31), x[i+4], x[i], t[i+4])
	}
	return t
}
