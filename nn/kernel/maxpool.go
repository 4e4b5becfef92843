package kernel

import (
	"math"
	"sync"
)

// MaxPool takes the maxima of k×k windows, stride s, padding p (padding
// never wins) of plane x (h,w) into y (oh,ow), and their positions iy*w+ix
// into sw, as nn.MaxPool2d: the first maximum in row-major window order wins
// ties, and a NaN wins over anything before it. It reports false, doing
// nothing, where it has no vector path (stride other than 1 or 2, no AVX2),
// and the caller loops. 2x2 and 3x3 windows at stride 2 with no padding
// (VGG's and AlexNet's pools) are read in place (maxPool2x2AVX2,
// maxPool3x3AVX2). Otherwise, like the depthwise kernels, it reads a padded copy of
// the plane (filled with -Inf; for stride 2 its even and odd columns as two
// planes) and computes each output row in whole vectors. A window whose
// every value is -Inf is redone by a plain loop.
func MaxPool(x []float32, h, w, k, s, p, oh, ow int, y []float32, sw []int32) bool {
	if useAVX2 && (k == 2 || k == 3) && s == 2 && p == 0 && 2*oh+k-2 <= h && 2*ow+k-2 <= w && oh > 0 && ow > 0 {
		// VGG's and AlexNet's pools: every window inside the plane, read
		// in place.
		_, _, _ = x[(2*oh+k-3)*w+2*ow+k-3], y[oh*ow-1], sw[oh*ow-1]
		var offs [9]int32
		for t := range k * k {
			offs[t] = int32(t/k*w + t%k)
		}
		if k == 2 {
			maxPool2x2AVX2(&y[0], &sw[0], &x[0], &offs[0], w, oh, ow)
		} else {
			maxPool3x3AVX2(&y[0], &sw[0], &x[0], &offs[0], w, oh, ow)
		}
		return true
	}
	if !useAVX2 || (s != 1 && s != 2) || oh <= 0 || ow <= 0 || k*k > 64 {
		return false
	}
	ps, ip := planeScratches.Get().(*planeScratch), tapScratch.Get().(*[]int32)
	defer planeScratches.Put(ps)
	defer tapScratch.Put(ip)
	negInf := float32(math.Inf(-1))
	// tapAt[t] is tap t's offset in the plane from its window's corner.
	var tapAt [64]int32
	for t := range k * k {
		tapAt[t] = int32(t/k*w + t%k)
	}
	// emit copies a row of maxima and turns winning tap numbers into
	// positions; a window where nothing beat -Inf takes its first in-image
	// value, as the loop does.
	emit := func(oy int, maxima []float32, taps []int32) {
		out, at := y[oy*ow:(oy+1)*ow], sw[oy*ow:(oy+1)*ow]
		copyShort(out, maxima)
		corner := int32((oy*s-p)*w - p) // window ox's corner is corner + ox*s
		for ox, t := range taps[:ow] {
			if t < 0 {
				iy0, ix0 := max(oy*s-p, 0), max(ox*s-p, 0)
				out[ox], at[ox] = x[iy0*w+ix0], int32(iy0*w+ix0)
				continue
			}
			at[ox] = corner + int32(ox*s) + tapAt[t&63]
		}
	}
	var offs [64]int
	if s == 1 {
		// The whole plane in one call (padded.go).
		n := paddedRun(oh, w, p)
		plane, wp := paddedPlane(ps, x, h, w, p, k, n, negInf)
		*ip = grow(*ip, n)
		rows, taps := ps.buf[len(plane):len(plane)+n], *ip
		planeOffsets(offs[:k*k], k, wp)
		maxTapsAVX2(&rows[0], &taps[0], &plane[0], &offs[0], k*k, n)
		for oy := 0; oy < oh; oy++ {
			emit(oy, rows[oy*wp:oy*wp+ow], taps[oy*wp:oy*wp+ow])
		}
		return true
	}
	owv := (ow + lanes - 1) &^ (lanes - 1)
	pl := evenOddPlane(ps, x, h, w, k, p, oh, owv, negInf)
	*ip = grow(*ip, owv)
	row, args := ps.buf[len(pl.plane):len(pl.plane)+owv], *ip
	for oy := 0; oy < oh; oy++ {
		pl.rowOffsets(offs[:k*k], oy, k)
		maxTapsAVX2(&row[0], &args[0], &pl.plane[0], &offs[0], k*k, owv)
		emit(oy, row, args)
	}
	return true
}

// tapScratch holds MaxPool's winning tap numbers between calls.
var tapScratch = sync.Pool{New: func() any { return new([]int32) }}
