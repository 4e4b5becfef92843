package kernel

import (
	"math"
	"testing"
)

// Tanh agrees with math.Tanh to 4e-7 absolute and relative over
// [-12, 12] in steps of 1e-4, keeps NaN and saturates at ±1.
func TestTanh(t *testing.T) {
	worstAbs, worstRel := 0.0, 0.0
	for i := -120000; i <= 120000; i++ {
		x := float32(i) * 1e-4
		want := math.Tanh(float64(x))
		got := float64(Tanh(x))
		d := math.Abs(got - want)
		worstAbs = max(worstAbs, d)
		if want != 0 {
			worstRel = max(worstRel, d/math.Abs(want))
		}
	}
	t.Logf("worst absolute %.2g, relative %.2g", worstAbs, worstRel)
	if worstAbs > 4e-7 || worstRel > 4e-7 {
		t.Errorf("Tanh: worst absolute %g, relative %g", worstAbs, worstRel)
	}
	if v := Tanh(float32(math.NaN())); v == v {
		t.Errorf("Tanh(NaN) = %g", v)
	}
	if Tanh(100) != 1 || Tanh(-100) != -1 || Tanh(float32(math.Inf(1))) != 1 {
		t.Errorf("Tanh does not saturate: %g %g", Tanh(100), Tanh(-100))
	}
}

func BenchmarkTanh(b *testing.B) {
	x := make([]float32, 4096)
	for i := range x {
		x[i] = float32(i-2048) / 300
	}
	b.Run("float32", func(b *testing.B) {
		for b.Loop() {
			for i, v := range x {
				x[i] = Tanh(v) + v
			}
		}
	})
	b.Run("math", func(b *testing.B) {
		for b.Loop() {
			for i, v := range x {
				x[i] = float32(math.Tanh(float64(v))) + v
			}
		}
	})
}

func TestErfMatchesMath(t *testing.T) {
	var worst float64
	for i := -600000; i <= 600000; i++ {
		x := float32(i) / 100000 // [-6, 6] in steps of 1e-5
		got, want := float64(Erf(x)), math.Erf(float64(x))
		worst = max(worst, math.Abs(got-want))
	}
	t.Logf("max |Erf - math.Erf| = %.2g", worst)
	if worst > 1e-6 {
		t.Errorf("Erf is off by %.3g", worst)
	}
	if v := Erf(float32(math.NaN())); v == v {
		t.Error("Erf(NaN) is not NaN")
	}
}
