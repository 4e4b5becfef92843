package kernel

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
	if m > 0 && n > 0 && k > 0 && (lda < k || len(a) < (m-1)*lda+k) || ldc < max(1, n) || m > 0 && n > 0 && len(c) < (m-1)*ldc+n {
		panic("kernel: SgemmRows with A or C too short")
	}
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	sgemmParallelFrom(active, false, false, m, n, k, alpha, a, lda, x, 0, rows, nil, beta, c, ldc)
}
