package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// withGoLoops runs f with the assembly turned off.
func withGoLoops(f func()) {
	prev := useAVX2
	useAVX2 = false
	defer func() { useAVX2 = prev }()
	f()
}

func randomSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64()*3 + 1)
	}
	return s
}

// sameUpToRounding reports whether a and b agree to a few float32 ulps of scale.
func sameUpToRounding(a, b, scale float32) bool {
	return math.Abs(float64(a-b)) <= 1e-5*math.Max(1, float64(scale))
}

// elementwiseLengths cover empty slices, tails of every length, the single
// vector loop and the 4-vector main loop.
var elementwiseLengths = []int{0, 1, 7, 8, 9, 15, 16, 31, 32, 33, 63, 64, 65, 100, 784, 1001}

func TestElementwiseSumsMatchGoLoops(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range elementwiseLengths {
		x, d := randomSlice(r, n), randomSlice(r, n)
		s, q := Sum(x), SumSquaredDeviations(x, 0.5)
		sd, dot := SumAndDot(d, x, 0.5)
		xd := Dot(x, d)
		var ws, wq, wsd, wdot, wxd float64 // float64 truth
		for i := range x {
			ws += float64(x[i])
			wq += float64(x[i]-0.5) * float64(x[i]-0.5)
			wsd += float64(d[i])
			wdot += float64(d[i]) * float64(x[i]-0.5)
			wxd += float64(x[i]) * float64(d[i])
		}
		var gs, gq, gsd, gdot, gxd float32
		withGoLoops(func() {
			gs, gq = Sum(x), SumSquaredDeviations(x, 0.5)
			gsd, gdot = SumAndDot(d, x, 0.5)
			gxd = Dot(x, d)
		})
		for _, c := range []struct {
			name           string
			got, goLoop    float32
			want, absTotal float64
		}{
			{"Sum", s, gs, ws, wq}, {"SumSquaredDeviations", q, gq, wq, wq},
			{"SumAndDot sum", sd, gsd, wsd, wq}, {"SumAndDot dot", dot, gdot, wdot, wq}, {"Dot", xd, gxd, wxd, wq},
		} {
			if !sameUpToRounding(c.got, float32(c.want), float32(c.absTotal)) ||
				!sameUpToRounding(c.goLoop, float32(c.want), float32(c.absTotal)) {
				t.Errorf("n=%d %s: vector %g, Go loop %g, float64 %g", n, c.name, c.got, c.goLoop, c.want)
			}
		}
	}
}

func TestElementwiseMapsMatchGoLoops(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	nan := float32(math.NaN())
	for _, n := range elementwiseLengths {
		x, d := randomSlice(r, n), randomSlice(r, n)
		if n > 9 {
			x[3], x[9] = nan, float32(math.Copysign(0, -1))
			x[n-1] = 6 // on ReLU6's edge
		}
		type out struct {
			affine, comb, relu, relu6, mask, mask6, add, axpy, mul, mulAdd, affine6 []float32
		}
		run := func() out {
			o := out{make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n),
				make([]float32, n), make([]float32, n), make([]float32, n), append([]float32(nil), d...),
				make([]float32, n), append([]float32(nil), x...), make([]float32, n)}
			Affine(o.affine, x, 1.5, -0.25)
			LinearCombination(o.comb, d, x, 0.7, -1.3, 0.5, 0.125)
			Clamp(o.relu, x, 0, float32(math.Inf(1)))
			Clamp(o.relu6, x, 0, 6)
			MaskBetween(o.mask, d, x, 0, float32(math.Inf(1)))
			MaskBetween(o.mask6, d, x, 0, 6)
			Add(o.add, x, d)
			Axpy(o.axpy, x, -0.75)
			Mul(o.mul, x, d)
			MulAdd(o.mulAdd, d, d, o.mulAdd) // in place: x + d²
			AffineClamp(o.affine6, x, 1.5, -0.25, 0, 6)
			return o
		}
		vec := run()
		var ref out
		withGoLoops(func() { ref = run() })
		check := func(name string, got, want []float32, exact bool) {
			for i := range want {
				g, w := got[i], want[i]
				if math.IsNaN(float64(w)) != math.IsNaN(float64(g)) ||
					(!math.IsNaN(float64(w)) && (exact && g != w || !exact && !sameUpToRounding(g, w, w))) {
					t.Errorf("n=%d %s[%d]: vector %g, Go loop %g (x %g)", n, name, i, g, w, x[i])
					return
				}
			}
		}
		check("Affine", vec.affine, ref.affine, false)
		check("LinearCombination", vec.comb, ref.comb, false)
		check("Clamp ReLU", vec.relu, ref.relu, true)
		check("Clamp ReLU6", vec.relu6, ref.relu6, true)
		check("MaskBetween ReLU", vec.mask, ref.mask, true)
		check("MaskBetween ReLU6", vec.mask6, ref.mask6, true)
		check("Add", vec.add, ref.add, true)
		check("Axpy", vec.axpy, ref.axpy, false)
		check("Mul", vec.mul, ref.mul, true)
		check("MulAdd", vec.mulAdd, ref.mulAdd, false)
		check("AffineClamp", vec.affine6, ref.affine6, false)
		clamped := make([]float32, n)
		Clamp(clamped, vec.affine, 0, 6)
		check("AffineClamp against Affine then Clamp", vec.affine6, clamped, true)
		if n > 9 && (!math.IsNaN(float64(vec.relu[3])) || vec.mask[3] != 0 || vec.mask6[n-1] != 0) {
			t.Errorf("n=%d: NaN must stay NaN through Clamp and mask the gradient; x = 6 is outside ReLU6's (0, 6)", n)
		}
	}
}

func BenchmarkElementwise(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	x, d, dst := randomSlice(r, 1<<16), randomSlice(r, 1<<16), make([]float32, 1<<16)
	for _, path := range []string{"vector", "go"} {
		run := func(name string, f func()) {
			b.Run(name+"/"+path, func(b *testing.B) {
				b.SetBytes(int64(4 * len(x)))
				if path == "go" {
					withGoLoops(func() {
						for b.Loop() {
							f()
						}
					})
					return
				}
				for b.Loop() {
					f()
				}
			})
		}
		run("SumSquaredDeviations", func() { SumSquaredDeviations(x, 0.5) })
		run("SumAndDot", func() { SumAndDot(d, x, 0.5) })
		run("Affine", func() { Affine(dst, x, 2, 1) })
		run("LinearCombination", func() { LinearCombination(dst, d, x, 1, 2, 3, 4) })
		run("Clamp", func() { Clamp(dst, x, 0, 6) })
		run("MaskBetween", func() { MaskBetween(dst, d, x, 0, 6) })
		run("Axpy", func() { Axpy(dst, x, 0.5) })
		run("Dot", func() { Dot(x, d) })
	}
}

// TestVectorTanhAndGELU checks the vector tanh and GELU against float64
// math over a dense grid (the tail elements take the Go path, so both are
// checked), with NaN, infinities and the tiny and clamped ranges.
func TestVectorTanhAndGELU(t *testing.T) {
	var x []float32
	for v := -12.0; v <= 12; v += 0.0007 {
		x = append(x, float32(v))
	}
	for v := 1e-6; v < 1e-3; v *= 1.1 {
		x = append(x, float32(v), float32(-v))
	}
	inf := float32(math.Inf(1))
	x = append(x, 0, inf, -inf, float32(math.NaN()), 7.9, -7.91, 4, -4.01)
	const s, a = 2.0 / 3, 1.7159
	th, lecun, gelu := make([]float32, len(x)), make([]float32, len(x)), make([]float32, len(x))
	ScaledTanh(th, x, 1, 1)
	ScaledTanh(lecun, x, s, a)
	GELU(gelu, x)
	for i, v := range x {
		f := float64(v)
		for _, c := range []struct {
			name      string
			got       float32
			want, tol float64
		}{
			{"tanh", th[i], math.Tanh(f), 4e-7},
			{"a*tanh(s*x)", lecun[i], a * math.Tanh(float64(float32(s)*v)), 4e-7 * a},
			// 1 + erf(x/√2) cancels for x far below 0: the error scales with |x|.
			{"GELU", gelu[i], 0.5 * f * (1 + math.Erf(f/math.Sqrt2)), 2e-7 * math.Max(1, math.Abs(f))},
		} {
			if math.IsNaN(c.want) {
				if !math.IsNaN(float64(c.got)) {
					t.Errorf("%s(NaN) = %g, want NaN", c.name, c.got)
				}
				continue
			}
			if math.IsInf(c.want, 0) && float64(c.got) == c.want {
				continue
			}
			if d := math.Abs(float64(c.got) - c.want); d > c.tol*math.Max(1, math.Abs(c.want)) || math.IsNaN(d) {
				t.Errorf("%s(%g) = %g, want %g (off by %.2g)", c.name, v, c.got, c.want, d)
			}
		}
	}
	// The gradient from y: d/dx a*tanh(s*x) = a*s*(1 - tanh²) = c0 - c1*y².
	dy := make([]float32, len(x))
	for i := range dy {
		dy[i] = 1
	}
	grad, ref := make([]float32, len(x)), make([]float32, len(x))
	ScaledTanhGrad(grad, dy, lecun, a*s, s/a)
	withGoLoops(func() { ScaledTanhGrad(ref, dy, lecun, a*s, s/a) })
	for i := range grad {
		if !math.IsNaN(float64(ref[i])) && !sameUpToRounding(grad[i], ref[i], 1) {
			t.Errorf("tanh gradient at y=%g: vector %g, Go loop %g", lecun[i], grad[i], ref[i])
		}
	}
}

// The reductions keep their lane sums on the stack (the assembly is marked
// noescape): no allocation per call, which batch norm makes per plane.
func TestElementwiseNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	x, d := make([]float32, 100), make([]float32, 100)
	if n := testing.AllocsPerRun(20, func() {
		Sum(x)
		SumSquaredDeviations(x, 1)
		SumAndDot(d, x, 1)
		Dot(x, d)
	}); n != 0 {
		t.Errorf("%g allocations per round of reductions", n)
	}
}

// GELUGrad agrees with float64 math over a dense grid (the tail takes the
// Go path), through the clamped ranges of erf (|x| > 4√2) and exp (x²/2 > 87),
// and a NaN stays NaN.
func TestGELUGradMatchesFloat64(t *testing.T) {
	var x []float32
	for v := -16.0; v <= 16; v += 0.0009 {
		x = append(x, float32(v))
	}
	x = append(x, 0, 1e-6, -1e-6, 30, -30, float32(math.NaN()), 5.65, -5.66)
	dy := make([]float32, len(x))
	for i := range dy {
		dy[i] = float32(1 + i%3) // 1, 2, 3: the product with dy is checked too
	}
	got := make([]float32, len(x))
	GELUGrad(got, dy, x)
	for i, v := range x {
		f := float64(v)
		want := float64(dy[i]) * (0.5*(1+math.Erf(f/math.Sqrt2)) + f*math.Exp(-f*f/2)/math.Sqrt(2*math.Pi))
		if math.IsNaN(want) {
			if !math.IsNaN(float64(got[i])) {
				t.Errorf("GELUGrad(NaN) = %g, want NaN", got[i])
			}
			continue
		}
		if d := math.Abs(float64(got[i]) - want); d > 1e-6*math.Max(1, math.Abs(want)) || math.IsNaN(d) {
			t.Errorf("GELUGrad(%g)*%g = %g, want %g (off by %.2g)", v, dy[i], got[i], want, d)
		}
	}
}

// evens gathers every other value, in vectors where it can, for every
// length, up to the last value it must read and no further.
func TestEvens(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for n := 0; n < 50; n++ {
		for _, extra := range []int{0, 1, 9} { // the values past the last one read
			src := randomSlice(r, max(0, 2*(n-1)+1)+extra)
			got := randomSlice(r, n)
			evens(got, src)
			for j := range got {
				if got[j] != src[2*j] {
					t.Fatalf("%d values, %d more in src: dst[%d] = %g, want src[%d] = %g", n, extra, j, got[j], 2*j, src[2*j])
				}
			}
		}
	}
}
