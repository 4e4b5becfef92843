package learn

// The VGG lesson: stacks of 3x3 convolutions against one larger kernel,
// counted by the engine's own summary, and two stacked 3x3 layers of the
// trained small VGG on the reader's picture.

import (
	"fmt"
	"strconv"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/zoo"
)

var (
	vggModel = []string{"vgg-small-fashion-mnist", "vgg_small"}
	// vggPair are two stacked 3x3 convolutions of vgg_small (7x7 maps).
	vggPair = [2]string{"features.8", "features.11"}
)

// Stack is a stack of n k×k convolutions of c channels on h×h maps, each
// followed by a ReLU, as zoo.Summarize counts it.
type Stack struct {
	N, K         int
	RF           int
	Params, MACs int64
}

// StackCost builds n k×k convolutions (c channels in and out, padding
// k/2, ReLU after each) on an h×h map and reads the receptive field,
// parameters and multiply-adds from the engine's summary.
func StackCost(n, k, c, h int) (Stack, error) {
	var ls []nn.Layer
	for i := range n {
		ls = append(ls, nn.NewConv2d(fmt.Sprintf("conv%d", i+1), c, c, k, 1, k/2, true), nn.NewReLU(fmt.Sprintf("relu%d", i+1)))
	}
	m := &zoo.Model{Name: "stack", Input: []int{c, h, h}, Classes: c, Net: &nn.Sequential{Layers: ls}}
	s, err := zoo.Summarize(m)
	if err != nil {
		return Stack{}, err
	}
	return Stack{N: n, K: k, RF: s.Layers[len(s.Layers)-1].RF, Params: s.Params, MACs: s.MACs}, nil
}

// Limits of the lesson's sliders.
const (
	vggMinC, vggMaxC = 16, 512
	vggMinH, vggMaxH = 7, 224
)

// VGGView is the VGG lesson's page.
type VGGView struct {
	Scene
	// C and H are the reader's channels and map side; Pairs compares two
	// 3x3 with one 5x5 and three 3x3 with one 7x7.
	C, H  int
	Pairs [][2]Stack
	// RF are the two stacked layers' fields over the strongest unit of
	// the second one's first map, drawn on the picture.
	RF   []RFRow
	Side int
}

func (h *Handler) vggView(sample, cParam, hParam string) (VGGView, error) {
	v := VGGView{C: 64, H: 56}
	if c, err := strconv.Atoi(cParam); err == nil {
		v.C = min(max(c, vggMinC), vggMaxC)
	}
	if s, err := strconv.Atoi(hParam); err == nil {
		v.H = min(max(s, vggMinH), vggMaxH)
	}
	for _, p := range [][2][2]int{{{2, 3}, {1, 5}}, {{3, 3}, {1, 7}}} {
		var pair [2]Stack
		for i, nk := range p {
			s, err := StackCost(nk[0], nk[1], v.C, v.H)
			if err != nil {
				return v, err
			}
			pair[i] = s
		}
		v.Pairs = append(v.Pairs, pair)
	}
	m, tr, err := h.open(&v.Scene, vggModel, "VGG", sample)
	if err != nil {
		return v, err
	}
	defer h.models.Release(m)
	_, second, ok := tr.Locate(vggPair[1])
	if !ok {
		return v, fmt.Errorf("%s has no layer %s", m.Name, vggPair[1])
	}
	uy, ux := strongest(second.Out, 0)
	v.Side = m.Input[1]
	for i, name := range vggPair {
		row, _, ok := m.Summary.Row(name)
		if !ok {
			return v, fmt.Errorf("%s has no layer %s", m.Name, name)
		}
		r := RFRow{Name: name, Type: row.Type, Maps: shape(row.Maps), RF: row.RF, Jump: row.Jump, Whole: row.Whole,
			Colour: basicsColours[2+2*i]}
		// the first layer's unit at the centre of the second's window
		r.Box = row.Box(uy, ux, v.Side, v.Side)
		v.RF = append(v.RF, r)
	}
	return v, nil
}
