package kernel

// The blocked SGEMM driver (GotoBLAS/BLIS order) shared by every path: it
// packs B and calls register-tile micro-kernels; the kernels themselves are
// assembly (sgemm_amd64.s) or plain Go (gemm_go.go). No SIMD here.
//
//	for jc in steps of nc:            columns of C
//	  for pc in steps of kc:          the shared dimension
//	    for ic in steps of mc:        rows of C; A is read in place
//	      (transA only: pack A[ic:ic+mc, pc:pc+kc] into a row-major block)
//	      for jr in steps of nr:      one kc×nr micro-panel of B, kept in L1
//	        (first ic only: pack B[pc:pc+kc, jc+jr:jc+jr+nr], zero padded)
//	        for ir in steps of mr:    C[ir:ir+mr, jr:jr+nr] += A-rows · B-panel
//
// The first pc block applies the caller's beta, later ones accumulate (beta
// 1). Where B needs no transposing, the first tile of each panel packs it
// with a kernel that reads B in place and stores the packed copy while it
// multiplies, so packing costs next to nothing. Ragged edges: a tile of
// fewer than mr rows has its own kernel; a panel narrower than nr runs the
// kernel with just enough vectors, and when its width is not a whole number
// of vectors the kernel writes a small scratch tile that is merged into C, so
// nothing past column n is ever touched.

import (
	"slices"
	"unsafe"
)

// microKernel computes one tile: c = alpha*a*b + beta*c, where a is R rows of
// k floats, lda apart, b a packed panel of k rows of V*W floats, c R rows of
// V*W floats, ldc apart; c is not read when beta is 0.
type microKernel func(k int, a *float32, lda int, b *float32, c *float32, ldc int, alpha, beta float32)

// packKernel is a microKernel that reads B unpacked (k rows of V*W floats,
// ldb apart) and, as it goes, writes them packed to bp for the later tiles.
type packKernel func(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, bp *float32)

// rowsKernel is a packKernel for a B whose row p starts rows[p] floats
// after b; rows holds k+rowsAhead entries (the last ones only prefetched).
type rowsKernel func(k int, a *float32, lda int, b *float32, rows *int, c *float32, ldc int, alpha, beta float32, bp *float32)

// gatherKernel is a rowsKernel for a B whose columns are not contiguous
// either: element (p, j) is at rows[p] floats from b plus column j's
// place, which gv (the panel's first gatherVec) gives vector by vector.
type gatherKernel func(k int, a *float32, lda int, b *float32, rows *int, gv *int32, c *float32, ldc int, alpha, beta float32, bp *float32)

// gatherVec is one vector's entry in a gatherKernel's table: lane i's
// place is off/4 + idx[i] floats from a row's start, idx[i] < 32, so that
// the kernel reads one window of two vectors a row and picks the lanes
// with one permute (asm/main.go's gatherVecBytes: 80 bytes an entry).
type gatherVec struct {
	idx  [16]int32
	off  int
	fits bool // the kernels may read it (gatherTable)
}

// windows describes a B that is read where it lies (SgemmRows,
// SgemmGather): row p starts at rows[p], and column j of a row is cols[j]
// floats on from there (j itself when cols is nil). rowMax is the
// largest row offset (SgemmGather's bound on the kernels' reads).
type windows struct {
	rows, cols []int
	rowMax     int
}

// rowsAhead is how many rows ahead the rowsKernels prefetch
// (asm/main.go's 1<<prefetchShift).
const rowsAhead = 8

// kernelSet is one path: its tile kernels and the blocking sized for them.
type kernelSet struct {
	name       string
	mr         int              // rows of a full tile
	w          int              // floats per vector
	nv         int              // vectors across a full tile: nr = nv*w
	kc, mc, nc int              // block sizes (kc: k, mc: rows, nc: columns)
	tile       [][]microKernel  // tile[r-1][v-1]: r rows, v vectors
	pack       [][]packKernel   // the same, packing B on the way; nil: pack in Go
	rows       [][]rowsKernel   // the same, B's rows where a table says; nil: pack in Go
	gather     [][]gatherKernel // the same, B's columns where a table says too; nil: pack in Go
	// transpose sets dst[c*ld+r] = src[r*ls+c] on rows×cols, multiples of
	// tb; nil: transposes are plain Go.
	transpose func(rows, cols int, src *float32, ls int, dst *float32, ld int)
	tb        int
}

func (ks *kernelSet) nr() int { return ks.nv * ks.w }

// workspace holds one goroutine's packing buffers, reused across calls.
type workspace struct {
	b, a, t, s []float32   // packed B, packed A (transA), edge tile, transpose scratch
	narrow     []float32   // sgemmNarrow's transposed C
	taps       []tap       // an implicit product's rows of this kc block
	rows       []int       // a row-table product's rows of this kc block, padded for prefetching
	gv         []gatherVec // a gathered product's panel, vector by vector
}

// grow is s resized to n values, reallocated (not copied) if too small.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// gemm computes the whole product on one goroutine. a, b and c start at
// op(A)[0][0], op(B)[0][0] and C[0][0] of the part to compute. When src is
// not nil, B is src's unrolled images (implicit GEMM) and b is unused; when
// win.rows is not nil, B's row r is b[win.rows[r]:] (SgemmRows) and ldb is
// unused, and when win.cols is not nil too, B's element (r, j) is
// b[win.rows[r]+win.cols[j]] (SgemmGather).
func (ks *kernelSet) gemm(ws *workspace, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, win windows, beta float32, c []float32, ldc int, src *ConvInput) {
	mr, w, nr := ks.mr, ks.w, ks.nr()
	rows, cols := win.rows, win.cols
	// Equal kc blocks, as large as allowed, whole transpose blocks but for
	// the last.
	kc := k
	if k > ks.kc {
		nk := (k + ks.kc - 1) / ks.kc
		kc = ((k+nk-1)/nk + 15) / 16 * 16
	}
	ncb := min(ks.nc, n)
	ws.b = grow(ws.b, kc*((ncb+nr-1)/nr*nr))
	ws.t = grow(ws.t, mr*nr)
	if transA {
		ws.a = grow(ws.a, min(ks.mc, m)*kc)
	}
	// A B of whole vectors no wider than a panel, its rows packed
	// together, is its own packed panel: the tiles read it where it is.
	inPlace := !transB && rows == nil && src == nil && n <= nr && n%w == 0 && ldb == n
	if cols != nil && ks.gather != nil {
		ws.gatherTable(cols, w, win.rowMax, len(b))
	}
	for jc := 0; jc < n; jc += ks.nc {
		nb := min(ks.nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			be := beta
			if pc > 0 {
				be = 1
			}
			for ic := 0; ic < m; ic += ks.mc {
				mb := min(ks.mc, m-ic)
				ap, alda := a, lda
				if transA {
					ks.packAT(ws.a, a, lda, ic, pc, mb, kb)
					ap, alda = ws.a, kb
				} else {
					ap = a[ic*lda+pc:]
				}
				for jr := 0; jr < nb; jr += nr {
					nw := min(nr, nb-jr)
					v := (nw + w - 1) / w
					bp := &ws.b[jr*kb]
					ir := 0
					if inPlace {
						bp = &b[pc*ldb]
					} else if ic == 0 {
						// First use of this panel: pack it, in the first
						// tile's kernel when B needs no transposing and the
						// panel is whole vectors wide.
						switch {
						case src != nil:
							if jr == 0 {
								ws.taps = src.taps(ws.taps, pc, kb)
							}
							src.pack(ws.b[jr*kb:jr*kb+kb*v*w], ws.taps, jc+jr, nw, v*w)
						case cols != nil:
							if jr == 0 {
								ws.rows = rowTable(ws.rows, rows[pc:pc+kb])
							}
							q := (jc + jr) / w // the panel's first vector
							if ks.gather == nil || nw != v*w || !gathers(ws.gv[q:q+v]) {
								packGather(ws.b[jr*kb:jr*kb+kb*v*w], b, rows[pc:pc+kb], cols[jc+jr:jc+jr+nw], v*w)
								break
							}
							r := min(mr, mb)
							ks.gather[r-1][v-1](kb, &ap[0], alda, &b[0], &ws.rows[0], &ws.gv[q].idx[0], &c[jc+jr], ldc, alpha, be, bp)
							ir = r
						case rows != nil && ks.rows != nil && nw == v*w:
							if jr == 0 {
								ws.rows = rowTable(ws.rows, rows[pc:pc+kb])
							}
							r := min(mr, mb)
							ks.rows[r-1][v-1](kb, &ap[0], alda, &b[jc+jr], &ws.rows[0], &c[jc+jr], ldc, alpha, be, bp)
							ir = r
						case rows != nil:
							packRows(ws.b[jr*kb:jr*kb+kb*v*w], b, rows[pc:pc+kb], jc+jr, nw, v*w)
						case ks.pack != nil && !transB && nw == v*w:
							rows := min(mr, mb)
							ks.pack[rows-1][v-1](kb, &ap[0], alda, &b[pc*ldb+jc+jr], ldb, &c[jc+jr], ldc, alpha, be, bp)
							ir = rows
						default:
							ks.packPanel(ws.b[jr*kb:jr*kb+kb*v*w], transB, b, ldb, pc, jc+jr, kb, nw, v*w, &ws.s)
						}
					}
					row := ks.tile[mr-1][v-1]
					for ; ir < mb; ir += mr {
						rows := min(mr, mb-ir)
						f := row
						if rows < mr {
							f = ks.tile[rows-1][v-1]
						}
						ci := (ic+ir)*ldc + jc + jr
						if nw == v*w {
							f(kb, &ap[ir*alda], alda, bp, &c[ci], ldc, alpha, be)
							continue
						}
						f(kb, &ap[ir*alda], alda, bp, &ws.t[0], v*w, 1, 0)
						mergeTile(c[ci:], ldc, ws.t, v*w, rows, nw, alpha, be)
					}
				}
			}
		}
	}
}

// mergeTile sets c = alpha*t + beta*c on rows×cols, not reading c if beta is 0.
func mergeTile(c []float32, ldc int, t []float32, ldt, rows, cols int, alpha, beta float32) {
	if alpha == 1 && (beta == 0 || beta == 1) { // the usual case, as whole-row copies or vector adds
		for i := 0; i < rows; i++ {
			cr, tr := c[i*ldc:i*ldc+cols], t[i*ldt:i*ldt+cols]
			if beta == 0 {
				copy(cr, tr)
			} else {
				Add(cr, tr, cr)
			}
		}
		return
	}
	for i := 0; i < rows; i++ {
		cr, tr := c[i*ldc:i*ldc+cols], t[i*ldt:i*ldt+cols]
		if beta == 0 {
			for j, x := range tr {
				cr[j] = alpha * x
			}
			continue
		}
		for j, x := range tr {
			cr[j] = alpha*x + beta*cr[j]
		}
	}
}

// rowTable is the row offsets of one kc block with rowsAhead copies of
// the last one after them, for the rowsKernels to prefetch from.
func rowTable(t, rows []int) []int {
	t = grow(t, len(rows)+rowsAhead)
	copy(t, rows)
	for i := len(rows); i < len(t); i++ {
		t[i] = rows[len(rows)-1]
	}
	return t
}

// packRows copies columns [j0, j0+nw) of the rows that start at b[rows[p]]
// into dst as len(rows) rows of pw floats (pw >= nw), padded with zeros.
func packRows(dst, b []float32, rows []int, j0, nw, pw int) {
	for p, r := range rows {
		d := dst[p*pw : p*pw+pw]
		copy(d[:nw], b[r+j0:])
		clear(d[nw:])
	}
}

// gatherTable fills ws.gv with the gatherVecs of a product's columns,
// cols (whole vectors of w lanes, the last one ragged): a vector fits the
// kernels when its places lie within 2w floats and the window of the last
// row (rowMax) ends inside b's n floats.
func (ws *workspace) gatherTable(cols []int, w, rowMax, n int) {
	ws.gv = grow(ws.gv, (len(cols)+w-1)/w)
	for v := range ws.gv {
		lanes := cols[v*w : min(len(cols), (v+1)*w)]
		lo, hi := slices.Min(lanes), slices.Max(lanes)
		g := &ws.gv[v]
		g.fits = hi-lo < 2*w && rowMax+lo+2*w <= n
		g.off = 4 * lo
		for i, c := range lanes {
			g.idx[i] = int32(c - lo)
		}
	}
}

// gathers reports whether every vector of a panel fits the kernels.
func gathers(gv []gatherVec) bool {
	for _, g := range gv {
		if !g.fits {
			return false
		}
	}
	return true
}

// packGather copies B's elements (p, j), b[rows[p]+cols[j]], into dst as
// len(rows) rows of pw floats (pw >= len(cols)), padded with zeros.
func packGather(dst, b []float32, rows, cols []int, pw int) {
	for p, r := range rows {
		d, x := dst[p*pw:p*pw+pw], b[r:]
		for j, c := range cols {
			d[j] = x[c]
		}
		clear(d[len(cols):])
	}
}

// packPanel copies op(B)[pc:pc+kb, j0:j0+nw] into dst as kb rows of pw
// floats (pw >= nw, whole vectors), padding each row with zeros.
func (ks *kernelSet) packPanel(dst []float32, transB bool, b []float32, ldb, pc, j0, kb, nw, pw int, scratch *[]float32) {
	if !transB {
		for p := 0; p < kb; p++ {
			d := dst[p*pw : p*pw+pw]
			copy(d, b[(pc+p)*ldb+j0:(pc+p)*ldb+j0+nw])
			clear(d[nw:])
		}
		return
	}
	// op(B)[p][j] = B[j][p]: the panel is the transpose of nw rows of B.
	done := ks.transposeInto(nw, kb, b[j0*ldb+pc:], ldb, dst, pw, true, scratch)
	if nw < pw {
		for p := done; p < kb; p++ {
			clear(dst[p*pw+nw : p*pw+pw])
		}
	}
}

// packAT copies op(A)[ic:ic+mb, pc:pc+kb] of a transposed A (stored k×m, so
// op(A)[i][p] = A[p][i]) into dst as mb rows of kb floats.
func (ks *kernelSet) packAT(dst, a []float32, lda, ic, pc, mb, kb int) {
	ks.transposeInto(kb, mb, a[pc*lda+ic:], lda, dst, kb, false, nil)
}

// transposeInto sets dst[c*ld+r] = src[r*ls+c] for r < rows, c < cols:
// whole tb×tb blocks in assembly where the path has it, the edges in Go.
// With pad, dst has room for rows rounded up to tb, and the last, partial
// band of rows goes through the assembly too, copied into scratch with zero
// rows below it, so that dst gets zeros in those extra columns. It returns
// how many rows of dst (c < done) were written that way, up to the padding.
func (ks *kernelSet) transposeInto(rows, cols int, src []float32, ls int, dst []float32, ld int, pad bool, scratch *[]float32) (done int) {
	r0, c0, r1 := 0, 0, 0
	if tb := ks.tb; ks.transpose != nil && rows > 0 && cols >= tb {
		r0, c0 = rows/tb*tb, cols/tb*tb
		r1 = r0
		if r0 > 0 {
			_ = src[(r0-1)*ls+c0-1]
			_ = dst[(c0-1)*ld+r0-1]
			ks.transpose(r0, c0, &src[0], ls, &dst[0], ld)
		}
		if pad && r0 < rows {
			s := grow(*scratch, tb*c0)
			*scratch = s
			for r := 0; r < tb; r++ {
				if r0+r < rows {
					copy(s[r*c0:(r+1)*c0], src[(r0+r)*ls:])
				} else {
					clear(s[r*c0 : (r+1)*c0])
				}
			}
			_ = dst[(c0-1)*ld+r0+tb-1]
			ks.transpose(tb, c0, &s[0], c0, &dst[r0], ld)
			r1 = rows
		}
		if r1 == rows {
			done = c0
		}
	}
	// Columns c0.. of rows 0..r1, then every column of rows r1...
	for r := 0; r < r1; r++ {
		for c, x := range src[r*ls+c0 : r*ls+cols] {
			dst[(c0+c)*ld+r] = x
		}
	}
	for r := r1; r < rows; r++ {
		for c, x := range src[r*ls : r*ls+cols] {
			dst[c*ld+r] = x
		}
	}
	return done
}

// Transpose sets dst (cols×rows) to the transpose of src (rows×cols), both
// row-major and packed: dst[c*rows+r] = src[r*cols+c]. Whole 16x16 (AVX2:
// 8x8) blocks go through the SGEMM path's transpose kernel.
func Transpose(dst, src []float32, rows, cols int) {
	if rows == 0 || cols == 0 {
		return
	}
	_, _ = src[rows*cols-1], dst[rows*cols-1]
	active.transposeInto(rows, cols, src, cols, dst, rows, false, nil)
}

// f32s views n floats at p as a slice (for the Go kernels).
func f32s(p *float32, n int) []float32 { return unsafe.Slice(p, n) }
