package kernel

import "sync"

// Direct depthwise convolution, one channel plane at a time: the filter of
// a depthwise convolution has one input channel, so im2col would copy every
// input value k*k times to feed a product with a single row. These loops
// instead slide each filter tap over the plane: for tap (ky,kx), every
// output row adds w[ky][kx] times a (strided) span of one input row, the
// spans clipped to the image once per tap and row (validRange), so there are
// no bounds tests per element. Every output is summed over taps in the
// order (ky,kx), so the result does not depend on how planes are split
// across cores. DepthwiseNaive and friends are the reference loops.

// Depthwise sets y (H',W') to the correlation of plane x (H,W) with the
// k×k filter wt, stride s, zero padding p, dilation d:
//
//	y[oy][ox] = sum_{ky,kx} wt[ky][kx] * x[oy*s-p+ky*d][ox*s-p+kx*d]
func Depthwise(x []float32, h, w int, wt []float32, k, s, p, d, oh, ow int, y []float32) {
	y = y[:oh*ow]
	if useAVX2 && d == 1 && (s == 1 || s == 2 && ow >= lanes/2) && oh > 0 && ow > 0 {
		depthwisePadded(x, h, w, wt[:k*k], k, s, p, oh, ow, y)
		return
	}
	clear(y)
	for ky := 0; ky < k; ky++ {
		oyLo, oyHi := validRange(ky*d-p, s, h, oh)
		for kx := 0; kx < k; kx++ {
			off := kx*d - p
			oxLo, oxHi := validRange(off, s, w, ow)
			if oxLo >= oxHi {
				continue
			}
			wv := wt[ky*k+kx]
			ix := oxLo*s + off
			for oy := oyLo; oy < oyHi; oy++ {
				out := y[oy*ow+oxLo : oy*ow+oxHi]
				src := x[(oy*s+ky*d-p)*w+ix:]
				if s == 1 {
					Axpy(out, src[:len(out)], wv)
					continue
				}
				src = src[:(len(out)-1)*s+1]
				for j := range out {
					out[j] += wv * src[j*s]
				}
			}
		}
	}
}

// DepthwiseInputGrad adds to dx (H,W) the gradient of Depthwise with respect
// to its input, for the output gradient dy (H',W'):
//
//	dx[oy*s-p+ky*d][ox*s-p+kx*d] += wt[ky][kx] * dy[oy][ox]
func DepthwiseInputGrad(dy []float32, h, w int, wt []float32, k, s, p, d, oh, ow int, dx []float32) {
	if useAVX2 && s == 1 && d == 1 && p <= k-1 && w >= lanes/2 {
		// Stride 1: the gradient is dy correlated with the flipped
		// filter, padded k-1-p, so the forward's padded-plane loop does it.
		bp := depthwiseScratch.Get().(*[]float32)
		if cap(*bp) < k*k+h*w {
			*bp = make([]float32, k*k+h*w)
		}
		flipped, sum := (*bp)[:k*k], (*bp)[k*k:k*k+h*w]
		for i, v := range wt[:k*k] {
			flipped[k*k-1-i] = v
		}
		depthwisePadded(dy, oh, ow, flipped, k, 1, k-1-p, h, w, sum)
		Add(dx[:h*w], dx[:h*w], sum)
		depthwiseScratch.Put(bp)
		return
	}
	for ky := 0; ky < k; ky++ {
		oyLo, oyHi := validRange(ky*d-p, s, h, oh)
		for kx := 0; kx < k; kx++ {
			off := kx*d - p
			oxLo, oxHi := validRange(off, s, w, ow)
			if oxLo >= oxHi {
				continue
			}
			wv := wt[ky*k+kx]
			ix := oxLo*s + off
			for oy := oyLo; oy < oyHi; oy++ {
				in := dy[oy*ow+oxLo : oy*ow+oxHi]
				dst := dx[(oy*s+ky*d-p)*w+ix:]
				if s == 1 {
					Axpy(dst[:len(in)], in, wv)
					continue
				}
				dst = dst[:(len(in)-1)*s+1]
				for j, v := range in {
					dst[j*s] += wv * v
				}
			}
		}
	}
}

// DepthwiseWeightGrad adds to dwt (k,k) the gradient of Depthwise with
// respect to its filter:
//
//	dwt[ky][kx] += sum_{oy,ox} dy[oy][ox] * x[oy*s-p+ky*d][ox*s-p+kx*d]
func DepthwiseWeightGrad(x []float32, h, w int, dy []float32, k, s, p, d, oh, ow int, dwt []float32) {
	if useAVX2 && s == 1 && d == 1 {
		// As in depthwisePlane: with dy laid out as wide as the padded
		// input (zeros in the extra columns), each tap's sum is one dot
		// product over the whole plane.
		wp := w + 2*p
		bp := depthwiseScratch.Get().(*[]float32)
		plane, dyp := paddedPlane(bp, x, h, w, p, k, oh*wp)
		clear(dyp)
		for oy := 0; oy < oh; oy++ {
			copyShort(dyp[oy*wp:], dy[oy*ow:(oy+1)*ow])
		}
		for ky := 0; ky < k; ky++ {
			for kx := 0; kx < k; kx++ {
				dwt[ky*k+kx] += Dot(dyp, plane[ky*wp+kx:])
			}
		}
		depthwiseScratch.Put(bp)
		return
	}
	for ky := 0; ky < k; ky++ {
		oyLo, oyHi := validRange(ky*d-p, s, h, oh)
		for kx := 0; kx < k; kx++ {
			off := kx*d - p
			oxLo, oxHi := validRange(off, s, w, ow)
			if oxLo >= oxHi {
				continue
			}
			ix := oxLo*s + off
			var sum float32
			for oy := oyLo; oy < oyHi; oy++ {
				in := dy[oy*ow+oxLo : oy*ow+oxHi]
				src := x[(oy*s+ky*d-p)*w+ix:]
				if s == 1 {
					sum += Dot(in, src)
					continue
				}
				src = src[:(len(in)-1)*s+1]
				for j, v := range in {
					sum += v * src[j*s]
				}
			}
			dwt[ky*k+kx] += sum
		}
	}
}

// DepthwiseNaive is the reference loop for Depthwise.
func DepthwiseNaive(x []float32, h, w int, wt []float32, k, s, p, d, oh, ow int, y []float32) {
	for oy := 0; oy < oh; oy++ {
		for ox := 0; ox < ow; ox++ {
			var sum float32
			for ky := 0; ky < k; ky++ {
				for kx := 0; kx < k; kx++ {
					iy, ix := oy*s-p+ky*d, ox*s-p+kx*d
					if iy >= 0 && iy < h && ix >= 0 && ix < w {
						sum += wt[ky*k+kx] * x[iy*w+ix]
					}
				}
			}
			y[oy*ow+ox] = sum
		}
	}
}

// DepthwiseInputGradNaive is the reference loop for DepthwiseInputGrad.
func DepthwiseInputGradNaive(dy []float32, h, w int, wt []float32, k, s, p, d, oh, ow int, dx []float32) {
	for oy := 0; oy < oh; oy++ {
		for ox := 0; ox < ow; ox++ {
			for ky := 0; ky < k; ky++ {
				for kx := 0; kx < k; kx++ {
					iy, ix := oy*s-p+ky*d, ox*s-p+kx*d
					if iy >= 0 && iy < h && ix >= 0 && ix < w {
						dx[iy*w+ix] += wt[ky*k+kx] * dy[oy*ow+ox]
					}
				}
			}
		}
	}
}

// DepthwiseWeightGradNaive is the reference loop for DepthwiseWeightGrad.
func DepthwiseWeightGradNaive(x []float32, h, w int, dy []float32, k, s, p, d, oh, ow int, dwt []float32) {
	for ky := 0; ky < k; ky++ {
		for kx := 0; kx < k; kx++ {
			var sum float32
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					iy, ix := oy*s-p+ky*d, ox*s-p+kx*d
					if iy >= 0 && iy < h && ix >= 0 && ix < w {
						sum += dy[oy*ow+ox] * x[iy*w+ix]
					}
				}
			}
			dwt[ky*k+kx] += sum
		}
	}
}

// depthwisePadded is Depthwise for dilation 1 and stride 1 or 2 on the
// vector path. It copies the plane into a zero-padded scratch plane, for
// stride 2 as two planes of its even and odd columns, so that each tap of
// an output row reads one contiguous run; every output row is then one call
// of the taps kernel, which keeps the sum in registers (one fused
// multiply-add a tap, in the order (ky,kx), from zero, as Depthwise's rows).
// Rows are computed in whole vectors (the padded rows are long enough) and
// the last vector's extra outputs dropped.
func depthwisePadded(x []float32, h, w int, wt []float32, k, s, p, oh, ow int, y []float32) {
	if s == 1 {
		depthwisePlane(x, h, w, wt, k, p, oh, ow, y)
		return
	}
	owv := (ow + lanes - 1) &^ (lanes - 1)
	hp := h + 2*p
	// Padded row width: the input with its padding, and room for the
	// taps of the last whole vector of outputs.
	wpad := max(w+2*p, s*(owv-1)+k)
	wpad += wpad & (s - 1) // even for stride 2: halves of equal width
	half := wpad / s       // columns of each half plane (stride 2), or of the plane
	need := hp*wpad + owv + k*k
	bp := depthwiseScratch.Get().(*[]float32)
	if cap(*bp) < need {
		*bp = make([]float32, need)
	}
	buf := (*bp)[:need]
	var offsArr [64]int // k*k tap offsets (a 7x7 filter has 49)
	offs := offsArr[:]
	if k*k > len(offs) {
		offs = make([]int, k*k)
	}
	offs = offs[:k*k]
	plane, row := buf[:hp*wpad], buf[hp*wpad:hp*wpad+owv]
	clear(plane)
	for iy := 0; iy < h; iy++ {
		src := x[iy*w : (iy+1)*w]
		r := iy + p
		if s == 1 {
			copyShort(plane[r*wpad+p:], src)
			continue
		}
		// Padded column c = ix+p goes to half c&1 at c>>1.
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
	for oy := 0; oy < oh; oy++ {
		for ky := 0; ky < k; ky++ {
			r := oy*s + ky
			for kx := 0; kx < k; kx++ {
				switch {
				case s == 1:
					offs[ky*k+kx] = r*wpad + kx
				case kx&1 == 0:
					offs[ky*k+kx] = r*half + kx>>1
				default:
					offs[ky*k+kx] = hp*half + r*half + kx>>1
				}
			}
		}
		out := y[oy*ow : (oy+1)*ow]
		if owv == ow {
			depthwiseTapsAVX2(&out[0], &plane[0], &offs[0], &wt[0], k*k, ow)
			continue
		}
		depthwiseTapsAVX2(&row[0], &plane[0], &offs[0], &wt[0], k*k, owv)
		copyShort(out, row)
	}
	depthwiseScratch.Put(bp)
}

// depthwisePlane is depthwisePadded for stride 1, where the whole plane is
// one run: output (oy,ox) at oy*wp+ox of a plane as wide as the padded
// input (wp) reads the padded input at the same place plus the tap's offset
// ky*wp+kx, so one call of the taps kernel computes every row (and wp-ow
// throwaway columns between them) however small the plane, and the rows are
// then compacted into y.
func depthwisePlane(x []float32, h, w int, wt []float32, k, p, oh, ow int, y []float32) {
	wp := w + 2*p
	n := (oh*wp + lanes - 1) &^ (lanes - 1)
	bp := depthwiseScratch.Get().(*[]float32)
	plane, out := paddedPlane(bp, x, h, w, p, k, n)
	var offsArr [64]int
	offs := offsArr[:]
	if k*k > len(offs) {
		offs = make([]int, k*k)
	}
	for ky := 0; ky < k; ky++ {
		for kx := 0; kx < k; kx++ {
			offs[ky*k+kx] = ky*wp + kx
		}
	}
	depthwiseTapsAVX2(&out[0], &plane[0], &offs[0], &wt[0], k*k, n)
	for oy := 0; oy < oh; oy++ {
		copyShort(y[oy*ow:(oy+1)*ow], out[oy*wp:])
	}
	depthwiseScratch.Put(bp)
}

// paddedPlane copies x (h,w) into a zero plane with p columns and rows of
// padding on every side, from a scratch buffer; the plane has room for k
// taps of reads of n values past any row start, and out is n more floats.
func paddedPlane(bp *[]float32, x []float32, h, w, p, k, n int) (plane, out []float32) {
	wp := w + 2*p
	size := (h+2*p)*wp + k + n
	if cap(*bp) < size+n {
		*bp = make([]float32, size+n)
	}
	plane, out = (*bp)[:size], (*bp)[size:size+n]
	clear(plane)
	for iy := 0; iy < h; iy++ {
		copyShort(plane[(iy+p)*wp+p:], x[iy*w:(iy+1)*w])
	}
	return plane, out
}

// depthwiseScratch holds depthwisePadded's padded planes between calls.
var depthwiseScratch = sync.Pool{New: func() any { return new([]float32) }}

// copyShort is copy(dst, src) for the short rows of small planes, where a
// loop costs less than a call of memmove.
func copyShort(dst, src []float32) {
	if len(src) > 16 || len(dst) > 16 {
		copy(dst, src)
		return
	}
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, v := range src {
		dst[i] = v
	}
}
