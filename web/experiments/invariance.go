package experiments

// Figure 5: invariance to translation, scale and rotation.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/convscope/convscope/experiment"
	"github.com/convscope/convscope/viz"
	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/i18n"
	"github.com/convscope/convscope/web/samples"
	"github.com/convscope/convscope/zoo"
)

// maxInvariancePictures is the paper's five.
const maxInvariancePictures = 5

// invarianceSteps is the number of transforms of a sweep.
const invarianceSteps = 13

// InvarianceView is Figure 5's page.
type InvarianceView struct {
	Models  []catalog.Entry
	Model   string
	Kind    string
	Samples []samples.Sample
	// Chosen are the pictures measured (file names in the gallery).
	Chosen []string
	Layers []zoo.LayerInfo
	// Measured are the two layers whose distances are drawn.
	Measured []string
	// Charts are the SVG charts: each layer's distance, then the
	// probability of the true class.
	Charts  [][]byte
	Problem string
	// Command draws the same charts from the command line.
	Command string
}

// invarianceChart is one of the page's charts as an SVG file.
func (h *Handler) invarianceChart(w http.ResponseWriter, r *http.Request) {
	v := h.invariance(r.Context(), r)
	k, err := strconv.Atoi(r.URL.Query().Get("chart"))
	switch {
	case v.Problem != "":
		writeError(w, http.StatusBadRequest, errors.New(v.Problem))
		return
	case err != nil || k < 0 || k >= len(v.Charts):
		writeError(w, http.StatusBadRequest, fmt.Errorf("chart %q: want 0 to %d", r.URL.Query().Get("chart"), len(v.Charts)-1))
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="invariance-%s-%s-%d.svg"`, safeFile(v.Model), v.Kind, k))
	_, _ = w.Write(v.Charts[k])
}

// ChartURL is where chart k of the view is served as a file.
func (v InvarianceView) ChartURL(k int) string {
	q := url.Values{"model": {v.Model}, "kind": {v.Kind}, "layers": v.Measured, "samples": v.Chosen, "chart": {strconv.Itoa(k)}}
	return "/experiments/invariance/chart.svg?" + q.Encode()
}

func (h *Handler) invariancePage(w http.ResponseWriter, r *http.Request) {
	v := h.invariance(r.Context(), r)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = InvariancePage(v).Render(r.Context(), w)
}

// invariance reads the page's choices from the query, with defaults, and
// draws its charts (kept for the next visitor who asks the same).
func (h *Handler) invariance(ctx context.Context, r *http.Request) InvarianceView {
	q := r.URL.Query()
	v := InvarianceView{Kind: q.Get("kind")}
	v.Models = h.withGallery()
	if experiment.CheckKind(v.Kind) != nil {
		v.Kind = experiment.Translate
	}
	if len(v.Models) == 0 {
		v.Problem = i18n.T(ctx, "experiments.no_samples")
		return v
	}
	v.Model = q.Get("model")
	if !slices.ContainsFunc(v.Models, func(e catalog.Entry) bool { return e.Name == v.Model }) {
		v.Model = v.Models[0].Name
	}
	m, err := h.models.Open(v.Model)
	if err != nil {
		v.Problem = err.Error()
		return v
	}
	defer h.models.Release(m)
	v.Samples = h.gallery.List(catalog.GalleryFor(m.Entry), m.Classes)
	for _, f := range splitList(strings.Join(q["samples"], ",")) {
		if slices.ContainsFunc(v.Samples, func(s samples.Sample) bool { return s.File == f }) && !slices.Contains(v.Chosen, f) {
			v.Chosen = append(v.Chosen, f)
		}
	}
	if len(v.Chosen) == 0 {
		for _, s := range v.Samples[:min(len(v.Samples), maxInvariancePictures)] {
			v.Chosen = append(v.Chosen, s.File)
		}
	}
	if len(v.Chosen) > maxInvariancePictures {
		v.Chosen = v.Chosen[:maxInvariancePictures]
	}
	v.Layers = m.Summary.Layers
	v.Measured = splitList(strings.Join(q["layers"], ","))
	if len(v.Measured) == 0 || slices.ContainsFunc(v.Measured, func(l string) bool { _, _, ok := m.Summary.Row(l); return !ok }) {
		v.Measured = experiment.DefaultLayers(m.Summary)
	}
	v.Command = fmt.Sprintf("convscope invariance %s -kind %s -layers %s", weightsFlags(m.Entry), v.Kind, shellWord(strings.Join(v.Measured, ",")))
	for _, f := range v.Chosen {
		v.Command += " -image " + shellWord(path.Join("static/samples", catalog.GalleryFor(m.Entry), f))
	}
	v.Command += " -out charts"
	key := strings.Join([]string{string(i18n.Of(ctx)), v.Model, v.Kind, strings.Join(v.Chosen, ","), strings.Join(v.Measured, ",")}, "|")
	if charts, ok := h.charts.get(key); ok {
		v.Charts = charts
		return v
	}
	if v.Charts, err = h.invarianceCharts(ctx, m, v); err != nil {
		v.Problem = err.Error()
		return v
	}
	h.charts.put(key, v.Charts)
	return v
}

// invarianceCharts measures the chosen pictures and draws the paper's
// three charts.
func (h *Handler) invarianceCharts(ctx context.Context, m *catalog.Model, v InvarianceView) ([][]byte, error) {
	select {
	case h.draws <- struct{}{}:
		defer func() { <-h.draws }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	sweep := experiment.Sweep(v.Kind, invarianceSteps)
	gallery := catalog.GalleryFor(m.Entry)
	var results []*experiment.InvarianceResult
	var names []string
	for _, file := range v.Chosen {
		img, err := h.gallery.Open(gallery, file)
		if err != nil {
			return nil, err
		}
		_, x := m.Prepare(img)
		label := classOf(file, m.Classes)
		r, err := experiment.Invariance(ctx, m.Net.Net, x, label, v.Measured, sweep, 16, nil)
		if err != nil {
			return nil, err
		}
		results = append(results, r)
		names = append(names, strings.TrimSuffix(path.Base(file), path.Ext(file)))
	}
	series := func(pick func(r *experiment.InvarianceResult) []float64) []viz.Series {
		out := make([]viz.Series, len(results))
		for i, r := range results {
			out[i] = viz.Series{Name: names[i], Y: pick(r)}
		}
		return out
	}
	x := results[0].Amounts
	var charts [][]byte
	for l, name := range v.Measured {
		svg, err := viz.LineChart(viz.Chart{Title: i18n.T(ctx, "experiments.invariance.chart.distance", name, m.Name, sourceText(ctx, m.Source)),
			XLabel: axisLabel(ctx, v.Kind), YLabel: i18n.T(ctx, "experiments.invariance.chart.euclidean"), X: x,
			Series: series(func(r *experiment.InvarianceResult) []float64 { return r.Layers[l].Distance })})
		if err != nil {
			return nil, err
		}
		charts = append(charts, svg)
	}
	svg, err := viz.LineChart(viz.Chart{Title: i18n.T(ctx, "experiments.invariance.chart.probability", m.Name, sourceText(ctx, m.Source)), XLabel: axisLabel(ctx, v.Kind),
		YLabel: i18n.T(ctx, "experiments.invariance.chart.probability_axis"), X: x,
		Series: series(func(r *experiment.InvarianceResult) []float64 { return r.Probability })})
	if err != nil {
		return nil, err
	}
	return append(charts, svg), nil
}

// axisLabel names a sweep's amounts, the charts' x axis, in ctx's
// language (experiment.AxisLabel's words).
func axisLabel(ctx context.Context, kind string) string {
	switch kind {
	case experiment.Translate:
		return i18n.T(ctx, "experiments.invariance.axis.translate")
	case experiment.Scale:
		return i18n.T(ctx, "experiments.invariance.axis.scale")
	case experiment.Rotate:
		return i18n.T(ctx, "experiments.invariance.axis.rotate")
	}
	return experiment.AxisLabel(kind)
}

// sourceText says where a model's weights come from (catalog.Entry's
// Source) in ctx's language.
func sourceText(ctx context.Context, source string) string {
	var seed uint64
	if n, _ := fmt.Sscanf(source, "random initialisation, seed %d", &seed); n == 1 {
		return i18n.T(ctx, "experiments.source.random", seed)
	}
	if of, epoch, ok := strings.Cut(source, "'s weights after epoch "); ok {
		if n, err := strconv.Atoi(epoch); err == nil {
			return i18n.T(ctx, "experiments.source.epoch", of, n)
		}
	}
	if file, ok := strings.CutPrefix(source, "embedded "); ok {
		return i18n.T(ctx, "experiments.source.embedded", file)
	}
	return source
}

// classOf is the class a sample's file names ("07-sneaker.png" is
// "Sneaker"), or -1 (the model's top class) when it names none.
func classOf(file string, classes []string) int {
	label := samples.ClassLabel(file, classes)
	for i, c := range classes {
		if c == label {
			return i
		}
	}
	return -1
}

// splitList splits a comma-separated query value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// chartCache keeps the last few sets of charts drawn, by the choices that
// drew them.
type chartCache struct {
	mu    sync.Mutex
	keys  []string
	value map[string][][]byte
}

// chartsKept bounds the chart sets kept.
const chartsKept = 32

func (c *chartCache) get(key string) ([][]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.value[key]
	return v, ok
}

func (c *chartCache) put(key string, v [][]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.value == nil {
		c.value = map[string][][]byte{}
	}
	if _, ok := c.value[key]; !ok {
		c.keys = append(c.keys, key)
	}
	c.value[key] = v
	for len(c.keys) > chartsKept {
		delete(c.value, c.keys[0])
		c.keys = c.keys[1:]
	}
}
