package data

import (
	"image"
	"image/color"
	"math"
	"testing"
)

// blocks makes a w×h grey picture whose value at (x, y) is f(x, y).
func blocks(w, h int, f func(x, y int) uint8) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			g.SetGray(x, y, color.Gray{f(x, y)})
		}
	}
	return g
}

func near(a, b, tol float32) bool { return math.Abs(float64(a-b)) <= float64(tol) }

func TestToPixelsSameSizeIsExact(t *testing.T) {
	img := blocks(28, 28, func(x, y int) uint8 { return uint8(x*9 + y) })
	p := ToPixels(img, 1, 28, 28)
	if got := p.Shape; len(got) != 4 || got[0] != 1 || got[1] != 1 || got[2] != 28 || got[3] != 28 {
		t.Fatalf("shape %v, want [1 1 28 28]", got)
	}
	b := PixelBytes(p)
	for i, v := range b {
		if v != img.Pix[i] {
			t.Fatalf("pixel %d = %d, want %d (a same-size picture is copied)", i, v, img.Pix[i])
		}
	}
}

func TestToPixelsAreaAverage(t *testing.T) {
	// 2x2 blocks of 0 and 255 in a checkerboard of blocks average to
	// themselves at half size; single-pixel checkerboard averages to 0.5.
	img := blocks(56, 56, func(x, y int) uint8 {
		if (x/2+y/2)%2 == 0 {
			return 255
		}
		return 0
	})
	p := ToPixels(img, 1, 28, 28)
	for y := range 28 {
		for x := range 28 {
			want := float32(0)
			if (x+y)%2 == 0 {
				want = 1
			}
			if v := p.Data[y*28+x]; !near(v, want, 1e-6) {
				t.Fatalf("(%d,%d) = %v, want %v", x, y, v, want)
			}
		}
	}
	fine := blocks(84, 84, func(x, y int) uint8 { return uint8(255 * ((x + y) % 2)) })
	// 84 -> 28 is 3 pixels per output along each axis: 4 or 5 of 9 are white.
	q := ToPixels(fine, 1, 28, 28)
	for i, v := range q.Data {
		if !near(v, 4.0/9, 1e-5) && !near(v, 5.0/9, 1e-5) {
			t.Fatalf("value %d = %v, want 4/9 or 5/9", i, v)
		}
	}
	// A non-integer ratio keeps the mean: 50 -> 28 of a ramp.
	ramp := blocks(50, 50, func(x, y int) uint8 { return uint8(5 * x) })
	r := ToPixels(ramp, 1, 28, 28)
	var sum, want float64
	for _, v := range r.Data {
		sum += float64(v)
	}
	for x := range 50 {
		want += float64(5*x) / 255
	}
	if mean, wmean := sum/float64(len(r.Data)), want/50; math.Abs(mean-wmean) > 1e-4 {
		t.Fatalf("mean after resize %v, want %v (area averaging preserves the mean)", mean, wmean)
	}
}

func TestToPixelsLetterbox(t *testing.T) {
	// A white 28x16 bar on a black 56x28 picture: fitted into 28x28 it keeps
	// its 2:1 ratio; the top and bottom margins take the black border colour.
	img := blocks(56, 28, func(x, y int) uint8 {
		if x >= 14 && x < 42 && y >= 6 && y < 22 {
			return 255
		}
		return 0
	})
	p := ToPixels(img, 1, 28, 28)
	// fitted size 28x14 at rows 7..20; the bar covers x 7..20, rows 10..17.
	for y := range 28 {
		for x := range 28 {
			v := p.Data[y*28+x]
			inBar := x >= 7 && x < 21 && y >= 10 && y < 18
			if inBar && v < 0.99 || !inBar && v > 0.01 {
				t.Fatalf("(%d,%d) = %v; bar expected at x 7..20, y 10..17", x, y, v)
			}
		}
	}
	// A bright background fills the margins with its own colour.
	white := blocks(60, 30, func(x, y int) uint8 { return 200 })
	w := ToPixels(white, 1, 28, 28)
	for i, v := range w.Data {
		if !near(v, 200.0/255, 1e-5) {
			t.Fatalf("value %d = %v, want %v everywhere", i, v, 200.0/255)
		}
	}
}

func TestToTensorRGBAndNormalise(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 4, 4))
	for i := 0; i < len(img.Pix); i += 4 {
		copy(img.Pix[i:], []uint8{255, 0, 51, 255})
	}
	x := ToTensor(img, 3, 2, 2, []float32{0.5, 0.5, 0.5}, []float32{0.5, 0.25, 0.1})
	want := []float32{(1 - 0.5) / 0.5, (0 - 0.5) / 0.25, (0.2 - 0.5) / 0.1}
	for c := range 3 {
		for i := range 4 {
			if v := x.Data[c*4+i]; !near(v, want[c], 1e-5) {
				t.Fatalf("channel %d value %v, want %v", c, v, want[c])
			}
		}
	}
	g := ToTensor(img, 1, 2, 2, []float32{0.2860}, []float32{0.3530})
	l := (0.299*1 + 0.114*0.2 - 0.2860) / 0.3530
	if !near(g.Data[0], float32(l), 1e-5) {
		t.Fatalf("grey value %v, want luma-based %v", g.Data[0], l)
	}
	// Half-transparent white is composited over black: grey 0.5.
	img.Pix[0], img.Pix[1], img.Pix[2], img.Pix[3] = 255, 255, 255, 128
	one := ToPixels(img.SubImage(image.Rect(0, 0, 1, 1)), 1, 1, 1)
	if !near(one.Data[0], 128.0/255, 1e-3) {
		t.Fatalf("half-transparent white = %v, want about 0.5", one.Data[0])
	}
}

func TestFastPathsAgreeWithGeneric(t *testing.T) {
	// The same picture as YCbCr, RGBA, NRGBA and through the generic At path.
	ycc := image.NewYCbCr(image.Rect(0, 0, 37, 23), image.YCbCrSubsampleRatio420)
	for i := range ycc.Y {
		ycc.Y[i] = uint8(i * 7)
	}
	for i := range ycc.Cb {
		ycc.Cb[i], ycc.Cr[i] = uint8(i*3), uint8(255-i)
	}
	rgba := image.NewRGBA(ycc.Bounds())
	nrgba := image.NewNRGBA(ycc.Bounds())
	for y := range 23 {
		for x := range 37 {
			rgba.Set(x, y, ycc.At(x, y))
			nrgba.Set(x, y, ycc.At(x, y))
		}
	}
	generic := struct{ image.Image }{ycc} // hides the concrete type
	want := ToPixels(generic, 3, 9, 16)
	for name, img := range map[string]image.Image{"ycbcr": ycc, "rgba": rgba, "nrgba": nrgba} {
		got := ToPixels(img, 3, 9, 16)
		for i := range got.Data {
			if !near(got.Data[i], want.Data[i], 1.5/255) {
				t.Fatalf("%s: value %d = %v, generic path %v", name, i, got.Data[i], want.Data[i])
			}
		}
	}
}

func TestShrinkImage(t *testing.T) {
	big := image.NewYCbCr(image.Rect(0, 0, 1000, 500), image.YCbCrSubsampleRatio444)
	for i := range big.Y {
		big.Y[i], big.Cb[i], big.Cr[i] = 128, 128, 128
	}
	s := ShrinkImage(big, 128)
	if b := s.Bounds(); b.Dx() != 128 || b.Dy() != 64 {
		t.Fatalf("shrunk to %v, want 128x64", b)
	}
	if c := s.RGBAAt(50, 30); c.R != 128 || c.G != 128 || c.B != 128 || c.A != 255 {
		t.Fatalf("colour %v, want opaque grey 128", c)
	}
	small := blocks(10, 7, func(x, y int) uint8 { return uint8(x + 10*y) })
	if b := ShrinkImage(small, 128).Bounds(); b.Dx() != 10 || b.Dy() != 7 {
		t.Fatalf("a picture that fits changed size to %v", b)
	}
	if b := ShrinkImage(image.NewGray(image.Rect(0, 0, 5000, 1)), 64).Bounds(); b.Dx() != 64 || b.Dy() != 1 {
		t.Fatalf("a 5000x1 strip shrank to %v, want 64x1", b)
	}
}

func TestBrightBorderAndInvert(t *testing.T) {
	// Light object on black, like Fashion-MNIST: not inverted.
	dark := blocks(28, 28, func(x, y int) uint8 {
		if x > 5 && x < 22 && y > 5 && y < 22 {
			return 230
		}
		return 0
	})
	if BrightBorder(dark) {
		t.Fatal("a dark-bordered picture reads as bright")
	}
	// Dark object on white paper, like a photo: inverted.
	paper := InvertImage(dark)
	if !BrightBorder(paper) {
		t.Fatal("a white-bordered picture does not read as bright")
	}
	back := InvertImage(paper)
	for y := range 28 {
		for x := range 28 {
			if back.RGBAAt(x, y).R != dark.GrayAt(x, y).Y {
				t.Fatalf("inverting twice changed (%d,%d)", x, y)
			}
		}
	}
	if BrightBorder(image.NewGray(image.Rect(0, 0, 0, 0))) {
		t.Fatal("an empty picture reads as bright")
	}
	one := blocks(1, 1, func(int, int) uint8 { return 255 })
	if !BrightBorder(one) {
		t.Fatal("a single white pixel is its own border and is bright")
	}
}

func TestOverWhite(t *testing.T) {
	// A 3x2 NRGBA picture not at the origin: a black shoe's pixel, a fully
	// transparent one (a PNG's background), a half-transparent red, an
	// opaque grey, a transparent pixel that still carries a colour, and a
	// quarter-opaque black.
	img := image.NewNRGBA(image.Rect(10, 20, 13, 22))
	img.SetNRGBA(10, 20, color.NRGBA{0, 0, 0, 255})
	img.SetNRGBA(11, 20, color.NRGBA{0, 0, 0, 0})
	img.SetNRGBA(12, 20, color.NRGBA{255, 0, 0, 128})
	img.SetNRGBA(10, 21, color.NRGBA{100, 100, 100, 255})
	img.SetNRGBA(11, 21, color.NRGBA{30, 200, 90, 0})
	img.SetNRGBA(12, 21, color.NRGBA{0, 0, 0, 64})
	got := OverWhite(img)
	if got.Bounds() != img.Bounds() {
		t.Fatalf("bounds %v, want %v", got.Bounds(), img.Bounds())
	}
	want := map[image.Point]color.RGBA{
		{10, 20}: {0, 0, 0, 255},
		{11, 20}: {255, 255, 255, 255},
		// red 255 over white stays 255; green and blue are white's
		// 255 x (1 - 128/255) = 127.
		{12, 20}: {255, 127, 127, 255},
		{10, 21}: {100, 100, 100, 255},
		{11, 21}: {255, 255, 255, 255},
		// 255 x (1 - 64/255) = 191.
		{12, 21}: {191, 191, 191, 255},
	}
	for p, w := range want {
		r, g, b, a := got.At(p.X, p.Y).RGBA()
		if c := (color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}); c != w {
			t.Errorf("pixel %v is %v, want %v", p, c, w)
		}
	}
	// An opaque picture is not copied.
	gray := image.NewGray(image.Rect(0, 0, 2, 2))
	if OverWhite(gray) != image.Image(gray) {
		t.Error("an opaque picture was copied")
	}
}

func TestStandardizeLengths(t *testing.T) {
	x := ToPixels(blocks(2, 2, func(int, int) uint8 { return 255 }), 3, 2, 2)
	y := Standardize(x, []float32{0.5}, []float32{0.5})
	for _, v := range y.Data {
		if !near(v, 1, 1e-6) {
			t.Fatalf("broadcast mean/std gave %v, want 1", v)
		}
	}
	if x.Data[0] != 1 {
		t.Fatal("Standardize changed its input")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("two mean values for three channels did not panic")
		}
	}()
	Standardize(x, []float32{0.5, 0.5}, nil)
}
