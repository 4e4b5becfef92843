package nn

import "math"

// elementwise is the shared shape of activations: any input shape, output alike.
type elementwise struct{ base }

// OutputShape is the identity.
func (elementwise) OutputShape(in []int) ([]int, error) { return append([]int(nil), in...), nil }

// ReLU is y = max(x, 0). Its backward is where the rules differ:
//
//	Gradient:  dx = dy * 1[x > 0]
//	Deconvnet: dx = max(dy, 0)              (Zeiler & Fergus' "ReLU inversion")
//	Guided:    dx = max(dy, 0) * 1[x > 0]
type ReLU struct{ elementwise }

// NewReLU makes a ReLU layer.
func NewReLU(name string) *ReLU { return &ReLU{elementwise{base{name}}} }

// Type is "ReLU".
func (*ReLU) Type() string { return "ReLU" }

// Forward rectifies x.
func (r *ReLU) Forward(x *Tensor, _ *Context) (*Tensor, any, error) {
	y := New(x.Shape...)
	for i, v := range x.Data {
		if v > 0 {
			y.Data[i] = v
		}
	}
	return y, nil, nil
}

// Backward applies the rule (see the type's comment); y > 0 iff x > 0.
func (r *ReLU) Backward(dy *Tensor, st *Step, rule Rule, _ Grads) (*Tensor, error) {
	if err := checkDy(r, dy, st); err != nil {
		return nil, err
	}
	dx := New(dy.Shape...)
	for i, d := range dy.Data {
		open := st.Out.Data[i] > 0
		switch rule {
		case Gradient:
			if open {
				dx.Data[i] = d
			}
		case Deconvnet:
			dx.Data[i] = max(d, 0)
		case Guided:
			if open {
				dx.Data[i] = max(d, 0)
			}
		}
	}
	return dx, nil
}

// Tanh is y = tanh(x), LeNet-5's squashing function.
//
//	Gradient:  dx = dy * (1 - y²)
//	Deconvnet: dx = dy. Zeiler & Fergus define the inversion for ReLU only;
//	           tanh rectifies nothing and keeps the sign, so the
//	           reconstruction passes through it unchanged.
//	Guided:    dx = max(dy, 0) * (1 - y²)
type Tanh struct{ elementwise }

// NewTanh makes a Tanh layer.
func NewTanh(name string) *Tanh { return &Tanh{elementwise{base{name}}} }

// Type is "Tanh".
func (*Tanh) Type() string { return "Tanh" }

// Forward squashes x.
func (t *Tanh) Forward(x *Tensor, _ *Context) (*Tensor, any, error) {
	y := New(x.Shape...)
	for i, v := range x.Data {
		y.Data[i] = float32(math.Tanh(float64(v)))
	}
	return y, nil, nil
}

// Backward applies the rule (see the type's comment).
func (t *Tanh) Backward(dy *Tensor, st *Step, rule Rule, _ Grads) (*Tensor, error) {
	if err := checkDy(t, dy, st); err != nil {
		return nil, err
	}
	dx := New(dy.Shape...)
	for i, d := range dy.Data {
		y := st.Out.Data[i]
		switch rule {
		case Gradient:
			dx.Data[i] = d * (1 - y*y)
		case Deconvnet:
			dx.Data[i] = d
		case Guided:
			dx.Data[i] = max(d, 0) * (1 - y*y)
		}
	}
	return dx, nil
}
