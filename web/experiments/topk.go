package experiments

// Figure 2: what a feature map responds to, across a dataset.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/convscope/convscope/data"
	"github.com/convscope/convscope/experiment"
	"github.com/convscope/convscope/viz"
	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/i18n"
	"github.com/convscope/convscope/zoo"
)

// scannable lists the models whose dataset the server can read.
func (h *Handler) scannable() []catalog.Entry {
	var out []catalog.Entry
	for _, e := range h.models.Entries() {
		if slices.Contains(data.ImageDatasets(), e.Dataset) {
			out = append(out, e)
		}
	}
	return out
}

func (h *Handler) topkPage(w http.ResponseWriter, r *http.Request) {
	entries := h.scannable()
	v := TopKView{Models: entries, Split: r.URL.Query().Get("split")}
	if v.Split != "train" {
		v.Split = "test"
	}
	if len(entries) == 0 {
		v.Problem = i18n.T(r.Context(), "experiments.no_dataset")
		h.render(w, r, v)
		return
	}
	v.Model = r.URL.Query().Get("model")
	if !slices.ContainsFunc(entries, func(e catalog.Entry) bool { return e.Name == v.Model }) {
		v.Model = entries[0].Name
	}
	m, err := h.models.Open(v.Model)
	if err != nil {
		v.Problem = err.Error()
		h.render(w, r, v)
		return
	}
	defer h.models.Release(m)
	for _, row := range m.Summary.Layers {
		if len(row.Maps) == 3 {
			v.Layers = append(v.Layers, row)
		}
	}
	v.Layer = r.URL.Query().Get("layer")
	if _, _, ok := m.Summary.Row(v.Layer); !ok || v.Layer == "" {
		v.Layer = defaultLayer(v.Layers, m.Input[1])
	}
	if _, err := h.sets.Open(m.Entry, v.Split == "train"); err != nil {
		v.Problem = err.Error()
	}
	v.Command = fmt.Sprintf("convscope topk %s -data %s -split %s -layer %s -out fig2.png", weightsFlags(m.Entry), m.Dataset, v.Split, shellWord(v.Layer))
	h.render(w, r, v)
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, v TopKView) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = TopKPage(v).Render(r.Context(), w)
}

// request reads a scan's model, layer and split from the query.
func request(r *http.Request) ScanRequest {
	q := r.URL.Query()
	return ScanRequest{Model: q.Get("model"), Layer: q.Get("layer"), Split: q.Get("split")}
}

func (h *Handler) topkScan(w http.ResponseWriter, r *http.Request) {
	_, st, err := h.scans.Start(request(r))
	switch {
	case errors.Is(err, errBusy):
		writeError(w, http.StatusServiceUnavailable, errors.New(i18n.T(r.Context(), "experiments.topk.busy")))
	case err != nil:
		writeError(w, http.StatusBadRequest, err)
	default:
		writeJSON(w, st)
	}
}

// finished is the scan a request names, or an error status.
func (h *Handler) finished(r *http.Request) (*experiment.TopK, int, error) {
	key, err := h.scans.key(request(r))
	if err != nil {
		return nil, http.StatusBadRequest, err
	}
	scan, ok := h.scans.Result(key)
	if !ok {
		return nil, http.StatusConflict, errors.New(i18n.T(r.Context(), "experiments.topk.unfinished"))
	}
	return scan, 0, nil
}

func (h *Handler) topkResult(w http.ResponseWriter, r *http.Request) {
	scan, code, err := h.finished(r)
	if err != nil {
		writeError(w, code, err)
		return
	}
	writeJSON(w, scan)
}

func (h *Handler) topkChannel(w http.ResponseWriter, r *http.Request) {
	scan, code, err := h.finished(r)
	if err != nil {
		writeError(w, code, err)
		return
	}
	c, err := strconv.Atoi(r.URL.Query().Get("channel"))
	if err != nil || c < 0 || c >= len(scan.Channels) {
		writeError(w, http.StatusBadRequest, fmt.Errorf("channel %q: want 0 to %d", r.URL.Query().Get("channel"), len(scan.Channels)-1))
		return
	}
	png, err := h.drawChannels(r.Context(), request(r), "", scan.Channels[c:c+1])
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "max-age=3600")
	_, _ = w.Write(png)
}

// drawChannels projects the hits of channels and draws them, under a
// caption when it is not empty, at most two figures at a time.
func (h *Handler) drawChannels(ctx context.Context, req ScanRequest, caption string, channels []experiment.ChannelTop) ([]byte, error) {
	select {
	case h.draws <- struct{}{}:
		defer func() { <-h.draws }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	m, err := h.models.Open(req.Model)
	if err != nil {
		return nil, err
	}
	defer h.models.Release(m)
	set, err := h.sets.Open(m.Entry, req.Split == "train")
	if err != nil {
		return nil, err
	}
	row, _, _ := m.Summary.Row(req.Layer)
	src := experiment.Scanned{Net: m.Net.Net, Row: row, Set: set, Pixels: experiment.SetPixels(set)}
	ids := make([]int, len(channels))
	patches := make([][]experiment.Patch, len(channels))
	for i, ch := range channels {
		ids[i] = ch.Channel
		if patches[i], err = src.Patches(ctx, ch); err != nil {
			return nil, err
		}
	}
	img, err := experiment.TopKFigure(i18n.In(i18n.Of(ctx)), caption, ids, patches)
	if err != nil {
		return nil, err
	}
	return viz.PNG(img)
}

// figureChannels is how many channels the whole figure shows.
const figureChannels = 16

// topkFigure is the figure of the first channels with a caption naming
// the model, its weights, the dataset and the layer.
func (h *Handler) topkFigure(w http.ResponseWriter, r *http.Request) {
	scan, code, err := h.finished(r)
	if err != nil {
		writeError(w, code, err)
		return
	}
	req := request(r)
	e, err := h.entry(req.Model)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	caption := i18n.T(r.Context(), "experiments.topk.figure_caption", e.Name, e.Source, e.Dataset, req.Split, scan.Images, req.Layer)
	png, err := h.drawChannels(r.Context(), req, caption, scan.Channels[:min(len(scan.Channels), figureChannels)])
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="topk-%s-%s.png"`, safeFile(e.Name), safeFile(req.Layer)))
	_, _ = w.Write(png)
}

// defaultLayer is a layer worth scanning first: the second convolution
// at the top level (Zeiler & Fergus' layer 2); in a network of blocks, the
// convolution whose receptive field is nearest a third of the input's
// height; else the first row with maps.
func defaultLayer(rows []zoo.LayerInfo, height int) string {
	var top []string
	best, gap := "", 0
	for _, r := range rows {
		if r.Type != "Conv2d" {
			continue
		}
		if r.Depth == 0 {
			top = append(top, r.Name)
		}
		if d := abs(r.RF - height/3); best == "" || d < gap {
			best, gap = r.Name, d
		}
	}
	switch {
	case len(top) > 1:
		return top[1]
	case best != "":
		return best
	case len(rows) > 0:
		return rows[0].Name
	}
	return ""
}

func abs(n int) int { return max(n, -n) }
