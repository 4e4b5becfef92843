package kernel

// im2col/col2im: the unrolling that turns a convolution into a matrix
// product, and its adjoint. Im2col and Col2im are the fast versions: each
// row (c,ky,kx) of the unrolled matrix knows from its offsets which output
// columns ox and rows oy read inside the image, so the padding margins are
// zeroed (or skipped) as spans and the in-image part is a copy (stride 1) or
// a strided loop without bounds tests. Im2colNaive and Col2imNaive are the
// element-by-element reference loops they are tested against.

// Im2col unrolls one image x (C,H,W) into cols (C*k*k, H'*W') so that a
// convolution becomes a matrix product: row (c,ky,kx), column (oy,ox) holds
// x[c][oy*s-p+ky*d][ox*s-p+kx*d], or 0 where that falls in the padding
// (d is the dilation, 1 for an ordinary convolution). Every entry of cols
// is written.
func Im2col(x []float32, c, h, w, k, s, p, d, oh, ow int, cols []float32) {
	Im2colLd(x, c, h, w, k, s, p, d, oh, ow, cols, oh*ow)
}

// Im2colLd is Im2col into rows ld floats apart (ld >= H'*W'): several
// images unrolled side by side into one wider matrix, each at its own
// column offset. Only the image's H'*W' columns of each row are written.
func Im2colLd(x []float32, c, h, w, k, s, p, d, oh, ow int, cols []float32, ld int) {
	n := oh * ow
	if n == 0 || c == 0 {
		return
	}
	_ = cols[(c*k*k-1)*ld+n-1]
	row := 0
	for ci := 0; ci < c; ci++ {
		plane := x[ci*h*w : (ci+1)*h*w]
		for ky := 0; ky < k; ky++ {
			oyLo, oyHi := validRange(ky*d-p, s, h, oh)
			for kx := 0; kx < k; kx++ {
				dst := cols[row*ld : row*ld+n]
				row++
				off := kx*d - p
				oxLo, oxHi := validRange(off, s, w, ow)
				if oxLo >= oxHi || oyLo >= oyHi {
					clear(dst)
					continue
				}
				clear(dst[:oyLo*ow])
				clear(dst[oyHi*ow:])
				if s == 1 && ow == w {
					// Output rows as wide as input rows: the in-image
					// entries are one contiguous run of x shifted by the
					// tap's offset; copy it whole, then zero the margins
					// it wrapped into.
					lo, hi := oyLo*ow+oxLo, (oyHi-1)*ow+oxHi
					shift := (ky*d-p)*w + off
					copy(dst[lo:hi], plane[lo+shift:hi+shift])
					// The margins are a column or two: zero them
					// down the rows (clear calls per row cost more).
					body := dst[oyLo*ow : oyHi*ow]
					for j := 0; j < oxLo; j++ {
						for i := j; i < len(body); i += ow {
							body[i] = 0
						}
					}
					for j := oxHi; j < ow; j++ {
						for i := j; i < len(body); i += ow {
							body[i] = 0
						}
					}
					continue
				}
				for oy := oyLo; oy < oyHi; oy++ {
					out := dst[oy*ow : (oy+1)*ow]
					src := plane[(oy*s+ky*d-p)*w : (oy*s+ky*d-p+1)*w]
					clear(out[:oxLo])
					clear(out[oxHi:])
					ix := oxLo*s + off
					if s == 1 {
						// Short rows (LeNet's 10-wide maps) in a loop.
						copyShort(out[oxLo:oxHi], src[ix:ix+oxHi-oxLo])
						continue
					}
					mid := out[oxLo:oxHi]
					if s == 2 && len(mid) >= longStride2 {
						evens(mid, src[ix:])
						continue
					}
					src = src[ix : ix+(len(mid)-1)*s+1]
					for j := range mid {
						mid[j] = src[j*s]
					}
				}
			}
		}
	}
}

// validRange is the half-open range [lo, hi) of output positions o in
// [0, on) whose input position o*s + off lies in [0, n).
func validRange(off, s, n, on int) (lo, hi int) {
	// o*s + off >= 0  <=>  o >= ceil(-off/s)
	if off < 0 {
		lo = (-off + s - 1) / s
	}
	// o*s + off <= n-1  <=>  o <= floor((n-1-off)/s)
	if n-1-off < 0 {
		return 0, 0
	}
	hi = min(on, (n-1-off)/s+1)
	return min(lo, hi), hi
}

// Col2im is Im2col's adjoint: it adds each column entry back to the pixel it
// was copied from (dx += scatter(cols)). dx is (C,H,W) and is accumulated.
func Col2im(cols []float32, c, h, w, k, s, p, d, oh, ow int, dx []float32) {
	n := oh * ow
	if n == 0 || c == 0 {
		return
	}
	_ = cols[c*k*k*n-1]
	row := 0
	for ci := 0; ci < c; ci++ {
		plane := dx[ci*h*w : (ci+1)*h*w]
		for ky := 0; ky < k; ky++ {
			oyLo, oyHi := validRange(ky*d-p, s, h, oh)
			for kx := 0; kx < k; kx++ {
				src := cols[row*n : (row+1)*n]
				row++
				off := kx*d - p
				oxLo, oxHi := validRange(off, s, w, ow)
				if oxLo >= oxHi {
					continue
				}
				for oy := oyLo; oy < oyHi; oy++ {
					in := src[oy*ow+oxLo : oy*ow+oxHi]
					line := plane[(oy*s+ky*d-p)*w : (oy*s+ky*d-p+1)*w]
					ix := oxLo*s + off
					if s == 1 {
						line = line[ix : ix+len(in)]
						for j, v := range in {
							line[j] += v
						}
						continue
					}
					line = line[ix : ix+(len(in)-1)*s+1]
					for j, v := range in {
						line[j*s] += v
					}
				}
			}
		}
	}
}

// Im2colNaive is the reference loop for Im2col, one bounds test per entry.
func Im2colNaive(x []float32, c, h, w, k, s, p, d, oh, ow int, cols []float32) {
	row := 0
	for ci := 0; ci < c; ci++ {
		plane := x[ci*h*w : (ci+1)*h*w]
		for ky := 0; ky < k; ky++ {
			for kx := 0; kx < k; kx++ {
				dst := cols[row*oh*ow : (row+1)*oh*ow]
				for oy := 0; oy < oh; oy++ {
					iy := oy*s - p + ky*d
					out := dst[oy*ow : (oy+1)*ow]
					if iy < 0 || iy >= h {
						clear(out)
						continue
					}
					src := plane[iy*w : (iy+1)*w]
					for ox := range out {
						ix := ox*s - p + kx*d
						if ix < 0 || ix >= w {
							out[ox] = 0
						} else {
							out[ox] = src[ix]
						}
					}
				}
				row++
			}
		}
	}
}

// Col2imNaive is the reference loop for Col2im.
func Col2imNaive(cols []float32, c, h, w, k, s, p, d, oh, ow int, dx []float32) {
	row := 0
	for ci := 0; ci < c; ci++ {
		plane := dx[ci*h*w : (ci+1)*h*w]
		for ky := 0; ky < k; ky++ {
			for kx := 0; kx < k; kx++ {
				src := cols[row*oh*ow : (row+1)*oh*ow]
				for oy := 0; oy < oh; oy++ {
					iy := oy*s - p + ky*d
					if iy < 0 || iy >= h {
						continue
					}
					line := plane[iy*w : (iy+1)*w]
					for ox, v := range src[oy*ow : (oy+1)*ow] {
						ix := ox*s - p + kx*d
						if ix >= 0 && ix < w {
							line[ix] += v
						}
					}
				}
				row++
			}
		}
	}
}
