package kernel

import "slices"

// SgemmRows computes C = alpha*A*B + beta*C where B's row r is
// x[rows[r] : rows[r]+n]: a matrix whose rows are windows of one array,
// never stored. A is m×k (k = len(rows)), C is m×n, both row-major.
//
// A stride-1 convolution over zero-padded images is such a product: in a
// padded layout whose rows share their margins (PadShared), the input
// row (c, ky, kx) of the unrolled matrix is the padded array shifted by
// c's plane and the tap's offset, so the product packs its panels from the
// padded images themselves, with no unrolling (nn.Conv2d's shifted path).
// It agrees with Sgemm on the matrix those rows make, bit for bit.
func SgemmRows(m, n int, alpha float32, a []float32, lda int, x []float32, rows []int, beta float32, c []float32, ldc int) {
	k := len(rows)
	if m < 0 || n < 0 {
		panic("kernel: SgemmRows with a negative size")
	}
	for _, r := range rows {
		if r < 0 || n > 0 && r+n > len(x) {
			panic("kernel: SgemmRows with a row outside x")
		}
	}
	if trivialProduct("SgemmRows", m, n, k, alpha, a, lda, beta, c, ldc) {
		return
	}
	sgemmParallelFrom(active, false, false, m, n, k, alpha, a, lda, x, 0, windows{rows: rows}, nil, beta, c, ldc)
}

// trivialProduct checks A (m×k, lda) and C (m×n, ldc) of a product whose
// B is read where it lies (SgemmRows, SgemmGather, SgemmConv), panicking
// with the caller's name if either is too short, and reports a product
// with nothing to multiply, after applying beta to C where there is one.
func trivialProduct(name string, m, n, k int, alpha float32, a []float32, lda int, beta float32, c []float32, ldc int) bool {
	if m > 0 && n > 0 && k > 0 && (lda < k || len(a) < (m-1)*lda+k) || ldc < max(1, n) || m > 0 && n > 0 && len(c) < (m-1)*ldc+n {
		panic("kernel: " + name + " with A or C too short")
	}
	if m == 0 || n == 0 {
		return true
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return true
	}
	return false
}

// GatherLanes and GatherWindow: SgemmGather's AVX-512 kernels pack a
// vector of GatherLanes columns at once where their places lie within
// GatherWindow floats (and the window of the last row inside x).
const GatherLanes, GatherWindow = 16, 32

// ImageColumns appends to cols SgemmGather's columns for nb images of
// h×w pixels in a padded layout (rows wp floats apart, an image every sp
// floats): pixel (b, y, x) at b*sp + y*wp + x, the images' pixels one
// after another, and to starts each image's first column. A vector of
// GatherLanes columns is packed at once where their places lie within
// GatherWindow floats, so an image whose first pixels would spread the
// vector open before it wider than that starts a new one, the gap's
// columns repeating the last place; the last vector is filled out the
// same way.
func ImageColumns(cols, starts []int, nb, h, w, sp, wp int) ([]int, []int) {
	fill := func() {
		for len(cols)%GatherLanes != 0 {
			cols = append(cols, cols[len(cols)-1])
		}
	}
	for b := 0; b < nb; b++ {
		if open := len(cols) % GatherLanes; open > 0 {
			// The open vector's first place, and where the last of this
			// image's pixels to join it would be.
			first, join := cols[len(cols)-open], min(GatherLanes-open, h*w)-1
			if b*sp+join/w*wp+join%w-first >= GatherWindow {
				fill()
			}
		}
		starts = append(starts, len(cols))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				cols = append(cols, b*sp+y*wp+x)
			}
		}
	}
	fill()
	return cols, starts
}

// ImageColumnsLen is the length of ImageColumns' columns for the same
// images, found image by image without writing them (a shifted
// convolution decides from it whether to gather at all).
func ImageColumnsLen(nb, h, w, sp, wp int) int {
	n, first := 0, 0 // columns so far, and the open vector's first place
	for b := 0; b < nb; b++ {
		if open := n % GatherLanes; open > 0 {
			join := min(GatherLanes-open, h*w) - 1
			if b*sp+join/w*wp+join%w-first >= GatherWindow {
				n += GatherLanes - open
			}
		}
		start := n
		n += h * w
		if v := n / GatherLanes * GatherLanes; v >= start && v < n {
			i := v - start // the new open vector starts in this image
			first = b*sp + i/w*wp + i%w
		}
	}
	return (n + GatherLanes - 1) / GatherLanes * GatherLanes
}

// GatherPays reports whether, on the path in use, a product of m rows is
// faster with SgemmGather on only gathered columns than with SgemmRows on
// all of them (a convolution's padded layout, margins included): when the
// columns saved, times the rows, reach 6 times the gathered ones, the
// measured crossing on AVX-512, whose kernels pack a gathered vector with
// a permute a row, paid back over the rows. Against SgemmRows
// (BenchmarkSgemmGather -count 3, both cores): 13x13 maps with margins of
// 2 (a third more columns) 1.09-1.14x at 12 and 16 rows, 1.24-1.25x at 32
// and 64; 6x6 with margins of 1 1.14-1.18x at 12 and 16, 1.26-1.35x at
// 64; 14x14 with 1 (15%) 0.94-0.97x at 12 and 16, 1.02-1.04x at 32,
// 1.11-1.14x at 64; 28x28 with 2 (15%) 1.0-1.03x at 12 and 16; 28x28 with
// 1 (7%) 0.78-0.83x at 12 and 16, 0.98-1.0x at 64. (The crossing at 6
// was set on an earlier build of the kernels that lost more at few rows;
// these figures would allow about 4.) Paths without gathering kernels
// (AVX2, noasm, wasm)
// would pack every gathered panel in Go: never.
func GatherPays(all, gathered, m int) bool {
	return active.gather != nil && (all-gathered)*m >= 6*gathered
}

// SgemmGather computes C = alpha*A*B + beta*C where B's element (r, j)
// is x[rows[r]+cols[j]]: SgemmRows with columns that need not be
// contiguous either. A is m×k (k = len(rows)), C is m×n (n = len(cols)),
// both row-major.
//
// A convolution on the shifted path is such a product when its output
// columns skip the margins of the padded images: column j is output pixel
// j's place in the padded layout, so the margins' columns, computed and
// dropped by SgemmRows (a third more work on 13x13 maps with a 5x5
// kernel), are never computed. On AVX-512 the first tile of each panel
// packs it with one window of 32 floats and one permute a vector and row,
// wherever the 16 columns of each vector lie within 32 floats of each
// other and that window of the last row lies inside x (callers leave 32
// floats of slack); elsewhere, and on the other paths, the panel is packed
// in Go. It agrees with Sgemm on the matrix B makes, bit for bit.
func SgemmGather(m int, alpha float32, a []float32, lda int, x []float32, rows, cols []int, beta float32, c []float32, ldc int) {
	k, n := len(rows), len(cols)
	if m < 0 {
		panic("kernel: SgemmGather with a negative size")
	}
	var rowMax int
	if k > 0 && n > 0 {
		rlo, chi := slices.Min(rows), slices.Max(cols)
		rowMax = slices.Max(rows)
		if rlo+slices.Min(cols) < 0 || rowMax+chi >= len(x) {
			panic("kernel: SgemmGather with an element outside x")
		}
	}
	if trivialProduct("SgemmGather", m, n, k, alpha, a, lda, beta, c, ldc) {
		return
	}
	sgemmParallelFrom(active, false, false, m, n, k, alpha, a, lda, x, 0, windows{rows: rows, cols: cols, rowMax: rowMax}, nil, beta, c, ldc)
}
