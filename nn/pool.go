package nn

import (
	"fmt"
	"math"

	"github.com/convscope/convscope/nn/kernel"
)

// PoolConfig holds a pooling window's hyper-parameters, as PyTorch's
// MaxPool2d/AvgPool2d arguments. Zero Stride means Stride = Kernel.
type PoolConfig struct {
	Kernel, Stride, Padding int
	// CeilMode rounds the output size up instead of down; a last window
	// that would start in the right or bottom padding is dropped, as PyTorch.
	CeilMode bool
	// ExcludePad divides an average by the taps inside the image only
	// (PyTorch's count_include_pad=False). Max-pooling ignores it.
	ExcludePad bool
}

// pooledSize is PyTorch's pooling output size along one axis.
func pooledSize(in int, c PoolConfig) int {
	span := in + 2*c.Padding - c.Kernel
	out := span/c.Stride + 1
	if c.CeilMode {
		out = (span+c.Stride-1)/c.Stride + 1
		if (out-1)*c.Stride >= in+c.Padding {
			out--
		}
	}
	return out
}

// pool is what max and average pooling share: the window geometry.
type pool struct {
	base
	PoolConfig
}

func newPool(name string, c PoolConfig) pool {
	if c.Stride == 0 {
		c.Stride = c.Kernel
	}
	return pool{base{name}, c}
}

// Window is (k, s, p).
func (p *pool) Window() (int, int, int) { return p.Kernel, p.Stride, p.Padding }

func (p *pool) outputShape(l Layer, in []int) ([]int, error) {
	if len(in) != 3 || in[1]+2*p.Padding < p.Kernel || in[2]+2*p.Padding < p.Kernel || 2*p.Padding > p.Kernel {
		return nil, shapeError(l, fmt.Sprintf("(C,H,W) with H,W >= %d (and padding at most half the kernel)", p.Kernel-2*p.Padding), in)
	}
	return []int{in[0], pooledSize(in[1], p.PoolConfig), pooledSize(in[2], p.PoolConfig)}, nil
}

func (p *pool) batchShape(l Layer, x *Tensor) ([]int, error) {
	if len(x.Shape) != 4 {
		return nil, shapeError(l, "(N,C,H,W)", x.Shape)
	}
	out, err := p.outputShape(l, x.Shape[1:])
	if err != nil {
		return nil, shapeError(l, fmt.Sprintf("(N,C,H,W) with H,W >= %d", p.Kernel-2*p.Padding), x.Shape)
	}
	return []int{x.Shape[0], out[0], out[1], out[2]}, nil
}

// span is one window's extent along an axis: [lo, hi) inside the image and
// the padded size PyTorch's average divides by when padding counts.
func (p *pool) span(o, in int) (lo, hi, padded int) {
	lo = o*p.Stride - p.Padding
	hi = min(lo+p.Kernel, in+p.Padding)
	padded = hi - lo
	return max(lo, 0), min(hi, in), padded
}

// MaxPool2d is PyTorch's MaxPool2d (square window, padding with -inf,
// optional ceil mode):
//
//	y[n,c,oy,ox] = max_{ky,kx} x[n,c,oy*s-p+ky,ox*s-p+kx]
//
// The forward pass records the switches, the position of each maximum within
// its (H,W) plane, in the Step; backward and the deconvnet's unpooling route
// through them and never recompute them.
type MaxPool2d struct{ pool }

// Switches are the positions (iy*W+ix within the sample's channel plane) of
// each max-pool output's maximum, in the output's NCHW order.
type Switches []int32

// NewMaxPool2d makes a max-pooling layer; stride 0 means stride = kernel.
func NewMaxPool2d(name string, kernel, stride, padding int) *MaxPool2d {
	return NewMaxPool(name, PoolConfig{Kernel: kernel, Stride: stride, Padding: padding})
}

// NewMaxPool makes a max-pooling layer from a full configuration.
func NewMaxPool(name string, c PoolConfig) *MaxPool2d { return &MaxPool2d{newPool(name, c)} }

// Type is "MaxPool2d".
func (m *MaxPool2d) Type() string { return "MaxPool2d" }

// OutputShape maps (C,H,W) to (C,H',W').
func (m *MaxPool2d) OutputShape(in []int) ([]int, error) { return m.outputShape(m, in) }

// Forward takes window maxima and returns the Switches as saved state. The
// first maximum in row-major window order wins ties. Planes run in parallel.
func (m *MaxPool2d) Forward(x *Tensor, ctx *Context) (*Tensor, any, error) {
	out, err := m.batchShape(m, x)
	if err != nil {
		return nil, nil, err
	}
	h, w, oh, ow := x.Shape[2], x.Shape[3], out[2], out[3]
	y := ctx.arena().Zeros(out...)
	sw := make(Switches, len(y.Data))
	kernel.ParallelFor(out[0]*out[1], func(_, pl int) {
		src := x.Data[pl*h*w : (pl+1)*h*w]
		o := pl * oh * ow
		if kernel.MaxPool(src, h, w, m.Kernel, m.Stride, m.Padding, oh, ow, y.Data[o:o+oh*ow], sw[o:o+oh*ow]) {
			return // the vector path, the same maxima and switches
		}
		for oy := 0; oy < oh; oy++ {
			y0, y1, _ := m.span(oy, h)
			for ox := 0; ox < ow; ox++ {
				x0, x1, _ := m.span(ox, w)
				best, at := float32(math.Inf(-1)), int32(-1)
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						if v := src[iy*w+ix]; v > best || at < 0 || v != v {
							best, at = v, int32(iy*w+ix)
						}
					}
				}
				y.Data[o], sw[o] = best, at
				o++
			}
		}
	})
	return y, sw, nil
}

// Backward sends each dy to its switch position (for every rule):
// dx[n,c,switch] += dy[n,c,oy,ox].
func (m *MaxPool2d) Backward(dy *Tensor, st *Step, _ Rule, _ Grads) (*Tensor, error) {
	if err := checkDy(m, dy, st); err != nil {
		return nil, err
	}
	return unpool(dy, st.Saved.(Switches), st.In.Shape, st.arena)
}

// Unpool is MaxUnpool2d: it places each value of y (N,C,H',W') at its switch
// position in a zero tensor of shape in (N,C,H,W) and adds coinciding ones.
func Unpool(y *Tensor, sw Switches, in []int) (*Tensor, error) { return unpool(y, sw, in, nil) }

// unpool is Unpool with the result taken from a (a backward pass's).
func unpool(y *Tensor, sw Switches, in []int, a *Arena) (*Tensor, error) {
	if len(sw) != len(y.Data) || len(in) != 4 || len(y.Shape) != 4 || in[0]*in[1] != y.Shape[0]*y.Shape[1] {
		return nil, fmt.Errorf("unpool: %d switches for signal %s into %s", len(sw), ShapeString(y.Shape), ShapeString(in))
	}
	x := a.Uninit(in...) // each plane is cleared by its own task, on its core
	hw, ohw := in[2]*in[3], y.Shape[2]*y.Shape[3]
	kernel.ParallelFor(y.Shape[0]*y.Shape[1], func(_, pl int) { // planes are disjoint
		dst := x.Data[pl*hw : (pl+1)*hw]
		clear(dst)
		for i, v := range y.Data[pl*ohw : (pl+1)*ohw] {
			if s := int(sw[pl*ohw+i]); s >= 0 && s < hw {
				dst[s] += v
			}
		}
	})
	return x, nil
}

// AvgPool2d is PyTorch's AvgPool2d:
//
//	y[n,c,oy,ox] = (1/count) * sum_{taps inside the image} x[n,c,iy,ix]
//
// where count is the window's size clipped to the padded image
// (count_include_pad=True, the default) or to the image (ExcludePad).
type AvgPool2d struct{ pool }

// NewAvgPool2d makes an average-pooling layer; stride 0 means stride = kernel.
func NewAvgPool2d(name string, kernel, stride, padding int) *AvgPool2d {
	return NewAvgPool(name, PoolConfig{Kernel: kernel, Stride: stride, Padding: padding})
}

// NewAvgPool makes an average-pooling layer from a full configuration.
func NewAvgPool(name string, c PoolConfig) *AvgPool2d { return &AvgPool2d{newPool(name, c)} }

// Type is "AvgPool2d".
func (a *AvgPool2d) Type() string { return "AvgPool2d" }

// OutputShape maps (C,H,W) to (C,H',W').
func (a *AvgPool2d) OutputShape(in []int) ([]int, error) { return a.outputShape(a, in) }

// each calls fn(input index, output index, 1/count) for every tap.
func (a *AvgPool2d) each(planes, h, w, oh, ow int, fn func(i, o int, inv float32)) {
	for pl := 0; pl < planes; pl++ {
		for oy := 0; oy < oh; oy++ {
			y0, y1, py := a.span(oy, h)
			for ox := 0; ox < ow; ox++ {
				x0, x1, px := a.span(ox, w)
				count := py * px
				if a.ExcludePad {
					count = (y1 - y0) * (x1 - x0)
				}
				inv := 1 / float32(max(count, 1))
				o := (pl*oh+oy)*ow + ox
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						fn((pl*h+iy)*w+ix, o, inv)
					}
				}
			}
		}
	}
}

// tiled reports the common case of non-overlapping windows inside the
// image (stride = kernel, no padding, floor mode): LeNet's subsampling and
// most average pools, served by a direct loop.
func (a *AvgPool2d) tiled() bool { return a.Stride == a.Kernel && a.Padding == 0 && !a.CeilMode }

// Forward averages each window.
func (a *AvgPool2d) Forward(x *Tensor, ctx *Context) (*Tensor, any, error) {
	out, err := a.batchShape(a, x)
	if err != nil {
		return nil, nil, err
	}
	y := ctx.arena().Zeros(out...)
	if a.tiled() {
		h, w, oh, ow, k := x.Shape[2], x.Shape[3], out[2], out[3], a.Kernel
		inv := 1 / float32(k*k)
		kernel.ParallelFor(out[0]*out[1], func(_, pl int) {
			src, dst := x.Data[pl*h*w:(pl+1)*h*w], y.Data[pl*oh*ow:(pl+1)*oh*ow]
			if k == 2 { // LeNet's subsampling: the loop below, unrolled (same sums)
				for oy := 0; oy < oh; oy++ {
					r0, r1 := src[2*oy*w:][:2*ow], src[(2*oy+1)*w:][:2*ow]
					d := dst[oy*ow : (oy+1)*ow]
					for ox := range d {
						d[ox] = ((r0[2*ox] + r0[2*ox+1]) + (r1[2*ox] + r1[2*ox+1])) * inv
					}
				}
				return
			}
			for oy := 0; oy < oh; oy++ {
				for ky := 0; ky < k; ky++ {
					row := src[(oy*k+ky)*w:]
					d := dst[oy*ow : (oy+1)*ow]
					for ox := range d {
						var sum float32
						for _, v := range row[ox*k : ox*k+k] {
							sum += v
						}
						d[ox] += sum
					}
				}
				for ox := range dst[oy*ow : (oy+1)*ow] {
					dst[oy*ow+ox] *= inv
				}
			}
		})
		return y, nil, nil
	}
	a.each(out[0]*out[1], x.Shape[2], x.Shape[3], out[2], out[3], func(i, o int, inv float32) { y.Data[o] += x.Data[i] * inv })
	return y, nil, nil
}

// Backward spreads dy evenly over each window: dx[tap] += dy/count (every rule).
func (a *AvgPool2d) Backward(dy *Tensor, st *Step, _ Rule, _ Grads) (*Tensor, error) {
	if err := checkDy(a, dy, st); err != nil {
		return nil, err
	}
	x := st.In
	dx := st.arena.Zeros(x.Shape...)
	if a.tiled() {
		h, w, oh, ow, k := x.Shape[2], x.Shape[3], dy.Shape[2], dy.Shape[3], a.Kernel
		inv := 1 / float32(k*k)
		kernel.ParallelFor(dy.Shape[0]*dy.Shape[1], func(_, pl int) {
			src, dst := dy.Data[pl*oh*ow:(pl+1)*oh*ow], dx.Data[pl*h*w:(pl+1)*h*w]
			if k == 2 {
				for oy := 0; oy < oh; oy++ {
					r0, r1 := dst[2*oy*w:][:2*ow], dst[(2*oy+1)*w:][:2*ow]
					for ox, v := range src[oy*ow : (oy+1)*ow] {
						g := v * inv
						r0[2*ox], r0[2*ox+1], r1[2*ox], r1[2*ox+1] = g, g, g, g
					}
				}
				return
			}
			for oy := 0; oy < oh; oy++ {
				for ky := 0; ky < k; ky++ {
					row := dst[(oy*k+ky)*w:]
					for ox, v := range src[oy*ow : (oy+1)*ow] {
						g := v * inv
						for kx := 0; kx < k; kx++ {
							row[ox*k+kx] = g
						}
					}
				}
			}
		})
		return dx, nil
	}
	a.each(dy.Shape[0]*dy.Shape[1], x.Shape[2], x.Shape[3], dy.Shape[2], dy.Shape[3], func(i, o int, inv float32) { dx.Data[i] += dy.Data[o] * inv })
	return dx, nil
}

// AdaptiveAvgPool2d is PyTorch's AdaptiveAvgPool2d: output (OH,OW) whatever
// the input, output cell (oy,ox) averaging rows [floor(oy*H/OH),
// ceil((oy+1)*H/OH)) and the same for columns. (1,1) is global average pooling.
type AdaptiveAvgPool2d struct {
	base
	OutH, OutW int
}

// NewAdaptiveAvgPool2d makes an adaptive average pool with output (oh, ow).
func NewAdaptiveAvgPool2d(name string, oh, ow int) *AdaptiveAvgPool2d {
	return &AdaptiveAvgPool2d{base{name}, oh, ow}
}

// Type is "AdaptiveAvgPool2d".
func (a *AdaptiveAvgPool2d) Type() string { return "AdaptiveAvgPool2d" }

// WindowFor is the window adaptive pooling uses on an input of shape in
// (C,H,W): kernel ceil(H/OH) and stride floor(H/OH) (exact when OH divides
// H; the whole input for global pooling). Receptive-field arithmetic reads it.
func (a *AdaptiveAvgPool2d) WindowFor(in []int) (kernel, stride, padding int) {
	h := max(in[1], in[2])
	o := max(min(a.OutH, a.OutW), 1)
	return (h + o - 1) / o, max(h/o, 1), 0
}

// OutputShape maps (C,H,W) to (C,OH,OW).
func (a *AdaptiveAvgPool2d) OutputShape(in []int) ([]int, error) {
	if len(in) != 3 {
		return nil, shapeError(a, "(C,H,W)", in)
	}
	return []int{in[0], a.OutH, a.OutW}, nil
}

func adaptiveSpan(o, in, out int) (int, int) { return o * in / out, ((o+1)*in + out - 1) / out }

func (a *AdaptiveAvgPool2d) each(planes, h, w int, fn func(i, o int, inv float32)) {
	for pl := 0; pl < planes; pl++ {
		for oy := 0; oy < a.OutH; oy++ {
			y0, y1 := adaptiveSpan(oy, h, a.OutH)
			for ox := 0; ox < a.OutW; ox++ {
				x0, x1 := adaptiveSpan(ox, w, a.OutW)
				inv := 1 / float32((y1-y0)*(x1-x0))
				o := (pl*a.OutH+oy)*a.OutW + ox
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						fn((pl*h+iy)*w+ix, o, inv)
					}
				}
			}
		}
	}
}

// Forward averages each adaptive window.
func (a *AdaptiveAvgPool2d) Forward(x *Tensor, ctx *Context) (*Tensor, any, error) {
	if len(x.Shape) != 4 {
		return nil, nil, shapeError(a, "(N,C,H,W)", x.Shape)
	}
	if a.OutH == 1 && a.OutW == 1 {
		// Global pooling: each plane's sum over its size (as PyTorch's
		// kernel divides), the planes in parallel.
		hw := x.Shape[2] * x.Shape[3]
		y := ctx.arena().Uninit(x.Shape[0], x.Shape[1], 1, 1)
		kernel.ParallelFor(len(y.Data), func(_, pl int) { y.Data[pl] = kernel.Sum(x.Data[pl*hw:(pl+1)*hw]) / float32(hw) })
		return y, nil, nil
	}
	y := ctx.arena().Zeros(x.Shape[0], x.Shape[1], a.OutH, a.OutW)
	a.each(x.Shape[0]*x.Shape[1], x.Shape[2], x.Shape[3], func(i, o int, inv float32) { y.Data[o] += x.Data[i] * inv })
	return y, nil, nil
}

// Backward spreads dy evenly over each window (every rule).
func (a *AdaptiveAvgPool2d) Backward(dy *Tensor, st *Step, _ Rule, _ Grads) (*Tensor, error) {
	if err := checkDy(a, dy, st); err != nil {
		return nil, err
	}
	if a.OutH == 1 && a.OutW == 1 {
		hw := st.In.Shape[2] * st.In.Shape[3]
		inv := 1 / float32(hw)
		dx := st.arena.Uninit(st.In.Shape...)
		kernel.ParallelFor(len(dy.Data), func(_, pl int) { fill(dx.Data[pl*hw:(pl+1)*hw], dy.Data[pl]*inv) })
		return dx, nil
	}
	dx := st.arena.Zeros(st.In.Shape...)
	a.each(dy.Shape[0]*dy.Shape[1], st.In.Shape[2], st.In.Shape[3], func(i, o int, inv float32) { dx.Data[i] += dy.Data[o] * inv })
	return dx, nil
}
