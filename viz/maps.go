package viz

import (
	"fmt"
	"math"

	"github.com/convscope/convscope/nn"
)

// Maps is one sample's layer output quantised to 8 bits with one scale shared
// by all its channels, so that tiles can be compared by eye. A vector output
// (F) is stored as F channels of 1×1.
type Maps struct {
	C, H, W  int
	Min, Max float32
	// Pixels holds C*H*W bytes in CHW order: round(255*(v-Min)/(Max-Min)).
	Pixels []uint8
}

// Quantize maps one sample, shaped (1,C,H,W), (C,H,W), (1,F) or (F), to Maps.
// A constant layer maps to all zeros with Min == Max.
func Quantize(t *nn.Tensor) (Maps, error) {
	s := t.Shape
	if len(s) == 4 || len(s) == 2 {
		if s[0] != 1 {
			return Maps{}, fmt.Errorf("viz: quantize wants one sample, got shape %s", nn.ShapeString(s))
		}
		s = s[1:]
	}
	var m Maps
	switch len(s) {
	case 3:
		m.C, m.H, m.W = s[0], s[1], s[2]
	case 1:
		m.C, m.H, m.W = s[0], 1, 1
	default:
		return Maps{}, fmt.Errorf("viz: cannot tile shape %s", nn.ShapeString(t.Shape))
	}
	m.Min, m.Max = float32(math.Inf(1)), float32(math.Inf(-1))
	for _, v := range t.Data {
		m.Min, m.Max = min(m.Min, v), max(m.Max, v)
	}
	m.Pixels = make([]uint8, len(t.Data))
	if span := m.Max - m.Min; span > 0 {
		for i, v := range t.Data {
			m.Pixels[i] = uint8(math.Round(float64(255 * (v - m.Min) / span)))
		}
	}
	return m, nil
}

// Value is the activation that byte b stands for (for legends).
func (m Maps) Value(b uint8) float32 { return m.Min + (m.Max-m.Min)*float32(b)/255 }

// Channel returns channel c's H*W bytes.
func (m Maps) Channel(c int) []uint8 { return m.Pixels[c*m.H*m.W : (c+1)*m.H*m.W] }

// Shrink returns maps no larger than side on either axis: each shrunk
// pixel is the largest byte of its s×s block, s = ceil(max(H,W)/side), so
// a sparse activation stays visible (a page showing VGG-16's 224×224 maps
// as tiles never draws more than this anyway). Maps already small enough
// come back as they are.
func (m Maps) Shrink(side int) Maps {
	s := (max(m.H, m.W) + side - 1) / side
	if s <= 1 {
		return m
	}
	h, w := (m.H+s-1)/s, (m.W+s-1)/s
	out := Maps{C: m.C, H: h, W: w, Min: m.Min, Max: m.Max, Pixels: make([]uint8, m.C*h*w)}
	for c := 0; c < m.C; c++ {
		in, dst := m.Channel(c), out.Pixels[c*h*w:(c+1)*h*w]
		for y := 0; y < m.H; y++ {
			row, src := dst[(y/s)*w:(y/s+1)*w], in[y*m.W:(y+1)*m.W]
			for x, v := range src {
				row[x/s] = max(row[x/s], v)
			}
		}
	}
	return out
}
