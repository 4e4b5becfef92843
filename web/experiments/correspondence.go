package experiments

// Figure 8 and Table 1: correspondence of object parts across pictures.

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/convscope/convscope/data"
	"github.com/convscope/convscope/experiment"
	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/viz"
	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/i18n"
	"github.com/convscope/convscope/zoo"
)

// correspondencePictures is how many pictures of the class are compared
// (the paper's five).
const correspondencePictures = 5

// correspondenceTrials is how many random boxes are averaged.
const correspondenceTrials = 10

// CorrespondenceView is Table 1's page.
type CorrespondenceView struct {
	Models  []catalog.Entry
	Model   string
	Classes []string
	Class   int
	// Box is the part, in input pixels, masked in every picture; Boxes,
	// when the URL gives one box per picture (box=...&box=...), each
	// picture's own.
	Box    image.Rectangle
	Boxes  []image.Rectangle
	Size   int // the input's side, for the form's bounds
	Layers []zoo.LayerInfo
	// Measured are the layers of the table.
	Measured []string
	// Indices are the test-set pictures compared.
	Indices []int
	Rows    []experiment.CorrespondenceResult
	Problem string
	// Command measures the same table from the command line.
	Command string
}

// query is the view's choices as a URL query (for the pictures' figure).
func (v CorrespondenceView) query() string {
	q := fmt.Sprintf("model=%s&class=%d", urlEscape(v.Model), v.Class)
	for _, b := range v.Boxes {
		q += fmt.Sprintf("&box=%d,%d,%d,%d", b.Min.X, b.Min.Y, b.Max.X, b.Max.Y)
	}
	return q
}

// boxOf is picture k's part.
func (v CorrespondenceView) boxOf(k int) image.Rectangle {
	if k < len(v.Boxes) && len(v.Boxes) > 1 {
		return v.Boxes[k]
	}
	return v.Box
}

func (h *Handler) correspondencePage(w http.ResponseWriter, r *http.Request) {
	v, m, set := h.correspondenceView(r)
	if m != nil {
		defer h.models.Release(m)
		if v.Problem == "" {
			v.Rows, v.Problem = h.correspondence(r.Context(), m, set, v)
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = CorrespondencePage(v).Render(r.Context(), w)
}

// correspondenceView reads the choices from the query, with defaults, and
// opens the model (the caller releases it) and its test set.
func (h *Handler) correspondenceView(r *http.Request) (CorrespondenceView, *catalog.Model, *data.ImageSet) {
	q, ctx := r.URL.Query(), r.Context()
	v := CorrespondenceView{Models: h.scannable()}
	if len(v.Models) == 0 {
		v.Problem = i18n.T(ctx, "experiments.no_dataset")
		return v, nil, nil
	}
	v.Model = q.Get("model")
	if !slices.ContainsFunc(v.Models, func(e catalog.Entry) bool { return e.Name == v.Model }) {
		v.Model = v.Models[0].Name
	}
	m, err := h.models.Open(v.Model)
	if err != nil {
		v.Problem = err.Error()
		return v, nil, nil
	}
	v.Classes, v.Size, v.Layers = m.Classes, m.Input[1], m.Summary.Layers
	v.Class, err = strconv.Atoi(q.Get("class"))
	if err != nil || v.Class < 0 || v.Class >= len(v.Classes) {
		v.Class = 0
	}
	side := m.Input[1]
	v.Box = image.Rect(side/4, side/4, side/2, side/2)
	for _, s := range q["box"] {
		b, err := parseBox(ctx, s, m.Input[2], m.Input[1])
		if err != nil {
			v.Problem = err.Error()
			break
		}
		v.Boxes = append(v.Boxes, b)
	}
	if len(v.Boxes) > 0 {
		v.Box = v.Boxes[0]
	}
	v.Measured = splitList(strings.Join(q["layers"], ","))
	if len(v.Measured) == 0 || slices.ContainsFunc(v.Measured, func(l string) bool { _, _, ok := m.Summary.Row(l); return !ok }) {
		v.Measured = experiment.DefaultLayers(m.Summary)
	}
	set, err := h.sets.Open(m.Entry, false)
	if err != nil {
		v.Problem = err.Error()
		return v, m, nil
	}
	for i := 0; i < set.Len() && len(v.Indices) < correspondencePictures; i++ {
		if set.Labels[i] == v.Class {
			v.Indices = append(v.Indices, i)
		}
	}
	if len(v.Indices) < 2 && v.Problem == "" {
		v.Problem = i18n.T(ctx, "experiments.correspondence.too_few", len(v.Indices), v.Classes[v.Class])
	}
	if len(v.Boxes) > 1 && len(v.Boxes) != len(v.Indices) && v.Problem == "" {
		v.Problem = i18n.T(ctx, "experiments.correspondence.box_count", len(v.Boxes), len(v.Indices))
	}
	if len(v.Boxes) == 0 {
		v.Boxes = []image.Rectangle{v.Box}
	}
	v.Command = fmt.Sprintf("convscope correspondence %s -data %s -class %d -n %d -layers %s -trials %d", weightsFlags(m.Entry), m.Dataset, v.Class,
		len(v.Indices), shellWord(strings.Join(v.Measured, ",")), correspondenceTrials)
	for _, b := range v.Boxes {
		v.Command += fmt.Sprintf(" -box %d,%d,%d,%d", b.Min.X, b.Min.Y, b.Max.X, b.Max.Y)
	}
	return v, m, set
}

// boxText writes a box as parseBox reads it.
func boxText(b image.Rectangle) string {
	return fmt.Sprintf("%d,%d,%d,%d", b.Min.X, b.Min.Y, b.Max.X, b.Max.Y)
}

// correspondencePicture draws one test picture of the model's dataset,
// enlarged, for the page's part pickers.
func (h *Handler) correspondencePicture(w http.ResponseWriter, r *http.Request) {
	m, err := h.models.Open(r.URL.Query().Get("model"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	defer h.models.Release(m)
	set, err := h.sets.Open(m.Entry, false)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	i, err := strconv.Atoi(r.URL.Query().Get("index"))
	if err != nil || i < 0 || i >= set.Len() {
		writeError(w, http.StatusBadRequest, fmt.Errorf("index %q: want 0 to %d", r.URL.Query().Get("index"), set.Len()-1))
		return
	}
	t, err := experiment.SetPixels(set)(i)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	img, err := viz.Pixels(t)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	png, err := viz.PNG(viz.Upscale(img, max(1, 96/max(1, set.H))))
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "max-age=3600")
	_, _ = w.Write(png)
}

// parseBox reads "x0,y0,x1,y1" inside a w×h input; its errors are in
// ctx's language.
func parseBox(ctx context.Context, s string, w, h int) (image.Rectangle, error) {
	f := strings.Split(s, ",")
	if len(f) != 4 {
		return image.Rectangle{}, errors.New(i18n.T(ctx, "experiments.correspondence.box_format", s))
	}
	var v [4]int
	for i, p := range f {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return image.Rectangle{}, errors.New(i18n.T(ctx, "experiments.correspondence.box_number", s, p))
		}
		v[i] = n
	}
	b := image.Rect(v[0], v[1], v[2], v[3])
	if b.Empty() || !b.In(image.Rect(0, 0, w, h)) {
		return image.Rectangle{}, errors.New(i18n.T(ctx, "experiments.correspondence.box_outside", s, w, h))
	}
	return b, nil
}

// correspondence measures the table.
func (h *Handler) correspondence(ctx context.Context, m *catalog.Model, set *data.ImageSet, v CorrespondenceView) ([]experiment.CorrespondenceResult, string) {
	select {
	case h.draws <- struct{}{}:
		defer func() { <-h.draws }()
	case <-ctx.Done():
		return nil, ctx.Err().Error()
	}
	xs := make([]*nn.Tensor, len(v.Indices))
	boxes := make([]image.Rectangle, len(v.Indices))
	for k, i := range v.Indices {
		xs[k] = nn.New(append([]int{1}, set.Shape()...)...)
		set.Fill(i, xs[k].Data)
		boxes[k] = v.boxOf(k)
	}
	rows, err := experiment.Correspondence(ctx, m.Net.Net, xs, boxes, v.Measured, correspondenceTrials, 1)
	if err != nil {
		return nil, err.Error()
	}
	return rows, ""
}

// correspondencePictures draws the compared pictures with the box.
func (h *Handler) correspondenceFigure(w http.ResponseWriter, r *http.Request) {
	v, m, set := h.correspondenceView(r)
	if m != nil {
		defer h.models.Release(m)
	}
	if set == nil || len(v.Indices) == 0 {
		writeError(w, http.StatusBadRequest, fmt.Errorf("%s", v.Problem))
		return
	}
	zoom := max(1, 96/max(1, v.Size))
	pixels := experiment.SetPixels(set)
	var tiles []*image.RGBA
	for k, i := range v.Indices {
		t, err := pixels(i)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
		img, err := viz.Pixels(t)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
		big := viz.Upscale(img, zoom)
		b := v.boxOf(k)
		viz.DrawBox(big, image.Rectangle{b.Min.Mul(zoom), b.Max.Mul(zoom)}, color.RGBA{250, 204, 21, 255})
		tiles = append(tiles, big)
	}
	b := tiles[0].Bounds()
	out := viz.Canvas(len(tiles)*(b.Dx()+6), b.Dy())
	for k, t := range tiles {
		viz.Paste(out, t, image.Pt(k*(b.Dx()+6), 0))
	}
	png, err := viz.PNG(out)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	_, _ = w.Write(png)
}
