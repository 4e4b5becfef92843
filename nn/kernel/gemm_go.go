package kernel

// The portable micro-kernels: plain Go, no SIMD, used where no assembly
// runs (other GOARCHes, the noasm build tag, CPUs without AVX2+FMA) and by
// tests as a third implementation of the same blocked driver. A tile is
// goMR rows by goW columns (one "vector" of goW floats).

const (
	goMR = 4
	goW  = 4
)

// goKernels is the pure-Go path: 4×4 tiles, blocks sized for a common L2.
var goKernels = &kernelSet{
	name: "go", mr: goMR, w: goW, nv: 1,
	kc: 256, mc: 128, nc: 1024,
	tile: [][]microKernel{{goTile(1)}, {goTile(2)}, {goTile(3)}, {sgemmGo4x4}},
}

// goTile returns the kernel for a tile of r < goMR rows.
func goTile(r int) microKernel {
	return func(k int, a *float32, lda int, b *float32, c *float32, ldc int, alpha, beta float32) {
		as := f32s(a, (r-1)*lda+k)
		bs := f32s(b, k*goW)
		cs := f32s(c, (r-1)*ldc+goW)
		for i := 0; i < r; i++ {
			var acc [goW]float32
			ar := as[i*lda : i*lda+k]
			for p, x := range ar {
				bp := bs[p*goW : p*goW+goW]
				acc[0] += x * bp[0]
				acc[1] += x * bp[1]
				acc[2] += x * bp[2]
				acc[3] += x * bp[3]
			}
			storeRow(cs[i*ldc:i*ldc+goW], acc, alpha, beta)
		}
	}
}

// sgemmGo4x4 is the full 4×4 tile, its 16 sums held in locals.
func sgemmGo4x4(k int, a *float32, lda int, b *float32, c *float32, ldc int, alpha, beta float32) {
	as := f32s(a, 3*lda+k)
	bs := f32s(b, k*goW)
	cs := f32s(c, 3*ldc+goW)
	a0, a1, a2, a3 := as[:k], as[lda:lda+k], as[2*lda:2*lda+k], as[3*lda:3*lda+k]
	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 float32
	for p := range a0 {
		bp := bs[p*goW : p*goW+goW : p*goW+goW]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		x := a0[p]
		c00 += x * b0
		c01 += x * b1
		c02 += x * b2
		c03 += x * b3
		x = a1[p]
		c10 += x * b0
		c11 += x * b1
		c12 += x * b2
		c13 += x * b3
		x = a2[p]
		c20 += x * b0
		c21 += x * b1
		c22 += x * b2
		c23 += x * b3
		x = a3[p]
		c30 += x * b0
		c31 += x * b1
		c32 += x * b2
		c33 += x * b3
	}
	storeRow(cs[0:goW], [goW]float32{c00, c01, c02, c03}, alpha, beta)
	storeRow(cs[ldc:ldc+goW], [goW]float32{c10, c11, c12, c13}, alpha, beta)
	storeRow(cs[2*ldc:2*ldc+goW], [goW]float32{c20, c21, c22, c23}, alpha, beta)
	storeRow(cs[3*ldc:3*ldc+goW], [goW]float32{c30, c31, c32, c33}, alpha, beta)
}

// storeRow sets c = alpha*acc + beta*c, not reading c when beta is 0.
func storeRow(c []float32, acc [goW]float32, alpha, beta float32) {
	c = c[:goW]
	if beta == 0 {
		for j, x := range acc {
			c[j] = alpha * x
		}
		return
	}
	for j, x := range acc {
		c[j] = alpha*x + beta*c[j]
	}
}
