package learn

// The GoogLeNet lesson: an Inception module's four branches and what the
// 1x1 reductions save, counted by the engine's summary for the reader's
// sizes; and the four branches' maps of the trained small GoogLeNet on
// the reader's picture.

import (
	"fmt"
	"strconv"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/viz"
	"github.com/convscope/convscope/zoo"
)

var (
	googlenetModel  = []string{"googlenet-small-fashion-mnist", "googlenet_small"}
	googlenetModule = "inception3a"
)

// Module is an Inception module's sizes, named as in the paper's Table 1:
// In channels on H×H maps; #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5 and
// pool proj filters.
type Module struct {
	In, H                          int
	C1, C3r, C3, C5r, C5, PoolProj int
}

// Inception3a is the paper's inception (3a), the form's default.
var Inception3a = Module{In: 192, H: 28, C1: 64, C3r: 96, C3: 128, C5r: 16, C5: 32, PoolProj: 32}

// fields are the module's sizes in the form's order, with their query
// names and limits.
func (m *Module) fields() []struct {
	name     string
	v        *int
	min, max int
} {
	return []struct {
		name     string
		v        *int
		min, max int
	}{{"in", &m.In, 1, 1024}, {"h", &m.H, 1, 112}, {"c1", &m.C1, 0, 1024}, {"c3r", &m.C3r, 1, 1024}, {"c3", &m.C3, 1, 1024},
		{"c5r", &m.C5r, 1, 1024}, {"c5", &m.C5, 1, 1024}, {"pool", &m.PoolProj, 1, 1024}}
}

// ModuleCost is one form of the module as the engine's summary counts it.
type ModuleCost struct {
	Out          int
	Params, MACs int64
}

// convReLU is a convolution with bias and its ReLU (the paper's module has
// no batch norm).
func convReLU(name string, in, out, k int) []nn.Layer {
	return []nn.Layer{nn.NewConv2d(name+".conv", in, out, k, 1, k/2, true), nn.NewReLU(name + ".relu")}
}

// Costs builds the module with its 1x1 reductions (as GoogLeNet does) and
// without them (the naive module: 3x3 and 5x5 straight on the input, the
// pooled input passed on whole), and counts both.
func (m Module) Costs() (reduced, naive ModuleCost, err error) {
	pool := func(name string) nn.Layer {
		return nn.NewMaxPool(name, nn.PoolConfig{Kernel: 3, Stride: 1, Padding: 1})
	}
	var branches []*nn.Chain
	if m.C1 > 0 {
		branches = append(branches, nn.NewChain("b1", convReLU("b1", m.In, m.C1, 1)...))
	}
	withRed := append(branches,
		nn.NewChain("b2", append(convReLU("b2.0", m.In, m.C3r, 1), convReLU("b2.1", m.C3r, m.C3, 3)...)...),
		nn.NewChain("b3", append(convReLU("b3.0", m.In, m.C5r, 1), convReLU("b3.1", m.C5r, m.C5, 5)...)...),
		nn.NewChain("b4", append([]nn.Layer{pool("b4.0")}, convReLU("b4.1", m.In, m.PoolProj, 1)...)...))
	naiveBranches := append(append([]*nn.Chain(nil), branches...),
		nn.NewChain("b2", convReLU("b2", m.In, m.C3, 3)...),
		nn.NewChain("b3", convReLU("b3", m.In, m.C5, 5)...),
		nn.NewChain("b4", pool("b4")))
	count := func(bs []*nn.Chain) (ModuleCost, error) {
		mod := &zoo.Model{Name: "inception", Input: []int{m.In, m.H, m.H}, Classes: 1, Net: &nn.Sequential{Layers: []nn.Layer{nn.NewConcat("module", bs...)}}}
		s, err := zoo.Summarize(mod)
		if err != nil {
			return ModuleCost{}, err
		}
		return ModuleCost{Out: s.Layers[0].Output[0], Params: s.Params, MACs: s.MACs}, nil
	}
	if reduced, err = count(withRed); err != nil {
		return
	}
	naive, err = count(naiveBranches)
	return
}

// Branch is one branch's maps in the trained network.
type Branch struct {
	Name     string
	Channels int
	Maps     Picture
	// Ref lets a click on Maps ask how a unit was computed.
	Ref MapRef
}

// branchRefs are the branches' maps, for their unitPanel.
func branchRefs(bs []Branch) []MapRef {
	out := make([]MapRef, len(bs))
	for i, b := range bs {
		out[i] = b.Ref
	}
	return out
}

// GoogLeNetView is the GoogLeNet lesson's page.
type GoogLeNetView struct {
	Scene
	Module         Module
	Reduced, Naive ModuleCost
	// Live is the trained module; Branches its four branches' outputs.
	Live     string
	Branches []Branch
}

func (h *Handler) googlenetView(sample string, q map[string][]string) (GoogLeNetView, error) {
	v := GoogLeNetView{Module: Inception3a, Live: googlenetModule}
	for _, f := range v.Module.fields() {
		if vals := q[f.name]; len(vals) > 0 {
			if n, err := strconv.Atoi(vals[0]); err == nil {
				*f.v = min(max(n, f.min), f.max)
			}
		}
	}
	var err error
	if v.Reduced, v.Naive, err = v.Module.Costs(); err != nil {
		return v, err
	}
	m, tr, err := h.open(&v.Scene, googlenetModel, "GoogLeNet", sample)
	if err != nil {
		return v, err
	}
	defer h.models.Release(m)
	// each branch's last layer (its output's ReLU)
	for i, last := range []string{"branch1.relu", "branch2.1.relu", "branch3.1.relu", "branch4.1.relu"} {
		name := googlenetModule + "." + last
		_, st, ok := tr.Locate(name)
		if !ok {
			return v, fmt.Errorf("%s has no branch %s", m.Name, name)
		}
		maps, err := viz.Quantize(st.Out)
		if err != nil {
			return v, err
		}
		cols := min(maps.C, 8)
		pic, err := picture(maps.Grid(&viz.Viridis, 1, cols), 3)
		if err != nil {
			return v, err
		}
		ref := MapRef{Model: m.Name, Sample: v.Sample, Layer: name, Channels: maps.C, Cols: cols, H: maps.H, W: maps.W, Scale: 3}
		v.Branches = append(v.Branches, Branch{Name: fmt.Sprintf("%s.branch%d", googlenetModule, i+1), Channels: maps.C, Maps: pic, Ref: ref})
	}
	return v, nil
}
