package learn

// The arithmetic of any unit of a lesson's maps: a reader clicks a map (or
// types its channel, row and column) and the page asks GET /learn/unit for
// how that unit was computed, as the explorer's "arith" message answers it.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/convscope/convscope/arith"
	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/web/i18n"
)

// maxChain bounds how far an elementwise unit is followed back to the
// weighted sum or pooling window it came from (a ReLU after a batch norm
// after a convolution is three).
const maxChain = 4

// UnitAnswer is GET /learn/unit's JSON: the unit asked for first, then,
// while a unit is elementwise (an activation, a norm), the unit of the
// layer that produced its input, so a ReLU's map shows the convolution
// under it.
type UnitAnswer struct {
	Units []*arith.Unit `json:"units"`
}

// MapRef names a map picture of a lesson for the page's script, which
// turns a click on it into a unit: the model and picture the lesson ran,
// the layer shown, and the grid the maps are drawn in (Cols tiles a row,
// each H×W map pixels of Scale screen pixels, one map pixel apart).
type MapRef struct {
	Model, Sample, Layer string
	Channels, Cols, H, W int
	Scale                int
}

// unit answers GET /learn/unit?model=&sample=&layer=&channel=&y=&x=.
func (h *Handler) unit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	fail := func(code int, err error) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
	}
	var pos [3]int
	for i, name := range []string{"channel", "y", "x"} {
		v, err := strconv.Atoi(q.Get(name))
		if err != nil || v < 0 {
			fail(http.StatusBadRequest, errors.New(i18n.T(r.Context(), "lesson.unit.bad", name)))
			return
		}
		pos[i] = v
	}
	model, layer := q.Get("model"), q.Get("layer")
	if len(model) > 200 || len(layer) > 200 {
		fail(http.StatusBadRequest, errors.New(i18n.T(r.Context(), "lesson.unit.bad", "layer")))
		return
	}
	var s Scene
	m, tr, err := h.open(&s, []string{model}, model, q.Get("sample"))
	if err != nil {
		fail(http.StatusNotFound, err)
		return
	}
	defer h.models.Release(m)
	var names []string
	for _, l := range m.Summary.Layers {
		names = append(names, l.Name)
	}
	units, err := explainChain(tr, names, layer, pos[0], pos[1], pos[2])
	if err != nil {
		fail(http.StatusUnprocessableEntity, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(UnitAnswer{Units: units})
}

// explainChain explains unit (channel, y, x) of layer in tr, then follows
// an elementwise unit back through the layers (of names, the model's
// layers) whose output was its input. A block (a chain, a branch) is
// explained as the last layer inside it whose output it is.
func explainChain(tr *nn.Trace, names []string, layer string, channel, y, x int) ([]*arith.Unit, error) {
	_, st, ok := tr.Locate(layer)
	if !ok {
		return nil, fmt.Errorf("no layer %q in this model", layer)
	}
	if st = explainable(tr, names, st, st.Out); st == nil {
		return nil, fmt.Errorf("layer %s has no arithmetic to show", layer)
	}
	var out []*arith.Unit
	for len(out) < maxChain && st != nil {
		u, err := arith.Explain(st, 0, channel, y, x)
		if err != nil {
			return nil, err
		}
		u.Trim(arith.ShownTerms)
		out = append(out, u)
		if u.Kind != "elementwise" || len(st.In.Shape) != len(st.Out.Shape) {
			break
		}
		st = explainable(tr, names, nil, st.In)
	}
	return out, nil
}

// explainable is st when arith can explain its layer, else the deepest
// layer of names whose output is t (the same values), nil for none.
func explainable(tr *nn.Trace, names []string, st *nn.Step, t *nn.Tensor) *nn.Step {
	if st != nil && canExplain(st) {
		return st
	}
	var found *nn.Step
	for _, name := range names {
		_, s, ok := tr.Locate(name)
		if ok && s.Out != nil && len(s.Out.Data) > 0 && len(t.Data) > 0 && &s.Out.Data[0] == &t.Data[0] && canExplain(s) {
			found = s // later rows are deeper: the layer inside its block
		}
	}
	return found
}

// canExplain says arith knows st's layer.
func canExplain(st *nn.Step) bool {
	_, err := arith.Explain(st, 0, 0, 0, 0)
	return err == nil
}
