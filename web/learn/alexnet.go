package learn

// The AlexNet lesson: ReLU against tanh on the trained AlexNet-small's
// first maps, local response normalisation on a unit of the trained
// ZFNet-small (AlexNet-small has none), overlapping pooling's shared
// windows, and dropout's different answers in training and at test.

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/convscope/convscope/arith"
	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/web/catalog"
)

var (
	alexnetModel = []string{"alexnet-small-fashion-mnist", "alexnet_small"}
	// alexnetConv and alexnetPool are AlexNet-small's first convolution
	// and its first (overlapping, 3x3 stride 2) max pool.
	alexnetConv, alexnetPool = "features.0", "features.2"
	// lrnLayer is the trained ZFNet-small's first normalisation.
	lrnLayer = "features.3"
)

// Activations compares ReLU and tanh on one map's pre-activations.
type Activations struct {
	Units int
	// ReLUZero is the share of units ReLU sets to zero; ReLUSlope the
	// share where its slope is 1 (the rest have 0).
	ReLUZero float64
	// TanhSaturated is the share of units where tanh's slope is under
	// 0.1 (|x| > 1.82); TanhSlope its mean slope 1 − tanh²(x).
	TanhSaturated, TanhSlope float64
}

// DropoutRun is one forward pass in training mode, with its own mask.
type DropoutRun struct {
	Seed uint64
	// Dropped of NonZero inputs were set to zero by the mask.
	Dropped, NonZero int
	Predicted        string
	Prob             float64
}

// AlexNetView is the AlexNet lesson's page.
type AlexNetView struct {
	Scene
	Act Activations
	// LRN explains a unit of ZFNet-small's first LRN; LRNModel names it.
	LRN      *arith.Unit
	LRNModel string
	// Pool and Next are two neighbouring units of the overlapping pool:
	// their windows share a column. Shared counts the inputs in both.
	Pool, Next *arith.Unit
	Shared     int
	// Dropout are training-mode passes; Units is the layer's width.
	Dropout []DropoutRun
	Units   int
}

func (h *Handler) alexnetView(sample string) (AlexNetView, error) {
	var v AlexNetView
	m, tr, err := h.open(&v.Scene, alexnetModel, "AlexNet", sample)
	if err != nil {
		return v, err
	}
	defer h.models.Release(m)
	_, conv, ok := tr.Locate(alexnetConv)
	if !ok {
		return v, fmt.Errorf("%s has no layer %s", m.Name, alexnetConv)
	}
	for _, x := range conv.Out.Data {
		t := math.Tanh(float64(x))
		slope := 1 - t*t
		v.Act.Units++
		if x <= 0 {
			v.Act.ReLUZero++
		}
		if slope < 0.1 {
			v.Act.TanhSaturated++
		}
		v.Act.TanhSlope += slope
	}
	n := float64(v.Act.Units)
	v.Act.ReLUZero, v.Act.TanhSaturated, v.Act.TanhSlope = v.Act.ReLUZero/n, v.Act.TanhSaturated/n, v.Act.TanhSlope/n
	// two neighbouring units of the overlapping pool, around its centre
	_, pool, ok := tr.Locate(alexnetPool)
	if !ok {
		return v, fmt.Errorf("%s has no layer %s", m.Name, alexnetPool)
	}
	py, px := pool.Out.Shape[2]/2, pool.Out.Shape[3]/2-1
	if v.Pool, err = arith.Explain(pool, 0, 0, py, px); err != nil {
		return v, err
	}
	if v.Next, err = arith.Explain(pool, 0, 0, py, px+1); err != nil {
		return v, err
	}
	for _, a := range v.Pool.Terms {
		for _, b := range v.Next.Terms {
			if a.Y == b.Y && a.X == b.X {
				v.Shared++
			}
		}
	}
	// dropout: the classifier in training mode, five masks
	for seed := uint64(1); seed <= 5; seed++ {
		ctx := &nn.Context{Train: true, Rand: rand.New(rand.NewPCG(seed, 0xd0))}
		x := tr.Steps[0].In
		t2, err := m.Net.Net.Forward(x, ctx, nil)
		if err != nil {
			return v, err
		}
		run := DropoutRun{Seed: seed}
		run.Predicted, run.Prob = predicted(t2, m.Classes)
		for _, st := range t2.Steps {
			if st.Layer.Type() == "Dropout" && run.Dropped == 0 {
				v.Units = len(st.Out.Data)
				for i, y := range st.Out.Data {
					if st.In.Data[i] != 0 {
						run.NonZero++
						if y == 0 {
							run.Dropped++
						}
					}
				}
			}
		}
		v.Dropout = append(v.Dropout, run)
	}
	// LRN, on the trained ZFNet-small (AlexNet-small has none)
	var z *catalog.Model
	for _, name := range zfnetModel {
		if z, err = h.models.Open(name); err == nil {
			break
		}
	}
	if err != nil {
		return v, fmt.Errorf("this server has no ZFNet to show LRN with: %v", err)
	}
	defer h.models.Release(z)
	var zs Scene
	ztr, err := h.runSample(z, v.Sample, &zs)
	if err != nil {
		return v, err
	}
	_, norm, ok := ztr.Locate(lrnLayer)
	if !ok {
		return v, fmt.Errorf("%s has no layer %s", z.Name, lrnLayer)
	}
	y, x := strongest(norm.In, 2) // map 2's strongest input
	v.LRNModel = z.Name
	v.LRN, err = arith.Explain(norm, 0, 2, y, x)
	return v, err
}
