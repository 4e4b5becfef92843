package experiments

// Figure 7: occlusion, all panels.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strconv"
	"time"

	"github.com/convscope/convscope/data"
	"github.com/convscope/convscope/experiment"
	"github.com/convscope/convscope/viz"
	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/i18n"
	"github.com/convscope/convscope/web/samples"
	"github.com/convscope/convscope/zoo"
)

// OcclusionView is Figure 7's page: the form's choices.
type OcclusionView struct {
	Models         []catalog.Entry
	Model          string
	Samples        []samples.Sample
	Sample         string
	Layers         []zoo.LayerInfo
	Layer          string
	Window, Stride int
	Size           int // the input's side
	Problem        string
	// Command draws the same figure from the command line.
	Command string
	// TopKURL is Figure 2's page for the layer, where the model has a
	// dataset to scan ("" otherwise): the same feature map's projections
	// for other pictures.
	TopKURL string
}

// StreamURL is where the page reads the sweep's frames.
func (v OcclusionView) StreamURL() string {
	return fmt.Sprintf("/experiments/occlusion/stream?model=%s&sample=%s&layer=%s&window=%d&stride=%d",
		urlEscape(v.Model), urlEscape(v.Sample), urlEscape(v.Layer), v.Window, v.Stride)
}

func (h *Handler) occlusionPage(w http.ResponseWriter, r *http.Request) {
	v, m := h.occlusionView(r)
	if m != nil {
		h.models.Release(m)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = OcclusionPage(v).Render(r.Context(), w)
}

// occlusionView reads the choices with their defaults and opens the model
// (the caller releases it when not nil).
func (h *Handler) occlusionView(r *http.Request) (OcclusionView, *catalog.Model) {
	q := r.URL.Query()
	v := OcclusionView{}
	v.Models = h.withGallery()
	if len(v.Models) == 0 {
		v.Problem = i18n.T(r.Context(), "experiments.no_samples")
		return v, nil
	}
	v.Model = q.Get("model")
	if !slices.ContainsFunc(v.Models, func(e catalog.Entry) bool { return e.Name == v.Model }) {
		v.Model = v.Models[0].Name
	}
	m, err := h.models.Open(v.Model)
	if err != nil {
		v.Problem = err.Error()
		return v, nil
	}
	v.Samples = h.gallery.List(catalog.GalleryFor(m.Entry), m.Classes)
	v.Sample = q.Get("sample")
	if !slices.ContainsFunc(v.Samples, func(s samples.Sample) bool { return s.File == v.Sample }) {
		v.Sample = v.Samples[0].File
	}
	for _, row := range m.Summary.Layers {
		if len(row.Maps) > 0 {
			v.Layers = append(v.Layers, row)
		}
	}
	v.Layer = q.Get("layer")
	if _, _, ok := m.Summary.Row(v.Layer); !ok {
		v.Layer = defaultLayer(v.Layers, m.Input[1])
	}
	h0 := m.Input[1]
	v.Size = min(m.Input[1], m.Input[2])
	v.Window, v.Stride = max(1, (h0+3)/7), 0
	if n, err := strconv.Atoi(q.Get("window")); err == nil {
		v.Window = n
	}
	v.Stride = max(1, v.Window/2)
	if n, err := strconv.Atoi(q.Get("stride")); err == nil {
		v.Stride = n
	}
	if slices.Contains(data.ImageDatasets(), m.Dataset) {
		v.TopKURL = i18n.Href(r.Context(), fmt.Sprintf("/experiments/topk?model=%s&layer=%s", urlEscape(m.Name), urlEscape(v.Layer)))
	}
	v.Command = fmt.Sprintf("convscope occlusion %s -image %s -layer %s -window %d -stride %d -out fig7.png", weightsFlags(m.Entry),
		shellWord(path.Join("static/samples", catalog.GalleryFor(m.Entry), v.Sample)), shellWord(v.Layer), v.Window, v.Stride)
	if v.Window < 1 || v.Window > v.Size || v.Stride < 1 || v.Stride > v.Size {
		v.Problem = i18n.T(r.Context(), "experiments.occlusion.bad_window", v.Window, v.Stride, v.Size)
	}
	return v, m
}

// frame is one line of the sweep's stream.
type frame struct {
	Done   int    `json:"done"`
	Total  int    `json:"total"`
	Figure string `json:"figure,omitempty"` // a PNG data URL
	// Result is the whole sweep, on the last line.
	Result *experiment.OcclusionResult `json:"result,omitempty"`
	Error  string                      `json:"error,omitempty"`
}

// frameEvery is the least time between two frames of a sweep.
const frameEvery = 250 * time.Millisecond

// occlusionStream runs the sweep and writes one JSON line per frame: the
// figure so far after a batch (at most every frameEvery), and the whole
// result at the end. A visitor who leaves stops it.
func (h *Handler) occlusionStream(w http.ResponseWriter, r *http.Request) {
	v, m := h.occlusionView(r)
	if m != nil {
		defer h.models.Release(m)
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	// A proxy passes each line on at once (nginx reads this header).
	w.Header().Set("X-Accel-Buffering", "no")
	enc := json.NewEncoder(w)
	flusher, _ := w.(http.Flusher)
	send := func(f frame) {
		_ = enc.Encode(f)
		if flusher != nil {
			flusher.Flush()
		}
	}
	if v.Problem != "" || m == nil {
		w.WriteHeader(http.StatusBadRequest)
		send(frame{Error: v.Problem})
		return
	}
	select {
	case h.draws <- struct{}{}:
		defer func() { <-h.draws }()
	case <-r.Context().Done():
		return
	}
	img, err := h.gallery.Open(catalog.GalleryFor(m.Entry), v.Sample)
	if err != nil {
		send(frame{Error: err.Error()})
		return
	}
	pixels, x := m.Prepare(img)
	row, _, _ := m.Summary.Row(v.Layer)
	caption := i18n.T(r.Context(), "experiments.occlusion.figure_caption", m.Name, m.Source, v.Sample, v.Layer)
	draw := func(res *experiment.OcclusionResult) string {
		fig, err := experiment.OcclusionFigure(i18n.In(i18n.Of(r.Context())), caption, pixels, res, m.Classes)
		if err != nil {
			return ""
		}
		b, err := viz.PNG(fig)
		if err != nil {
			return ""
		}
		return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b)
	}
	var last time.Time
	res, err := experiment.Occlusion(r.Context(), m.Net.Net, x, experiment.OcclusionOptions{
		Layer: v.Layer, Channel: -1, Label: classOf(v.Sample, m.Classes), Window: v.Window, Stride: v.Stride,
		ChannelsLast: row.Layout == "hwc",
		Partial: func(res *experiment.OcclusionResult, done int) {
			if total := res.Rows * res.Cols; done < total && time.Since(last) >= frameEvery {
				last = time.Now()
				send(frame{Done: done, Total: total, Figure: draw(res)})
			}
		}})
	if err != nil {
		send(frame{Error: err.Error()})
		return
	}
	total := res.Rows * res.Cols
	send(frame{Done: total, Total: total, Figure: draw(res), Result: res})
}
