package experiments

// Figure 6: the filters themselves.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/convscope/convscope/experiment"
	"github.com/convscope/convscope/train"
	"github.com/convscope/convscope/viz"
	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/i18n"
)

// filterSample is how many test images judge a filter dead.
const filterSample = 1000

// FilterPanel is one model's layer on the filters page.
type FilterPanel struct {
	Model, Layer string
	Layers       []string
	Filters      *experiment.LayerFilters
	// Problem, when set, is why the panel is empty.
	Problem string
	// NoSample says dead filters could not be judged (no dataset here).
	NoSample bool
	// Command draws the same figure from the command line.
	Command string
}

// FiltersView is Figure 6's page: one model's layer, and another's beside
// it when Compare is set.
type FiltersView struct {
	Models       []catalog.Entry
	Main, Second FilterPanel
	Compare      string
}

func (h *Handler) filtersPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := FiltersView{Models: h.models.Entries(), Compare: q.Get("compare")}
	model := q.Get("model")
	if !slices.ContainsFunc(v.Models, func(e catalog.Entry) bool { return e.Name == model }) && len(v.Models) > 0 {
		model = v.Models[0].Name
	}
	v.Main = h.filterPanel(r.Context(), model, q.Get("layer"))
	if v.Compare != "" {
		v.Second = h.filterPanel(r.Context(), v.Compare, q.Get("compareLayer"))
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = FiltersPage(v).Render(r.Context(), w)
}

// filterPanel describes model's convolution layer (default: its first).
func (h *Handler) filterPanel(ctx context.Context, model, layer string) FilterPanel {
	p := FilterPanel{Model: model, Layer: layer}
	lf, layers, noSample, err := h.filters(ctx, model, layer)
	p.Layers, p.Filters, p.NoSample = layers, lf, noSample
	if err != nil {
		p.Problem = err.Error()
	}
	if lf != nil {
		p.Layer = lf.Layer
		if e, err := h.entry(model); err == nil {
			p.Command = fmt.Sprintf("convscope filters %s -layer %s", weightsFlags(e), shellWord(p.Layer))
			if !noSample {
				p.Command += " -data " + e.Dataset
			}
			p.Command += " -out fig6.png"
		}
	}
	return p
}

// filters opens model and describes its convolution called layer (empty:
// the first), dead filters judged on the first test images of its dataset
// when the server has it.
func (h *Handler) filters(ctx context.Context, model, layer string) (*experiment.LayerFilters, []string, bool, error) {
	m, err := h.models.Open(model)
	if err != nil {
		return nil, nil, false, err
	}
	defer h.models.Release(m)
	convs := experiment.Convolutions(m.Net.Net)
	if len(convs) == 0 {
		return nil, nil, false, errors.New(i18n.T(ctx, "experiments.filters.no_convolution", m.Name))
	}
	if layer == "" {
		layer = convs[0]
	}
	if !slices.Contains(convs, layer) {
		return nil, convs, false, errors.New(i18n.T(ctx, "experiments.filters.no_such_convolution", m.Name, layer))
	}
	var sample experiment.Images
	if set, err := h.sets.Open(m.Entry, false); err == nil {
		sample = train.Subset(set, filterSample)
	}
	select {
	case h.draws <- struct{}{}:
		defer func() { <-h.draws }()
	case <-ctx.Done():
		return nil, convs, false, ctx.Err()
	}
	lf, err := experiment.Filters(ctx, m.Net.Net, layer, sample)
	return lf, convs, sample == nil, err
}

func (h *Handler) filtersFigure(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lf, _, _, err := h.filters(r.Context(), q.Get("model"), q.Get("layer"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	caption := ""
	if q.Get("caption") != "" { // the download: a figure of its own
		e, err := h.entry(q.Get("model"))
		if err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		caption = i18n.T(r.Context(), "experiments.filters.figure_caption", e.Name, e.Source, lf.Layer)
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="filters-%s-%s.png"`, safeFile(e.Name), safeFile(lf.Layer)))
	}
	img, err := experiment.FiltersFigure(i18n.In(i18n.Of(r.Context())), caption, lf)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	png, err := viz.PNG(img)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	_, _ = w.Write(png)
}

// filterState names a filter's state in the table.
func filterState(ctx context.Context, dead, faint bool) string {
	switch {
	case dead && faint:
		return i18n.T(ctx, "experiments.filters.dead_faint")
	case dead:
		return i18n.T(ctx, "experiments.filters.state_dead")
	case faint:
		return i18n.T(ctx, "experiments.filters.state_faint")
	}
	return ""
}
