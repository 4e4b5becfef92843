package nn

import "fmt"

// Subsample is LeNet-5's trainable subsampling layer (S2, S4 of LeCun et
// al. 1998): each map's k×k windows (stride k) are summed, then scaled by a
// learned coefficient and shifted by a learned bias, one pair per map:
//
//	y[n,c,oy,ox] = w[c] * sum_{ky,kx} x[n,c,oy*k+ky,ox*k+kx] + b[c]
//
// The paper follows it with its squashing function (NewLeCunTanh).
type Subsample struct {
	base
	Channels, Kernel int
	Weight, Bias     *Param
}

// NewSubsample makes a trainable subsampling layer with w = 1/k² (an
// average) and b = 0.
func NewSubsample(name string, channels, kernel int) *Subsample {
	s := &Subsample{base: base{name}, Channels: channels, Kernel: kernel,
		Weight: &Param{Name: name + ".weight", Value: New(channels)},
		Bias:   &Param{Name: name + ".bias", Value: New(channels), NoDecay: true}}
	fill(s.Weight.Value.Data, 1/float32(kernel*kernel))
	return s
}

// Type is "Subsample".
func (s *Subsample) Type() string { return "Subsample" }

// Params are the coefficient and the bias of each map.
func (s *Subsample) Params() []*Param { return []*Param{s.Weight, s.Bias} }

// Window is (k, k, 0).
func (s *Subsample) Window() (int, int, int) { return s.Kernel, s.Kernel, 0 }

// MACs is one per input pixel used.
func (s *Subsample) MACs(in []int) int64 {
	return int64(in[0]) * int64(in[1]/s.Kernel*s.Kernel) * int64(in[2]/s.Kernel*s.Kernel)
}

// OutputShape maps (C,H,W) to (C,H/k,W/k).
func (s *Subsample) OutputShape(in []int) ([]int, error) {
	if len(in) != 3 || in[0] != s.Channels || in[1] < s.Kernel || in[2] < s.Kernel {
		return nil, shapeError(s, fmt.Sprintf("(%d,H,W) with H,W >= %d", s.Channels, s.Kernel), in)
	}
	return []int{in[0], in[1] / s.Kernel, in[2] / s.Kernel}, nil
}

// each calls fn(input index, output index, channel) for every window tap.
func (s *Subsample) each(n, h, w int, fn func(i, o, c int)) {
	oh, ow := h/s.Kernel, w/s.Kernel
	for b := 0; b < n; b++ {
		for c := 0; c < s.Channels; c++ {
			pl := b*s.Channels + c
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					o := (pl*oh+oy)*ow + ox
					for ky := 0; ky < s.Kernel; ky++ {
						for kx := 0; kx < s.Kernel; kx++ {
							fn((pl*h+oy*s.Kernel+ky)*w+ox*s.Kernel+kx, o, c)
						}
					}
				}
			}
		}
	}
}

// Forward sums each window and applies the map's coefficient and bias.
func (s *Subsample) Forward(x *Tensor, _ *Context) (*Tensor, any, error) {
	if len(x.Shape) != 4 {
		return nil, nil, shapeError(s, fmt.Sprintf("(N,%d,H,W)", s.Channels), x.Shape)
	}
	out, err := s.OutputShape(x.Shape[1:])
	if err != nil {
		return nil, nil, shapeError(s, fmt.Sprintf("(N,%d,H,W)", s.Channels), x.Shape)
	}
	sums := New(x.Shape[0], out[0], out[1], out[2])
	s.each(x.Shape[0], x.Shape[2], x.Shape[3], func(i, o, _ int) { sums.Data[o] += x.Data[i] })
	y := New(sums.Shape...)
	plane := out[1] * out[2]
	for o, v := range sums.Data {
		c := (o / plane) % s.Channels
		y.Data[o] = s.Weight.Value.Data[c]*v + s.Bias.Value.Data[c]
	}
	return y, sums, nil
}

// Backward (every rule): dx[tap] = w[c]*dy, dw[c] += dy*sum, db[c] += dy.
func (s *Subsample) Backward(dy *Tensor, st *Step, _ Rule, g Grads) (*Tensor, error) {
	if err := checkDy(s, dy, st); err != nil {
		return nil, err
	}
	if g != nil {
		sums := st.Saved.(*Tensor)
		dw, db := g.For(s.Weight).Data, g.For(s.Bias).Data
		plane := dy.Shape[2] * dy.Shape[3]
		for o, d := range dy.Data {
			c := (o / plane) % s.Channels
			dw[c] += d * sums.Data[o]
			db[c] += d
		}
	}
	dx := New(st.In.Shape...)
	s.each(st.In.Shape[0], st.In.Shape[2], st.In.Shape[3], func(i, o, c int) { dx.Data[i] = s.Weight.Value.Data[c] * dy.Data[o] })
	return dx, nil
}

// SelectChannels keeps the listed input channels, in order: the wiring of
// a sparse connection table such as LeNet-5's C3, where each output map sees
// only some input maps.
type SelectChannels struct {
	base
	In       int
	Channels []int
}

// NewSelectChannels keeps channels of an in-channel input.
func NewSelectChannels(name string, in int, channels ...int) *SelectChannels {
	return &SelectChannels{base{name}, in, channels}
}

// Type is "SelectChannels".
func (s *SelectChannels) Type() string { return "SelectChannels" }

// OutputShape maps (In,H,W) to (len(Channels),H,W).
func (s *SelectChannels) OutputShape(in []int) ([]int, error) {
	if len(in) != 3 || in[0] != s.In {
		return nil, shapeError(s, fmt.Sprintf("(%d,H,W)", s.In), in)
	}
	return []int{len(s.Channels), in[1], in[2]}, nil
}

// Forward copies the chosen channel planes.
func (s *SelectChannels) Forward(x *Tensor, _ *Context) (*Tensor, any, error) {
	if len(x.Shape) != 4 || x.Shape[1] != s.In {
		return nil, nil, shapeError(s, fmt.Sprintf("(N,%d,H,W)", s.In), x.Shape)
	}
	n, hw := x.Shape[0], x.Shape[2]*x.Shape[3]
	y := New(n, len(s.Channels), x.Shape[2], x.Shape[3])
	for b := 0; b < n; b++ {
		for j, c := range s.Channels {
			copy(y.Data[(b*len(s.Channels)+j)*hw:(b*len(s.Channels)+j+1)*hw], x.Data[(b*s.In+c)*hw:(b*s.In+c+1)*hw])
		}
	}
	return y, nil, nil
}

// Backward adds each selected plane's signal back to its channel (every rule).
func (s *SelectChannels) Backward(dy *Tensor, st *Step, _ Rule, _ Grads) (*Tensor, error) {
	if err := checkDy(s, dy, st); err != nil {
		return nil, err
	}
	n, hw := dy.Shape[0], dy.Shape[2]*dy.Shape[3]
	dx := New(st.In.Shape...)
	for b := 0; b < n; b++ {
		for j, c := range s.Channels {
			src := dy.Data[(b*len(s.Channels)+j)*hw : (b*len(s.Channels)+j+1)*hw]
			dst := dx.Data[(b*s.In+c)*hw : (b*s.In+c+1)*hw]
			for i, v := range src {
				dst[i] += v
			}
		}
	}
	return dx, nil
}
