package data

import (
	"image"
	"image/color"
	"testing"
)

// A 400x300 picture, left half red and right half blue, with a green
// 10-pixel border: resized to 256 on its shorter side (341x256) and centre
// cropped to 224, the border is gone and the halves meet in the middle.
func TestResizeCenterCrop(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 400, 300))
	for y := 0; y < 300; y++ {
		for x := 0; x < 400; x++ {
			c := color.RGBA{255, 0, 0, 255}
			if x >= 200 {
				c = color.RGBA{0, 0, 255, 255}
			}
			if x < 10 || x >= 390 || y < 10 || y >= 290 {
				c = color.RGBA{0, 255, 0, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	x := ResizeCenterCrop(img, 3, 256, 224)
	if x.Shape[2] != 224 || x.Shape[3] != 224 {
		t.Fatalf("shape %v", x.Shape)
	}
	at := func(ch, y, xx int) float32 { return x.Data[(ch*224+y)*224+xx] }
	if at(0, 112, 10) != 1 || at(2, 112, 10) != 0 || at(1, 0, 0) != 0 {
		t.Errorf("left edge: r %g b %g g %g, want red without border", at(0, 112, 10), at(2, 112, 10), at(1, 0, 0))
	}
	if at(2, 112, 213) != 1 || at(0, 112, 213) != 0 {
		t.Errorf("right edge: want blue")
	}
	// The boundary x=200 of 400 maps to 170.5 of 341; the crop starts at
	// round(58.5) = 58 (Python rounds halves to even), so the boundary sits
	// at 112.5 in the crop.
	if at(0, 100, 111) != 1 || at(2, 100, 113) != 1 {
		t.Errorf("boundary: column 111 red %g, column 113 blue %g", at(0, 100, 111), at(2, 100, 113))
	}
	if at(0, 100, 108) != 1 || at(2, 100, 114) != 1 {
		t.Errorf("middle: red until %g, blue from %g", at(0, 100, 108), at(2, 100, 114))
	}
}
