package zoo

import (
	"image"
	"testing"
)

// LeNet-5's figures by hand: c1 6*(25+1) = 156 params, 6*25*28*28 = 117,600
// MACs; c3 16*(150+1) = 2,416 and 16*150*10*10 = 240,000; c5 120*(400+1) =
// 48,120 and 48,000; f6 120*84+84 = 10,164 and 10,080; out 850 and 840.
// Receptive fields: c1 5 (jump 1, start 0), s2 6 (jump 2, start 0.5),
// c3 14 (start 4.5), s4 16 (jump 4, start 5.5), c5 32 (start 13.5).
func TestLeNet5Summary(t *testing.T) {
	m, err := Build("lenet5", nil, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Summarize(m)
	if err != nil {
		t.Fatal(err)
	}
	if s.Params != 61706 || s.MACs != 416520 {
		t.Errorf("params %d, MACs %d; want 61706, 416520", s.Params, s.MACs)
	}
	want := map[string]struct {
		rf, jump int
		start    float64
	}{"c1": {5, 1, 0}, "s2": {6, 2, 0.5}, "c3": {14, 2, 4.5}, "s4": {16, 4, 5.5}, "c5": {32, 4, 13.5}}
	for _, l := range s.Layers {
		if w, ok := want[l.Name]; ok && (l.RF != w.rf || l.Jump != w.jump || l.Start != w.start) {
			t.Errorf("%s: rf %d jump %d start %g; want %+v", l.Name, l.RF, l.Jump, l.Start, w)
		}
	}
	c3 := s.Layers[3]
	// Unit (2,3) of c3: centre (4.5+2*2, 4.5+3*2) = (8.5, 10.5), 14 wide.
	if got := c3.Box(2, 3, 28, 28); got != image.Rect(4, 2, 18, 16) {
		t.Errorf("c3 box of unit (2,3) = %v, want (4,2)-(18,16)", got)
	}
	if got := c3.Box(0, 0, 28, 28); got != image.Rect(0, 0, 12, 12) {
		t.Errorf("c3 box of unit (0,0) = %v, want clipped (0,0)-(12,12)", got)
	}
	if got := s.Layers[len(s.Layers)-1].Box(0, 0, 28, 28); got != image.Rect(0, 0, 28, 28) {
		t.Errorf("output box %v, want the whole image", got)
	}
	// c5's one unit sees from -2 to 29, the whole input; s4's 5x5 units,
	// 16 wide and 4 apart, do not.
	if l, _, _ := s.Row("c5"); !l.Whole {
		t.Error("c5 does not see the whole input")
	}
	if l, _, _ := s.Row("s4"); l.Whole || l.Box(0, 0, 28, 28) != image.Rect(0, 0, 14, 14) {
		t.Errorf("s4: whole %v, unit (0,0)'s box %v", l.Whole, l.Box(0, 0, 28, 28))
	}
}

func TestBuildErrors(t *testing.T) {
	if _, err := Build("lenet6", nil, 10, 1); err == nil {
		t.Error("unknown model built")
	}
	if _, err := Build("lenet5", []int{1, 8, 8}, 10, 1); err == nil {
		t.Error("lenet5 built for an 8x8 input")
	}
	if _, err := ParseShape("1x28"); err == nil {
		t.Error("1x28 parsed as CxHxW")
	}
}

// The 1998 LeNet-5: C3's table leaves 1,516 of the full 2,416 parameters,
// S2 and S4 have 2 per map (12 and 32): 156 + 12 + 1,516 + 32 + 48,120 +
// 10,164 + 850 = 60,850 (the paper's RBF output has 840 where this linear
// layer has 850).
func TestLeNet1998Counts(t *testing.T) {
	m, err := Build("lenet5_1998", nil, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Summarize(m)
	if err != nil {
		t.Fatal(err)
	}
	if s.Params != 60850 {
		t.Errorf("%d parameters, want 60,850", s.Params)
	}
	for _, l := range s.Layers {
		if l.Name == "c3" && (l.Params != 1516 || l.RF != 14 || l.Output[0] != 16) {
			t.Errorf("c3: %+v", l)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 12: "12", 999: "999", 1000: "1,000", 61706: "61,706",
		1234567: "1,234,567", -450: "-450", -4500: "-4,500", -123456: "-123,456"} {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
