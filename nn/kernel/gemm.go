package kernel

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices, where
// op(A) is m×k, op(B) is k×n and C is m×n. transA/transB select transposes;
// lda, ldb, ldc are the row strides of A, B and C as stored. When beta is 0,
// C is only written, never read, so whatever it held (NaN included) is gone.
//
// It is the blocked product of gemm_blocked.go on the fastest micro-kernel
// this CPU runs (see Path), split across cores for large enough products;
// SgemmNaive below is the loop it must agree with. One shape goes elsewhere:
// a single row times a transposed B (a linear layer on one sample) is n dot
// products of contiguous rows, which gonum's Sgemm does at memory speed,
// while the blocked product would first transpose all of B for that row.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(active, true, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

var gonumBLAS gonum.Implementation

// sgemm is Sgemm on path ks; without gemv, single rows take the blocked
// path too (for tests).
func sgemm(ks *kernelSet, gemv bool, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	if gemv && m == 1 && transB {
		ta := blas.NoTrans
		if transA {
			ta = blas.Trans
		}
		gonumBLAS.Sgemm(ta, blas.Trans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if beta == 0 && n < ks.w*ks.nv && m >= n && k >= 64 {
		sgemmNarrow(ks, transA, transB, m, n, k, alpha, a, lda, b, ldb, c, ldc)
		return
	}
	sgemmParallel(ks, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// sgemmNarrow is C = alpha*op(A)*op(B) for a C narrower than one register
// tile and at least as tall as wide (a convolution on 7x7 maps: 64 to 512
// rows of 49 columns), whose tiles would leave lanes idle: it computes the
// transpose, op(B)^T op(A)^T, whose rows are long, into scratch and
// transposes that into C. Against the direct product: 1.25x at 512x49x2048,
// 1.07x at 2048x49x512 (where the transposes weigh more against k), 1.3x at
// 64x49x576 (ResNet-20's last stage); at 32x49 it was no faster.
func sgemmNarrow(ks *kernelSet, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	ws := wsPool.Get().(*workspace)
	t := grow(ws.narrow, n*m)
	ws.narrow = t
	sgemmParallel(ks, !transB, !transA, n, m, k, alpha, b, ldb, a, lda, 0, t, m)
	ks.transposeInto(n, m, t, m, c, ldc, false, nil)
	wsPool.Put(ws)
}

// scaleC sets C = beta*C, writing zeros without reading C when beta is 0.
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		switch beta {
		case 0:
			clear(row)
		case 1:
		default:
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// checkGemm panics, as gonum's Sgemm does, on negative sizes, strides
// shorter than a row, and slices too short for the matrices they hold; the
// assembly kernels rely on it, since they read and write without bounds checks.
func checkGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic("kernel: Sgemm with a negative size")
	}
	ar, ac := m, k // A as stored: ar rows of ac floats
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	if lda < max(1, ac) || ldb < max(1, bc) || ldc < max(1, n) {
		panic("kernel: Sgemm with a leading dimension shorter than a row")
	}
	if ar > 0 && ac > 0 && len(a) < (ar-1)*lda+ac {
		panic("kernel: Sgemm with A too short")
	}
	if br > 0 && bc > 0 && len(b) < (br-1)*ldb+bc {
		panic("kernel: Sgemm with B too short")
	}
	if m > 0 && n > 0 && len(c) < (m-1)*ldc+n {
		panic("kernel: Sgemm with C too short")
	}
}

// SgemmNaive is the reference triple loop for Sgemm, kept to test faster paths:
//
//	for i, j: c[i][j] = beta*c[i][j] + alpha * sum_p opA[i][p]*opB[p][j]
//
// Unlike Sgemm it reads C even when beta is 0.
func SgemmNaive(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += av * bv
			}
			c[i*ldc+j] = beta*c[i*ldc+j] + alpha*s
		}
	}
}
