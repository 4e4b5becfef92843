//go:build !amd64 || noasm

package kernel

// Without assembly (other GOARCHes, or the noasm build tag) Sgemm runs the
// pure-Go kernels of gemm_go.go.

func asmKernels() []*kernelSet { return nil }
