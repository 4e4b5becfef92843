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

import "unsafe"

// microKernel computes one tile: c = alpha*a*b + beta*c, where a is R rows of
// k floats, lda apart, b a packed panel of k rows of V*W floats, c R rows of
// V*W floats, ldc apart; c is not read when beta is 0.
type microKernel func(k int, a *float32, lda int, b *float32, c *float32, ldc int, alpha, beta float32)

// packKernel is a microKernel that reads B unpacked (k rows of V*W floats,
// ldb apart) and, as it goes, writes them packed to bp for the later tiles.
type packKernel func(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, bp *float32)

// kernelSet is one path: its tile kernels and the blocking sized for them.
type kernelSet struct {
	name       string
	mr         int             // rows of a full tile
	w          int             // floats per vector
	nv         int             // vectors across a full tile: nr = nv*w
	kc, mc, nc int             // block sizes (kc: k, mc: rows, nc: columns)
	tile       [][]microKernel // tile[r-1][v-1]: r rows, v vectors
	pack       [][]packKernel  // the same, packing B on the way; nil: pack in Go
}

func (ks *kernelSet) nr() int { return ks.nv * ks.w }

// workspace holds one goroutine's packing buffers, reused across calls.
type workspace struct {
	b, a, t []float32
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// gemm computes the whole product on one goroutine. a, b and c start at
// op(A)[0][0], op(B)[0][0] and C[0][0] of the part to compute.
func (ks *kernelSet) gemm(ws *workspace, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	mr, w, nr := ks.mr, ks.w, ks.nr()
	// Equal kc blocks, as large as allowed.
	kc := (k + ks.kc - 1) / ks.kc
	kc = (k + kc - 1) / kc
	ncb := min(ks.nc, n)
	ws.b = grow(ws.b, kc*((ncb+nr-1)/nr*nr))
	ws.t = grow(ws.t, mr*nr)
	if transA {
		ws.a = grow(ws.a, min(ks.mc, m)*kc)
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
					packAT(ws.a, a, lda, ic, pc, mb, kb)
					ap, alda = ws.a, kb
				} else {
					ap = a[ic*lda+pc:]
				}
				for jr := 0; jr < nb; jr += nr {
					nw := min(nr, nb-jr)
					v := (nw + w - 1) / w
					bp := &ws.b[jr*kb]
					ir := 0
					if ic == 0 {
						// First use of this panel: pack it, in the first
						// tile's kernel when B needs no transposing and the
						// panel is whole vectors wide.
						if ks.pack != nil && !transB && nw == v*w {
							rows := min(mr, mb)
							ks.pack[rows-1][v-1](kb, &ap[0], alda, &b[pc*ldb+jc+jr], ldb, &c[jc+jr], ldc, alpha, be, bp)
							ir = rows
						} else {
							packPanel(ws.b[jr*kb:jr*kb+kb*v*w], transB, b, ldb, pc, jc+jr, kb, nw, v*w)
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

// packPanel copies op(B)[pc:pc+kb, j0:j0+nw] into dst as kb rows of pw
// floats (pw >= nw, whole vectors), padding each row with zeros.
func packPanel(dst []float32, transB bool, b []float32, ldb, pc, j0, kb, nw, pw int) {
	if !transB {
		for p := 0; p < kb; p++ {
			d := dst[p*pw : p*pw+pw]
			copy(d, b[(pc+p)*ldb+j0:(pc+p)*ldb+j0+nw])
			clear(d[nw:])
		}
		return
	}
	// op(B)[p][j] = B[j][p]: each stored row of B is one column of the panel.
	for j := 0; j < nw; j++ {
		src := b[(j0+j)*ldb+pc:]
		src = src[:kb]
		for p, x := range src {
			dst[p*pw+j] = x
		}
	}
	for j := nw; j < pw; j++ {
		for p := 0; p < kb; p++ {
			dst[p*pw+j] = 0
		}
	}
}

// packAT copies op(A)[ic:ic+mb, pc:pc+kb] of a transposed A (stored k×m, so
// op(A)[i][p] = A[p][i]) into dst as mb rows of kb floats.
func packAT(dst, a []float32, lda, ic, pc, mb, kb int) {
	dst = dst[:mb*kb]
	for p := 0; p < kb; p++ {
		src := a[(pc+p)*lda+ic:]
		src = src[:mb]
		for i, x := range src {
			dst[i*kb+p] = x
		}
	}
}

// f32s views n floats at p as a slice (for the Go kernels).
func f32s(p *float32, n int) []float32 { return unsafe.Slice(p, n) }
