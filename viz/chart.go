package viz

// Line charts as SVG, for the experiments' curves (Zeiler & Fergus'
// Figure 5): a few series over one x axis, round-number ticks, a legend.
// Self-contained text, no script, no fonts or styles from elsewhere; not a
// plotting library (one chart type, one size).

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
)

// Chart is a line chart of Series over the shared X values.
type Chart struct {
	Title, XLabel, YLabel string
	X                     []float64
	Series                []Series
}

// Series is one named line; Y[i] is its value at Chart.X[i], and a NaN or
// infinite value is a gap in the line.
type Series struct {
	Name string
	Y    []float64
}

// SeriesColours are the series' colours in order: Okabe and Ito's set,
// which readers with the common colour-vision deficiencies can tell apart
// (the yellow, weak on white, comes last). Past its end the colours
// repeat, dashed.
var SeriesColours = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442"}

// The chart's geometry in SVG user units.
const (
	chartPlotW  = 520 // chartPlot area
	chartPlotH  = 320
	chartLeft   = 72 // room for the y ticks and label
	chartTop    = 44 // room for the title
	chartBottom = 56 // room for the x ticks and label
	chartGap    = 16 // between the chartPlot and the legend
	charWidth   = 7  // a rough width of one legend character
)

// LineChart draws c as a self-contained SVG document. It is an error for
// c to have no X values, no series, a series whose length is not len(X),
// or a NaN or infinite X. A series that is flat, or a single point, gets a
// y range around its value.
func LineChart(c Chart) ([]byte, error) {
	if err := checkChart(c); err != nil {
		return nil, err
	}
	xlo, xhi := chartExtent(c.X)
	if xlo == xhi {
		xlo, xhi = xlo-1, xhi+1
	}
	ylo, yhi := seriesExtent(c.Series)
	ystep := tickStep(ylo, yhi)
	ylo, yhi = math.Floor(ylo/ystep)*ystep, math.Ceil(yhi/ystep)*ystep
	p := chartPlot{xlo: xlo, xhi: xhi, ylo: ylo, yhi: yhi}
	var b bytes.Buffer
	width := chartLeft + chartPlotW + chartGap + legendWidth(c.Series)
	height := chartTop + chartPlotH + chartBottom
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	svgText(&b, float64(chartLeft+chartPlotW/2), 24, "middle", `font-size="15"`, c.Title)
	p.axes(&b, c.XLabel, c.YLabel, tickStep(xlo, xhi), ystep)
	for i, s := range c.Series {
		p.line(&b, s.Y, c.X, i)
	}
	chartLegend(&b, c.Series)
	b.WriteString("</svg>\n")
	return b.Bytes(), nil
}

// checkChart names what makes c undrawable.
func checkChart(c Chart) error {
	if len(c.X) == 0 {
		return fmt.Errorf("viz: chart %q has no x values", c.Title)
	}
	if len(c.Series) == 0 {
		return fmt.Errorf("viz: chart %q has no series", c.Title)
	}
	for i, x := range c.X {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("viz: chart %q: x value %d is %v", c.Title, i, x)
		}
	}
	for _, s := range c.Series {
		if len(s.Y) != len(c.X) {
			return fmt.Errorf("viz: chart %q: series %q has %d values for %d x values", c.Title, s.Name, len(s.Y), len(c.X))
		}
	}
	return nil
}

// chartFinite reports whether v is a point to draw.
func chartFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// chartExtent is the smallest and largest finite value of vs (+Inf and
// -Inf for none).
func chartExtent(vs []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		if chartFinite(v) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	return lo, hi
}

// seriesExtent is the y range of all series, widened around a flat one
// (by half its value, or 1 around 0) and 0..1 when there is no point.
func seriesExtent(ss []Series) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		l, h := chartExtent(s.Y)
		lo, hi = min(lo, l), max(hi, h)
	}
	switch {
	case lo > hi:
		return 0, 1
	case lo == hi:
		pad := math.Abs(lo) / 2
		if pad == 0 {
			pad = 1
		}
		return lo - pad, hi + pad
	}
	return lo, hi
}

// tickStep is a round step (1, 2 or 5 times a power of ten) that cuts
// lo..hi (lo < hi) into about five parts.
func tickStep(lo, hi float64) float64 {
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	switch f := raw / mag; {
	case f <= 1:
		return mag
	case f <= 2:
		return 2 * mag
	case f <= 5:
		return 5 * mag
	}
	return 10 * mag
}

// chartTicks are the multiples of step in lo..hi, each computed from its
// index so that no error accumulates.
func chartTicks(lo, hi, step float64) []float64 {
	var out []float64
	for i := math.Ceil(lo/step - 1e-9); i*step <= hi+step*1e-9; i++ {
		out = append(out, i*step)
	}
	return out
}

// tickLabel prints v with as many decimals as step needs, and 0 not as -0.
func tickLabel(v, step float64) string {
	decimals := max(0, int(-math.Floor(math.Log10(step)+1e-9)))
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if z, err := strconv.ParseFloat(s, 64); err == nil && z == 0 {
		s = strconv.FormatFloat(0, 'f', decimals, 64)
	}
	return s
}

// chartPlot maps data coordinates to the plot area.
type chartPlot struct{ xlo, xhi, ylo, yhi float64 }

func (p chartPlot) px(x float64) float64 {
	return chartLeft + (x-p.xlo)/(p.xhi-p.xlo)*chartPlotW
}

func (p chartPlot) py(y float64) float64 {
	return chartTop + (p.yhi-y)/(p.yhi-p.ylo)*chartPlotH
}

// axes draws the frame, the grid and tick labels, and the axis labels.
func (p chartPlot) axes(b *bytes.Buffer, xlabel, ylabel string, xstep, ystep float64) {
	for _, x := range chartTicks(p.xlo, p.xhi, xstep) {
		fmt.Fprintf(b, `<line x1="%s" y1="%d" x2="%s" y2="%d" stroke="#e0e0e0"/>`+"\n", svgNum(p.px(x)), chartTop, svgNum(p.px(x)), chartTop+chartPlotH)
		svgText(b, p.px(x), chartTop+chartPlotH+16, "middle", "", tickLabel(x, xstep))
	}
	for _, y := range chartTicks(p.ylo, p.yhi, ystep) {
		fmt.Fprintf(b, `<line x1="%d" y1="%s" x2="%d" y2="%s" stroke="#e0e0e0"/>`+"\n", chartLeft, svgNum(p.py(y)), chartLeft+chartPlotW, svgNum(p.py(y)))
		svgText(b, chartLeft-6, p.py(y)+4, "end", "", tickLabel(y, ystep))
	}
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#333333"/>`+"\n", chartLeft, chartTop, chartPlotW, chartPlotH)
	svgText(b, chartLeft+chartPlotW/2, chartTop+chartPlotH+40, "middle", "", xlabel)
	cy := float64(chartTop + chartPlotH/2)
	svgText(b, 18, cy, "middle", fmt.Sprintf(`transform="rotate(-90 18 %s)"`, svgNum(cy)), ylabel)
}

// line draws series i as one path: M at the first point after a gap, L
// after that.
func (p chartPlot) line(b *bytes.Buffer, ys, xs []float64, i int) {
	var d bytes.Buffer
	move := true
	for k, y := range ys {
		if !chartFinite(y) {
			move = true
			continue
		}
		cmd := "L"
		if move {
			cmd = "M"
		}
		fmt.Fprintf(&d, "%s%s %s ", cmd, svgNum(p.px(xs[k])), svgNum(p.py(y)))
		move = false
	}
	fmt.Fprintf(b, `<path d="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", bytes.TrimSpace(d.Bytes()), seriesColour(i), seriesDash(i))
}

// chartLegend lists the series right of the plot, a short line in each colour.
func chartLegend(b *bytes.Buffer, ss []Series) {
	x := chartLeft + chartPlotW + chartGap
	for i, s := range ss {
		y := chartTop + 10 + 20*i
		fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`+"\n", x, y, x+24, y, seriesColour(i), seriesDash(i))
		svgText(b, float64(x+30), float64(y+4), "start", "", s.Name)
	}
}

// legendWidth is room for the longest series name.
func legendWidth(ss []Series) int {
	longest := 0
	for _, s := range ss {
		longest = max(longest, len([]rune(s.Name)))
	}
	return 30 + charWidth*longest + 10
}

// seriesColour is series i's colour; seriesDash is its dash pattern,
// none in the palette's first round.
func seriesColour(i int) string { return SeriesColours[i%len(SeriesColours)] }

func seriesDash(i int) string {
	if i < len(SeriesColours) {
		return ""
	}
	return ` stroke-dasharray="6 3"`
}

// svgText writes s, escaped, at (x, y) with the given anchor and attributes.
func svgText(b *bytes.Buffer, x, y float64, anchor, attrs, s string) {
	if s == "" {
		return
	}
	fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="%s"`, svgNum(x), svgNum(y), anchor)
	if attrs != "" {
		b.WriteString(" " + attrs)
	}
	b.WriteString(">")
	xml.EscapeText(b, []byte(s))
	b.WriteString("</text>\n")
}

// svgNum prints a coordinate with two decimals at most.
func svgNum(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }
