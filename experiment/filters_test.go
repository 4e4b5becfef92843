package experiment

import (
	"context"
	"math"
	"testing"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/zoo"
)

// The high-frequency fraction on kernels whose spectra are known by hand:
// a constant has all its energy at DC; a ±1 checkerboard of side 4 all of
// it at half a cycle per pixel; cos(2πx/4) along x all of it at a quarter
// cycle, which is not above a quarter; cos(2πx/4) + a checkerboard half of
// it above.
func TestHighFrequency(t *testing.T) {
	k := 4
	constant, checker, quarter, both := make([]float32, 16), make([]float32, 16), make([]float32, 16), make([]float32, 16)
	for y := range k {
		for x := range k {
			constant[y*k+x] = 0.3
			checker[y*k+x] = float32(1 - 2*((x+y)%2))
			quarter[y*k+x] = float32(math.Cos(2 * math.Pi * float64(x) / 4))
			both[y*k+x] = quarter[y*k+x] + checker[y*k+x]/float32(math.Sqrt2)
		}
	}
	for _, c := range []struct {
		name string
		ker  []float32
		want float64
	}{{"constant", constant, 0}, {"checkerboard", checker, 1}, {"quarter cycle", quarter, 0}, {"both", both, 0.5}} {
		if got := highFrequency(c.ker, k); math.Abs(got-c.want) > 1e-6 {
			t.Errorf("%s: %.6f, want %g", c.name, got, c.want)
		}
	}
}

// A filter with a large negative bias never fires on the sample: dead; one
// with tiny weights is faint; the others are neither. The layer's range is
// its weights'.
func TestFiltersDeadAndFaint(t *testing.T) {
	m, err := zoo.Build("lenet5", nil, 10, 2)
	if err != nil {
		t.Fatal(err)
	}
	var c1 *nn.Conv2d
	nn.Walk(m.Net.Layers, func(l nn.Layer) {
		if c, ok := l.(*nn.Conv2d); ok && l.Name() == "c1" {
			c1 = c
		}
	})
	per := nn.Numel(c1.Weight.Value.Shape[1:])
	c1.Bias.Value.Data[2] = -1000
	for i := range per {
		c1.Weight.Value.Data[4*per+i] *= 1e-3
	}
	set := newRandomImages(20, m.Input, 3)
	lf, err := Filters(context.Background(), m.Net, "c1", set)
	if err != nil {
		t.Fatal(err)
	}
	if lf.Dead != 1 || !lf.Filters[2].Dead || lf.Faint != 1 || !lf.Filters[4].Faint || lf.Sampled != 20 {
		t.Errorf("dead %d (filter 2 %v), faint %d (filter 4 %v), sampled %d", lf.Dead, lf.Filters[2].Dead, lf.Faint, lf.Filters[4].Faint, lf.Sampled)
	}
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for _, v := range c1.Weight.Value.Data {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lf.Min != lo || lf.Max != hi || lf.Shape[0] != 6 || lf.Shape[2] != 5 || lf.Stride != 1 {
		t.Errorf("range %g..%g, shape %v, stride %d", lf.Min, lf.Max, lf.Shape, lf.Stride)
	}
	if names := Convolutions(m.Net); len(names) != 3 || names[0] != "c1" {
		t.Errorf("convolutions %v", names)
	}
	if _, err := Filters(context.Background(), m.Net, "s2", nil); err == nil {
		t.Error("a pooling layer's filters")
	}
	img, err := FiltersFigure(english, "lenet5", lf)
	if err != nil || img.Bounds().Dx() < 6*24 {
		t.Errorf("figure: %v", err)
	}
}
