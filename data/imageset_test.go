package data

import (
	"slices"
	"testing"
)

func TestImageSetFillMatchesSetFloat(t *testing.T) {
	set := &Set{Images: Images{N: 3, H: 2, W: 3, Pix: []uint8{0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 255, 254, 253, 0, 1, 2}},
		Labels: []uint8{4, 0, 9}, Classes: ClassNames("mnist")}
	s := set.ImageSet()
	if !slices.Equal(s.Shape(), []int{1, 2, 3}) || s.Len() != 3 || !slices.Equal(s.Labels, []int{4, 0, 9}) || s.Check() != nil {
		t.Fatalf("ImageSet of a Set: %v, %d, %v, %v", s.Shape(), s.Len(), s.Labels, s.Check())
	}
	s.Mean, s.Std = []float32{0.2860}, []float32{0.3530}
	dst := make([]float32, 6)
	for i := range 3 {
		if l := s.Fill(i, dst); l != int(set.Labels[i]) || !slices.Equal(dst, set.Float(i, 0.2860, 0.3530)) {
			t.Fatalf("picture %d: label %d, %v vs %v", i, l, dst, set.Float(i, 0.2860, 0.3530))
		}
	}
	// Per channel on three channels.
	c := &ImageSet{N: 1, C: 3, H: 1, W: 2, Pix: []uint8{0, 255, 51, 102, 255, 0}, Labels: []int{0},
		Mean: []float32{0, 0.2, 1}, Std: []float32{1, 0.2, 0.5}}
	dst = make([]float32, 6)
	c.Fill(0, dst)
	want := []float32{0, 1, 0, 1, 0, -2}
	for i := range want {
		if !near(dst[i], want[i], 1e-6) {
			t.Fatalf("per-channel Fill %v, want %v", dst, want)
		}
	}
}

func TestImageSetMeasure(t *testing.T) {
	// Channel 0: 0 and 255 (mean 0.5, std 0.5); channel 1: all 51 (0.2, 0).
	s := &ImageSet{N: 2, C: 2, H: 1, W: 2, Pix: []uint8{0, 255, 51, 51, 255, 0, 51, 51}, Labels: []int{0, 1}}
	mean, std := s.Measure()
	if !near(mean[0], 0.5, 1e-7) || !near(std[0], 0.5, 1e-7) || !near(mean[1], 0.2, 1e-7) || !near(std[1], 0, 1e-6) {
		t.Fatalf("mean %v std %v", mean, std)
	}
}

func TestImageSetSubsetAndCheck(t *testing.T) {
	s := randomSet(10)
	s.Classes = []string{"a", "b", "c", "d", "e"}
	sub := s.Subset([]int{7, 2})
	if sub.N != 2 || !slices.Equal(sub.Image(0), s.Image(7)) || !slices.Equal(sub.Image(1), s.Image(2)) || !slices.Equal(sub.Labels, []int{2, 2}) {
		t.Fatal("Subset")
	}
	sub.Pix[0]++
	if sub.Image(0)[0] == s.Image(7)[0] {
		t.Fatal("Subset shares pixels")
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	s.Labels[3] = 5
	if err := s.Check(); err == nil {
		t.Fatal("label 5 of 5 classes passed Check")
	}
	s.Labels[3] = 0
	s.Pix = s.Pix[1:]
	if err := s.Check(); err == nil {
		t.Fatal("short Pix passed Check")
	}
}
