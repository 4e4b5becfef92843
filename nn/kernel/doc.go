// Package kernel holds convscope's hot loops and nothing else: matrix
// products, im2col/col2im and the parallel split of work across cores.
//
// This is the portable reference: SGEMM goes through gonum's pure-Go BLAS.
// Faster paths (assembly micro-kernels) will sit beside these files and be
// tested against the naive loops kept here.
package kernel
