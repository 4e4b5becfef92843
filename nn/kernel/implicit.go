package kernel

// Implicit GEMM: a convolution's product with its unrolled input packed
// straight from the images, panel by panel, instead of unrolled whole by
// Im2col first. On large maps the unrolled matrix is many times the
// image (VGG-16's second layer: 115 MB from a 12.8 MB input) and goes
// through memory twice, written by Im2col and read back by the product;
// packed per panel, it lives in L1 and L2 only.

// ConvInput is a batch of images seen as the matrix Im2col unrolls them
// to, side by side: row (c,ky,kx), column (b,oy,ox) holds
// X[b*Stride + c*H*W + (oy*S-P+ky*D)*W + ox*S-P+kx*D], or 0 in the
// padding. It has C*K*K rows and OH*OW columns per sample.
type ConvInput struct {
	X          []float32
	Stride     int // floats from one sample's start to the next's
	C, H, W    int
	K, S, P, D int // kernel, stride, padding, dilation
	OH, OW     int
	col0       int // the first column a part of a split product sees
}

// segment is a run of a panel's columns on one output row of one sample:
// n columns from the panel's column out, at (oy, ox) of the sample that
// starts at X[base].
type segment struct{ out, n, base, oy, ox int }

// span is a run of a panel's columns within one sample: n columns from
// the panel's column out, from output position at (oy*OW+ox) of the sample
// that starts at X[base].
type span struct{ out, n, base, at int }

// tap is one row (c,ky,kx) of the unrolled matrix: where its window starts
// in a sample (plane c, shifted by the tap's column offset), its row
// offset, and the output columns [lo, hi) and rows [yLo, yHi) that fall
// inside the image.
type tap struct{ start, offY, lo, hi, yLo, yHi int }

// taps returns rows [pc, pc+kb)'s taps in t (grown as needed).
func (u *ConvInput) taps(t []tap, pc, kb int) []tap {
	t = grow(t, kb)
	kk, plane := u.K*u.K, u.H*u.W
	for p := range t {
		r := pc + p
		ci, k := r/kk, r%kk
		offY, offX := (k/u.K)*u.D-u.P, (k%u.K)*u.D-u.P
		lo, hi := validRange(offX, u.S, u.W, u.OW)
		yLo, yHi := validRange(offY, u.S, u.H, u.OH)
		t[p] = tap{start: ci*plane + offX, offY: offY, lo: lo, hi: hi, yLo: yLo, yHi: yHi}
	}
	return t
}

// pack writes columns [j0, j0+nw) of the kb rows whose taps are given
// into dst as kb rows of pw floats (pw >= nw): the panel the blocked
// driver packs from a stored B.
func (u *ConvInput) pack(dst []float32, taps []tap, j0, nw, pw int) {
	if u.S == 1 && u.OW == u.W {
		u.packRuns(dst, taps, j0, nw, pw)
		return
	}
	var segs [maxPanel + 1]segment
	per := u.OH * u.OW
	ns := 0
	for out, j := 0, u.col0+j0; out < nw; ns++ {
		b, rem := j/per, j%per
		oy, ox := rem/u.OW, rem%u.OW
		n := min(u.OW-ox, nw-out)
		segs[ns] = segment{out: out, n: n, base: b * u.Stride, oy: oy, ox: ox}
		out, j = out+n, j+n
	}
	for p, tp := range taps {
		d := dst[p*pw : p*pw+pw]
		clear(d[nw:]) // the unused lanes hold zeros, never NaNs or denormals
		for _, sg := range segs[:ns] {
			seg := d[sg.out : sg.out+sg.n]
			iy := sg.oy*u.S + tp.offY
			lo, hi := max(tp.lo, sg.ox), min(tp.hi, sg.ox+sg.n)
			if uint(iy) >= uint(u.H) || lo >= hi {
				clear(seg)
				continue
			}
			if lo > sg.ox {
				clear(seg[:lo-sg.ox])
			}
			if hi < sg.ox+sg.n {
				clear(seg[hi-sg.ox:])
			}
			mid := seg[lo-sg.ox : hi-sg.ox]
			at := sg.base + tp.start + iy*u.W + lo*u.S // the first pixel inside the image: never negative
			if u.S == 1 {
				copy(mid, u.X[at:])
				continue
			}
			if u.S == 2 && len(mid) >= longStride2 {
				evens(mid, u.X[at:])
				continue
			}
			src := u.X[at : at+(len(mid)-1)*u.S+1]
			for i := range mid {
				mid[i] = src[i*u.S]
			}
		}
	}
}

// packRuns is pack for a convolution whose output rows are as wide as its
// input rows, at stride 1 (a padded "same" convolution): as in Im2col, a
// tap's in-image values over consecutive output rows of one sample are one
// run of the input shifted by the tap's offset, copied whole, and the
// margin columns it wrapped into are zeroed after.
func (u *ConvInput) packRuns(dst []float32, taps []tap, j0, nw, pw int) {
	var runs [maxPanel + 1]span
	per, ow := u.OH*u.OW, u.OW
	nr := 0
	for out, j := 0, u.col0+j0; out < nw; nr++ {
		b, rem := j/per, j%per
		n := min(per-rem, nw-out)
		runs[nr] = span{out: out, n: n, base: b * u.Stride, at: rem}
		out, j = out+n, j+n
	}
	for p, tp := range taps {
		d := dst[p*pw : p*pw+pw]
		clear(d[nw:]) // the unused lanes hold zeros, never NaNs or denormals
		inLo, inHi := tp.yLo*ow+tp.lo, (tp.yHi-1)*ow+tp.hi
		for _, r := range runs[:nr] {
			seg := d[r.out : r.out+r.n]
			first, last := max(r.at, inLo), min(r.at+r.n, inHi)
			if tp.yLo >= tp.yHi || tp.lo >= tp.hi || first >= last {
				clear(seg)
				continue
			}
			clear(seg[:first-r.at])
			clear(seg[last-r.at:])
			copy(seg[first-r.at:last-r.at], u.X[r.base+tp.start+tp.offY*u.W+first:])
			if tp.lo == 0 && tp.hi == ow {
				continue
			}
			for row := first / ow * ow; row < last; row += ow {
				for i := max(row, first); i < min(row+tp.lo, last); i++ {
					seg[i-r.at] = 0
				}
				for i := max(row+tp.hi, first); i < min(row+ow, last); i++ {
					seg[i-r.at] = 0
				}
			}
		}
	}
}

// maxPanel bounds a packed panel's width (nr) on every path.
const maxPanel = 64

// SgemmConv computes C = alpha*A*B + beta*C where B is in, unrolled
// (C*K*K rows, n columns), never stored: A is m×k (k = C*K*K), C is m×n,
// both row-major. It is Sgemm with B = Im2col of in, and agrees with it.
func SgemmConv(m, n, k int, alpha float32, a []float32, lda int, in *ConvInput, beta float32, c []float32, ldc int) {
	per := in.OH * in.OW
	if k != in.C*in.K*in.K || per == 0 || n%per != 0 || n > 0 && (n/per-1)*in.Stride+in.C*in.H*in.W > len(in.X) || n > per && in.Stride < in.C*in.H*in.W {
		panic("kernel: SgemmConv with a matrix that is not its input's unrolling")
	}
	if trivialProduct("SgemmConv", m, n, k, alpha, a, lda, beta, c, ldc) {
		return
	}
	sgemmParallelFrom(active, false, false, m, n, k, alpha, a, lda, nil, 0, windows{}, in, beta, c, ldc)
}
