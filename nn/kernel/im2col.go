package kernel

// Im2col unrolls one image x (C,H,W) into cols (C*k*k, H'*W') so that a
// convolution becomes a matrix product: row (c,ky,kx), column (oy,ox) holds
// x[c][oy*s-p+ky*d][ox*s-p+kx*d], or 0 where that falls in the padding
// (d is the dilation, 1 for an ordinary convolution).
func Im2col(x []float32, c, h, w, k, s, p, d, oh, ow int, cols []float32) {
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

// Col2im is Im2col's adjoint: it adds each column entry back to the pixel it
// was copied from (dx += scatter(cols)). dx is (C,H,W) and is accumulated.
func Col2im(cols []float32, c, h, w, k, s, p, d, oh, ow int, dx []float32) {
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
