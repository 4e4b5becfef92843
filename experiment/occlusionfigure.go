package experiment

// Figure 7 as a PNG: five panels side by side, as in the paper. The maps
// are drawn per input pixel from the square position centred nearest to
// it, nearest-neighbour, with no smoothing: what is shown is what was
// measured.

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"sort"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/viz"
)

// OcclusionPalette colours panel (e)'s classes: Tableau's ten and two
// more, distinguishable side by side. Past twelve classes they repeat
// (see OcclusionFigure).
var OcclusionPalette = []color.RGBA{
	{78, 121, 167, 255}, {242, 142, 43, 255}, {225, 87, 89, 255}, {118, 183, 178, 255},
	{89, 161, 79, 255}, {237, 201, 72, 255}, {176, 122, 161, 255}, {255, 157, 167, 255},
	{156, 117, 95, 255}, {186, 176, 172, 255}, {31, 31, 122, 255}, {0, 0, 0, 255},
}

// occlusionMinPanel is the least width of a panel in pixels: a 28x28
// input is drawn 6 times its size.
const occlusionMinPanel = 168

// The figure's spacing, in pixels.
const (
	occMargin = 8  // around the figure
	occGap    = 14 // between panels
	occBar    = 8  // a colour bar's height
	occSwatch = 10 // a legend swatch's side
)

// hintColour outlines the square's size on the input.
var hintColour = color.RGBA{220, 38, 38, 255}

// OcclusionFigure draws r as Zeiler & Fergus' Figure 7, five panels side
// by side under caption (no caption lines when it is empty):
//
//	(a) the input pixels (1,C,H,W) in [0,1], with the square's size outlined
//	    in red in the top-left corner;
//	(b) the feature map's total activation per square position, Viridis
//	    from the smallest to the largest value (the plain one included),
//	    with a colour bar;
//	(c) the deconvnet projection of the unit (viz.Signed: grey is 0);
//	(d) the probability of the label per position on a fixed 0..1 Viridis
//	    scale, so that figures compare;
//	(e) the most probable class per position, with a legend of the classes
//	    that occur, most positions first (at most twelve lines).
//
// In (b), (d) and (e) each input pixel shows the square position whose
// centre is nearest to it. Panels are upscaled by an integer factor to at
// least 168 pixels wide. Panel (e)'s colours: class k takes
// OcclusionPalette[k] when the model has at most 12 classes (len(classes),
// or the largest class seen plus one when classes is nil), the same in
// every figure; otherwise the classes that occur take the palette in order
// of how many positions they hold, and from the thirteenth on the colours
// repeat. classes names the classes; "class k" past its end.
func OcclusionFigure(say Say, caption string, pixels *nn.Tensor, r *OcclusionResult, classes []string) (*image.RGBA, error) {
	if err := checkOcclusionFigure(pixels, r); err != nil {
		return nil, err
	}
	h, w := pixels.Shape[2], pixels.Shape[3]
	zoom := max(1, (occlusionMinPanel+w-1)/w)
	pw, ph := w*zoom, h*zoom
	colW := max(pw, occlusionMinPanel)
	name := func(k int) string {
		if k >= 0 && k < len(classes) {
			return classes[k]
		}
		return say("figure.class", k)
	}

	var lines []string
	if caption != "" {
		lines = []string{caption, say("figure.occlusion.about")}
	}
	top := occMargin
	for range lines {
		top += viz.LineHeight
	}
	if len(lines) > 0 {
		top += 6
	}
	panelY := top + viz.LineHeight + 4
	belowY := panelY + ph + 6

	cols := make([]occlusionColumn, 5)
	var err error
	if cols[0], err = occlusionInput(say, pixels, r, zoom); err != nil {
		return nil, err
	}
	cols[1] = occlusionActivation(say, r, h, w, zoom)
	if cols[2], err = occlusionProjection(say, r, zoom); err != nil {
		return nil, err
	}
	cols[3] = occlusionProbability(say, r, h, w, zoom, name(r.Label))
	cols[4] = occlusionClasses(say, r, h, w, zoom, len(classes), name)

	below := 0
	for _, c := range cols {
		below = max(below, c.height())
	}
	width := 2*occMargin + 5*colW + 4*occGap
	for _, l := range lines {
		width = max(width, viz.TextWidth(l)+2*occMargin)
	}
	img := viz.Canvas(width, belowY+below+occMargin)
	for i, l := range lines {
		viz.Text(img, occMargin, occMargin+i*viz.LineHeight, l, viz.Ink)
	}
	for i, c := range cols {
		x0 := occMargin + i*(colW+occGap)
		viz.Text(img, x0, top, fitText(c.title, colW), viz.Ink)
		viz.Paste(img, c.panel, image.Pt(x0, panelY))
		c.drawBelow(img, x0, belowY, colW)
	}
	return img, nil
}

// checkOcclusionFigure refuses a result and pixels that do not fit each
// other.
func checkOcclusionFigure(pixels *nn.Tensor, r *OcclusionResult) error {
	if r == nil {
		return fmt.Errorf("figure: no occlusion result")
	}
	if pixels == nil || len(pixels.Shape) != 4 || pixels.Shape[0] != 1 || (pixels.Shape[1] != 1 && pixels.Shape[1] != 3) {
		shape := "nil"
		if pixels != nil {
			shape = nn.ShapeString(pixels.Shape)
		}
		return fmt.Errorf("figure: pixels are %s, want (1,1|3,H,W)", shape)
	}
	h, w := pixels.Shape[2], pixels.Shape[3]
	n := r.Rows * r.Cols
	switch {
	case r.Window < 1 || r.Stride < 1 || r.Window > min(h, w):
		return fmt.Errorf("figure: window %d, stride %d for a %dx%d input", r.Window, r.Stride, h, w)
	case r.Rows < 1 || r.Cols < 1 || (r.Rows-1)*r.Stride+r.Window > h || (r.Cols-1)*r.Stride+r.Window > w:
		return fmt.Errorf("figure: a %dx%d grid of squares %d wide, stride %d, does not fit a %dx%d input", r.Rows, r.Cols, r.Window, r.Stride, h, w)
	case len(r.Activation) != n || len(r.Probability) != n || len(r.Predicted) != n:
		return fmt.Errorf("figure: %d activations, %d probabilities, %d classes for a %dx%d grid", len(r.Activation), len(r.Probability), len(r.Predicted), r.Rows, r.Cols)
	case r.Projection == nil || len(r.Projection.Shape) != 4 || r.Projection.Shape[2] != h || r.Projection.Shape[3] != w:
		shape := "nil"
		if r.Projection != nil {
			shape = nn.ShapeString(r.Projection.Shape)
		}
		return fmt.Errorf("figure: projection %s for a %dx%d input", shape, h, w)
	}
	return nil
}

// occlusionColumn is one panel with its title and what goes under it:
// text lines, a colour bar with its ends' labels, legend entries.
type occlusionColumn struct {
	title  string
	panel  *image.RGBA
	bar    []string // a colour bar's low and high labels; nil for none
	lines  []string
	legend []legendEntry
	more   string // a last legend line
}

// legendEntry is one line of a legend: a swatch and a label.
type legendEntry struct {
	colour color.RGBA
	label  string
}

// height is the room the column needs under its panel.
func (c occlusionColumn) height() int {
	n := len(c.lines) + len(c.legend)
	if c.more != "" {
		n++
	}
	hgt := n * viz.LineHeight
	if c.bar != nil {
		hgt += occBar + 2 + viz.LineHeight
	}
	return hgt
}

// drawBelow draws the bar, the lines and the legend from (x0, y), width colW.
func (c occlusionColumn) drawBelow(img *image.RGBA, x0, y, colW int) {
	bw := c.panel.Bounds().Dx()
	if c.bar != nil {
		for x := range bw {
			viz.Fill(img, image.Rect(x0+x, y, x0+x+1, y+occBar), viz.Viridis[x*255/max(1, bw-1)])
		}
		y += occBar + 2
		viz.Text(img, x0, y, c.bar[0], viz.Ink)
		viz.Text(img, x0+bw-viz.TextWidth(c.bar[1]), y, c.bar[1], viz.Ink)
		y += viz.LineHeight
	}
	for _, l := range c.lines {
		viz.Text(img, x0, y, fitText(l, colW), viz.Ink)
		y += viz.LineHeight
	}
	for _, e := range c.legend {
		sy := y + (viz.LineHeight-occSwatch)/2
		viz.Fill(img, image.Rect(x0, sy, x0+occSwatch, sy+occSwatch), e.colour)
		viz.Text(img, x0+occSwatch+5, y, fitText(e.label, colW-occSwatch-5), viz.Ink)
		y += viz.LineHeight
	}
	if c.more != "" {
		viz.Text(img, x0, y, fitText(c.more, colW), viz.Ink)
	}
}

// fitText cuts s to width pixels, ending it with ".." when cut.
func fitText(s string, width int) string {
	if viz.TextWidth(s) <= width {
		return s
	}
	rs := []rune(s)
	for len(rs) > 0 && viz.TextWidth(string(rs)+"..") > width {
		rs = rs[:len(rs)-1]
	}
	return string(rs) + ".."
}

// occlusionInput is panel (a): the pixels, the square's size outlined.
func occlusionInput(say Say, pixels *nn.Tensor, r *OcclusionResult, zoom int) (occlusionColumn, error) {
	pic, err := viz.Pixels(pixels)
	if err != nil {
		return occlusionColumn{}, err
	}
	panel := viz.Upscale(pic, zoom)
	side := r.Window * zoom
	for k := range 2 { // two pixels thick, inside the square
		viz.DrawBox(panel, image.Rect(k, k, side-k, side-k), hintColour)
	}
	return occlusionColumn{title: say("figure.occlusion.input"), panel: panel, lines: []string{
		say("figure.occlusion.square", r.Window, r.Window),
		say("figure.occlusion.stride", r.Stride, r.Rows, r.Cols),
	}}, nil
}

// occlusionActivation is panel (b), scaled from the smallest to the
// largest of the map and the plain value.
func occlusionActivation(say Say, r *OcclusionResult, h, w, zoom int) occlusionColumn {
	lo, hi := r.Plain.Activation, r.Plain.Activation
	for _, v := range r.Activation {
		lo, hi = min(lo, v), max(hi, v)
	}
	panel := occlusionGridImage(r, h, w, zoom, func(i int) color.RGBA { return viridisAt(r.Activation[i], lo, hi) })
	return occlusionColumn{title: say("figure.occlusion.total"), panel: panel,
		bar: []string{fmt.Sprintf("%.3g", lo), fmt.Sprintf("%.3g", hi)},
		lines: []string{say("figure.occlusion.layer_channel", r.Layer, r.Channel),
			say("figure.occlusion.unoccluded", fmt.Sprintf("%.3g", r.Plain.Activation))}}
}

// occlusionProjection is panel (c).
func occlusionProjection(say Say, r *OcclusionResult, zoom int) (occlusionColumn, error) {
	pic, peak, err := viz.Signed(r.Projection)
	if err != nil {
		return occlusionColumn{}, err
	}
	return occlusionColumn{title: say("figure.occlusion.projection"), panel: viz.Upscale(pic, zoom), lines: []string{
		say("figure.occlusion.at", r.Channel, r.Unit.Y, r.Unit.X),
		say("figure.occlusion.grey", fmt.Sprintf("%.3g", peak)),
	}}, nil
}

// occlusionProbability is panel (d), on a fixed 0..1 scale.
func occlusionProbability(say Say, r *OcclusionResult, h, w, zoom int, label string) occlusionColumn {
	low := r.Plain.Probability
	for _, p := range r.Probability {
		low = min(low, p)
	}
	panel := occlusionGridImage(r, h, w, zoom, func(i int) color.RGBA { return viridisAt(r.Probability[i], 0, 1) })
	return occlusionColumn{title: say("figure.occlusion.true"), panel: panel, bar: []string{"0", "1"},
		lines: []string{say("figure.occlusion.label", r.Label, label),
			say("figure.occlusion.unoccluded", fmt.Sprintf("%.3f", r.Plain.Probability)), say("figure.occlusion.lowest", fmt.Sprintf("%.3f", low))}}
}

// occlusionClasses is panel (e) with its legend.
func occlusionClasses(say Say, r *OcclusionResult, h, w, zoom, nClasses int, name func(int) string) occlusionColumn {
	count := map[int]int{}
	for _, k := range r.Predicted {
		count[k]++
		if nClasses == 0 || k >= nClasses {
			nClasses = max(nClasses, k+1)
		}
	}
	seen := make([]int, 0, len(count))
	for k := range count {
		seen = append(seen, k)
	}
	sort.Slice(seen, func(a, b int) bool {
		if count[seen[a]] != count[seen[b]] {
			return count[seen[a]] > count[seen[b]]
		}
		return seen[a] < seen[b]
	})
	colour := map[int]color.RGBA{}
	for rank, k := range seen {
		if nClasses <= len(OcclusionPalette) {
			colour[k] = OcclusionPalette[k]
		} else {
			colour[k] = OcclusionPalette[rank%len(OcclusionPalette)]
		}
	}
	panel := occlusionGridImage(r, h, w, zoom, func(i int) color.RGBA { return colour[r.Predicted[i]] })
	c := occlusionColumn{title: say("figure.occlusion.probable"), panel: panel,
		lines: []string{say("figure.occlusion.plain_class", name(r.Plain.Predicted))}}
	n := len(r.Predicted)
	for i, k := range seen {
		if i == len(OcclusionPalette) {
			c.more = say("figure.occlusion.more", len(seen)-i)
			break
		}
		c.legend = append(c.legend, legendEntry{colour[k], fmt.Sprintf("%3d%% %s", (200*count[k]+n)/(2*n), name(k))})
	}
	return c
}

// viridisAt is v's colour on Viridis from lo to hi (the bottom colour
// when hi ≤ lo).
func viridisAt(v, lo, hi float32) color.RGBA {
	if !(hi > lo) {
		return viz.Viridis[0]
	}
	f := float64((v - lo) / (hi - lo))
	return viz.Viridis[int(math.Round(255*min(max(f, 0), 1)))]
}

// occlusionGridImage paints an h×w picture, each pixel in the colour of
// the square position whose centre is nearest to it, and enlarges it zoom
// times.
func occlusionGridImage(r *OcclusionResult, h, w, zoom int, colour func(i int) color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		i := nearestSquare(y, r.Rows, r.Window, r.Stride)
		for x := range w {
			j := nearestSquare(x, r.Cols, r.Window, r.Stride)
			img.SetRGBA(x, y, colour(i*r.Cols+j))
		}
	}
	return viz.Upscale(img, zoom)
}

// nearestSquare is the index, of n, of the square whose centre (k·stride +
// window/2) is nearest to pixel p's centre (p + 1/2); a tie goes to the
// later square.
func nearestSquare(p, n, window, stride int) int {
	k := math.Floor((float64(p)+0.5-float64(window)/2)/float64(stride) + 0.5)
	return int(min(max(k, 0), float64(n-1)))
}
