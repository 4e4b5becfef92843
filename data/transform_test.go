package data

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/convscope/convscope/nn"
)

// ramp is a (c,h,w) picture whose value at (ch, y, x) is 1 + y*w + x +
// 100*ch: no zero, so padding shows.
func ramp(c, h, w int) *nn.Tensor {
	t := nn.New(c, h, w)
	for ch := range c {
		for y := range h {
			for x := range w {
				t.Data[(ch*h+y)*w+x] = float32(1 + y*w + x + 100*ch)
			}
		}
	}
	return t
}

func pcg(a, b uint64) *rand.Rand { return rand.New(rand.NewPCG(a, b)) }

func wantTensor(t *testing.T, what string, got *nn.Tensor, shape []int, want []float32, tol float32) {
	t.Helper()
	if !slices.Equal(got.Shape, shape) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape, shape)
	}
	for i := range want {
		if !near(got.Data[i], want[i], tol) {
			t.Fatalf("%s: value %d = %v, want %v\n got %v\nwant %v", what, i, got.Data[i], want[i], got.Data, want)
		}
	}
}

func TestRandomCropPaddingWindow(t *testing.T) {
	// Padding 1 around a 4x4 ramp, 4x4 windows: corners (top, left) in
	// 0..2. The window at (0, 0) is the ramp shifted right and down by one
	// under a row and a column of zeros (torchvision's fill=0).
	rc := RandomCrop{Height: 4, Width: 4, Padding: 1}
	seen := map[[2]int]bool{}
	for seed := range uint64(200) {
		rng := pcg(seed, 1)
		top, left, pt, pl := rc.Params(4, 4, pcg(seed, 1))
		if pt != 1 || pl != 1 || top < 0 || top > 2 || left < 0 || left > 2 {
			t.Fatalf("seed %d: window (%d,%d) pad (%d,%d)", seed, top, left, pt, pl)
		}
		seen[[2]int{top, left}] = true
		got := rc.Apply(ramp(1, 4, 4), rng)
		want := make([]float32, 16)
		for y := range 4 {
			for x := range 4 {
				if sy, sx := y+top-1, x+left-1; sy >= 0 && sy < 4 && sx >= 0 && sx < 4 {
					want[y*4+x] = float32(1 + sy*4 + sx)
				}
			}
		}
		wantTensor(t, "crop", got, []int{1, 4, 4}, want, 0)
		if top == 0 && left == 0 {
			wantTensor(t, "window (0,0)", got, []int{1, 4, 4}, []float32{0, 0, 0, 0, 0, 1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11}, 0)
		}
		if top == 2 && left == 1 {
			wantTensor(t, "window (2,1)", got, []int{1, 4, 4}, []float32{5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0, 0, 0, 0}, 0)
		}
	}
	if len(seen) != 9 {
		t.Fatalf("200 draws reached %d of the 9 windows", len(seen))
	}
	// The window is the top, then the left, drawn uniformly: the same
	// draws as rng.IntN(3) twice. PCG(5, 6) draws (0, 0), so the fixed seed
	// gives the window worked out above by hand.
	r := pcg(5, 6)
	top, left := r.IntN(3), r.IntN(3)
	if gt, gl, _, _ := rc.Params(4, 4, pcg(5, 6)); gt != top || gl != left || top != 0 || left != 0 {
		t.Fatalf("window (%d,%d), want (%d,%d) = (0,0)", gt, gl, top, left)
	}
	wantTensor(t, "seed (5,6)", rc.Apply(ramp(1, 4, 4), pcg(5, 6)), []int{1, 4, 4},
		[]float32{0, 0, 0, 0, 0, 1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11}, 0)
	// When the padded picture is the window, nothing is drawn.
	r1, r2 := pcg(1, 2), pcg(1, 2)
	if got := (RandomCrop{Height: 6, Width: 6, Padding: 1}).Apply(ramp(1, 4, 4), r1); got.Data[7] != 1 || r1.Uint64() != r2.Uint64() {
		t.Fatal("full-size crop drew from the generator or moved the picture")
	}
}

func TestRandomCropPadIfNeededAndFill(t *testing.T) {
	// A 2x3 picture into 4x4 windows: torchvision pads W by 4-3 on both
	// sides (5 wide) and H by 4-2 on both sides (6 high).
	rc := RandomCrop{Height: 4, Width: 4, PadIfNeeded: true, Fill: -1}
	for seed := range uint64(50) {
		top, left, pt, pl := rc.Params(2, 3, pcg(seed, 0))
		if pt != 2 || pl != 1 || top > 2 || left > 1 {
			t.Fatalf("window (%d,%d) pad (%d,%d)", top, left, pt, pl)
		}
		got := rc.Apply(ramp(1, 2, 3), pcg(seed, 0))
		var inside int
		for _, v := range got.Data {
			if v != -1 {
				inside++
			}
		}
		// Rows 2 and 3 of the padded picture are the picture; columns 1..3.
		wantIn := max(0, min(top+4, 4)-max(top, 2)) * max(0, min(left+4, 4)-max(left, 1))
		if inside != wantIn {
			t.Fatalf("window (%d,%d): %d picture values, want %d", top, left, inside, wantIn)
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a crop larger than the padded picture did not panic")
		}
	}()
	RandomCrop{Height: 5, Width: 5}.Apply(ramp(1, 4, 4), pcg(1, 1))
}

func TestRandomHorizontalFlip(t *testing.T) {
	got := RandomHorizontalFlip{P: 1}.Apply(ramp(2, 2, 3), pcg(1, 1))
	wantTensor(t, "flip", got, []int{2, 2, 3}, []float32{3, 2, 1, 6, 5, 4, 103, 102, 101, 106, 105, 104}, 0)
	got = RandomHorizontalFlip{P: 0}.Apply(ramp(1, 2, 3), pcg(1, 1))
	wantTensor(t, "no flip", got, []int{1, 2, 3}, []float32{1, 2, 3, 4, 5, 6}, 0)
	rng := pcg(3, 4)
	flips := 0
	for range 4000 {
		if (RandomHorizontalFlip{P: 0.5}).Apply(ramp(1, 1, 2), rng).Data[0] == 2 {
			flips++
		}
	}
	if flips < 1800 || flips > 2200 { // 2000 ± 6.3σ
		t.Fatalf("%d flips in 4000 at p=0.5", flips)
	}
}

func TestResizeBilinearAntialiased(t *testing.T) {
	// Shrinking [0 1 2 3] to 2: the triangle filter stretched to support 2;
	// output 0 (centre 1) weighs sources 0, 1, 2 by 0.75, 0.75, 0.25 (PIL
	// and torchvision's antialias): (0·3 + 1·3 + 2·1)/7 = 5/7; output 1:
	// (1·1 + 2·3 + 3·3)/7 = 16/7.
	x := nn.FromData([]float32{0, 1, 2, 3}, 1, 1, 4)
	wantTensor(t, "shrink", Resize{Height: 1, Width: 2}.Apply(x, nil), []int{1, 1, 2}, []float32{5.0 / 7, 16.0 / 7}, 1e-6)
	// Enlarging [0 1] to 4 is bilinear at half-pixel centres: 0, .25, .75, 1.
	x = nn.FromData([]float32{0, 1}, 1, 1, 2)
	wantTensor(t, "enlarge", Resize{Height: 1, Width: 4}.Apply(x, nil), []int{1, 1, 4}, []float32{0, 0.25, 0.75, 1}, 1e-6)
	// Both axes: a 2x2 [[0 1] [2 3]] to 4x4; separable, so row y of the
	// result is the column interpolation of the enlarged rows.
	x = nn.FromData([]float32{0, 1, 2, 3}, 1, 2, 2)
	got := Resize{Height: 4, Width: 4}.Apply(x, nil)
	row0, row1 := []float32{0, 0.25, 0.75, 1}, []float32{2, 2.25, 2.75, 3}
	var want []float32
	for _, a := range []float32{0, 0.25, 0.75, 1} {
		for j := range 4 {
			want = append(want, row0[j]+a*(row1[j]-row0[j]))
		}
	}
	wantTensor(t, "2x2 to 4x4", got, []int{1, 4, 4}, want, 1e-6)
	// An int size: the smaller edge becomes 2, the other int(2·6/4) = 3.
	got = Resize{Height: 2}.Apply(ramp(3, 4, 6), nil)
	if !slices.Equal(got.Shape, []int{3, 2, 3}) {
		t.Fatalf("Resize(2) of 4x6: %v", got.Shape)
	}
	got = Resize{Height: 5}.Apply(ramp(1, 7, 3), nil) // 3 wide -> 5, 7 high -> int(35/3) = 11
	if !slices.Equal(got.Shape, []int{1, 11, 5}) {
		t.Fatalf("Resize(5) of 7x3: %v", got.Shape)
	}
	// A constant stays constant at any size.
	c := nn.New(2, 5, 7)
	for i := range c.Data {
		c.Data[i] = 0.3
	}
	for _, v := range (Resize{Height: 3, Width: 11}).Apply(c, nil).Data {
		if !near(v, 0.3, 1e-6) {
			t.Fatalf("constant resized to %v", v)
		}
	}
}

func TestCenterCrop(t *testing.T) {
	wantTensor(t, "4x4 to 2x2", CenterCrop{2, 2}.Apply(ramp(1, 4, 4), nil), []int{1, 2, 2}, []float32{6, 7, 10, 11}, 0)
	// 5 to 2: round(1.5) = 2 (half to even), as torchvision's int(round()).
	wantTensor(t, "5x5 to 2x2", CenterCrop{2, 2}.Apply(ramp(1, 5, 5), nil), []int{1, 2, 2}, []float32{13, 14, 18, 19}, 0)
	// 7 to 2: round(2.5) = 2.
	wantTensor(t, "7x1 to 2x1", CenterCrop{2, 1}.Apply(ramp(1, 7, 1), nil), []int{1, 2, 1}, []float32{3, 4}, 0)
	// Larger than the picture: zeros, (4-3)//2 = 0 on the left and top.
	wantTensor(t, "3x3 to 4x4", CenterCrop{4, 4}.Apply(ramp(1, 3, 3), nil), []int{1, 4, 4},
		[]float32{1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0, 0}, 0)
	wantTensor(t, "2x2 to 4x4", CenterCrop{4, 4}.Apply(ramp(1, 2, 2), nil), []int{1, 4, 4},
		[]float32{0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0}, 0)
}

func TestRandomResizedCropBox(t *testing.T) {
	rrc := RandomResizedCrop{Height: 8, Width: 8}
	const h, w = 32, 40
	lo, hi := 1.0, 0.0
	rng := pcg(9, 9)
	for range 5000 {
		top, left, bh, bw := rrc.Params(h, w, rng)
		if top < 0 || left < 0 || bh <= 0 || bw <= 0 || top+bh > h || left+bw > w {
			t.Fatalf("box (%d,%d) %dx%d outside %dx%d", top, left, bh, bw, h, w)
		}
		frac := float64(bh*bw) / (h * w)
		lo, hi = min(lo, frac), max(hi, frac)
		// Rounding each side to an integer moves the area a little.
		if frac < 0.06 || frac > 1 {
			t.Fatalf("box %dx%d is %.3f of the picture", bh, bw, frac)
		}
		if r := float64(bw) / float64(bh); r < 0.6 || r > 1.6 {
			t.Fatalf("box %dx%d has ratio %.2f", bh, bw, r)
		}
	}
	if lo > 0.1 || hi < 0.9 {
		t.Fatalf("5000 boxes cover only %.3f..%.3f of the scale range (0.08, 1)", lo, hi)
	}
	// When no box fits (scale over 1), the fallback is central: a 10x40
	// picture is wider than 4/3, so the box is 10 high, round(10·4/3) = 13
	// wide, at left (40-13)/2 = 13; a 40x10 one is 10 wide, round(10/(3/4))
	// = 13 high; a square one is whole.
	big := RandomResizedCrop{Height: 4, Width: 4, Scale: [2]float64{2, 3}}
	if top, left, bh, bw := big.Params(10, 40, pcg(1, 1)); top != 0 || left != 13 || bh != 10 || bw != 13 {
		t.Fatalf("wide fallback (%d,%d) %dx%d", top, left, bh, bw)
	}
	if top, left, bh, bw := big.Params(40, 10, pcg(1, 1)); top != 13 || left != 0 || bh != 13 || bw != 10 {
		t.Fatalf("tall fallback (%d,%d) %dx%d", top, left, bh, bw)
	}
	if top, left, bh, bw := big.Params(9, 9, pcg(1, 1)); top != 0 || left != 0 || bh != 9 || bw != 9 {
		t.Fatalf("square fallback (%d,%d) %dx%d", top, left, bh, bw)
	}
	// Scale and ratio pinned to 1 on a square picture: the whole picture,
	// resized to its own size, is the picture.
	whole := RandomResizedCrop{Height: 6, Width: 6, Scale: [2]float64{1, 1}, Ratio: [2]float64{1, 1}}
	x := ramp(3, 6, 6)
	wantTensor(t, "whole", whole.Apply(x.Clone(), pcg(2, 2)), []int{3, 6, 6}, x.Data, 0)
	if got := rrc.Apply(ramp(3, h, w), pcg(4, 4)); !slices.Equal(got.Shape, []int{3, 8, 8}) {
		t.Fatalf("shape %v", got.Shape)
	}
}

func TestNormalizeAndCompose(t *testing.T) {
	x := nn.FromData([]float32{0, 1, 0.5, 0.5}, 2, 1, 2)
	got := Normalize{Mean: []float32{0.5, 0.25}, Std: []float32{0.5, 0.25}}.Apply(x, nil)
	wantTensor(t, "normalize", got, []int{2, 1, 2}, []float32{-1, 1, 1, 1}, 1e-7)
	x = nn.FromData([]float32{0.4914, 0.4822, 0.4465}, 3, 1, 1)
	got = Normalize{Mean: CIFAR10Mean, Std: CIFAR10Std}.Apply(x, nil)
	wantTensor(t, "CIFAR-10 mean", got, []int{3, 1, 1}, []float32{0, 0, 0}, 1e-7)
	c := Compose{Normalize{Mean: []float32{1}}, Normalize{Std: []float32{2}}, RandomHorizontalFlip{P: 1}}
	got = c.Apply(nn.FromData([]float32{3, 5}, 1, 1, 2), pcg(1, 1))
	wantTensor(t, "compose", got, []int{1, 1, 2}, []float32{2, 1}, 0)
}

func TestRandomErasingBox(t *testing.T) {
	re := RandomErasing{P: 1, Value: -5}
	const h, w = 32, 32
	lo, hi := 1.0, 0.0
	rng := pcg(11, 12)
	for range 3000 {
		x := ramp(3, h, w)
		re.Apply(x, rng)
		// The erased pixels form one box, the same in every channel.
		y0, x0, y1, x1, n := h, w, -1, -1, 0
		for ch := range 3 {
			for y := range h {
				for xx := range w {
					if x.Data[(ch*h+y)*w+xx] == -5 {
						n++
						if ch == 0 {
							y0, x0, y1, x1 = min(y0, y), min(x0, xx), max(y1, y), max(x1, xx)
						}
					} else if v := float32(1 + y*w + xx + 100*ch); x.Data[(ch*h+y)*w+xx] != v {
						t.Fatalf("pixel (%d,%d,%d) changed to %v", ch, y, xx, x.Data[(ch*h+y)*w+xx])
					}
				}
			}
		}
		if n == 0 {
			continue // no box fit in 10 tries: left as it was
		}
		bh, bw := y1-y0+1, x1-x0+1
		if n != 3*bh*bw || bh >= h || bw >= w {
			t.Fatalf("erased %d values, box %dx%d", n, bh, bw)
		}
		frac := float64(bh*bw) / (h * w)
		lo, hi = min(lo, frac), max(hi, frac)
		if frac < 0.01 || frac > 0.37 {
			t.Fatalf("box %dx%d is %.3f of the picture, outside (0.02, 0.33) by more than rounding", bh, bw, frac)
		}
	}
	if lo > 0.03 || hi < 0.3 {
		t.Fatalf("3000 boxes cover only %.3f..%.3f of the scale range (0.02, 0.33)", lo, hi)
	}
	x := ramp(1, 8, 8)
	(RandomErasing{P: 0}).Apply(x, pcg(1, 1))
	wantTensor(t, "p=0", x, []int{1, 8, 8}, ramp(1, 8, 8).Data, 0)
	// Random: normal noise in the box, mean about 0 over many draws.
	var sum, n float64
	r := pcg(3, 3)
	for range 200 {
		x := nn.New(1, 16, 16)
		for i := range x.Data {
			x.Data[i] = float32(math.NaN())
		}
		(RandomErasing{P: 1, Random: true}).Apply(x, r)
		for _, v := range x.Data {
			if !math.IsNaN(float64(v)) {
				sum += float64(v)
				n++
			}
		}
	}
	if n == 0 || math.Abs(sum/n) > 0.05 {
		t.Fatalf("random erasing: mean %v over %v values", sum/n, n)
	}
}
