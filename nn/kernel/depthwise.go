package kernel

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
