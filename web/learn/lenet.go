package learn

// The LeNet lesson: the 1998 network's C3 connection table and trainable
// subsampling, read from the zoo's lenet5_1998, against today's
// simplified LeNet-5, whose trained C3 reads every S2 map.

import (
	"fmt"
	"math"
	"sync"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/zoo"
)

// LayerPair is one layer's parameters in the 1998 network and in today's.
type LayerPair struct {
	Name                string
	Type1998, TypeToday string
	Params1998, Today   int64
}

// LeNetView is the LeNet lesson's page.
type LeNetView struct {
	Scene
	// Table[o][i] says the 1998 C3 map o reads S2 map i (from the
	// model's own branches).
	Table [][]bool
	// Layers compare the two networks' parameters layer by layer.
	Layers         []LayerPair
	Total1998, Now int64
	// Norms[o][i] is the L2 norm of the trained LeNet-5's C3 filter o on
	// S2 map i: how much of each map it uses; Max the largest.
	Norms [][]float64
	Max   float64
}

var (
	lenetOnce  sync.Once
	lenetTable [][]bool
	lenetPairs []LayerPair
	lenetTotal [2]int64
	lenetErr   error
)

// lenet1998 reads the connection table and the parameter counts from the
// zoo's two LeNets (once).
func lenet1998() ([][]bool, []LayerPair, [2]int64, error) {
	lenetOnce.Do(func() {
		old, err := zoo.Build("lenet5_1998", nil, 0, 0)
		if err != nil {
			lenetErr = err
			return
		}
		now, err := zoo.Build("lenet5", nil, 0, 0)
		if err != nil {
			lenetErr = err
			return
		}
		for _, l := range old.Net.Layers {
			cat, ok := l.(*nn.Concat)
			if !ok || l.Name() != "c3" {
				continue
			}
			for _, b := range cat.Branches {
				row := make([]bool, 6)
				for _, part := range b.Layers {
					if sel, ok := part.(*nn.SelectChannels); ok {
						for _, c := range sel.Channels {
							row[c] = true
						}
					}
				}
				lenetTable = append(lenetTable, row)
			}
		}
		so, err := zoo.Summarize(old)
		if err != nil {
			lenetErr = err
			return
		}
		sn, err := zoo.Summarize(now)
		if err != nil {
			lenetErr = err
			return
		}
		for _, l := range so.Top() {
			if l.Params == 0 && l.Type != "Subsample" {
				continue
			}
			p := LayerPair{Name: l.Name, Type1998: l.Type, Params1998: l.Params}
			if r, _, ok := sn.Row(l.Name); ok {
				p.TypeToday, p.Today = r.Type, r.Params
			}
			lenetPairs = append(lenetPairs, p)
		}
		lenetTotal = [2]int64{so.Params, sn.Params}
	})
	return lenetTable, lenetPairs, lenetTotal, lenetErr
}

func (h *Handler) lenetView(sample string) (LeNetView, error) {
	var v LeNetView
	var totals [2]int64
	var err error
	if v.Table, v.Layers, totals, err = lenet1998(); err != nil {
		return v, err
	}
	v.Total1998, v.Now = totals[0], totals[1]
	m, tr, err := h.open(&v.Scene, basicsModel, "LeNet-5", sample)
	if err != nil {
		return v, err
	}
	defer h.models.Release(m)
	_, c3, ok := tr.Locate("c3")
	conv, isConv := c3.Layer.(*nn.Conv2d)
	if !ok || !isConv {
		return v, fmt.Errorf("%s has no convolution c3", m.Name)
	}
	w, k := conv.Weight.Value.Data, conv.Kernel
	for o := range conv.Out {
		row := make([]float64, conv.In)
		for i := range conv.In {
			s := 0.0
			for _, a := range w[(o*conv.In+i)*k*k : (o*conv.In+i+1)*k*k] {
				s += float64(a) * float64(a)
			}
			row[i] = math.Sqrt(s)
			v.Max = math.Max(v.Max, row[i])
		}
		v.Norms = append(v.Norms, row)
	}
	return v, nil
}
