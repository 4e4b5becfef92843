package nn

import (
	"fmt"
	"math"
)

// poolShape is the output shape of a k×k window with stride s and padding p
// (floor mode, as PyTorch's default ceil_mode=False).
func poolShape(l Layer, in []int, k, s, p int) ([]int, error) {
	if len(in) != 3 || in[1]+2*p < k || in[2]+2*p < k {
		return nil, shapeError(l, fmt.Sprintf("(C,H,W) with H,W >= %d", k-2*p), in)
	}
	return []int{in[0], (in[1]+2*p-k)/s + 1, (in[2]+2*p-k)/s + 1}, nil
}

// MaxPool2d is PyTorch's MaxPool2d (square window, floor mode):
//
//	y[n,c,oy,ox] = max_{ky,kx} x[n,c,oy*s-p+ky,ox*s-p+kx]   (padding is -inf)
//
// The forward pass records the switches, the position of each maximum within
// its (H,W) plane, in the Step; backward and the deconvnet's unpooling route
// through them and never recompute them.
type MaxPool2d struct {
	base
	Kernel, Stride, Padding int
}

// Switches are the positions (iy*W+ix within the sample's channel plane) of
// each max-pool output's maximum, in the output's NCHW order.
type Switches []int32

// NewMaxPool2d makes a max-pooling layer; stride 0 means stride = kernel.
func NewMaxPool2d(name string, kernel, stride, padding int) *MaxPool2d {
	if stride == 0 {
		stride = kernel
	}
	return &MaxPool2d{base: base{name}, Kernel: kernel, Stride: stride, Padding: padding}
}

// Type is "MaxPool2d".
func (m *MaxPool2d) Type() string { return "MaxPool2d" }

// Window is (k, s, p).
func (m *MaxPool2d) Window() (int, int, int) { return m.Kernel, m.Stride, m.Padding }

// OutputShape maps (C,H,W) to (C,H',W').
func (m *MaxPool2d) OutputShape(in []int) ([]int, error) {
	return poolShape(m, in, m.Kernel, m.Stride, m.Padding)
}

// Forward takes window maxima and returns the Switches as saved state.
func (m *MaxPool2d) Forward(x *Tensor, _ *Context) (*Tensor, any, error) {
	if len(x.Shape) != 4 {
		return nil, nil, shapeError(m, "(N,C,H,W)", x.Shape)
	}
	out, err := m.OutputShape(x.Shape[1:])
	if err != nil {
		return nil, nil, shapeError(m, fmt.Sprintf("(N,C,H,W) with H,W >= %d", m.Kernel-2*m.Padding), x.Shape)
	}
	n, c, h, w, oh, ow := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3], out[1], out[2]
	y := New(n, c, oh, ow)
	sw := make(Switches, len(y.Data))
	for pl := 0; pl < n*c; pl++ {
		src := x.Data[pl*h*w : (pl+1)*h*w]
		o := pl * oh * ow
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				best, at := float32(math.Inf(-1)), int32(-1)
				for ky := 0; ky < m.Kernel; ky++ {
					iy := oy*m.Stride - m.Padding + ky
					if iy < 0 || iy >= h {
						continue
					}
					for kx := 0; kx < m.Kernel; kx++ {
						ix := ox*m.Stride - m.Padding + kx
						if ix < 0 || ix >= w {
							continue
						}
						if v := src[iy*w+ix]; v > best || at < 0 {
							best, at = v, int32(iy*w+ix)
						}
					}
				}
				y.Data[o], sw[o] = best, at
				o++
			}
		}
	}
	return y, sw, nil
}

// Backward sends each dy to its switch position (for every rule):
// dx[n,c,switch] += dy[n,c,oy,ox].
func (m *MaxPool2d) Backward(dy *Tensor, st *Step, _ Rule, _ Grads) (*Tensor, error) {
	if err := checkDy(m, dy, st); err != nil {
		return nil, err
	}
	return Unpool(dy, st.Saved.(Switches), st.In.Shape)
}

// Unpool is MaxUnpool2d: it places each value of y (N,C,H',W') at its switch
// position in a zero tensor of shape in (N,C,H,W) and adds coinciding ones.
func Unpool(y *Tensor, sw Switches, in []int) (*Tensor, error) {
	if len(sw) != len(y.Data) || len(in) != 4 || in[0]*in[1] != y.Shape[0]*y.Shape[1] {
		return nil, fmt.Errorf("unpool: %d switches for signal %s into %s", len(sw), ShapeString(y.Shape), ShapeString(in))
	}
	x := New(in...)
	hw, ohw := in[2]*in[3], y.Shape[2]*y.Shape[3]
	for i, v := range y.Data {
		pl := i / ohw
		x.Data[pl*hw+int(sw[i])] += v
	}
	return x, nil
}

// AvgPool2d is PyTorch's AvgPool2d with count_include_pad=True:
//
//	y[n,c,oy,ox] = (1/k²) * sum_{ky,kx} x[n,c,oy*s-p+ky,ox*s-p+kx]
type AvgPool2d struct {
	base
	Kernel, Stride, Padding int
}

// NewAvgPool2d makes an average-pooling layer; stride 0 means stride = kernel.
func NewAvgPool2d(name string, kernel, stride, padding int) *AvgPool2d {
	if stride == 0 {
		stride = kernel
	}
	return &AvgPool2d{base: base{name}, Kernel: kernel, Stride: stride, Padding: padding}
}

// Type is "AvgPool2d".
func (a *AvgPool2d) Type() string { return "AvgPool2d" }

// Window is (k, s, p).
func (a *AvgPool2d) Window() (int, int, int) { return a.Kernel, a.Stride, a.Padding }

// OutputShape maps (C,H,W) to (C,H',W').
func (a *AvgPool2d) OutputShape(in []int) ([]int, error) {
	return poolShape(a, in, a.Kernel, a.Stride, a.Padding)
}

// each calls fn(input index, output index) for every window tap inside the image.
func (a *AvgPool2d) each(n, c, h, w, oh, ow int, fn func(i, o int)) {
	for pl := 0; pl < n*c; pl++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				o := (pl*oh+oy)*ow + ox
				for ky := 0; ky < a.Kernel; ky++ {
					iy := oy*a.Stride - a.Padding + ky
					if iy < 0 || iy >= h {
						continue
					}
					for kx := 0; kx < a.Kernel; kx++ {
						if ix := ox*a.Stride - a.Padding + kx; ix >= 0 && ix < w {
							fn((pl*h+iy)*w+ix, o)
						}
					}
				}
			}
		}
	}
}

// Forward averages each window.
func (a *AvgPool2d) Forward(x *Tensor, _ *Context) (*Tensor, any, error) {
	if len(x.Shape) != 4 {
		return nil, nil, shapeError(a, "(N,C,H,W)", x.Shape)
	}
	out, err := a.OutputShape(x.Shape[1:])
	if err != nil {
		return nil, nil, shapeError(a, fmt.Sprintf("(N,C,H,W) with H,W >= %d", a.Kernel-2*a.Padding), x.Shape)
	}
	y := New(x.Shape[0], out[0], out[1], out[2])
	inv := 1 / float32(a.Kernel*a.Kernel)
	a.each(x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3], out[1], out[2], func(i, o int) { y.Data[o] += x.Data[i] * inv })
	return y, nil, nil
}

// Backward spreads dy evenly over each window: dx[tap] += dy/k² (every rule).
func (a *AvgPool2d) Backward(dy *Tensor, st *Step, _ Rule, _ Grads) (*Tensor, error) {
	if err := checkDy(a, dy, st); err != nil {
		return nil, err
	}
	x := st.In
	dx := New(x.Shape...)
	inv := 1 / float32(a.Kernel*a.Kernel)
	a.each(x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3], dy.Shape[2], dy.Shape[3], func(i, o int) { dx.Data[i] += dy.Data[o] * inv })
	return dx, nil
}
