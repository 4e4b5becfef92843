package kernel

// The transforms of Winograd's minimal filtering F(2x2, 3x3) (Lavin and
// Gray, "Fast Algorithms for Convolutional Neural Networks", 2015), one
// row of 2x2 output tiles at a time; nn/winograd.go does the products.
//
//	Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   (input,  V = Bᵀ d B)
//	G  = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]             (filter, U = G g Gᵀ)
//	Aᵀ = [1 1 1 0; 0 1 -1 -1]                      (output, Y = Aᵀ M A)
//
// A transformed 4x4 tile's entry (i, j) is stored at index ξ = 4j + i.

// WinogradSlack is how far past a tile row's tw tiles the vector
// transforms may read and write (tiles of V and M, pairs of outputs): a
// row shorter than a vector is done as a whole vector.
const WinogradSlack = lanes

// WinogradInputRow sets v[(4j+i)*ds + t] = (Bᵀ d B)[i][j] for the tiles t
// < tw of one row of tiles, where d[a][b] = q[(2*(a%2)+b%2)*ps + (a/2)*rs
// + b/2 + t]: q holds the zero-padded map's four phase planes (padded
// pixel (2r+a%2, 2c+b%2) of a phase plane's row r, column c), ps floats
// apart, rows rs floats long, starting at the tile row. With fewer than 8
// tiles it may read and write up to WinogradSlack tiles a row.
func WinogradInputRow(v []float32, ds int, q []float32, ps, rs, tw int) {
	if tw <= 0 {
		return
	}
	if useAVX2 {
		span := max(tw, WinogradSlack)
		_, _ = v[15*ds+span-1], q[3*ps+rs+span]
		winogradInputAVX2(&v[0], ds, &q[0], ps, rs, tw)
		return
	}
	for t := 0; t < tw; t++ {
		var d [4][4]float32
		for a := 0; a < 4; a++ {
			row := q[(a%2)*2*ps+(a/2)*rs+t:]
			odd := row[ps:]
			d0, d1, d2, d3 := row[0], odd[0], row[1], odd[1]
			d[a] = [4]float32{d0 - d2, d1 + d2, d2 - d1, d1 - d3}
		}
		for j := 0; j < 4; j++ {
			t0, t1, t2, t3 := d[0][j], d[1][j], d[2][j], d[3][j]
			v[(4*j+0)*ds+t] = t0 - t2
			v[(4*j+1)*ds+t] = t1 + t2
			v[(4*j+2)*ds+t] = t2 - t1
			v[(4*j+3)*ds+t] = t1 - t3
		}
	}
}

// WinogradOutputRow sets y[r*w + 2t + c] = (Aᵀ M A)[r][c] for r, c < 2 and
// the tiles t < tw of one row of tiles, where M[i][j] = m[(4j+i)*ms + t]:
// two rows of the output map, w floats apart. With fewer than 8 tiles it
// may read up to WinogradSlack tiles and write 2*WinogradSlack floats a
// row.
func WinogradOutputRow(y []float32, w int, m []float32, ms, tw int) {
	if tw <= 0 {
		return
	}
	if useAVX2 {
		span := max(tw, WinogradSlack)
		_, _ = y[w+2*span-1], m[15*ms+span-1]
		winogradOutputAVX2(&y[0], w, &m[0], ms, tw)
		return
	}
	for t := 0; t < tw; t++ {
		var s [2][4]float32
		for j := 0; j < 4; j++ {
			m0, m1, m2, m3 := m[(4*j)*ms+t], m[(4*j+1)*ms+t], m[(4*j+2)*ms+t], m[(4*j+3)*ms+t]
			s[0][j], s[1][j] = m0+m1+m2, m1-m2-m3
		}
		for r := 0; r < 2; r++ {
			y[r*w+2*t] = s[r][0] + s[r][1] + s[r][2]
			y[r*w+2*t+1] = s[r][1] - s[r][2] - s[r][3]
		}
	}
}

// WinogradFilter sets u[ξ*stride] = (G g Gᵀ)[i][j], ξ = 4j + i, for one
// 3x3 filter g (rows of 3).
func WinogradFilter(u []float32, stride int, g []float32) {
	g = g[:9]
	var t [4][3]float32 // G g
	for c := 0; c < 3; c++ {
		g0, g1, g2 := g[c], g[3+c], g[6+c]
		t[0][c], t[1][c], t[2][c], t[3][c] = g0, 0.5*(g0+g1+g2), 0.5*(g0-g1+g2), g2
	}
	_ = u[15*stride]
	for i := 0; i < 4; i++ {
		r0, r1, r2 := t[i][0], t[i][1], t[i][2]
		u[i*stride] = r0
		u[(4+i)*stride] = 0.5 * (r0 + r1 + r2)
		u[(8+i)*stride] = 0.5 * (r0 - r1 + r2)
		u[(12+i)*stride] = r2
	}
}

// WinogradPhases writes phase rows [r0, r0+rows) of the four phase planes
// of the zero-padded h×w map src that WinogradInputRow reads, the map
// padded to th = (h+1)/2 by tw = (w+1)/2 whole tiles: padded pixel
// (2(r0+r)+a, 2c+b), image pixel (2(r0+r)+a-1, 2c+b-1), goes to
// q[(2a+b)*ps + r*rs + c] for r < rows and c <= tw (rs at least tw+1, ps
// at least rows*rs), zeros outside the image included. The whole map is
// r0 = 0, rows = th+1; a band of tile rows [ty0, ty1) needs phase rows
// [ty0, ty1+1).
func WinogradPhases(q []float32, ps, rs int, src []float32, h, w, r0, rows int) {
	th, tw := (h+1)/2, (w+1)/2
	if h <= 0 || w <= 0 || r0 < 0 || rows <= 0 || r0+rows > th+1 || rs <= tw || ps < rows*rs {
		panic("kernel: WinogradPhases on an empty map, rows outside it or planes too small")
	}
	_, _ = q[3*ps+(rows-1)*rs+tw], src[h*w-1]
	if useAVX2 && r0 == 0 && rows == th+1 {
		// Outside the image: row 0 of planes 0 and 1 (padded row 0), row
		// th of planes 2 and 3 (padded row 2th+1) and, for an odd h, of
		// planes 0 and 1 (padded row 2th, image row h); column 0 of planes
		// 0 and 2, column tw of planes 1 and 3 and, for an odd w, of
		// planes 0 and 2. The image's rows, in registers.
		clear(q[:tw+1])
		clear(q[ps : ps+tw+1])
		for ph := 2 - 2*(h%2); ph < 4; ph++ {
			clear(q[ph*ps+th*rs:][:tw+1])
		}
		for r := 0; r <= th; r++ {
			q[r*rs], q[2*ps+r*rs] = 0, 0
			q[ps+r*rs+tw], q[3*ps+r*rs+tw] = 0, 0
			if w%2 == 1 {
				q[r*rs+tw], q[2*ps+r*rs+tw] = 0, 0
			}
		}
		winogradPhasesAVX2(&q[0], ps, rs, &src[0], h, w, &phaseMasks[w%lanes])
		return
	}
	odds, evens := w/2, (w+1)/2 // image columns 2j+1 and 2j
	for a := 0; a < 2; a++ {
		for r := 0; r < rows; r++ {
			even, odd := q[(2*a)*ps+r*rs:][:tw+1], q[(2*a+1)*ps+r*rs:][:tw+1]
			y := 2*(r0+r) + a - 1
			if y < 0 || y >= h {
				clear(even)
				clear(odd)
				continue
			}
			row := src[y*w : (y+1)*w]
			// Padded column 2j is image column 2j-1, 2j+1 is 2j; the rest
			// is padding.
			even[0] = 0
			Evens(even[1:1+odds], row[1:])
			clear(even[1+odds:])
			Evens(odd[:evens], row)
			clear(odd[evens:])
		}
	}
}

// phaseMasks[n] are winogradPhasesAVX2's masks for a row's last n floats:
// the n loaded, then the even and the odd ones among them as stored.
var phaseMasks = func() (m [lanes][16]int32) {
	for n := range m {
		for i := 0; i < n; i++ {
			m[n][i] = -1
			m[n][lanes+lanes/2*(i%2)+i/2] = -1
		}
	}
	return m
}()
