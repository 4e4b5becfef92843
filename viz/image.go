package viz

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"

	"github.com/convscope/convscope/nn"
)

// Colormap maps a byte to a colour.
type Colormap [256]color.RGBA

// Gray is black (0) to white (255).
var Gray = func() (c Colormap) {
	for i := range c {
		c[i] = color.RGBA{uint8(i), uint8(i), uint8(i), 255}
	}
	return
}()

// Viridis is matplotlib's perceptually uniform map, interpolated from nine
// of its control points.
var Viridis = func() (c Colormap) {
	pts := [][3]float64{{68, 1, 84}, {71, 44, 122}, {59, 81, 139}, {44, 113, 142}, {33, 144, 141}, {39, 173, 129}, {92, 200, 99}, {170, 220, 50}, {253, 231, 37}}
	for i := range c {
		f := float64(i) / 255 * float64(len(pts)-1)
		j := min(int(f), len(pts)-2)
		t := f - float64(j)
		var rgb [3]uint8
		for k := range rgb {
			rgb[k] = uint8(math.Round(pts[j][k]*(1-t) + pts[j+1][k]*t))
		}
		c[i] = color.RGBA{rgb[0], rgb[1], rgb[2], 255}
	}
	return
}()

// Tile renders channel c of m through cmap at scale× nearest-neighbour zoom.
func (m Maps) Tile(c int, cmap *Colormap, scale int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, m.W*scale, m.H*scale))
	ch := m.Channel(c)
	for y := 0; y < m.H*scale; y++ {
		for x := 0; x < m.W*scale; x++ {
			img.SetRGBA(x, y, cmap[ch[(y/scale)*m.W+x/scale]])
		}
	}
	return img
}

// Signed renders an attribution map (1,C,H,W) with C = 1 or 3: zero is mid
// grey and the scale is symmetric, ±max|v| → 0 or 255, per image, so the sign
// of every pixel stays visible. It returns the image and max|v|.
func Signed(t *nn.Tensor) (*image.RGBA, float32, error) {
	if len(t.Shape) != 4 || t.Shape[0] != 1 || (t.Shape[1] != 1 && t.Shape[1] != 3) {
		return nil, 0, fmt.Errorf("viz: signed map wants (1,1|3,H,W), got %s", nn.ShapeString(t.Shape))
	}
	c, h, w := t.Shape[1], t.Shape[2], t.Shape[3]
	var peak float32
	for _, v := range t.Data {
		peak = max(peak, float32(math.Abs(float64(v))))
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	level := func(v float32) uint8 {
		if peak == 0 {
			return 128
		}
		return uint8(math.Round(float64(127.5 + 127.5*v/peak)))
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var rgb [3]uint8
			for k := range rgb {
				rgb[k] = level(t.Data[(min(k, c-1)*h+y)*w+x])
			}
			img.SetRGBA(x, y, color.RGBA{rgb[0], rgb[1], rgb[2], 255})
		}
	}
	return img, peak, nil
}

// Upscale enlarges img by an integer factor with nearest-neighbour sampling.
func Upscale(img image.Image, factor int) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx()*factor, b.Dy()*factor))
	for y := 0; y < b.Dy()*factor; y++ {
		for x := 0; x < b.Dx()*factor; x++ {
			out.Set(x, y, img.At(b.Min.X+x/factor, b.Min.Y+y/factor))
		}
	}
	return out
}

// DrawBox outlines r (in img's pixels) with a one-pixel line of colour c.
func DrawBox(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	if r.Empty() {
		return
	}
	for x := r.Min.X; x < r.Max.X; x++ {
		img.SetRGBA(x, r.Min.Y, c)
		img.SetRGBA(x, r.Max.Y-1, c)
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		img.SetRGBA(r.Min.X, y, c)
		img.SetRGBA(r.Max.X-1, y, c)
	}
}

// PNG encodes img as PNG bytes.
func PNG(img image.Image) ([]byte, error) {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
