package experiment

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"github.com/convscope/convscope/viz"
)

// Marks of the filters figure.
var (
	deadColor  = color.RGBA{220, 38, 38, 255}
	faintColor = color.RGBA{234, 179, 8, 255}
)

// maxKernels bounds the input channels a deeper layer's figure shows per
// filter.
const maxKernels = 32

// FiltersFigure draws a convolution's filters as Figure 6 does, on one
// scale shared by the whole layer (zero is mid grey): a first layer over
// colour pictures as colour patches, sixteen to a row (one-channel
// pictures: grey patches), any other as one row of grey kernels per filter
// (its first 32 input channels). A dead filter is outlined in
// red, a faint one in yellow; the caption and a line of figures go above
// (neither when caption is empty).
func FiltersFigure(say Say, caption string, l *LayerFilters) (*image.RGBA, error) {
	w := l.weight
	if w == nil || len(w.Shape) != 4 {
		return nil, fmt.Errorf("figure: no weights for %s", l.Layer)
	}
	out, in, k := w.Shape[0], w.Shape[1], w.Shape[2]
	peak := float32(math.Max(math.Abs(float64(l.Min)), math.Abs(float64(l.Max))))
	level := func(v float32) uint8 {
		if peak == 0 {
			return 128
		}
		return uint8(math.Round(float64(127.5 + 127.5*v/peak)))
	}
	zoom := max(1, (24+k-1)/k)
	side := k*zoom + 4
	colour := in == 3
	cols, kernels := 1, min(in, maxKernels)
	if colour || in == 1 { // one picture per filter, sixteen to a row
		cols, kernels = min(out, 16), 1
	}
	perFilterW := side * kernels
	perRow := max(1, cols)
	rows := (out + perRow - 1) / perRow
	var lines []string
	if caption != "" { // a figure of its own; a page says the same in HTML
		lines = []string{caption, summaryLine(say, l)}
	}
	top := 8 + len(lines)*viz.LineHeight + 4
	width := 8 + perRow*perFilterW + 8
	for _, s := range lines {
		width = max(width, viz.TextWidth(s)+16)
	}
	img := viz.Canvas(width, top+rows*side+8)
	for i, s := range lines {
		viz.Text(img, 8, 6+i*viz.LineHeight, s, viz.Ink)
	}
	per := in * k * k
	for o := range out {
		x0, y0 := 8+(o%perRow)*perFilterW, top+(o/perRow)*side
		f := l.Filters[o]
		if f.Dead || f.Faint {
			c := faintColor
			if f.Dead {
				c = deadColor
			}
			viz.Fill(img, image.Rect(x0, y0, x0+perFilterW-1, y0+side-1), c)
		}
		for j := range kernels {
			at := image.Pt(x0+j*side+2, y0+2)
			for y := range k {
				for x := range k {
					var px color.RGBA
					if colour {
						var rgb [3]uint8
						for ch := range 3 {
							rgb[ch] = level(w.Data[o*per+(ch*k+y)*k+x])
						}
						px = color.RGBA{rgb[0], rgb[1], rgb[2], 255}
					} else {
						v := level(w.Data[o*per+(j*k+y)*k+x])
						px = color.RGBA{v, v, v, 255}
					}
					viz.Fill(img, image.Rect(at.X+x*zoom, at.Y+y*zoom, at.X+(x+1)*zoom, at.Y+(y+1)*zoom), px)
				}
			}
		}
	}
	return img, nil
}

// summaryLine is the figures of a layer's filters in one line.
func summaryLine(say Say, l *LayerFilters) string {
	s := say("figure.filters.summary", l.Layer, l.Shape[0], l.Shape[2], l.Shape[3], l.Shape[1], l.Stride,
		fmt.Sprintf("%.3g", math.Max(math.Abs(float64(l.Min)), math.Abs(float64(l.Max)))), 100*l.HighFrequency, l.Faint)
	if l.Sampled > 0 {
		s += say("figure.filters.dead", l.Dead, l.Sampled)
	}
	return s
}
