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
// and the caller loops. Like the depthwise kernels it reads a padded copy of
// the plane (filled with -Inf; for stride 2 its even and odd columns as two
// planes) and computes each output row in whole vectors. A window whose
// every value is -Inf is redone by a plain loop.
func MaxPool(x []float32, h, w, k, s, p, oh, ow int, y []float32, sw []int32) bool {
	if !useAVX2 || (s != 1 && s != 2) || oh <= 0 || ow <= 0 || k*k > 64 {
		return false
	}
	owv := (ow + lanes - 1) &^ (lanes - 1)
	hp := max(h+2*p, (oh-1)*s+k)
	wpad := max(w+2*p, s*(owv-1)+k)
	wpad += wpad & (s - 1)
	half := wpad / s
	need := hp*wpad + lanes + 2*owv // slack: the whole-plane call reads up to 7 values past the last row
	bp := depthwiseScratch.Get().(*[]float32)
	if cap(*bp) < need {
		*bp = make([]float32, need)
	}
	buf := (*bp)[:need]
	plane, row := buf[:hp*wpad+lanes], buf[hp*wpad+lanes:hp*wpad+lanes+owv]
	ip := tapScratch.Get().(*[]int32)
	defer tapScratch.Put(ip)
	negInf := float32(math.Inf(-1))
	for i := range plane {
		plane[i] = negInf
	}
	for iy := 0; iy < h; iy++ {
		src, r := x[iy*w:(iy+1)*w], iy+p
		if s == 1 {
			copyShort(plane[r*wpad+p:], src)
			continue
		}
		even, odd := plane[r*half:(r+1)*half], plane[hp*half+r*half:hp*half+(r+1)*half]
		if p&1 == 1 {
			even, odd = odd, even
		}
		for ix, o := 0, p>>1; ix+1 < w; ix, o = ix+2, o+1 {
			even[o], odd[o+p&1] = src[ix], src[ix+1]
		}
		if w&1 == 1 {
			even[(w-1+p)>>1] = src[w-1]
		}
	}
	var offsArr [64]int
	offs := offsArr[:k*k]
	// emit copies a row of maxima and turns winning tap numbers into
	// positions; a window where nothing beat -Inf takes its first in-image
	// value, as the loop does.
	emit := func(oy int, maxima []float32, taps []int32) {
		out, at := y[oy*ow:(oy+1)*ow], sw[oy*ow:(oy+1)*ow]
		copyShort(out, maxima)
		for ox, t := range taps[:ow] {
			if t < 0 {
				iy0, ix0 := max(oy*s-p, 0), max(ox*s-p, 0)
				out[ox], at[ox] = x[iy0*w+ix0], int32(iy0*w+ix0)
				continue
			}
			at[ox] = int32((oy*s-p+int(t)/k)*w + ox*s - p + int(t)%k)
		}
	}
	if s == 1 {
		// The whole plane in one call: output (oy,ox) at oy*wpad+ox reads
		// the padded plane there plus the tap's offset.
		for ky := 0; ky < k; ky++ {
			for kx := 0; kx < k; kx++ {
				offs[ky*k+kx] = ky*wpad + kx
			}
		}
		n := (oh*wpad + lanes - 1) &^ (lanes - 1)
		rows, taps := growFloats(bp, need, n), growInts(ip, n)
		plane = (*bp)[:hp*wpad+lanes] // growFloats may have moved the buffer
		maxTapsAVX2(&rows[0], &taps[0], &plane[0], &offs[0], k*k, n)
		for oy := 0; oy < oh; oy++ {
			emit(oy, rows[oy*wpad:oy*wpad+ow], taps[oy*wpad:oy*wpad+ow])
		}
	} else {
		for oy := 0; oy < oh; oy++ {
			for ky := 0; ky < k; ky++ {
				r := oy*s + ky
				for kx := 0; kx < k; kx++ {
					if kx&1 == 0 {
						offs[ky*k+kx] = r*half + kx>>1
					} else {
						offs[ky*k+kx] = hp*half + r*half + kx>>1
					}
				}
			}
			args := growInts(ip, owv)
			maxTapsAVX2(&row[0], &args[0], &plane[0], &offs[0], k*k, owv)
			emit(oy, row, args)
		}
	}
	depthwiseScratch.Put(bp)
	return true
}

// tapScratch holds MaxPool's winning tap numbers between calls.
var tapScratch = sync.Pool{New: func() any { return new([]int32) }}

// growInts is the first n values of *p, grown if needed.
func growInts(p *[]int32, n int) []int32 {
	if cap(*p) < n {
		*p = make([]int32, n)
	}
	return (*p)[:n]
}

// growFloats is n values of *p past its first `from`, keeping those.
func growFloats(p *[]float32, from, n int) []float32 {
	if cap(*p) < from+n {
		b := make([]float32, from+n)
		copy(b, (*p)[:from])
		*p = b
	}
	return (*p)[from : from+n]
}
