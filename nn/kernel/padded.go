package kernel

import (
	"math"
	"sync"
)

// Padded copies of a plane for the tap kernels (depthwise convolution and
// max pooling). With the padding in memory every tap of a window reads a
// contiguous run at a fixed offset, so the kernels need no bounds tests.
//
// Stride 1 (paddedPlane): output (oy,ox)'s window starts at oy*wp+ox of
// the padded input (wp wide), and tap (ky,kx) reads it at that place plus
// ky*wp+kx, so one kernel call covers every row: the depthwise kernel
// writes each row to its place in the output; the max-pool kernel runs as
// if the output were wp wide (wp-ow throwaway columns between rows) and
// its rows are copied out.
//
// Stride 2, depthwise (quartersPlane): the padded plane's four phase
// planes (even and odd rows and columns), where every output's taps sit at
// one offset again, so one kernel call covers every row, as at stride 1.
// Stride 2, max pooling (evenOddPlane): the even and odd columns go to two
// half planes, so that the taps of consecutive outputs are consecutive;
// the kernels then run one output row at a time.

// planeScratch is a padded plane's buffer between calls, with the layout
// whose fill it still holds. The kernels write only a plane's interior and
// what lies after the plane, so the next plane of the same layout (the
// rest of a layer's channels and samples) copies its interior and skips the
// fill.
type planeScratch struct {
	buf    []float32
	layout planeLayout
}

// planeLayout is what decides where a padded plane's fill lies: which kind
// of plane, the input's size, padding, window, the sizes after it (n for
// paddedPlane; oh and owv for evenOddPlane) and the fill value.
type planeLayout struct {
	evenOdd    bool
	quarters   bool
	h, w, p, k int
	a, b       int
	fill       float32
}

// same is l == o, field by field in line (== on a struct with a float
// field is a call of its own, and the kernels ask once a plane).
func (l planeLayout) same(o planeLayout) bool {
	return l.h == o.h && l.w == o.w && l.p == o.p && l.k == o.k && l.a == o.a && l.b == o.b &&
		l.evenOdd == o.evenOdd && l.quarters == o.quarters && math.Float32bits(l.fill) == math.Float32bits(o.fill)
}

// prepare returns the first size floats of ps's buffer, grown to hold
// size+extra, with every float set to fill unless the buffer already holds
// a plane of layout l.
func (ps *planeScratch) prepare(l planeLayout, size, extra int) []float32 {
	if !ps.layout.same(l) || cap(ps.buf) < size+extra {
		ps.buf = grow(ps.buf, size+extra)
		fillWith(ps.buf[:size], l.fill)
		ps.layout = l
	}
	ps.buf = ps.buf[:size+extra]
	return ps.buf[:size]
}

// planeScratches holds the padded planes of the depthwise and pooling
// kernels between calls.
var planeScratches = sync.Pool{New: func() any { return new(planeScratch) }}

// paddedPlane copies x (h,w) into a plane of rows w+2p wide with p rows and
// columns of fill around it, in ps, with room for a kernel that reads n
// values from each of k*k taps, and n more floats of capacity after it (for
// the kernel's output: ps.buf[len(plane):len(plane)+n]). It returns the
// plane and its row width.
func paddedPlane(ps *planeScratch, x []float32, h, w, p, k, n int, fill float32) (plane []float32, wp int) {
	wp = w + 2*p
	size := (h+2*p)*wp + k + n
	plane = ps.prepare(planeLayout{h: h, w: w, p: p, k: k, a: n, fill: fill}, size, n)
	copyRows(plane[p*wp+p:], x[:h*w], h, w, wp)
	return plane, wp
}

// paddedRun is how many outputs a stride-1 tap kernel computes over a
// padded plane: oh rows as wide as the padded input (w+2p), in whole
// vectors. Kernels that pass the same run to paddedPlane share its layout,
// and so its fill.
func paddedRun(oh, w, p int) int {
	return (oh*(w+2*p) + lanes - 1) &^ (lanes - 1)
}

// copyRows copies rows rows of w floats, contiguous in src, to rows ld
// floats apart in dst: the interior of a padded plane. The assembly takes
// a row's last w%8 floats through a mask, so small planes (4 to 14 wide)
// cost a few instructions a row instead of a loop or a memmove call.
func copyRows(dst, src []float32, rows, w, ld int) { copyStrided(dst, src, rows, w, ld, w) }

// compactRows copies rows rows of w floats, ld floats apart in src, to
// contiguous rows in dst: a plane out of a padded-width result.
func compactRows(dst, src []float32, rows, w, ld int) { copyStrided(dst, src, rows, w, w, ld) }

// CopyStrided copies rows rows of w floats, ldSrc apart in src, to rows
// ldDst apart in dst, as copyRows does (a padded layout's interior, or a
// plane out of a padded-width product).
func CopyStrided(dst, src []float32, rows, w, ldDst, ldSrc int) {
	copyStrided(dst, src, rows, w, ldDst, ldSrc)
}

// EpilogueRows is CopyStrided with a fused evaluation's epilogue applied
// on the way: each value v of src's rows is written to dst as
// min(max(a*v + b, lo), hi) (AffineClamp), and then, when res is not
// nil, res's value at the same place as dst's (res has dst's rows) is
// added and the sum clamped to [0, sumHi] (Add, Clamp): the batch norm,
// rectifier and residual sum after a convolution, applied in one pass
// while the product's padded-width rows are copied out.
func EpilogueRows(dst, src, res []float32, rows, w, ldDst, ldSrc int, a, b, lo, hi, sumHi float32) {
	if rows == 0 || w == 0 {
		return
	}
	_, _ = src[(rows-1)*ldSrc+w-1], dst[(rows-1)*ldDst+w-1]
	if res != nil {
		_ = res[(rows-1)*ldDst+w-1]
	}
	switch {
	case useAVX2 && res == nil:
		epilogueRowsAVX2(&dst[0], &src[0], rows, w, ldDst, ldSrc, a, b, lo, hi)
		return
	case useAVX2:
		epilogueRowsResidualAVX2(&dst[0], &src[0], &res[0], rows, w, ldDst, ldSrc, a, b, lo, hi, sumHi)
		return
	}
	for r := 0; r < rows; r++ {
		d, s := dst[r*ldDst:r*ldDst+w], src[r*ldSrc:r*ldSrc+w]
		for i, v := range s {
			d[i] = clampTo(a*v+b, lo, hi)
		}
		if res != nil {
			for i, v := range res[r*ldDst : r*ldDst+w] {
				d[i] = clampTo(d[i]+v, 0, sumHi)
			}
		}
	}
}

// copyStrided copies rows rows of w floats, ldSrc apart in src, to rows
// ldDst apart in dst.
func copyStrided(dst, src []float32, rows, w, ldDst, ldSrc int) {
	if rows == 0 || w == 0 {
		return
	}
	_, _ = src[(rows-1)*ldSrc+w-1], dst[(rows-1)*ldDst+w-1]
	if useAVX2 {
		copyRowsAVX2(&dst[0], &src[0], rows, w, ldDst, ldSrc)
		return
	}
	for r := 0; r < rows; r++ {
		copyShort(dst[r*ldDst:], src[r*ldSrc:r*ldSrc+w])
	}
}

// planeOffsets sets the k*k tap offsets of a stride-1 padded plane.
func planeOffsets(offs []int, k, wp int) {
	for ky := 0; ky < k; ky++ {
		for kx := 0; kx < k; kx++ {
			offs[ky*k+kx] = ky*wp + kx
		}
	}
}

// halves is a stride-2 padded plane: the even columns of its hp rows, then
// the odd ones, each half `half` columns wide.
type halves struct {
	plane    []float32
	hp, half int
}

// evenOddPlane copies x (h,w) padded by p (with fill) into halves in ps,
// tall enough for oh output rows of a k×k window at stride 2 and wide
// enough for owv outputs a row, with owv floats of capacity after it.
func evenOddPlane(ps *planeScratch, x []float32, h, w, k, p, oh, owv int, fill float32) halves {
	hp := max(h+2*p, 2*(oh-1)+k)
	wpad := max(w+2*p, 2*(owv-1)+k)
	wpad += wpad & 1
	l := planeLayout{evenOdd: true, h: h, w: w, p: p, k: k, a: oh, b: owv, fill: fill}
	hv := halves{plane: ps.prepare(l, hp*wpad, owv), hp: hp, half: wpad / 2}
	for iy := 0; iy < h; iy++ {
		src, r := x[iy*w:(iy+1)*w], iy+p
		// Padded column c = ix+p goes to half c&1 at c>>1.
		even := hv.plane[r*hv.half : (r+1)*hv.half]
		odd := hv.plane[(hp+r)*hv.half : (hp+r+1)*hv.half]
		if p&1 == 1 {
			even, odd = odd, even
		}
		if w/2 >= longStride2 {
			evens(even[p>>1:p>>1+(w+1)/2], src)
			evens(odd[p>>1+p&1:p>>1+p&1+w/2], src[1:])
			continue
		}
		for ix, o := 0, p>>1; ix+1 < w; ix, o = ix+2, o+1 {
			even[o], odd[o+p&1] = src[ix], src[ix+1]
		}
		if w&1 == 1 {
			even[(w-1+p)>>1] = src[w-1]
		}
	}
	return hv
}

// quarters is a stride-2 padded plane as its four phase planes: quarter
// (a, b) holds the padded pixels (2i+a, 2j+b) at i*qw+j, hq rows of qw. Tap
// (ky, kx) of output (oy, ox) is then pixel (oy+ky/2, ox+kx/2) of quarter
// (ky%2, kx%2): every output's tap at one offset from oy*qw+ox, so one
// call of a tap kernel covers the whole plane, as at stride 1 (with qw-ow
// throwaway columns a row), where the halves took a call a row.
type quarters struct {
	plane  []float32
	hq, qw int
	h, w   int
	p      int
}

// quartersPlane copies x (h,w) padded by p (with fill) into quarters in
// ps, for oh×ow outputs of a k×k window at stride 2, with room for a
// kernel that reads n values from each tap and n floats of capacity after
// it (the kernel's output).
func quartersPlane(ps *planeScratch, x []float32, h, w, k, p, oh, ow, n int, fill float32) quarters {
	q := quarters{hq: oh + (k-1)/2, qw: ow + (k-1)/2, h: h, w: w, p: p}
	// Padded rows and columns past 2*hq and 2*qw are never read; the last
	// quarter's taps read up to n values past its tap offset.
	size := 3*q.hq*q.qw + ((k-1)/2)*(q.qw+1) + n
	l := planeLayout{quarters: true, h: h, w: w, p: p, k: k, a: oh, b: ow, fill: fill}
	q.plane = ps.prepare(l, size, n)
	q.copyIn(x)
	return q
}

// copyIn copies x (h,w) into the quarters' interior (the fill is left).
func (q quarters) copyIn(x []float32) {
	quarter := q.hq * q.qw
	for iy := 0; iy < q.h; iy++ {
		r := iy + q.p // padded row: quarter row parity r&1, row r>>1
		if r>>1 >= q.hq {
			break
		}
		src := x[iy*q.w : (iy+1)*q.w]
		rowAt := (r&1)*2*quarter + (r>>1)*q.qw
		// Padded column c = ix+p goes to quarter column parity c&1 at c>>1.
		even := q.plane[rowAt : rowAt+q.qw]
		odd := q.plane[rowAt+quarter : rowAt+quarter+q.qw]
		if q.p&1 == 1 {
			even, odd = odd, even
		}
		a, b := q.p>>1, q.p>>1+q.p&1 // where x's even and odd columns start
		if a+(q.w+1)/2 <= q.qw && b+q.w/2 <= q.qw {
			evens(even[a:a+(q.w+1)/2], src)
			evens(odd[b:b+q.w/2], src[1:])
			continue
		}
		for ix := 0; ix < q.w; ix++ {
			c := ix + q.p
			if c>>1 >= q.qw {
				break
			}
			if ix&1 == 0 {
				even[c>>1] = src[ix]
			} else {
				odd[c>>1] = src[ix]
			}
		}
	}
}

// offsets sets the k*k tap offsets of the quarters.
func (q quarters) offsets(offs []int, k int) {
	quarter := q.hq * q.qw
	for ky := 0; ky < k; ky++ {
		for kx := 0; kx < k; kx++ {
			offs[ky*k+kx] = ((ky&1)*2+kx&1)*quarter + (ky>>1)*q.qw + kx>>1
		}
	}
}

// rowOffsets sets the k*k tap offsets of output row oy.
func (hv halves) rowOffsets(offs []int, oy, k int) {
	for ky := 0; ky < k; ky++ {
		r := 2*oy + ky
		for kx := 0; kx < k; kx++ {
			if kx&1 == 0 {
				offs[ky*k+kx] = r*hv.half + kx>>1
			} else {
				offs[ky*k+kx] = (hv.hp+r)*hv.half + kx>>1
			}
		}
	}
}

// fillWith sets every value of s to v.
func fillWith(s []float32, v float32) {
	if v == 0 {
		clear(s)
		return
	}
	for i := range s {
		s[i] = v
	}
}
