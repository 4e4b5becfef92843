package deconv

import "math"

// Normals are n standard normal numbers, numbers first..first+n-1 of the
// stream seed names: splitmix64 of (seed, i) as uniforms, paired by the
// Box–Muller transform. It is simple enough to repeat in numpy
// (tools/parity/attribution.py), so that SmoothGrad's noise is the same in
// the PyTorch fixtures and here.
func Normals(seed, first uint64, n int) []float64 {
	out := make([]float64, n)
	for k := range n {
		i := first + uint64(k)
		pair := i / 2
		u1 := (float64(splitmix(seed, 2*pair)>>11) + 1) / (1 << 53) // (0, 1]
		u2 := float64(splitmix(seed, 2*pair+1)>>11) / (1 << 53)     // [0, 1)
		r := math.Sqrt(-2 * math.Log(u1))
		if i%2 == 0 {
			out[k] = r * math.Cos(2*math.Pi*u2)
		} else {
			out[k] = r * math.Sin(2*math.Pi*u2)
		}
	}
	return out
}

// splitmix is the splitmix64 output for the state seed + (i+1)·γ.
func splitmix(seed, i uint64) uint64 {
	z := seed + (i+1)*0x9E3779B97F4A7C15
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// Uniforms are n numbers in [0, 1): splitmix64 of (seed, 0..n-1), the top
// 53 bits over 2^53 (the parity fixtures' weights use them).
func Uniforms(seed uint64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = float64(splitmix(seed, uint64(i))>>11) / (1 << 53)
	}
	return out
}
