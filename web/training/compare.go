package training

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/convscope/convscope/data"
	"github.com/convscope/convscope/experiment"
	"github.com/convscope/convscope/train"
	"github.com/convscope/convscope/viz"
	"github.com/convscope/convscope/web/i18n"
)

// CompareView is two runs side by side: their recipes, their test
// accuracy and training loss per epoch on one chart each, their speed,
// and their first layers' filters (the experiments' filters page, once
// both have kept weights).
type CompareView struct {
	A, B   *Run
	Charts [][]byte // SVG: test accuracy, training loss
	// Filters are each run's first convolution as Figure 6 judges it
	// (nil for a run with no weights yet, or none readable).
	Filters [2]*experiment.LayerFilters
	Problem string
}

// filterSample is how many test images judge a filter dead, as on the
// experiments' filters page.
const filterSample = 1000

// faintPercent is experiment.FaintShare in percent, for the page's words.
var faintPercent = int(math.Round(experiment.FaintShare * 100))

// firstFilters describes the first convolution of a run's kept weights:
// its filters' high-frequency energy, the faint ones, and the dead ones
// on the first test images of its dataset (not judged for an image folder).
func (h *Handler) firstFilters(ctx context.Context, run *Run) (*experiment.LayerFilters, error) {
	_, _, result := run.Status()
	if result == "" {
		return nil, nil
	}
	m, err := h.runs.models.Open(result)
	if err != nil {
		return nil, err
	}
	defer h.runs.models.Release(m)
	convs := experiment.Convolutions(m.Net.Net)
	if len(convs) == 0 {
		return nil, fmt.Errorf("%s has no convolution", m.Name)
	}
	var sample experiment.Images
	if !strings.HasPrefix(run.Recipe.Data, "folder:") {
		if set, err := data.OpenImages(run.Recipe.Data, h.dataDir, false); err == nil {
			set.Mean, set.Std = m.Pre.Mean, m.Pre.Std
			sample = train.Subset(set, filterSample)
		}
	}
	return experiment.Filters(ctx, m.Net.Net, convs[0], sample)
}

// epochs is a run's epoch frames, a copy.
func (r *Run) epochFrames() []Frame {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Frame(nil), r.epochs...)
}

// Summary is a run's figures for the comparison: its last test accuracy,
// its mean training speed and the epochs done.
func (r *Run) Summary() (accuracy, imagesPerSec float64, epochs int) {
	es := r.epochFrames()
	for _, e := range es {
		imagesPerSec += e.ImagesPerSec / float64(len(es))
	}
	if len(es) > 0 {
		accuracy = es[len(es)-1].TestAccuracy
	}
	return accuracy, imagesPerSec, len(es)
}

func (h *Handler) compare(w http.ResponseWriter, r *http.Request) {
	var v CompareView
	a, okA := h.runs.Run(r.URL.Query().Get("a"))
	b, okB := h.runs.Run(r.URL.Query().Get("b"))
	switch {
	case !okA || !okB:
		v.Problem = i18n.T(r.Context(), "training.compare_which")
	default:
		v.A, v.B = a, b
		var err error
		if v.Charts, err = compareCharts(r.Context(), a, b); err != nil {
			v.Problem = err.Error()
		}
		for i, run := range []*Run{a, b} {
			if v.Filters[i], err = h.firstFilters(r.Context(), run); err != nil {
				v.Problem = err.Error()
			}
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = ComparePage(v).Render(r.Context(), w)
}

// compareCharts draws both runs' test accuracy and training loss per
// epoch (a run with fewer epochs has gaps).
func compareCharts(ctx context.Context, a, b *Run) ([][]byte, error) {
	ea, eb := a.epochFrames(), b.epochFrames()
	n := max(len(ea), len(eb), 1)
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(i + 1)
	}
	series := func(r *Run, es []Frame, pick func(Frame) float64) viz.Series {
		y := make([]float64, n)
		for i := range y {
			y[i] = math.NaN()
		}
		for _, e := range es {
			if e.Epoch >= 1 && e.Epoch <= n {
				y[e.Epoch-1] = pick(e)
			}
		}
		return viz.Series{Name: fmt.Sprintf("%s (%s)", r.ID, modelText(r.Recipe)), Y: y}
	}
	var out [][]byte
	for _, c := range []struct {
		title, label string
		pick         func(Frame) float64
	}{
		{i18n.T(ctx, "training.chart_accuracy"), i18n.T(ctx, "training.chart_accuracy_axis"), func(f Frame) float64 { return f.TestAccuracy }},
		{i18n.T(ctx, "training.chart_loss"), i18n.T(ctx, "training.chart_loss_axis"), func(f Frame) float64 { return f.Loss }},
	} {
		svg, err := viz.LineChart(viz.Chart{Title: c.title, XLabel: i18n.T(ctx, "training.chart_epoch_axis"), YLabel: c.label, X: x,
			Series: []viz.Series{series(a, ea, c.pick), series(b, eb, c.pick)}})
		if err != nil {
			return nil, err
		}
		out = append(out, svg)
	}
	return out, nil
}
