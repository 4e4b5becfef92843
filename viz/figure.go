package viz

import (
	_ "embed"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"sync"
	"unicode"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"

	"github.com/convscope/convscope/nn"
)

// Pieces for figures drawn as PNG: text, pictures of pixel tensors, crops.

// Ink and Paper are a figure's text and background colours.
var (
	Ink   = color.RGBA{30, 30, 30, 255}
	Paper = color.RGBA{255, 255, 255, 255}
	// Mid is the grey of an empty cell (and of zero in a signed map).
	Mid = color.RGBA{128, 128, 128, 255}
)

// LineHeight is the height of one line of Text, in pixels.
const LineHeight = 15

// Text writes s on img with its top-left corner at (x, y), in a 7x13
// bitmap font (golang.org/x/image's basicfont), and returns where the text
// ends on the x axis. A label with letters past ASCII (Vietnamese's) is
// drawn whole in Liberation Mono instead, sized to the same 7-pixel
// advance, so figures lay out alike in every language.
func Text(img *image.RGBA, x, y int, s string, c color.Color) int {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: faceFor(s),
		Dot: fixed.P(x, y+11)}
	d.DrawString(s)
	return d.Dot.X.Round()
}

// TextWidth is the width Text gives s, in pixels.
func TextWidth(s string) int { return font.MeasureString(faceFor(s), s).Round() }

// faceFor is the face Text draws s in: basicfont for ASCII, else the
// embedded Liberation Mono (Vietnamese's letters included).
func faceFor(s string) font.Face {
	for _, r := range s {
		if r > unicode.MaxASCII {
			return wideFace()
		}
	}
	return basicfont.Face7x13
}

//go:embed fonts/LiberationMono-Regular.ttf
var liberationMono []byte // fonts/LICENSE: the SIL Open Font License 1.1

// wideFace is Liberation Mono at the size whose advance is basicfont's 7
// pixels. A face is not safe for concurrent use, so each call gets its
// own; the parsed font is shared.
func wideFace() font.Face {
	m := mono()
	f, err := opentype.NewFace(m.font, &opentype.FaceOptions{Size: m.size, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		panic(err) // the embedded font parsed once already
	}
	return f
}

// mono parses the embedded font once and works out the size (in pixels
// per em) at which its letters advance 7 pixels.
var mono = sync.OnceValue(func() struct {
	font *opentype.Font
	size float64
} {
	f, err := opentype.Parse(liberationMono)
	if err != nil {
		panic(fmt.Sprintf("viz: the embedded Liberation Mono: %v", err))
	}
	var buf sfnt.Buffer
	em := fixed.I(int(f.UnitsPerEm()))
	i, err := f.GlyphIndex(&buf, 'M')
	if err != nil {
		panic(err)
	}
	adv, err := f.GlyphAdvance(&buf, i, em, font.HintingNone)
	if err != nil || adv <= 0 {
		panic(fmt.Sprintf("viz: Liberation Mono's advance: %v", err))
	}
	return struct {
		font *opentype.Font
		size float64
	}{f, 7 * float64(em) / float64(adv)}
})

// Canvas is a w×h picture filled with Paper.
func Canvas(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(Paper), image.Point{}, draw.Src)
	return img
}

// Fill paints r of img with c.
func Fill(img *image.RGBA, r image.Rectangle, c color.Color) {
	draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Src)
}

// Paste draws src on dst with its top-left corner at at.
func Paste(dst *image.RGBA, src image.Image, at image.Point) {
	b := src.Bounds()
	draw.Draw(dst, image.Rectangle{at, at.Add(b.Size())}, src, b.Min, draw.Src)
}

// Pixels is a picture of the first sample of a (N,C,H,W) tensor of values
// in [0,1] (C = 1 grey, C = 3 colour); values outside are clipped.
func Pixels(t *nn.Tensor) (*image.RGBA, error) {
	if len(t.Shape) != 4 || (t.Shape[1] != 1 && t.Shape[1] != 3) {
		return nil, fmt.Errorf("viz: pixels want (N,1|3,H,W), got %s", nn.ShapeString(t.Shape))
	}
	c, h, w := t.Shape[1], t.Shape[2], t.Shape[3]
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	level := func(v float32) uint8 { return uint8(math.Round(float64(255 * min(max(v, 0), 1)))) }
	for y := range h {
		for x := range w {
			var rgb [3]uint8
			for k := range rgb {
				rgb[k] = level(t.Data[(min(k, c-1)*h+y)*w+x])
			}
			img.SetRGBA(x, y, color.RGBA{rgb[0], rgb[1], rgb[2], 255})
		}
	}
	return img, nil
}

// Crop is the part r (in H, W pixels) of the first sample of a (N,C,H,W)
// tensor, as a (1,C,r.Dy(),r.Dx()) tensor.
func Crop(t *nn.Tensor, r image.Rectangle) (*nn.Tensor, error) {
	if len(t.Shape) != 4 {
		return nil, fmt.Errorf("viz: crop wants (N,C,H,W), got %s", nn.ShapeString(t.Shape))
	}
	c, h, w := t.Shape[1], t.Shape[2], t.Shape[3]
	if r.Empty() || !r.In(image.Rect(0, 0, w, h)) {
		return nil, fmt.Errorf("viz: crop %v outside a %dx%d map", r, w, h)
	}
	out := nn.New(1, c, r.Dy(), r.Dx())
	at := 0
	for k := range c {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			at += copy(out.Data[at:], t.Data[(k*h+y)*w+r.Min.X:(k*h+y)*w+r.Max.X])
		}
	}
	return out, nil
}

// Grid draws every channel of m as a tile through cmap, scale× enlarged,
// cols tiles to a row with a gap of one pixel of Paper between them.
func (m Maps) Grid(cmap *Colormap, scale, cols int) *image.RGBA {
	cols = max(1, min(cols, m.C))
	rows := (m.C + cols - 1) / cols
	tw, th := m.W*scale+1, m.H*scale+1
	img := Canvas(cols*tw, rows*th)
	for c := range m.C {
		Paste(img, m.Tile(c, cmap, scale), image.Pt((c%cols)*tw, (c/cols)*th))
	}
	return img
}
