package experiment

import (
	"context"
	"image"
	"math"
	"strings"
	"testing"

	"github.com/convscope/convscope/nn"
)

func TestCorrespondenceDeltaByHand(t *testing.T) {
	// ε1 = ( 0.5, -2, 0,   3)  signs (+, -, 0, +)
	// ε2 = ( 1,   -1, 0,  -3)  signs (+, -, 0, -)
	// ε3 = (-0.1,  0, 0.7, 2)  signs (-, 0, +, +)
	// H(1,2) = 1 (the last), H(1,3) = 3 (all but the last), H(2,3) = 4:
	// Δ = 8. Were sign 0 taken for +, it would be 1 + 2 + 3 = 6.
	eps := [][]float32{{0.5, -2, 0, 3}, {1, -1, 0, -3}, {-0.1, 0, 0.7, 2}}
	zeros := [][]float32{make([]float32, 4), make([]float32, 4), make([]float32, 4)}
	if got := signDelta(eps, zeros); got != 8 {
		t.Errorf("Δ = %d, want 8", got)
	}
	// ε as plain − masked: plain (1,1,1,1) and masked 1−ε give the same Δ.
	plain := [][]float32{{1, 1, 1, 1}, {1, 1, 1, 1}, {1, 1, 1, 1}}
	masked := [][]float32{{0.5, 3, 1, -2}, {0, 2, 1, 4}, {1.1, 1, 0.3, -1}}
	if got := signDelta(plain, masked); got != 8 {
		t.Errorf("Δ from plain and masked = %d, want 8", got)
	}
}

// table1Hamming is the test's own count of differing signs of ε vectors.
func table1Hamming(a, b []float64) int {
	n := 0
	for i := range a {
		sa, sb := math.Copysign(1, a[i]), math.Copysign(1, b[i])
		if a[i] == 0 {
			sa = 0
		}
		if b[i] == 0 {
			sb = 0
		}
		if sa != sb {
			n++
		}
	}
	return n
}

// table1Delta is Δ at layer name from separate one-picture passes of
// each picture and of a copy with its box cleared by the test's own loop.
func table1Delta(t *testing.T, xs []*nn.Tensor, boxes []image.Rectangle, name string) int {
	t.Helper()
	net := fig5Net(t)
	var eps [][]float64
	for i, x := range xs {
		masked := x.Clone()
		for ch := range 3 {
			for y := range 8 {
				for xx := range 8 {
					if (image.Point{xx, y}).In(boxes[i]) {
						masked.Data[(ch*8+y)*8+xx] = 0
					}
				}
			}
		}
		a, b := fig5Output(t, net, x, name), fig5Output(t, net, masked, name)
		e := make([]float64, len(a))
		for k := range a {
			e[k] = float64(a[k]) - float64(b[k])
		}
		eps = append(eps, e)
	}
	total := 0
	for i := range eps {
		for j := i + 1; j < len(eps); j++ {
			total += table1Hamming(eps[i], eps[j])
		}
	}
	return total
}

func TestCorrespondenceMatchesSeparatePasses(t *testing.T) {
	net := fig5Net(t)
	xs := []*nn.Tensor{fig5Input(3, 8, 8, 11), fig5Input(3, 8, 8, 12), fig5Input(3, 8, 8, 13)}
	boxes := []image.Rectangle{image.Rect(1, 1, 4, 3), image.Rect(2, 4, 5, 6), image.Rect(0, 0, 3, 2)}
	layers := []string{"conv", "relu", "pool", "fc"}
	const trials, seed = 4, 9
	rs, err := Correspondence(context.Background(), net, xs, boxes, layers, trials, seed)
	if err != nil {
		t.Fatal(err)
	}
	random := RandomBoxes(boxes, 8, 8, trials, seed)
	features := map[string]int{"conv": 4 * 8 * 8, "relu": 4 * 8 * 8, "pool": 4 * 4 * 4, "fc": 5}
	for l, name := range layers {
		r := rs[l]
		want := table1Delta(t, xs, boxes, name)
		if r.Layer != name || r.Part != want || r.Pairs != 3 || r.Features != features[name] {
			t.Errorf("%s: %+v, want part %d, 3 pairs, %d features", name, r, want, features[name])
		}
		var ds []float64
		for _, b := range random {
			ds = append(ds, float64(table1Delta(t, xs, b, name)))
		}
		mean := (ds[0] + ds[1] + ds[2] + ds[3]) / 4
		var v float64
		for _, d := range ds {
			v += (d - mean) * (d - mean)
		}
		if math.Abs(r.Random-mean) > 1e-9 || math.Abs(r.RandomStd-math.Sqrt(v/4)) > 1e-9 {
			t.Errorf("%s: random %v ± %v, separate passes give %v (%v)", name, r.Random, r.RandomStd, mean, ds)
		}
		if cells := float64(3 * features[name]); math.Abs(r.PartNormalized-float64(want)/cells) > 1e-12 {
			t.Errorf("%s: normalised part %v, want %v", name, r.PartNormalized, float64(want)/cells)
		}
	}
	// The box leaves most of conv's units alone: their ε is exactly 0 in
	// every picture, so Δ stays well below its maximum of 3·256.
	if rs[0].Part >= 3*256/2 {
		t.Errorf("conv part Δ %d: units the boxes cannot reach disagree", rs[0].Part)
	}
}

func TestCorrespondenceRandomBoxes(t *testing.T) {
	boxes := []image.Rectangle{image.Rect(0, 0, 3, 2), image.Rect(5, 5, 8, 8)}
	a := RandomBoxes(boxes, 8, 10, 50, 1)
	b := RandomBoxes(boxes, 8, 10, 50, 1)
	c := RandomBoxes(boxes, 8, 10, 50, 2)
	same, moved := true, false
	for tr := range a {
		for i, r := range a[tr] {
			if r.Dx() != boxes[i].Dx() || r.Dy() != boxes[i].Dy() || !r.In(image.Rect(0, 0, 10, 8)) {
				t.Fatalf("trial %d box %d: %v for %v in a 10x8 picture", tr, i, r, boxes[i])
			}
			same = same && r == b[tr][i]
			moved = moved || r != c[tr][i]
		}
	}
	if !same || !moved {
		t.Errorf("same seed same boxes: %v; another seed other boxes: %v", same, moved)
	}
}

func TestCorrespondenceRefuses(t *testing.T) {
	net := fig5Net(t)
	xs := []*nn.Tensor{fig5Input(3, 8, 8, 1), fig5Input(3, 8, 8, 2)}
	boxes := []image.Rectangle{image.Rect(0, 0, 2, 2), image.Rect(1, 1, 3, 3)}
	bg := context.Background()
	cases := []struct {
		xs     []*nn.Tensor
		boxes  []image.Rectangle
		layers []string
		trials int
		want   string
	}{
		{xs, boxes, []string{"conv", "nope"}, 2, `"nope"`},
		{xs[:1], boxes[:1], []string{"conv"}, 2, "at least 2 pictures"},
		{xs, boxes[:1], []string{"conv"}, 2, "1 boxes for 2 pictures"},
		{xs, []image.Rectangle{boxes[0], image.Rect(6, 6, 9, 9)}, []string{"conv"}, 2, "box 1"},
		{xs, boxes, []string{"conv"}, 0, "0 random trials"},
		{[]*nn.Tensor{xs[0], fig5Input(3, 8, 9, 3)}, boxes, []string{"conv"}, 2, "picture 1"},
	}
	for _, c := range cases {
		_, err := Correspondence(bg, net, c.xs, c.boxes, c.layers, c.trials, 1)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want an error with %q, got %v", c.want, err)
		}
	}
}
