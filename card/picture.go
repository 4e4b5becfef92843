package card

import (
	"image"

	"github.com/convscope/convscope/data"
)

// The sizes a picture is kept at (Picture): its shorter side at most
// KeepShort, which ImageNet's transform resizes to (256) and every smaller
// model shrinks from, and its longer side at most KeepLong.
const (
	KeepShort = 256
	KeepLong  = 512
)

// Picture is a decoded picture as convscope keeps it before any model sees
// it, for the page's uploads and the CLI's -image alike: transparent
// pixels laid on white paper, area-averaged down until its shorter side is
// at most KeepShort and its longer at most KeepLong (a 600x400 photo is kept
// at 384x256, a 4096x1024 panorama at 512x128).
func Picture(img image.Image) *image.RGBA {
	b := img.Bounds()
	short, long := min(b.Dx(), b.Dy()), max(b.Dx(), b.Dy())
	side := long
	if short > KeepShort {
		side = long * KeepShort / short
	}
	return data.ShrinkImage(data.OverWhite(img), max(1, min(side, KeepLong)))
}
