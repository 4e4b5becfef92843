package viz

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// svgParts is what a chart test reads back from the SVG: each path's d
// attribute, every text, and every element name.
type svgParts struct {
	paths, texts, elements []string
	attrs                  []xml.Attr
}

func parseSVG(t *testing.T, b []byte) svgParts {
	t.Helper()
	var p svgParts
	d := xml.NewDecoder(bytes.NewReader(b))
	inText := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not XML: %v\n%s", err, b)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			p.elements = append(p.elements, e.Name.Local)
			p.attrs = append(p.attrs, e.Attr...)
			inText = e.Name.Local == "text"
			for _, a := range e.Attr {
				if e.Name.Local == "path" && a.Name.Local == "d" {
					p.paths = append(p.paths, a.Value)
				}
			}
		case xml.CharData:
			if inText {
				p.texts = append(p.texts, string(e))
			}
		case xml.EndElement:
			inText = false
		}
	}
	return p
}

// points counts the M and L commands of a path, and its M ones.
func points(d string) (all, moves int) {
	for _, f := range strings.Fields(d) {
		switch f[0] {
		case 'M':
			all++
			moves++
		case 'L':
			all++
		}
	}
	return all, moves
}

func TestLineChartSeriesLegendAndGaps(t *testing.T) {
	c := Chart{
		Title: "Translation <vertical> & co", XLabel: "shift", YLabel: "distance",
		X: []float64{-0.3, -0.15, 0, 0.15, 0.3},
		Series: []Series{
			{"boot.png", []float64{3, 1.5, 0, 1.5, 3}},
			{"coat.png", []float64{2, math.NaN(), 0, math.Inf(1), 2.5}},
		},
	}
	b, err := LineChart(c)
	if err != nil {
		t.Fatal(err)
	}
	p := parseSVG(t, b)
	if p.elements[0] != "svg" || len(p.paths) != 2 {
		t.Fatalf("elements %v, %d paths, want an svg with 2", p.elements, len(p.paths))
	}
	// boot: 5 points, one run; coat: 3 points in three runs (gaps at 1 and 3).
	for i, want := range [][2]int{{5, 1}, {3, 3}} {
		if all, moves := points(p.paths[i]); all != want[0] || moves != want[1] {
			t.Errorf("path %d %q: %d points in %d runs, want %d in %d", i, p.paths[i], all, moves, want[0], want[1])
		}
	}
	for _, want := range []string{"boot.png", "coat.png", "Translation <vertical> & co", "shift", "distance", "-0.2", "0.2", "0"} {
		if !slices.Contains(p.texts, want) {
			t.Errorf("no text %q in %q", want, p.texts)
		}
	}
	for _, e := range p.elements {
		if e == "script" || e == "image" || e == "style" || e == "foreignObject" {
			t.Errorf("element <%s> in a self-contained chart", e)
		}
	}
	for _, a := range p.attrs {
		if a.Name.Local == "href" || strings.Contains(a.Value, "url(") {
			t.Errorf("external reference %s=%q", a.Name.Local, a.Value)
		}
	}
}

// coordinates lists the numbers of a path's d attribute, x and y in turn.
func coordinates(t *testing.T, d string) []float64 {
	t.Helper()
	var out []float64
	for _, f := range strings.Fields(strings.NewReplacer("M", " ", "L", " ").Replace(d)) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("coordinate %q in %q", f, d)
		}
		out = append(out, v)
	}
	return out
}

func TestLineChartFlatSeries(t *testing.T) {
	for _, v := range []float64{0, 0.5, -7} {
		b, err := LineChart(Chart{Title: "flat", X: []float64{1, 2, 3}, Series: []Series{{"s", []float64{v, v, v}}}})
		if err != nil {
			t.Fatal(err)
		}
		p := parseSVG(t, b)
		xy := coordinates(t, p.paths[0])
		if len(xy) != 6 || xy[1] != xy[3] || xy[3] != xy[5] || xy[0] >= xy[2] {
			t.Errorf("flat %v: path %q", v, p.paths[0])
		}
	}
	// One point, and a series with no point at all.
	for _, c := range []Chart{
		{X: []float64{5}, Series: []Series{{"one", []float64{2}}}},
		{X: []float64{1, 2}, Series: []Series{{"none", []float64{math.NaN(), math.NaN()}}}},
	} {
		b, err := LineChart(c)
		if err != nil {
			t.Fatal(err)
		}
		if s := string(b); strings.Contains(s, "NaN") || strings.Contains(s, "Inf") {
			t.Errorf("%v: %s", c.Series[0].Name, s)
		}
		parseSVG(t, b)
	}
}

func TestLineChartRefuses(t *testing.T) {
	cases := []struct {
		c    Chart
		want string
	}{
		{Chart{Series: []Series{{"a", nil}}}, "no x values"},
		{Chart{X: []float64{1}}, "no series"},
		{Chart{X: []float64{1, 2}, Series: []Series{{"ok", []float64{1, 2}}, {"short", []float64{1}}}}, `"short" has 1 values for 2`},
		{Chart{X: []float64{1, math.NaN()}, Series: []Series{{"a", []float64{1, 2}}}}, "x value 1 is NaN"},
	}
	for _, c := range cases {
		if _, err := LineChart(c.c); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want an error with %q, got %v", c.want, err)
		}
	}
}

func TestChartTicksAreRound(t *testing.T) {
	cases := []struct {
		lo, hi float64
		want   []string
	}{
		{0, 360, []string{"0", "100", "200", "300"}},
		{-0.3, 0.3, []string{"-0.2", "0.0", "0.2"}}, // not "-0.0"
		{0.5, 1.5, []string{"0.6", "0.8", "1.0", "1.2", "1.4"}},
		{0, 1, []string{"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"}},
		{12, 47, []string{"20", "30", "40"}},
	}
	for _, c := range cases {
		step := tickStep(c.lo, c.hi)
		var got []string
		for _, v := range chartTicks(c.lo, c.hi, step) {
			got = append(got, tickLabel(v, step))
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%v..%v: ticks %v, want %v", c.lo, c.hi, got, c.want)
		}
	}
}
