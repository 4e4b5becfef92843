package kernel

// Im2col unrolls one image x (C,H,W) into cols (C*k*k, H'*W') so that a
// convolution becomes a matrix product: row (c,ky,kx), column (oy,ox) holds
// x[c][oy*s-p+ky][ox*s-p+kx], or 0 where that falls in the padding.
func Im2col(x []float32, c, h, w, k, s, p, oh, ow int, cols []float32) {
	row := 0
	for ci := 0; ci < c; ci++ {
		plane := x[ci*h*w : (ci+1)*h*w]
		for ky := 0; ky < k; ky++ {
			for kx := 0; kx < k; kx++ {
				dst := cols[row*oh*ow : (row+1)*oh*ow]
				for oy := 0; oy < oh; oy++ {
					iy := oy*s - p + ky
					d := dst[oy*ow : (oy+1)*ow]
					if iy < 0 || iy >= h {
						clear(d)
						continue
					}
					src := plane[iy*w : (iy+1)*w]
					for ox := range d {
						ix := ox*s - p + kx
						if ix < 0 || ix >= w {
							d[ox] = 0
						} else {
							d[ox] = src[ix]
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
func Col2im(cols []float32, c, h, w, k, s, p, oh, ow int, dx []float32) {
	row := 0
	for ci := 0; ci < c; ci++ {
		plane := dx[ci*h*w : (ci+1)*h*w]
		for ky := 0; ky < k; ky++ {
			for kx := 0; kx < k; kx++ {
				src := cols[row*oh*ow : (row+1)*oh*ow]
				for oy := 0; oy < oh; oy++ {
					iy := oy*s - p + ky
					if iy < 0 || iy >= h {
						continue
					}
					d := plane[iy*w : (iy+1)*w]
					for ox, v := range src[oy*ow : (oy+1)*ow] {
						ix := ox*s - p + kx
						if ix >= 0 && ix < w {
							d[ix] += v
						}
					}
				}
				row++
			}
		}
	}
}
