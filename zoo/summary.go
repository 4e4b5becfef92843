package zoo

import (
	"image"
	"math"
	"strconv"

	"github.com/convscope/convscope/nn"
)

// LayerInfo is one row of a model summary.
type LayerInfo struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Output []int  `json:"output"`
	Params int64  `json:"params"`
	MACs   int64  `json:"macs"`
	// RF is the receptive field's side in input pixels, Jump the distance in
	// input pixels between neighbouring units, Start the input coordinate of
	// the centre of unit (0,0)'s field (it may be fractional or negative).
	RF    int     `json:"rf"`
	Jump  int     `json:"jump"`
	Start float64 `json:"start"`
}

// Summary is what torchinfo prints for a model and one input.
type Summary struct {
	Model  string      `json:"model"`
	Input  []int       `json:"input"`
	Params int64       `json:"params"`
	MACs   int64       `json:"macs"`
	Layers []LayerInfo `json:"layers"`
}

// Summarize infers every layer's output shape and counts parameters and
// MACs for one sample. Receptive fields follow the usual recurrence over
// windowed layers (kernel k, stride s, padding p):
//
//	rf' = rf + (k-1)*jump;  start' = start + ((k-1)/2 - p)*jump;  jump' = jump*s
//
// Layers without a window keep the previous values; after a Flatten or a
// linear layer every unit sees the whole input.
func Summarize(m *Model) (*Summary, error) {
	s := &Summary{Model: m.Name, Input: m.Input}
	shape := m.Input
	rf, jump, start := 1, 1, 0.0
	for _, l := range m.Net.Layers {
		in := shape
		var err error
		if shape, err = l.OutputShape(in); err != nil {
			return nil, err
		}
		row := LayerInfo{Name: l.Name(), Type: l.Type(), Output: shape}
		for _, p := range l.Params() {
			row.Params += int64(p.Value.Len())
		}
		if c, ok := l.(nn.Coster); ok {
			row.MACs = c.MACs(in)
		}
		var k, st, p int
		windowed := false
		if w, ok := l.(nn.Windowed); ok {
			k, st, p = w.Window()
			windowed = true
		} else if w, ok := l.(nn.InputWindowed); ok {
			k, st, p = w.WindowFor(in)
			windowed = true
		}
		if windowed && jump > 0 {
			start += (float64(k-1)/2 - float64(p)) * float64(jump)
			rf += (k - 1) * jump
			jump *= st
		}
		if len(shape) == 1 { // fully connected from here on
			rf, jump, start = max(m.Input[1], m.Input[2]), 0, float64(max(m.Input[1], m.Input[2])-1)/2
		}
		row.RF, row.Jump, row.Start = rf, jump, start
		s.Params += row.Params
		s.MACs += row.MACs
		s.Layers = append(s.Layers, row)
	}
	return s, nil
}

// Box is the receptive field of unit (y, x) of this layer in input pixels,
// clipped to an h×w input: the pixels that can influence the unit.
func (l LayerInfo) Box(y, x, h, w int) image.Rectangle {
	if len(l.Output) == 1 {
		return image.Rect(0, 0, w, h)
	}
	half := float64(l.RF-1) / 2
	cy, cx := l.Start+float64(y*l.Jump), l.Start+float64(x*l.Jump)
	lo := func(c float64) int { return int(math.Floor(c - half + 0.5)) }
	hi := func(c float64) int { return int(math.Floor(c+half+0.5)) + 1 }
	r := image.Rect(lo(cx), lo(cy), hi(cx), hi(cy))
	return r.Intersect(image.Rect(0, 0, w, h))
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
