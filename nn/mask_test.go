package nn

import (
	"math"
	"testing"
)

// masked writes every value of its arena buffer (poisoned with NaN here):
// x times the mask value covering it, per element, plane or sample, and
// exact zeros over a dropped plane or sample even where x is not finite.
func TestMaskedCoversEveryValue(t *testing.T) {
	x := New(2, 3, 4, 5)
	for i := range x.Data {
		x.Data[i] = float32(i%17) - 8
	}
	x.Data[5*20+3] = float32(math.Inf(1)) // in plane 5, which the plane mask drops
	for _, mask := range [][]float32{
		{0, 2},               // per sample
		{2, 2, 0, 2, 2, 0},   // per plane
		make([]float32, 120), // per element
	} {
		if len(mask) == 120 {
			for i := range mask {
				mask[i] = float32(i % 3) // 0, 1 or 2
			}
			x.Data[5*20+3] = 1
		}
		a := NewArena()
		a.Poison = true
		a.Uninit(x.Shape...) // a recycled buffer full of NaN
		a.Reset()
		y := masked(x, mask, a)
		per := len(x.Data) / len(mask)
		for i, v := range y.Data {
			want := x.Data[i] * mask[i/per]
			if mask[i/per] == 0 {
				want = 0
			}
			if v != want {
				t.Fatalf("mask of %d: y[%d] = %g, want %g", len(mask), i, v, want)
			}
		}
	}
}
