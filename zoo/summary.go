package zoo

import (
	"image"
	"math"
	"slices"
	"strconv"

	"github.com/convscope/convscope/nn"
)

// LayerInfo is one row of a model summary: a layer, a block, or a mark
// inside a block (an identity shortcut, a residual addition, a
// concatenation; see nn.Opener).
type LayerInfo struct {
	// Name is the dotted name that addresses the row everywhere: the
	// summary, the trace (nn.Trace.Locate), the web protocol and the URL.
	Name string `json:"name"`
	Type string `json:"type"`
	// Output is the per-sample output shape, as the tensor holds it.
	Output []int `json:"output"`
	// Maps is Output as feature maps (C,H,W), or (F) for a vector: the same
	// as Output except after a permutation to channels-last (ConvNeXt's
	// (H,W,C) inside its blocks), where Layout is "hwc".
	Maps   []int  `json:"maps"`
	Layout string `json:"layout,omitempty"`
	Params int64  `json:"params"`
	MACs   int64  `json:"macs"`
	// RF is the receptive field's side in input pixels, Jump the distance in
	// input pixels between neighbouring units, Start the input coordinate of
	// the centre of unit (0,0)'s field (it may be fractional or negative).
	// After a vector (a flatten, a linear layer) Jump is 0 and RF the
	// input's longer side.
	RF    int     `json:"rf"`
	Jump  int     `json:"jump"`
	Start float64 `json:"start"`
	// Whole is true when every unit of the row sees the whole input (the
	// first unit's field reaches past the input's far edges, the last unit's
	// past its near ones): a global pooling, a flatten, a linear layer, and
	// deep layers of small inputs. Pages then say "whole input" instead of
	// a size larger than the picture.
	Whole bool `json:"whole"`
	// Parent is the name of the block the row sits in ("" at the top
	// level), Depth how many blocks deep it is (0 at the top level), Parts
	// how many rows it opens to (0 for a leaf).
	Parent string `json:"parent,omitempty"`
	Depth  int    `json:"depth"`
	Parts  int    `json:"parts,omitempty"`
	// Branch groups rows of one block that run side by side (nn.Part).
	Branch string `json:"branch,omitempty"`
	// From names the rows a row of a graph block (nn.Graph) reads, where
	// that is not simply the row before it: the rows a join meets, or a
	// value read again further on ("" stands for the block's input).
	From []string `json:"from,omitempty"`
}

// Summary is what torchinfo prints for a model and one input, every layer
// inside every block included.
type Summary struct {
	Model  string `json:"model"`
	Input  []int  `json:"input"`
	Params int64  `json:"params"`
	MACs   int64  `json:"macs"`
	// Layers is the layer tree in pre-order: each block is followed by the
	// rows inside it (Depth one more), before its next sibling.
	Layers []LayerInfo `json:"layers"`
	// rows indexes Layers by name.
	rows map[string]int
}

// Top returns the top-level rows (Depth 0), the model's own layer list.
func (s *Summary) Top() []LayerInfo {
	var out []LayerInfo
	for _, l := range s.Layers {
		if l.Depth == 0 {
			out = append(out, l)
		}
	}
	return out
}

// Row returns the row called name and its index in Layers.
func (s *Summary) Row(name string) (LayerInfo, int, bool) {
	if s.rows == nil { // a Summary not made by Summarize (decoded JSON)
		for i, l := range s.Layers {
			if l.Name == name {
				return l, i, true
			}
		}
		return LayerInfo{}, -1, false
	}
	i, ok := s.rows[name]
	if !ok {
		return LayerInfo{}, -1, false
	}
	return s.Layers[i], i, true
}

// ChannelsFirst returns a one-sample output of this row as its maps: a
// (1,C,H,W) copy of a channels-last (1,H,W,C) output (Layout "hwc"), out
// itself otherwise.
func (l LayerInfo) ChannelsFirst(out *nn.Tensor) *nn.Tensor {
	if l.Layout != "hwc" || len(out.Shape) != 4 || out.Shape[0] != 1 {
		return out
	}
	h, w, c := out.Shape[1], out.Shape[2], out.Shape[3]
	t := nn.New(1, c, h, w)
	for p := 0; p < h*w; p++ {
		for ch := 0; ch < c; ch++ {
			t.Data[ch*h*w+p] = out.Data[p*c+ch]
		}
	}
	return t
}

// Summarize infers every layer's output shape, inside blocks too, and counts
// parameters and MACs for one sample. Receptive fields follow the usual
// recurrence over windowed layers (kernel k, stride s, padding p):
//
//	rf' = rf + (k-1)*jump;  start' = start + ((k-1)/2 - p)*jump;  jump' = jump*s
//
// Layers without a window keep the previous values. Paths that run side by
// side start from their block's input, and where they meet (an addition, a
// concatenation) the widest path's field counts. Rows whose units all see
// the whole input say so (Whole).
func Summarize(m *Model) (*Summary, error) {
	s := &Summary{Model: m.Name, Input: m.Input}
	w := &walker{h: m.Input[1], w: m.Input[2]}
	top := make([]nn.Part, len(m.Net.Layers))
	for i, l := range m.Net.Layers {
		top[i] = nn.Part{Layer: l}
	}
	if _, err := w.walk(top, "", 0, at{shape: m.Input, axes: chw, field: field{rf: 1, jump: 1}}); err != nil {
		return nil, err
	}
	s.Layers = w.rows
	s.rows = make(map[string]int, len(s.Layers))
	for i, l := range s.Layers {
		s.rows[l.Name] = i
	}
	for _, l := range s.Top() {
		s.Params += l.Params
		s.MACs += l.MACs
	}
	return s, nil
}

// field is the receptive field of a row's units (see LayerInfo).
type field struct {
	rf, jump int
	start    float64
}

// through is the field after a window (k, s, p); a whole-input field stays.
func (f field) through(k, s, p int) field {
	if f.jump == 0 {
		return f
	}
	return field{rf: f.rf + (k-1)*f.jump, jump: f.jump * s, start: f.start + (float64(k-1)/2-float64(p))*float64(f.jump)}
}

// chw is the axes of a (C,H,W) sample: axes[i] says which of C (0), H (1)
// and W (2) the tensor's axis i holds.
var chw = []int{0, 1, 2}

// at is where a walk stands: the shape of the signal, which of C, H, W its
// axes hold (nil for a vector), and its units' receptive field.
type at struct {
	shape []int
	axes  []int
	field field
}

// walker collects the rows of one model.
type walker struct {
	h, w int // input size
	rows []LayerInfo
}

// walk adds the rows of parts, which run under parent starting from in, and
// returns where the last one leaves the signal. Parts on a branch start
// again from in; the first part after the branches meets them.
func (w *walker) walk(parts []nn.Part, parent string, depth int, in at) (at, error) {
	if len(parts) > 0 && parts[0].From != nil {
		return w.graph(parts, parent, depth, in)
	}
	cur := in
	var ends []at // the branches' ends, waiting to meet
	branch := ""
	for _, p := range parts {
		if p.Branch != branch {
			if branch != "" {
				ends = append(ends, cur)
			}
			if branch = p.Branch; branch != "" {
				cur = in
			}
		}
		if p.Branch == "" && len(ends) > 0 {
			cur = meet(ends, p.Layer.Type() == "Cat")
			ends = nil
		}
		next, err := w.row(p, parent, depth, cur)
		if err != nil {
			return at{}, err
		}
		cur = next
	}
	if branch != "" {
		cur = meet(append(ends, cur), false)
	}
	return cur, nil
}

// graph adds the rows of a graph block's parts, each starting from the
// parts it reads (nn.Part.From) and joining them where there are several.
func (w *walker) graph(parts []nn.Part, parent string, depth int, in at) (at, error) {
	outs := make([]at, len(parts))
	for i, p := range parts {
		ends := make([]at, len(p.From))
		var from []string
		for j, k := range p.From {
			if k < 0 {
				ends[j] = in
				from = append(from, "")
			} else {
				ends[j] = outs[k]
				from = append(from, parts[k].Layer.Name())
			}
		}
		cur := ends[0]
		switch {
		case len(ends) > 1 && p.Layer.Type() == "Mul":
			// Maps times their gate (squeeze-and-excitation): the maps'
			// shape and field. The gate scales each map by a summary of
			// more of the input, but a unit's own pixels are the maps'.
			cur = slices.MaxFunc(ends, func(a, b at) int { return nn.Numel(a.shape) - nn.Numel(b.shape) })
		case len(ends) > 1:
			cur = meet(ends, p.Layer.Type() == "Cat")
		}
		row := len(w.rows)
		next, err := w.row(p, parent, depth, cur)
		if err != nil {
			return at{}, err
		}
		if len(p.From) > 1 || p.From[0] != i-1 {
			w.rows[row].From = from
		}
		outs[i] = next
	}
	return outs[len(outs)-1], nil
}

// meet is where side-by-side paths join: an addition keeps the shape, a
// concatenation adds up the channels; the widest path's field counts.
func meet(ends []at, concat bool) at {
	out := ends[0]
	out.shape = append([]int(nil), out.shape...)
	for _, e := range ends[1:] {
		if concat && len(e.shape) == len(out.shape) && len(e.axes) > 0 {
			out.shape[indexOf(e.axes, 0)] += e.shape[indexOf(e.axes, 0)]
		}
		if e.field.jump == 0 || (out.field.jump != 0 && e.field.rf > out.field.rf) {
			out.field = e.field
		}
	}
	return out
}

// row adds the row of one part (and, for a block, the rows inside it).
func (w *walker) row(p nn.Part, parent string, depth int, in at) (at, error) {
	l := p.Layer
	shape, err := l.OutputShape(in.shape)
	if err != nil {
		return at{}, err
	}
	out := at{shape: shape, axes: axesAfter(l, in, shape), field: in.field}
	if win, ok := l.(nn.Windowed); ok {
		out.field = in.field.through(win.Window())
	} else if win, ok := l.(nn.InputWindowed); ok {
		out.field = in.field.through(win.WindowFor(in.shape))
	}
	r := LayerInfo{Name: l.Name(), Type: l.Type(), Output: shape, Parent: parent, Depth: depth, Branch: p.Branch}
	for _, q := range l.Params() {
		r.Params += int64(q.Value.Len())
	}
	if c, ok := l.(nn.Coster); ok {
		r.MACs = c.MACs(in.shape)
	}
	index := len(w.rows)
	w.rows = append(w.rows, r)
	if o, ok := l.(nn.Opener); ok {
		inside := o.Inside()
		w.rows[index].Parts = len(inside)
		if _, err := w.walk(inside, l.Name(), depth+1, in); err != nil {
			return at{}, err
		}
	}
	if len(out.axes) == 0 { // a vector: every unit sees everything
		side := max(w.h, w.w)
		out.field = field{rf: side, jump: 0, start: float64(side-1) / 2}
	}
	row := &w.rows[index]
	row.RF, row.Jump, row.Start, row.Whole = out.field.rf, out.field.jump, out.field.start, w.whole(out)
	row.Maps, row.Layout = maps(out)
	return out, nil
}

// whole reports whether every unit of a signal at a sees the whole input:
// a vector, or maps whose first unit's field reaches the input's far edges
// and whose last unit's field reaches its near ones.
func (w *walker) whole(a at) bool {
	f := a.field
	if f.jump == 0 || len(a.axes) == 0 {
		return true
	}
	half := float64(f.rf-1) / 2
	covers := func(n, size int) bool {
		return f.start+half >= float64(size-1) && f.start+float64((n-1)*f.jump)-half <= 0
	}
	return covers(a.shape[indexOf(a.axes, 1)], w.h) && covers(a.shape[indexOf(a.axes, 2)], w.w)
}

// axesAfter follows which of C, H, W the axes of a layer's output hold: a
// permutation reorders them, a shape of another rank is a vector.
func axesAfter(l nn.Layer, in at, shape []int) []int {
	if len(shape) != 3 || len(in.axes) != 3 {
		return nil
	}
	if p, ok := l.(*nn.Permute); ok {
		out := make([]int, 3)
		for i, a := range p.Order {
			out[i] = in.axes[a]
		}
		return out
	}
	return in.axes
}

// maps is a signal's shape as (C,H,W) maps, with "hwc" when its axes are
// channels-last; a vector stays (F).
func maps(a at) ([]int, string) {
	if len(a.axes) != 3 {
		n := 1
		for _, d := range a.shape {
			n *= d
		}
		return []int{n}, ""
	}
	m := []int{a.shape[indexOf(a.axes, 0)], a.shape[indexOf(a.axes, 1)], a.shape[indexOf(a.axes, 2)]}
	layout := ""
	if a.axes[2] == 0 {
		layout = "hwc"
	}
	return m, layout
}

func indexOf(s []int, v int) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// Box is the receptive field of unit (y, x) of this layer in input pixels,
// clipped to an h×w input: the pixels that can influence the unit.
func (l LayerInfo) Box(y, x, h, w int) image.Rectangle {
	return l.Field(y, x, h, w).Intersect(image.Rect(0, 0, w, h))
}

// Field is Box before clipping: the whole square of the receptive field,
// which may reach past the input's edges (into its padding); for a row
// that sees the whole input, the input.
func (l LayerInfo) Field(y, x, h, w int) image.Rectangle {
	if l.Whole {
		return image.Rect(0, 0, w, h)
	}
	half := float64(l.RF-1) / 2
	cy, cx := l.Start+float64(y*l.Jump), l.Start+float64(x*l.Jump)
	lo := func(c float64) int { return int(math.Floor(c - half + 0.5)) }
	hi := func(c float64) int { return int(math.Floor(c+half+0.5)) + 1 }
	return image.Rect(lo(cx), lo(cy), hi(cx), hi(cy))
}

// Thousands prints a count with commas, as summaries show parameters and
// MACs: 61,706.
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
