package learn

// The MobileNet lesson: a depthwise separable convolution against a
// standard one, on the trained small MobileNet and the reader's picture,
// and the width and resolution multipliers' costs against the paper's
// Tables 6 and 7.

import (
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/convscope/convscope/arith"
	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/zoo"
)

// mobilenetModel is the lesson's trained network, and mobilenetBlock the
// separable block it takes apart: 128 channels in and out on 14x14 maps.
var (
	mobilenetModel = []string{"mobilenet-v1-small-fashion-mnist", "mobilenet_v1_small"}
	mobilenetBlock = "features.3"
)

// Alphas and Sides are the width multipliers and input sizes of Howard et
// al.'s Tables 6 and 7, the values the lesson's sliders take.
var (
	Alphas = []float64{1, 0.75, 0.5, 0.25}
	Sides  = []int{224, 192, 160, 128}
)

// PaperRow is one row of the MobileNet paper's Table 6 or 7 (Howard et
// al. 2017): the multipliers and the figures it prints, millions of
// multiply-adds and parameters and ImageNet top-1 accuracy.
type PaperRow struct {
	Alpha              float64
	Side               int
	Top1, MACs, Params float64
}

// Table6 varies the width multiplier; Table7 the resolution.
var (
	Table6 = []PaperRow{{1, 224, 70.6, 569, 4.2}, {0.75, 224, 68.4, 325, 2.6}, {0.5, 224, 63.7, 149, 1.3}, {0.25, 224, 50.6, 41, 0.5}}
	Table7 = []PaperRow{{1, 224, 70.6, 569, 4.2}, {1, 192, 69.1, 418, 4.2}, {1, 160, 67.2, 290, 4.2}, {1, 128, 64.4, 186, 4.2}}
)

// Cost is MobileNet v1's size at a width multiplier and input side, as
// the zoo builds it and zoo.Summarize counts it.
type Cost struct {
	Alpha  float64
	Side   int
	MACs   int64
	Params int64
}

var (
	costMu    sync.Mutex
	costCache = map[[2]int]Cost{}
)

// MobileNetCost builds MobileNet v1 at width alpha (one of Alphas) for a
// side×side colour picture and counts its multiply-adds and parameters
// (once per pair: the page asks again and again).
func MobileNetCost(alpha float64, side int) (Cost, error) {
	key := [2]int{int(alpha * 100), side}
	costMu.Lock()
	defer costMu.Unlock()
	if c, ok := costCache[key]; ok {
		return c, nil
	}
	suffix := map[float64]string{1: "", 0.75: "_075", 0.5: "_050", 0.25: "_025"}[alpha]
	if !slices.Contains(Alphas, alpha) || !slices.Contains(Sides, side) {
		return Cost{}, fmt.Errorf("MobileNet at width %g and side %d: not one of the paper's", alpha, side)
	}
	m, err := zoo.Build("mobilenet_v1"+suffix, []int{3, side, side}, 1000, 0)
	if err != nil {
		return Cost{}, err
	}
	s, err := zoo.Summarize(m)
	if err != nil {
		return Cost{}, err
	}
	c := Cost{Alpha: alpha, Side: side, MACs: s.MACs, Params: s.Params}
	costCache[key] = c
	return c, nil
}

// CostRow is a paper's row beside the zoo's count.
type CostRow struct {
	Paper PaperRow
	Cost  Cost
}

// MobileNetView is the MobileNet lesson's page.
type MobileNetView struct {
	Scene
	// Predicted and Prob are the network's answer.
	Predicted string
	Prob      float64
	// Block is the separable block taken apart: its input channels M,
	// output channels N, map side F and kernel K; Standard and Separable
	// their multiply-adds as one convolution and as depthwise plus
	// pointwise.
	Block                          string
	M, N, F, K                     int
	Standard, Depthwise, Pointwise int64
	// DW and PW explain the strongest unit of the depthwise layer's first
	// map, and the pointwise unit at the same place.
	DW, PW *arith.Unit
	// Alpha and Side are the reader's multipliers; Chosen their cost and
	// Base the full MobileNet-224's.
	Alpha          float64
	Side           int
	Chosen, Base   Cost
	Table6, Table7 []CostRow
}

func (h *Handler) mobilenetView(sample, alphaParam, sideParam string) (MobileNetView, error) {
	var v MobileNetView
	m, tr, err := h.open(&v.Scene, mobilenetModel, "MobileNet", sample)
	if err != nil {
		return v, err
	}
	defer h.models.Release(m)
	dwName, pwName := mobilenetBlock+".0", mobilenetBlock+".3"
	_, dw, ok := tr.Locate(dwName)
	_, pw, ok2 := tr.Locate(pwName)
	if !ok || !ok2 {
		return v, fmt.Errorf("%s has no separable block %s", m.Name, mobilenetBlock)
	}
	conv := dw.Layer.(*nn.Conv2d)
	v.Block, v.M, v.N, v.F, v.K = mobilenetBlock, conv.In, pw.Out.Shape[1], dw.Out.Shape[2], conv.Kernel
	f2 := int64(v.F * v.F)
	v.Standard = int64(v.K*v.K*v.M*v.N) * f2
	v.Depthwise, v.Pointwise = int64(v.K*v.K*v.M)*f2, int64(v.M*v.N)*f2
	// the strongest unit of the depthwise layer's first map
	y, x := strongest(dw.Out, 0)
	if v.DW, err = arith.Explain(dw, 0, 0, y, x); err != nil {
		return v, err
	}
	if v.PW, err = arith.Explain(pw, 0, 0, y, x); err != nil {
		return v, err
	}
	v.PW.Trim(16)
	// the multipliers
	v.Alpha, v.Side = 1, 224
	if a, err := strconv.ParseFloat(alphaParam, 64); err == nil && slices.Contains(Alphas, a) {
		v.Alpha = a
	}
	if s, err := strconv.Atoi(sideParam); err == nil && slices.Contains(Sides, s) {
		v.Side = s
	}
	if v.Chosen, err = MobileNetCost(v.Alpha, v.Side); err != nil {
		return v, err
	}
	if v.Base, err = MobileNetCost(1, 224); err != nil {
		return v, err
	}
	for _, t := range []struct {
		paper []PaperRow
		out   *[]CostRow
	}{{Table6, &v.Table6}, {Table7, &v.Table7}} {
		for _, p := range t.paper {
			c, err := MobileNetCost(p.Alpha, p.Side)
			if err != nil {
				return v, err
			}
			*t.out = append(*t.out, CostRow{p, c})
		}
	}
	return v, nil
}
