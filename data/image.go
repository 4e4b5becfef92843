package data

// Pictures to model inputs: what a network sees of a sample, an upload or a
// drawing. This file is the plain path — exact area averaging, luma by the
// BT.601 weights, no sharpening, no colour management, no augmentation. The
// dataset transforms (RandomCrop, flips) live elsewhere in this package.
//
// Conventions shared by every function here:
//   - Transparency is composited over black (what premultiplied RGBA holds)
//     unless a picture goes through OverWhite first, as uploads do: there a
//     transparent background reads as white paper.
//   - Grey is luma Y = 0.299 R + 0.587 G + 0.114 B, the weights of
//     color.GrayModel and of JPEG's Y plane.
//   - Resizing averages areas exactly: output pixel (x, y) of a w×h result is
//     the mean of the source over the rectangle it covers, with fractional
//     coverage at its edges. Shrinking never aliases; enlarging is
//     nearest-neighbour in effect.

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"sort"

	"github.com/convscope/convscope/nn"
)

// ToTensor turns img into the (1,c,h,w) input of a model: grey (c = 1) or
// RGB (c = 3), resized to h×w by area averaging (letterboxed; see ToPixels),
// scaled to [0,1] and normalised per channel as (v - mean[c]) / std[c], as
// torchvision's ToTensor followed by Normalize. Empty mean and std leave the
// [0,1] values; a single value applies to every channel. It panics when c is
// not 1 or 3 or when mean or std has another length: those are programming
// errors, not user input.
func ToTensor(img image.Image, c, h, w int, mean, std []float32) *nn.Tensor {
	return Standardize(ToPixels(img, c, h, w), mean, std)
}

// ToPixels is ToTensor without the normalisation: a (1,c,h,w) tensor of
// values in [0,1]. When img's aspect ratio differs from w:h, the picture is
// scaled to fit inside h×w, centred, and the margins take the mean colour of
// img's outermost pixels, so shapes are never stretched and the margin looks
// like the background. A picture that already has h×w pixels is copied pixel
// for pixel.
func ToPixels(img image.Image, c, h, w int) *nn.Tensor {
	if c != 1 && c != 3 {
		panic(fmt.Sprintf("data.ToPixels: %d channels, want 1 or 3", c))
	}
	if h <= 0 || w <= 0 {
		panic(fmt.Sprintf("data.ToPixels: output %dx%d", h, w))
	}
	t := nn.New(1, c, h, w)
	b := img.Bounds()
	if b.Empty() {
		return t
	}
	// Fit (sw, sh) inside (w, h) keeping the ratio.
	sw, sh := b.Dx(), b.Dy()
	scale := math.Min(float64(w)/float64(sw), float64(h)/float64(sh))
	dw := min(w, max(1, int(math.Round(float64(sw)*scale))))
	dh := min(h, max(1, int(math.Round(float64(sh)*scale))))
	ox, oy := (w-dw)/2, (h-dh)/2
	if dw != w || dh != h {
		fill := borderMean(img, c)
		for ch := range c {
			plane := t.Data[ch*h*w : (ch+1)*h*w]
			for i := range plane {
				plane[i] = fill[ch]
			}
		}
	}
	planes := areaAverage(img, c, dw, dh)
	for ch := range c {
		for y := range dh {
			copy(t.Data[(ch*h+oy+y)*w+ox:], planes[ch][y*dw:(y+1)*dw])
		}
	}
	return t
}

// Standardize returns (t - mean[c]) / std[c] for a (1,c,h,w) or (c,h,w)
// tensor t, channel by channel, as a new tensor. Empty mean and std return a
// copy; one value applies to every channel. Other lengths panic.
func Standardize(t *nn.Tensor, mean, std []float32) *nn.Tensor {
	out := t.Clone()
	if len(mean) == 0 && len(std) == 0 {
		return out
	}
	s := t.Shape
	c := s[len(s)-3]
	plane := s[len(s)-2] * s[len(s)-1]
	pick := func(v []float32, name string, def float32, ch int) float32 {
		switch len(v) {
		case 0:
			return def
		case 1:
			return v[0]
		case c:
			return v[ch]
		}
		panic(fmt.Sprintf("data.Standardize: %d %s values for %d channels", len(v), name, c))
	}
	for n := 0; n < len(out.Data)/(c*plane); n++ {
		for ch := range c {
			m, sd := pick(mean, "mean", 0, ch), pick(std, "std", 1, ch)
			seg := out.Data[(n*c+ch)*plane : (n*c+ch+1)*plane]
			for i, v := range seg {
				seg[i] = (v - m) / sd
			}
		}
	}
	return out
}

// PixelBytes is the 8-bit picture of a tensor of [0,1] values (ToPixels'
// output): round(255 v), clamped, in the tensor's own order (CHW).
func PixelBytes(t *nn.Tensor) []uint8 {
	out := make([]uint8, len(t.Data))
	for i, v := range t.Data {
		out[i] = uint8(math.Round(float64(255 * min(max(v, 0), 1))))
	}
	return out
}

// ShrinkImage returns an opaque RGBA copy of img, area-averaged so that its
// longer side is at most maxSide, keeping the aspect ratio (each side at
// least 1). A picture that already fits is copied at its size. It reads img
// one row at a time, so a large upload costs only its decoded form plus the
// small result; the common decoded types (Gray, YCbCr, RGBA, NRGBA) are read
// without per-pixel interface calls.
func ShrinkImage(img image.Image, maxSide int) *image.RGBA {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	dw, dh := sw, sh
	if long := max(sw, sh); long > maxSide {
		dw = max(1, int(math.Round(float64(sw)*float64(maxSide)/float64(long))))
		dh = max(1, int(math.Round(float64(sh)*float64(maxSide)/float64(long))))
	}
	out := image.NewRGBA(image.Rect(0, 0, dw, dh))
	if b.Empty() {
		return out
	}
	planes := areaAverage(img, 3, dw, dh)
	for i := range dw * dh {
		out.Pix[4*i+0] = unit8(planes[0][i])
		out.Pix[4*i+1] = unit8(planes[1][i])
		out.Pix[4*i+2] = unit8(planes[2][i])
		out.Pix[4*i+3] = 255
	}
	return out
}

// BrightBorder reports whether the mean luma of img's outermost ring of
// pixels is above one half. Fashion-MNIST and MNIST draw light objects on a
// black background; a photo of a shoe on white paper has a bright border and
// should be inverted (InvertImage) before a model trained on them sees it.
// An empty image has no border and is not bright.
func BrightBorder(img image.Image) bool {
	if img.Bounds().Empty() {
		return false
	}
	return borderMean(img, 1)[0] > 0.5
}

// OverWhite returns img composited over a white background, as a page shows
// a transparent picture: a black shoe drawn on a transparent PNG becomes
// black on white, not black on black. An opaque img is returned as it is;
// otherwise the result is an RGBA picture with img's bounds.
func OverWhite(img image.Image) image.Image {
	if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
		return img
	}
	b := img.Bounds()
	out := image.NewRGBA(b)
	draw.Draw(out, b, image.White, image.Point{}, draw.Src)
	draw.Draw(out, b, img, b.Min, draw.Over)
	return out
}

// InvertImage returns the photographic negative of img as an opaque RGBA
// picture with its origin at (0,0): 255 - v in each channel, after
// compositing over black. It reads every pixel through At, so call it on a
// ShrinkImage result rather than on a camera-sized upload.
func InvertImage(img image.Image) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			out.SetRGBA(x-b.Min.X, y-b.Min.Y, color.RGBA{255 - uint8(r>>8), 255 - uint8(g>>8), 255 - uint8(bl>>8), 255})
		}
	}
	return out
}

// unit8 maps a [0,1] value to a byte, rounding and clamping.
func unit8(v float32) uint8 { return uint8(math.Round(float64(255 * min(max(v, 0), 1)))) }

// borderMean is the mean of img's outermost ring of pixels, per channel
// (c = 1: luma; c = 3: R, G, B), in [0,1].
func borderMean(img image.Image, c int) []float32 {
	b := img.Bounds()
	sum := make([]float64, c)
	n := 0
	add := func(x, y int) {
		v := pixelAt(img, x, y)
		if c == 1 {
			sum[0] += float64(luma(v[0], v[1], v[2]))
		} else {
			for ch := range 3 {
				sum[ch] += float64(v[ch])
			}
		}
		n++
	}
	for x := b.Min.X; x < b.Max.X; x++ {
		add(x, b.Min.Y)
		if b.Dy() > 1 {
			add(x, b.Max.Y-1)
		}
	}
	for y := b.Min.Y + 1; y < b.Max.Y-1; y++ {
		add(b.Min.X, y)
		if b.Dx() > 1 {
			add(b.Max.X-1, y)
		}
	}
	out := make([]float32, c)
	for ch := range out {
		out[ch] = float32(sum[ch] / float64(n))
	}
	return out
}

// pixelAt reads one pixel as premultiplied R, G, B in [0,1].
func pixelAt(img image.Image, x, y int) [3]float32 {
	r, g, b, _ := img.At(x, y).RGBA()
	return [3]float32{float32(r) / 0xffff, float32(g) / 0xffff, float32(b) / 0xffff}
}

func luma(r, g, b float32) float32 { return 0.299*r + 0.587*g + 0.114*b }

// contrib is one source index's share of one output index along an axis.
type contrib struct {
	src, dst int
	w        float32
}

// areaContribs maps an axis of s source pixels onto d output pixels: output
// j covers the source interval [j s/d, (j+1) s/d), and source pixel i adds
// w = overlap(i, j) · d/s to it, so the weights of every output sum to one.
// The result is sorted by source index.
func areaContribs(s, d int) []contrib {
	var out []contrib
	ratio := float64(s) / float64(d)
	for j := range d {
		a, b := float64(j)*ratio, float64(j+1)*ratio
		for i := int(math.Floor(a)); i < s && float64(i) < b; i++ {
			if ov := math.Min(b, float64(i+1)) - math.Max(a, float64(i)); ov > 1e-12 {
				out = append(out, contrib{src: i, dst: j, w: float32(ov / ratio)})
			}
		}
	}
	sort.SliceStable(out, func(p, q int) bool { return out[p].src < out[q].src })
	return out
}

// areaAverage resamples img to dw×dh by exact area averaging and returns c
// planes of dw*dh values in [0,1] (c = 1: luma; c = 3: R, G, B). It streams
// the source row by row: each row is resampled horizontally, then added to
// the output rows it covers.
func areaAverage(img image.Image, c, dw, dh int) [][]float32 {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	cx, cy := areaContribs(sw, dw), areaContribs(sh, dh)
	rgb := [3][]float32{make([]float32, sw), make([]float32, sw), make([]float32, sw)}
	hrow := make([][]float32, c)
	out := make([][]float32, c)
	for ch := range c {
		hrow[ch] = make([]float32, dw)
		out[ch] = make([]float32, dw*dh)
	}
	k := 0
	for sy := range sh {
		readRow(img, b.Min.Y+sy, rgb)
		src := rgb[:]
		if c == 1 {
			for x := range sw {
				rgb[0][x] = luma(rgb[0][x], rgb[1][x], rgb[2][x])
			}
			src = rgb[:1]
		}
		for ch := range c {
			clear(hrow[ch])
			for _, t := range cx {
				hrow[ch][t.dst] += t.w * src[ch][t.src]
			}
		}
		for ; k < len(cy) && cy[k].src == sy; k++ {
			for ch := range c {
				o := out[ch][cy[k].dst*dw : (cy[k].dst+1)*dw]
				for x, v := range hrow[ch] {
					o[x] += cy[k].w * v
				}
			}
		}
	}
	return out
}

// readRow fills rgb with row y of img as premultiplied R, G, B in [0,1],
// with fast paths for the types image/png and image/jpeg decode to.
func readRow(img image.Image, y int, rgb [3][]float32) {
	b := img.Bounds()
	switch m := img.(type) {
	case *image.Gray:
		pix := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := range rgb[0] {
			v := float32(pix[x]) / 255
			rgb[0][x], rgb[1][x], rgb[2][x] = v, v, v
		}
	case *image.RGBA:
		pix := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := range rgb[0] {
			rgb[0][x], rgb[1][x], rgb[2][x] = float32(pix[4*x])/255, float32(pix[4*x+1])/255, float32(pix[4*x+2])/255
		}
	case *image.NRGBA:
		pix := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := range rgb[0] {
			a := float32(pix[4*x+3]) / (255 * 255)
			rgb[0][x], rgb[1][x], rgb[2][x] = float32(pix[4*x])*a, float32(pix[4*x+1])*a, float32(pix[4*x+2])*a
		}
	case *image.YCbCr:
		for x := range rgb[0] {
			yi, ci := m.YOffset(b.Min.X+x, y), m.COffset(b.Min.X+x, y)
			r, g, bl := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
			rgb[0][x], rgb[1][x], rgb[2][x] = float32(r)/255, float32(g)/255, float32(bl)/255
		}
	default:
		for x := range rgb[0] {
			v := pixelAt(img, b.Min.X+x, y)
			rgb[0][x], rgb[1][x], rgb[2][x] = v[0], v[1], v[2]
		}
	}
}
