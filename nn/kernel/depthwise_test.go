package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The depthwise loops agree with their naive versions on every geometry of
// im2colGeometries (strides above the kernel, wide padding, dilation). The
// forward and input-gradient loops sum in another order than the naive
// ones, so they agree to float32 rounding of k*k terms.
func TestDepthwiseMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	// terms is the length of the longest sum: float32 sums of n terms in
	// two orders differ by up to about n ulps of the terms.
	close := func(what string, g [7]int, got, want []float32, terms int) {
		t.Helper()
		for i := range got {
			if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*(1+math.Abs(float64(want[i])))+2e-7*float64(terms) {
				t.Fatalf("%s %v: [%d] = %g, naive %g", what, g, i, got[i], want[i])
			}
		}
	}
	// MobileNet's and ConvNeXt's planes too: whole vectors of outputs and
	// ragged ones, for the padded-plane path of stride 1 and 2.
	geometries := im2colGeometries()
	for _, hw := range [][2]int{{14, 14}, {15, 17}, {28, 28}, {56, 56}, {9, 30}, {2, 2}, {4, 4}, {7, 7}, {3, 11}, {16, 16}} {
		for _, kp := range [][2]int{{3, 1}, {3, 0}, {5, 2}, {7, 3}} {
			for _, s := range []int{1, 2} {
				geometries = append(geometries, [7]int{1, hw[0], hw[1], kp[0], s, kp[1], 1})
			}
		}
	}
	for _, g := range geometries {
		h, w, k, s, p, d := g[1], g[2], g[3], g[4], g[5], g[6]
		if h+2*p < d*(k-1)+1 || w+2*p < d*(k-1)+1 {
			continue
		}
		oh, ow := outSize(h, k, s, p, d), outSize(w, k, s, p, d)
		x, wt, dy := randSlice(r, h*w), randSlice(r, k*k), randSlice(r, oh*ow)
		y1, y2 := randSlice(r, oh*ow), randSlice(r, oh*ow)
		Depthwise(x, h, w, wt, k, s, p, d, oh, ow, y1)
		DepthwiseNaive(x, h, w, wt, k, s, p, d, oh, ow, y2)
		close("Depthwise", g, y1, y2, k*k)
		// Three planes at once, with and without the fused epilogue:
		// Depthwise, then AffineClamp, on each.
		x3, wt3 := randSlice(r, 3*h*w), randSlice(r, 3*k*k)
		ep := &PlaneEpilogue{Scale: []float32{1.5, -0.5, 2}, Shift: []float32{-0.25, 0.5, 0}, Lo: 0, Hi: 1}
		for _, e := range []*PlaneEpilogue{nil, ep, {Shift: ep.Shift, Lo: float32(math.Inf(-1)), Hi: float32(math.Inf(1))}} {
			y3 := withCanary(r, 3*oh*ow)
			DepthwisePlanes(x3, 3, h, w, wt3, k, s, p, d, oh, ow, y3, e)
			checkCanary(t, fmt.Sprintf("DepthwisePlanes %v", g), y3)
			for j := range 3 {
				want := make([]float32, oh*ow)
				DepthwiseNaive(x3[j*h*w:(j+1)*h*w], h, w, wt3[j*k*k:(j+1)*k*k], k, s, p, d, oh, ow, want)
				if e != nil {
					sc := float32(1)
					if e.Scale != nil {
						sc = e.Scale[j]
					}
					for i, v := range want {
						want[i] = min(max(sc*v+e.Shift[j], e.Lo), e.Hi)
					}
				}
				close(fmt.Sprintf("DepthwisePlanes plane %d epilogue %v", j, e), g, y3[j*oh*ow:(j+1)*oh*ow], want, k*k)
			}
		}
		dx1 := randSlice(r, h*w)
		dx2 := append([]float32(nil), dx1...)
		DepthwiseInputGrad(dy, h, w, wt, k, s, p, d, oh, ow, dx1)
		DepthwiseInputGradNaive(dy, h, w, wt, k, s, p, d, oh, ow, dx2)
		close("DepthwiseInputGrad", g, dx1, dx2, k*k)
		// Set writes every value, whatever dx held.
		dx3, zero := randSlice(r, h*w), make([]float32, h*w)
		DepthwiseInputGradSet(dy, h, w, wt, k, s, p, d, oh, ow, dx3)
		DepthwiseInputGradNaive(dy, h, w, wt, k, s, p, d, oh, ow, zero)
		close("DepthwiseInputGradSet", g, dx3, zero, k*k)
		dw1 := randSlice(r, k*k)
		dw2 := append([]float32(nil), dw1...)
		DepthwiseWeightGrad(x, h, w, dy, k, s, p, d, oh, ow, dw1)
		DepthwiseWeightGradNaive(x, h, w, dy, k, s, p, d, oh, ow, dw2)
		close("DepthwiseWeightGrad", g, dw1, dw2, oh*ow)
		// Both in one call: the bits of the two calls, with and without
		// the weight gradient.
		dx4, dw4 := randSlice(r, h*w), append([]float32(nil), dw2...)
		DepthwiseGradsSet(x, h, w, dy, wt, k, s, p, d, oh, ow, dx4, dw4)
		dw3 := append([]float32(nil), dw2...)
		DepthwiseWeightGrad(x, h, w, dy, k, s, p, d, oh, ow, dw3)
		if !slices.Equal(dx4, dx3) || !slices.Equal(dw4, dw3) {
			t.Fatalf("DepthwiseGradsSet %v: not the bits of DepthwiseInputGradSet and DepthwiseWeightGrad", g)
		}
		dx5 := randSlice(r, h*w)
		DepthwiseGradsSet(x, h, w, dy, wt, k, s, p, d, oh, ow, dx5, nil)
		if !slices.Equal(dx5, dx3) {
			t.Fatalf("DepthwiseGradsSet %v without dwt: not the bits of DepthwiseInputGradSet", g)
		}
		// Three planes in one call: the bits of three DepthwiseGradsSet,
		// with and without the weight gradients.
		x3, dy3, wt3 := randSlice(r, 3*h*w), randSlice(r, 3*oh*ow), randSlice(r, 3*k*k)
		dw6 := randSlice(r, 3*k*k)
		dx6, dw7, dx7 := withCanary(r, 3*h*w), append([]float32(nil), dw6...), randSlice(r, 3*h*w)
		DepthwiseGradsSetPlanes(x3, 3, h, w, dy3, wt3, k, s, p, d, oh, ow, dx6, dw6)
		checkCanary(t, fmt.Sprintf("DepthwiseGradsSetPlanes %v", g), dx6)
		for j := range 3 {
			in, out, kk := h*w, oh*ow, k*k
			DepthwiseGradsSet(x3[j*in:(j+1)*in], h, w, dy3[j*out:(j+1)*out], wt3[j*kk:(j+1)*kk], k, s, p, d, oh, ow, dx7[j*in:(j+1)*in], dw7[j*kk:(j+1)*kk])
		}
		if !slices.Equal(dx6, dx7) || !slices.Equal(dw6, dw7) {
			t.Fatalf("DepthwiseGradsSetPlanes %v: not the bits of DepthwiseGradsSet plane by plane", g)
		}
		DepthwiseGradsSetPlanes(x3, 3, h, w, dy3, wt3, k, s, p, d, oh, ow, dx6, nil)
		if !slices.Equal(dx6, dx7) {
			t.Fatalf("DepthwiseGradsSetPlanes %v without dwt: not the bits of DepthwiseGradsSet plane by plane", g)
		}
	}
}

// canary is what withCanary leaves past a slice's end.
const canary = float32(-12345)

// withCanary is n random floats with a vector's worth of canaries behind
// them (in the slice's capacity), for a kernel that stores whole vectors.
func withCanary(r *rand.Rand, n int) []float32 {
	s := make([]float32, n+16)
	copy(s, randSlice(r, n))
	for i := n; i < len(s); i++ {
		s[i] = canary
	}
	return s[:n]
}

// checkCanary fails if anything was written past s's end.
func checkCanary(t *testing.T, what string, s []float32) {
	t.Helper()
	for i, v := range s[len(s):cap(s)] {
		if v != canary {
			t.Fatalf("%s: wrote %g past the output's end, at +%d", what, v, i)
		}
	}
}

// BenchmarkDepthwise runs MobileNet v2's and ConvNeXt's depthwise planes,
// (h, k, s, p), each loop beside its naive version.
func BenchmarkDepthwise(b *testing.B) {
	for _, g := range [][4]int{{112, 3, 1, 1}, {56, 3, 2, 1}, {14, 3, 2, 1}, {14, 3, 1, 1}, {56, 7, 1, 3}} {
		h, k, s, p := g[0], g[1], g[2], g[3]
		o := outSize(h, k, s, p, 1)
		x, wt, y := make([]float32, h*h), make([]float32, k*k), make([]float32, o*o)
		for _, impl := range []struct {
			name string
			f    func([]float32, int, int, []float32, int, int, int, int, int, int, []float32)
		}{{"fwd", Depthwise}, {"fwd_naive", DepthwiseNaive}, {"dx", DepthwiseInputGrad}, {"dx_naive", DepthwiseInputGradNaive}} {
			b.Run(fmt.Sprintf("%s/%dx%d_k%ds%d", impl.name, h, h, k, s), func(b *testing.B) {
				for b.Loop() {
					if impl.name[:2] == "dx" {
						impl.f(y, h, h, wt, k, s, p, 1, o, o, x)
					} else {
						impl.f(x, h, h, wt, k, s, p, 1, o, o, y)
					}
				}
			})
		}
		b.Run(fmt.Sprintf("dw/%dx%d_k%ds%d", h, h, k, s), func(b *testing.B) {
			for b.Loop() {
				DepthwiseWeightGrad(x, h, h, y, k, s, p, 1, o, o, wt)
			}
		})
		b.Run(fmt.Sprintf("dw_naive/%dx%d_k%ds%d", h, h, k, s), func(b *testing.B) {
			for b.Loop() {
				DepthwiseWeightGradNaive(x, h, h, y, k, s, p, 1, o, o, wt)
			}
		})
	}
}

// BenchmarkDepthwiseGrads times a depthwise layer's two gradients of one
// plane, from two calls and from DepthwiseGradsSet's one, at MobileNet
// v1-small's planes (h, k, s, p).
func BenchmarkDepthwiseGrads(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, g := range [][4]int{{32, 3, 1, 1}, {16, 3, 1, 1}, {8, 3, 1, 1}, {16, 3, 2, 1}} {
		h, k, s, p := g[0], g[1], g[2], g[3]
		o := outSize(h, k, s, p, 1)
		x, wt, dy, dx, dw := randSlice(r, h*h), randSlice(r, k*k), randSlice(r, o*o), make([]float32, h*h), make([]float32, k*k)
		b.Run(fmt.Sprintf("apart/%dx%d_k%ds%d", h, h, k, s), func(b *testing.B) {
			for b.Loop() {
				DepthwiseInputGradSet(dy, h, h, wt, k, s, p, 1, o, o, dx)
				DepthwiseWeightGrad(x, h, h, dy, k, s, p, 1, o, o, dw)
			}
		})
		b.Run(fmt.Sprintf("together/%dx%d_k%ds%d", h, h, k, s), func(b *testing.B) {
			for b.Loop() {
				DepthwiseGradsSet(x, h, h, dy, wt, k, s, p, 1, o, o, dx, dw)
			}
		})
	}
}
