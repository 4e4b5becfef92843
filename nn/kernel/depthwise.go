package kernel

import (
	"slices"
	"sync"
)

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
	if paddedDepthwise(k, s, d, oh, ow) {
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

// paddedDepthwise reports whether Depthwise takes the vector path over a
// padded copy of the plane (depthwisePadded).
func paddedDepthwise(k, s, d, oh, ow int) bool {
	return useAVX2 && d == 1 && (s == 1 || s == 2 && ow >= lanes/2) && oh > 0 && ow > 0 && k*k <= 64
}

// PlaneEpilogue is a fused evaluation's batch norm and rectifier after a
// depthwise convolution: plane j's values v become
// min(max(Scale[j]*v + Shift[j], Lo), Hi), as AffineClamp computes them
// (Scale nil: 1; Lo -Inf and Hi +Inf for no clamp).
type PlaneEpilogue struct {
	Scale, Shift []float32
	Lo, Hi       float32
}

// Apply sets dst to src with plane j's epilogue applied (AffineClamp).
func (ep *PlaneEpilogue) Apply(dst, src []float32, j int) {
	e := ep.at(j)
	AffineClamp(dst, src, e.a, e.b, e.lo, e.hi)
}

// at is plane j's epilogue.
func (ep *PlaneEpilogue) at(j int) tapEpilogue {
	a := float32(1)
	if ep.Scale != nil {
		a = ep.Scale[j]
	}
	return tapEpilogue{a, ep.Shift[j], ep.Lo, ep.Hi}
}

// DepthwisePlanes is Depthwise over consecutive planes: plane j of x (h*w
// floats each) with the filter wt[j*k*k:(j+1)*k*k] into plane j of y
// (oh*ow floats each), followed, when ep is not nil, by plane j's
// epilogue. On the vector path the planes share one scratch plane and one
// set of tap offsets, and the epilogue is applied to each sum in its
// register before it is stored: a small plane (MobileNet's 7x7) costs
// little more than its taps.
func DepthwisePlanes(x []float32, planes, h, w int, wt []float32, k, s, p, d, oh, ow int, y []float32, ep *PlaneEpilogue) {
	k2, in, out := k*k, h*w, oh*ow
	if !paddedDepthwise(k, s, d, oh, ow) {
		for j := range planes {
			yj := y[j*out : (j+1)*out]
			Depthwise(x[j*in:(j+1)*in], h, w, wt[j*k2:(j+1)*k2], k, s, p, d, oh, ow, yj)
			if ep != nil {
				ep.Apply(yj, yj, j)
			}
		}
		return
	}
	_, _, _ = x[planes*in-1], y[planes*out-1], wt[planes*k2-1]
	ps := planeScratches.Get().(*planeScratch)
	var offs [64]int
	var e tapEpilogue
	epilogue := func(j int) *tapEpilogue {
		if ep == nil {
			return nil
		}
		e = ep.at(j)
		return &e
	}
	if s == 1 {
		n := paddedRun(oh, w, p)
		plane, wp := paddedPlane(ps, x[:in], h, w, p, k, n, 0)
		planeOffsets(offs[:k2], k, wp)
		reach := slices.Max(offs[:k2])
		for j := range planes {
			if j > 0 { // the fill is the first plane's
				copyRows(plane[p*wp+p:], x[j*in:(j+1)*in], h, w, wp)
			}
			tapRows(y[j*out:(j+1)*out], plane, offs[:k2], reach, wt[j*k2:(j+1)*k2], oh, ow, wp, epilogue(j))
		}
	} else {
		n := (oh*(ow+(k-1)/2) + lanes - 1) &^ (lanes - 1)
		q := quartersPlane(ps, x[:in], h, w, k, p, oh, ow, n, 0)
		q.offsets(offs[:k2], k)
		reach := slices.Max(offs[:k2])
		for j := range planes {
			if j > 0 { // the fill is the first plane's
				q.copyIn(x[j*in : (j+1)*in])
			}
			tapRows(y[j*out:(j+1)*out], q.plane, offs[:k2], reach, wt[j*k2:(j+1)*k2], oh, ow, q.qw, epilogue(j))
		}
	}
	planeScratches.Put(ps)
}

// tapEpilogue is what depthwiseTapsAffineClampAVX2 does to each sum:
// min(max(a*sum + b, lo), hi).
type tapEpilogue struct{ a, b, lo, hi float32 }

// tapRows runs the depthwise taps kernel over rows rows of n outputs,
// written n apart in out (a plane's rows in place), whose taps read base
// at offs (reach the largest) from ld floats further on each row (a
// padded plane's row), with
// the epilogue e when it is not nil. A row's last vector reads base up to
// the next multiple of 8 floats past its outputs, inside what a padded run
// of rows*ld outputs would read (and the scratch behind base holds).
func tapRows(out, base []float32, offs []int, reach int, wt []float32, rows, n, ld int, e *tapEpilogue) {
	if rows <= 0 || n <= 0 {
		return
	}
	_ = out[(rows-1)*n+n-1]
	// The padded planes' scratch has room for their runs past the plane.
	_ = base[:cap(base)][(rows-1)*ld+(n+lanes-1)&^(lanes-1)-1+reach]
	if e == nil {
		depthwiseTapsAVX2(&out[0], &base[0], &offs[0], &wt[0], len(wt), rows, n, n, ld)
		return
	}
	depthwiseTapsAffineClampAVX2(&out[0], &base[0], &offs[0], &wt[0], len(wt), rows, n, n, ld, e.a, e.b, e.lo, e.hi)
}

// DepthwiseInputGrad adds to dx (H,W) the gradient of Depthwise with respect
// to its input, for the output gradient dy (H',W'):
//
//	dx[oy*s-p+ky*d][ox*s-p+kx*d] += wt[ky][kx] * dy[oy][ox]
func DepthwiseInputGrad(dy []float32, h, w int, wt []float32, k, s, p, d, oh, ow int, dx []float32) {
	depthwiseInputGrad(dy, h, w, wt, k, s, p, d, oh, ow, dx, true)
}

// DepthwiseInputGradSet is DepthwiseInputGrad into a dx whose values are
// not yet set (a plane that only this filter reaches): it sets every value
// of dx, saving the clearing and the addition.
func DepthwiseInputGradSet(dy []float32, h, w int, wt []float32, k, s, p, d, oh, ow int, dx []float32) {
	depthwiseInputGrad(dy, h, w, wt, k, s, p, d, oh, ow, dx, false)
}

// depthwiseInputGrad is DepthwiseInputGrad (add) or DepthwiseInputGradSet.
func depthwiseInputGrad(dy []float32, h, w int, wt []float32, k, s, p, d, oh, ow int, dx []float32, add bool) {
	dx = dx[:h*w]
	if upsampledStride2(k, s, p, d, h, w) {
		bp := depthwiseScratch.Get().(*[]float32)
		up, uh, uw := upsample(bp, dy, oh, ow, h+2*p-k+1, w+2*p-k+1)
		depthwiseInputGrad(up, h, w, wt, k, 1, p, 1, uh, uw, dx, add)
		depthwiseScratch.Put(bp)
		return
	}
	if useAVX2 && s == 1 && d == 1 && p <= k-1 && k*k <= 64 {
		// Stride 1: the gradient is dy correlated with the flipped
		// filter, padded k-1-p, so the forward's padded-plane loop does it.
		var flipped [64]float32
		for i, v := range wt[:k*k] {
			flipped[k*k-1-i] = v
		}
		if !add {
			depthwisePadded(dy, oh, ow, flipped[:k*k], k, 1, k-1-p, h, w, dx)
			return
		}
		bp := depthwiseScratch.Get().(*[]float32)
		sum := grow(*bp, h*w)
		depthwisePadded(dy, oh, ow, flipped[:k*k], k, 1, k-1-p, h, w, sum)
		Add(dx, dx, sum)
		*bp = sum
		depthwiseScratch.Put(bp)
		return
	}
	if !add {
		clear(dx)
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

// DepthwiseGradsSet is DepthwiseInputGradSet and DepthwiseWeightGrad of
// one plane in one call (dwt nil: the input gradient only), with the same
// values. A stride-2 plane's dy is upsampled once for both, and a stride-1
// "same" convolution (2p = k-1) pads dy once for both: the input gradient's
// padded dy, read from its first interior value, is the weight gradient's
// dy laid out as wide as the padded input, zeros between the rows.
func DepthwiseGradsSet(x []float32, h, w int, dy, wt []float32, k, s, p, d, oh, ow int, dx, dwt []float32) {
	switch {
	case dwt == nil:
		depthwiseInputGrad(dy, h, w, wt, k, s, p, d, oh, ow, dx, false)
	case upsampledStride2(k, s, p, d, h, w):
		bp := depthwiseScratch.Get().(*[]float32)
		up, uh, uw := upsample(bp, dy, oh, ow, h+2*p-k+1, w+2*p-k+1)
		DepthwiseGradsSet(x, h, w, up, wt, k, 1, p, 1, uh, uw, dx, dwt)
		depthwiseScratch.Put(bp)
	case paddedGrads(k, s, p, d, oh, ow):
		gradsPadded(x, 1, h, w, dy, wt, k, p, oh, ow, dx, dwt)
	default:
		depthwiseInputGrad(dy, h, w, wt, k, s, p, d, oh, ow, dx, false)
		DepthwiseWeightGrad(x, h, w, dy, k, s, p, d, oh, ow, dwt)
	}
}

// DepthwiseGradsSetPlanes is DepthwiseGradsSet on planes planes, one after
// another in x, dy and dx, their filters one after another in wt and dwt
// (dwt nil: no weight gradients). On the stride-1 path one pair of padded
// planes serves them all, their fill made once: taking the pair from the
// pool and checking its fill, a plane at a time, was 6% of MobileNet
// v1-050-small's training step.
func DepthwiseGradsSetPlanes(x []float32, planes, h, w int, dy, wt []float32, k, s, p, d, oh, ow int, dx, dwt []float32) {
	k2, in, out := k*k, h*w, oh*ow
	if planes <= 0 {
		return
	}
	_, _, _, _ = x[planes*in-1], dy[planes*out-1], dx[planes*in-1], wt[planes*k2-1]
	if dwt != nil && paddedGrads(k, s, p, d, oh, ow) {
		gradsPadded(x, planes, h, w, dy, wt, k, p, oh, ow, dx, dwt)
		return
	}
	for j := range planes {
		var dwj []float32
		if dwt != nil {
			dwj = dwt[j*k2 : (j+1)*k2]
		}
		DepthwiseGradsSet(x[j*in:(j+1)*in], h, w, dy[j*out:(j+1)*out], wt[j*k2:(j+1)*k2], k, s, p, d, oh, ow, dx[j*in:(j+1)*in], dwj)
	}
}

// paddedGrads reports the geometry whose two gradients gradsPadded takes:
// stride 1, "same" padding, on the vector path.
func paddedGrads(k, s, p, d, oh, ow int) bool {
	return useAVX2 && s == 1 && d == 1 && 2*p == k-1 && k*k <= 64 && oh > 0 && ow > 0
}

// gradsPadded is DepthwiseGradsSetPlanes with the weight gradients on
// paddedGrads' geometry: each plane's dx is dy correlated with the
// flipped filter over one padded dy, whose taps' dot products with the
// padded x are the filter's gradient; one pair of padded planes serves
// every plane.
func gradsPadded(x []float32, planes, h, w int, dy, wt []float32, k, p, oh, ow int, dx, dwt []float32) {
	k2, in, out := k*k, h*w, oh*ow
	_ = dwt[planes*k2-1]
	n := paddedRun(oh, w, p)
	pdy, px := planeScratches.Get().(*planeScratch), planeScratches.Get().(*planeScratch)
	dyPlane, wp := paddedPlane(pdy, dy[:out], oh, ow, p, k, n, 0) // as DepthwisePlanes pads it for the input gradient
	plane, _ := paddedPlane(px, x[:in], h, w, p, k, n, 0)
	var offs [64]int
	planeOffsets(offs[:k2], k, wp)
	reach := slices.Max(offs[:k2])
	var flipped [64]float32
	for j := range planes {
		if j > 0 { // the interiors; the fill is the first plane's
			copyRows(dyPlane[p*wp+p:], dy[j*out:(j+1)*out], oh, ow, wp)
			copyRows(plane[p*wp+p:], x[j*in:(j+1)*in], h, w, wp)
		}
		for i, v := range wt[j*k2 : (j+1)*k2] {
			flipped[k2-1-i] = v
		}
		tapRows(dx[j*in:(j+1)*in], dyPlane, offs[:k2], reach, flipped[:k2], h, w, wp, nil)
		tapDotsAVX2(&dwt[j*k2], &dyPlane[p*wp+p], &plane[0], &offs[0], k2, n)
	}
	planeScratches.Put(pdy)
	planeScratches.Put(px)
}

// DepthwiseWeightGrad adds to dwt (k,k) the gradient of Depthwise with
// respect to its filter:
//
//	dwt[ky][kx] += sum_{oy,ox} dy[oy][ox] * x[oy*s-p+ky*d][ox*s-p+kx*d]
func DepthwiseWeightGrad(x []float32, h, w int, dy []float32, k, s, p, d, oh, ow int, dwt []float32) {
	if upsampledStride2(k, s, p, d, h, w) {
		bp := depthwiseScratch.Get().(*[]float32)
		up, uh, uw := upsample(bp, dy, oh, ow, h+2*p-k+1, w+2*p-k+1)
		DepthwiseWeightGrad(x, h, w, up, k, 1, p, 1, uh, uw, dwt)
		depthwiseScratch.Put(bp)
		return
	}
	if useAVX2 && s == 1 && d == 1 && k*k <= 64 && oh > 0 && ow > 0 {
		// As in depthwisePlane (the same padded plane, so a layer's
		// forward and backward share its fill): with dy laid out as wide
		// as the padded input (zeros in the extra columns), each tap's sum
		// is one dot product over the whole plane, all taps in one call.
		n := paddedRun(oh, w, p)
		ps := planeScratches.Get().(*planeScratch)
		plane, wp := paddedPlane(ps, x, h, w, p, k, n, 0)
		dyp := ps.buf[len(plane) : len(plane)+n]
		clear(dyp)
		copyRows(dyp, dy[:oh*ow], oh, ow, wp)
		var offs [64]int
		planeOffsets(offs[:k*k], k, wp)
		_ = dwt[k*k-1]
		tapDotsAVX2(&dwt[0], &dyp[0], &plane[0], &offs[0], k*k, n)
		planeScratches.Put(ps)
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

// upsampledStride2 reports a stride-2 gradient that runs as the stride-1
// gradient of its output gradient upsampled (upsample): four times the
// multiply-adds, three in four by zero, but in the vector loops instead
// of one float at a time.
func upsampledStride2(k, s, p, d, h, w int) bool {
	return useAVX2 && s == 2 && d == 1 && p <= k-1 && k*k <= 64 && h+2*p >= k && w+2*p >= k
}

// upsample lays dy (oh×ow) out in *buf as a uh×uw plane (the stride-1
// output's size) with dy[oy][ox] at (2oy, 2ox) and zeros elsewhere: the
// output gradient of the stride-1 convolution whose outputs at even
// places are the stride-2 one's.
func upsample(buf *[]float32, dy []float32, oh, ow, uh, uw int) (up []float32, h, w int) {
	up = grow(*buf, uh*uw)
	*buf = up
	clear(up)
	for oy := range oh {
		row, src := up[2*oy*uw:(2*oy+1)*uw], dy[oy*ow:(oy+1)*ow]
		for ox, v := range src {
			row[2*ox] = v
		}
	}
	return up, uh, uw
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
// vector path. It copies the plane into a zero-padded scratch plane
// (padded.go), so that each tap reads one contiguous run, and the taps
// kernel keeps each output's sum in registers (one fused multiply-add a
// tap, in the order (ky,kx), from zero, as Depthwise's rows).
func depthwisePadded(x []float32, h, w int, wt []float32, k, s, p, oh, ow int, y []float32) {
	DepthwisePlanes(x, 1, h, w, wt, k, s, p, 1, oh, ow, y, nil)
}

// depthwiseScratch holds DepthwiseInputGrad's sum between calls.
var depthwiseScratch = sync.Pool{New: func() any { return new([]float32) }}

// copyShort is copy(dst, src) for the short rows of small planes, where a
// loop costs less than a call of memmove.
func copyShort(dst, src []float32) {
	n := min(len(dst), len(src))
	if n > 16 {
		copy(dst, src)
		return
	}
	dst, src = dst[:n], src[:n]
	for i, v := range src {
		dst[i] = v
	}
}
