package viz

import (
	"bytes"
	"image"
	"testing"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Vietnamese labels draw with their accents, as wide per letter as ASCII
// ones (the figures' columns fit either language), and ASCII is drawn as
// before, in basicfont.
func TestTextInVietnamese(t *testing.T) {
	vi, en := "kênh 3 · đầu vào", "channel 3 x abc"
	if w, want := TextWidth(vi), 7*len([]rune(vi)); w != want {
		t.Errorf("%q is %d px wide, want %d", vi, w, want)
	}
	if w := TextWidth(en); w != 7*len(en) {
		t.Errorf("%q is %d px wide", en, w)
	}
	inked := func(s string) (*image.RGBA, int) {
		img := Canvas(200, LineHeight)
		Text(img, 0, 0, s, Ink)
		n := 0
		for i := 0; i < len(img.Pix); i += 4 {
			if img.Pix[i] < 128 {
				n++
			}
		}
		return img, n
	}
	// "ê" and "e" (both beside a "đ", so in the same face) differ by the
	// accent: more ink.
	_, plain := inked("đe")
	_, accented := inked("đê")
	if accented <= plain || plain == 0 {
		t.Errorf("ink of đe %d, of đê %d", plain, accented)
	}
	// ASCII stays basicfont's, pixel for pixel.
	img, _ := inked("abc")
	want := Canvas(200, LineHeight)
	d := font.Drawer{Dst: want, Src: image.NewUniform(Ink), Face: basicfont.Face7x13, Dot: fixed.P(0, 11)}
	d.DrawString("abc")
	if !bytes.Equal(img.Pix, want.Pix) {
		t.Error("ASCII text no longer drawn in basicfont")
	}
}
