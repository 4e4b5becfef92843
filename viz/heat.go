package viz

import (
	"fmt"
	"image"
	"image/color"

	"github.com/convscope/convscope/nn"
)

// Heat renders a heat map (1,1,h,w) over an input (1,C,H,W) at width ×
// height pixels (or alone when under is nil): the map is stretched with
// bilinear interpolation (pixel centres aligned, as cv2.resize and
// pytorch-grad-cam do), scaled from its minimum lo → 0 to its maximum hi →
// 255 through Viridis, and blended half and half with the input's grey
// levels (the channels' mean, stretched from its own minimum to maximum).
func Heat(m, under *nn.Tensor, width, height int) (img *image.RGBA, lo, hi float32, err error) {
	if len(m.Shape) != 4 || m.Shape[0] != 1 || m.Shape[1] != 1 {
		return nil, 0, 0, fmt.Errorf("viz: heat map wants (1,1,h,w), got %s", nn.ShapeString(m.Shape))
	}
	if width < 1 || height < 1 {
		return nil, 0, 0, fmt.Errorf("viz: heat map of %dx%d pixels", width, height)
	}
	h, w := m.Shape[2], m.Shape[3]
	lo, hi = m.Data[0], m.Data[0]
	for _, v := range m.Data {
		lo, hi = min(lo, v), max(hi, v)
	}
	if under != nil && (len(under.Shape) != 4 || under.Shape[0] != 1) {
		return nil, 0, 0, fmt.Errorf("viz: heat map over %s, want (1,C,H,W)", nn.ShapeString(under.Shape))
	}
	up := Resize(m.Data, h, w, height, width)
	grey := greyLevels(under, width, height)
	img = image.NewRGBA(image.Rect(0, 0, width, height))
	for y := range height {
		for x := range width {
			level := 0.0
			if hi > lo {
				level = float64((up[y*width+x] - lo) / (hi - lo))
			}
			c := Viridis[min(255, max(0, int(level*255+0.5)))]
			if grey != nil {
				g := grey[y*width+x]
				c = color.RGBA{blend(c.R, g), blend(c.G, g), blend(c.B, g), 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img, lo, hi, nil
}

func blend(a, b uint8) uint8 { return uint8((int(a) + int(b)) / 2) }

// greyLevels samples the channels' mean of t (1,C,H,W) at width × height
// (nearest), stretched to 0..255; nil for a nil t.
func greyLevels(t *nn.Tensor, width, height int) []uint8 {
	if t == nil {
		return nil
	}
	c, h, w := t.Shape[1], t.Shape[2], t.Shape[3]
	mean := make([]float32, h*w)
	for k := range c {
		for i, v := range t.Data[k*h*w : (k+1)*h*w] {
			mean[i] += v / float32(c)
		}
	}
	lo, hi := mean[0], mean[0]
	for _, v := range mean {
		lo, hi = min(lo, v), max(hi, v)
	}
	out := make([]uint8, width*height)
	for y := range height {
		for x := range width {
			v := mean[(y*h/height)*w+x*w/width]
			if hi > lo {
				out[y*width+x] = uint8(255 * (v - lo) / (hi - lo))
			}
		}
	}
	return out
}

// Resize stretches an h×w grid to oh×ow by bilinear interpolation with
// pixel centres aligned (align_corners=False in PyTorch's terms).
func Resize(src []float32, h, w, oh, ow int) []float32 {
	out := make([]float32, oh*ow)
	coord := func(o, n, on int) (i0, i1 int, f float32) {
		s := (float32(o)+0.5)*float32(n)/float32(on) - 0.5
		s = max(s, 0)
		i0 = min(int(s), n-1)
		i1 = min(i0+1, n-1)
		return i0, i1, s - float32(i0)
	}
	for y := range oh {
		y0, y1, fy := coord(y, h, oh)
		for x := range ow {
			x0, x1, fx := coord(x, w, ow)
			top := src[y0*w+x0]*(1-fx) + src[y0*w+x1]*fx
			bot := src[y1*w+x0]*(1-fx) + src[y1*w+x1]*fx
			out[y*ow+x] = top*(1-fy) + bot*fy
		}
	}
	return out
}
