package experiment

import (
	"context"
	"fmt"
	"math"
	"math/cmplx"

	"github.com/convscope/convscope/nn"
)

// FaintShare is the share of a layer's largest filter norm under which a
// filter is called faint.
const FaintShare = 0.05

// Filter is one convolution filter as Figure 6 judges it.
type Filter struct {
	Index int `json:"index"`
	// Norm is the filter's L2 norm (all its input channels).
	Norm float64 `json:"norm"`
	// HighFrequency is the fraction of the filter's energy (its kernels'
	// squared DFT magnitudes, DC included) at frequencies above half the
	// Nyquist limit: more than a quarter cycle per pixel along either
	// axis. Zeiler & Fergus saw AlexNet's 11x11 stride-4 first layer hold
	// much of its energy there (aliasing) and little in between.
	HighFrequency float64 `json:"highFrequency"`
	// Faint says the filter's norm is under 5% of the layer's largest:
	// it has all but vanished.
	Faint bool `json:"faint"`
	// Dead says the filter's output is never positive on the sample of
	// images given (Filters' sample): after a rectifier it is always zero.
	// False when no sample was given.
	Dead bool `json:"dead"`
	// Peak is the filter's largest output over the sample (0 without one).
	Peak float32 `json:"peak,omitempty"`
}

// LayerFilters are one convolution's filters.
type LayerFilters struct {
	Layer string `json:"layer"`
	// Shape is the weight's (out, in/groups, k, k).
	Shape  []int `json:"shape"`
	Stride int   `json:"stride"`
	// Min and Max are the weights' range: the shared scale of its figure.
	Min     float32  `json:"min"`
	Max     float32  `json:"max"`
	Filters []Filter `json:"filters"`
	// Dead and Faint count those filters; HighFrequency is the mean of the
	// filters' fractions.
	Dead          int     `json:"dead"`
	Faint         int     `json:"faint"`
	HighFrequency float64 `json:"highFrequency"`
	// Sampled is the number of images the dead filters were judged on.
	Sampled int `json:"sampled"`
	// weight is the layer's weight tensor, for drawing.
	weight *nn.Tensor
}

// Weight is the layer's weight tensor (shared, not to be changed).
func (l LayerFilters) Weight() *nn.Tensor { return l.weight }

// Convolutions lists the names of net's Conv2d layers, at any depth, in
// the order they run.
func Convolutions(net *nn.Sequential) []string {
	var out []string
	nn.Walk(net.Layers, func(l nn.Layer) {
		if _, ok := l.(*nn.Conv2d); ok {
			out = append(out, l.Name())
		}
	})
	return out
}

// Filters describes the filters of the convolution called name. When
// sample is not nil, its images run through the network to that layer and
// a filter whose output is never positive on any of them is dead.
func Filters(ctx context.Context, net *nn.Sequential, name string, sample Images) (*LayerFilters, error) {
	var conv *nn.Conv2d
	nn.Walk(net.Layers, func(l nn.Layer) {
		if c, ok := l.(*nn.Conv2d); ok && l.Name() == name {
			conv = c
		}
	})
	if conv == nil {
		return nil, fmt.Errorf("no convolution %q in this network", name)
	}
	w := conv.Weight.Value
	out, per := w.Shape[0], nn.Numel(w.Shape[1:])
	k := w.Shape[2]
	_, stride, _ := conv.Window()
	lf := &LayerFilters{Layer: name, Shape: append([]int(nil), w.Shape...), Stride: stride, Filters: make([]Filter, out), weight: w}
	lf.Min, lf.Max = float32(math.Inf(1)), float32(math.Inf(-1))
	for _, v := range w.Data {
		lf.Min, lf.Max = min(lf.Min, v), max(lf.Max, v)
	}
	var largest float64
	for o := range out {
		f := w.Data[o*per : (o+1)*per]
		var sq float64
		for _, v := range f {
			sq += float64(v) * float64(v)
		}
		lf.Filters[o] = Filter{Index: o, Norm: math.Sqrt(sq), HighFrequency: highFrequency(f, k)}
		largest = max(largest, lf.Filters[o].Norm)
		lf.HighFrequency += lf.Filters[o].HighFrequency / float64(out)
	}
	for o := range lf.Filters {
		if lf.Filters[o].Norm < FaintShare*largest {
			lf.Filters[o].Faint = true
			lf.Faint++
		}
	}
	if sample != nil {
		if err := judgeDead(ctx, net, name, sample, lf); err != nil {
			return nil, err
		}
	}
	return lf, nil
}

// highFrequency is the fraction of the energy of kernels (each k×k, one
// after the other) at frequencies above a quarter cycle per pixel along
// either axis.
func highFrequency(kernels []float32, k int) float64 {
	var high, total float64
	for at := 0; at+k*k <= len(kernels); at += k * k {
		ker := kernels[at : at+k*k]
		for u := range k {
			for v := range k {
				var s complex128
				for y := range k {
					for x := range k {
						phase := -2 * math.Pi * (float64(u*y)/float64(k) + float64(v*x)/float64(k))
						s += complex(float64(ker[y*k+x]), 0) * cmplx.Exp(complex(0, phase))
					}
				}
				e := real(s)*real(s) + imag(s)*imag(s)
				total += e
				if freq(u, k) > 0.25 || freq(v, k) > 0.25 {
					high += e
				}
			}
		}
	}
	if total == 0 {
		return 0
	}
	return high / total
}

// freq is DFT index u of k in cycles per pixel, folded to [0, 0.5].
func freq(u, k int) float64 {
	f := float64(u) / float64(k)
	if f > 0.5 {
		f = 1 - f
	}
	return f
}

// judgeDead runs sample to the layer and marks the filters whose output
// never exceeds zero.
func judgeDead(ctx context.Context, net *nn.Sequential, name string, sample Images, lf *LayerFilters) error {
	n := sample.Len()
	per := nn.Numel(sample.Shape())
	peaks := make([]float32, len(lf.Filters))
	for i := range peaks {
		peaks[i] = float32(math.Inf(-1))
	}
	arena := nn.NewArena()
	var slicer nn.Slicer
	for from := 0; from < n; from += 128 {
		if err := ctx.Err(); err != nil {
			return err
		}
		to := min(n, from+128)
		arena.Reset()
		x := arena.Uninit(append([]int{to - from}, sample.Shape()...)...)
		for i := from; i < to; i++ {
			sample.Fill(i, x.Data[(i-from)*per:(i-from+1)*per])
		}
		y, err := slicer.Run(x, arena, func(x *nn.Tensor, a *nn.Arena) (*nn.Tensor, error) {
			return Reach(net, x, name, &nn.Context{Arena: a, Fuse: true, InPlace: true, Keep: name})
		})
		if err != nil {
			return err
		}
		p, err := planesOf(y, name, false)
		if err != nil {
			return err
		}
		p.strongest(func(_, c, _, _ int, v float32) { peaks[c] = max(peaks[c], v) })
	}
	lf.Sampled = n
	for o := range lf.Filters {
		lf.Filters[o].Peak = peaks[o]
		if peaks[o] <= 0 {
			lf.Filters[o].Dead = true
			lf.Dead++
		}
	}
	return nil
}
