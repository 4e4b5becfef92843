package data

import (
	"image"
	"math"

	"github.com/convscope/convscope/nn"
)

// ImageNet's normalisation (torchvision's weights' transforms).
var (
	ImageNetMean = []float32{0.485, 0.456, 0.406}
	ImageNetStd  = []float32{0.229, 0.224, 0.225}
)

// ResizeCenterCrop is torchvision's Resize(resize) + CenterCrop(crop) +
// ToTensor: the shorter side is scaled to resize (area averaging, where
// torchvision's PIL path uses antialiased bilinear; values differ by a few
// levels at edges, never in geometry), then the central crop×crop square is
// kept. It returns a (1,c,crop,crop) tensor of values in [0,1]. The ImageNet
// preprocessing is ResizeCenterCrop(img, 3, 256, 224) then Standardize with
// ImageNetMean and ImageNetStd.
func ResizeCenterCrop(img image.Image, c, resize, crop int) *nn.Tensor {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	t := nn.New(1, c, crop, crop)
	if sw == 0 || sh == 0 {
		return t
	}
	scale := float64(resize) / float64(min(sw, sh))
	dw := max(crop, int(math.Round(float64(sw)*scale)))
	dh := max(crop, int(math.Round(float64(sh)*scale)))
	planes := areaAverage(img, c, dw, dh)
	// torchvision's CenterCrop offsets: Python's round((size - crop) / 2),
	// which rounds halves to even.
	ox, oy := int(math.RoundToEven(float64(dw-crop)/2)), int(math.RoundToEven(float64(dh-crop)/2))
	for ch := range c {
		for y := range crop {
			copy(t.Data[(ch*crop+y)*crop:(ch*crop+y+1)*crop], planes[ch][(oy+y)*dw+ox:])
		}
	}
	return t
}
