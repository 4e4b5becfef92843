package nn

import "github.com/convscope/convscope/nn/kernel"

// The shifted path: a stride-1 "same" convolution over a run of samples as
// one product whose input rows are windows of the padded images
// (kernel.SgemmRows), with no unrolling. The run's images are laid out per
// channel in rows of W+P floats whose margins are shared (the P zeros
// right of one row are the P zeros left of the next) and P zero rows before
// each sample (the ones below the last sample's rows come from the slack).
// Output pixel (oy, ox) of the run's sample b is then column
// (b*(H+P)+oy)*(W+P)+ox of the product, and input row (c, ky, kx) is the
// channel's padded plane shifted by ky*(W+P)+kx: every tap is a contiguous
// window, so the product packs its panels straight from the padded images
// (the first tile of each panel, in assembly). The columns that fall in the
// margins are computed and dropped: (H+P)(W+P)/(HW) of the work, 1.07 at
// 28x28 and 1.3 at 7x7. Measured against unrolling, in
// BenchmarkConvForward's ResNet-20 layers (docs/PERFORMANCE.md).

// shifted reports a convolution that takes the shifted path: stride 1,
// no dilation, padding that keeps the map's size, several samples, and at
// least 36 input rows (4 channels of 3x3). Against unrolling, at 16
// samples on one core (BenchmarkConvShifted; other layers measured the
// same way): 1.1-1.3x on ResNet-20's and VGG's layers (16 to 512 channels,
// 7x7 to 32x32 maps) and LeNet-like 6-channel inputs; 0.8-0.86x on 1- and
// 3-channel inputs, whose product is too short to pay for the padded copy.
// A single sample stays on the implicit path: at 224, shifted was 1.1x on
// 64 channels but 0.8x on 512 channels and on the 3-channel stem.
func (c *Conv2d) shifted(g convGeometry) bool {
	return !noShifted && c.Stride == 1 && c.Dilation == 1 && c.Padding > 0 && 2*c.Padding == c.Kernel-1 &&
		g.n > 1 && g.w >= c.Padding && g.rows >= 36
}

// noShifted turns the shifted path off (the benchmarks' comparison).
var noShifted bool

// shiftedLayout is the padded layout of a run of nb samples: rows of wp
// floats, a sample every sp floats, each channel's plane plane floats,
// and the product's n columns.
type shiftedLayout struct{ wp, sp, plane, n int }

func (c *Conv2d) shiftedLayout(g convGeometry, nb int) shiftedLayout {
	p := c.Padding
	l := shiftedLayout{wp: g.w + p}
	l.sp = (g.h + p) * l.wp
	l.n = nb * l.sp
	// The last column's widest tap reads 2p rows and 2p floats past it,
	// which covers the p rows above the first sample too.
	l.plane = l.n + 2*p*(l.wp+1)
	return l
}

// shiftedPerRun is how many samples a run holds: its padded images and
// its product's output together within shiftedBudget.
func (c *Conv2d) shiftedPerRun(g convGeometry) int {
	l := c.shiftedLayout(g, 1)
	return max(1, shiftedBudget/((g.cg+g.kg)*l.sp))
}

// shiftedRun is a worker's buffers for the shifted path.
type shiftedRun struct {
	padded, out *[]float32
	rows        []int
}

// forwardShifted computes samples [lo, hi) of y on the shifted path,
// applying e (or the bias) as it copies the product's columns out.
func (c *Conv2d) forwardShifted(g convGeometry, x, y *Tensor, lo, hi int, s *shiftedRun, e *epilogue) {
	if e == nil && c.Bias != nil {
		e = &epilogue{shift: c.Bias.Value.Data}
	}
	nb, p, plane := hi-lo, c.Padding, g.h*g.w
	l := c.shiftedLayout(g, nb)
	if s.padded == nil {
		s.padded, s.out = getScratch(g.cg*l.plane), getScratch(g.kg*l.n)
	}
	xp, out := grown(s.padded, g.cg*l.plane), grown(s.out, g.kg*l.n)
	s.rows = c.shiftedRows(s.rows, g, l)
	in := c.In * plane
	for gi := 0; gi < c.Groups; gi++ {
		clear(xp)
		for b := 0; b < nb; b++ {
			for ci := 0; ci < g.cg; ci++ {
				src := x.Data[(lo+b)*in+(gi*g.cg+ci)*plane:][:plane]
				kernel.CopyStrided(xp[ci*l.plane+(p+b*(g.h+p))*l.wp+p:], src, g.h, g.w, l.wp, g.w)
			}
		}
		w := c.Weight.Value.Data[gi*g.kg*g.rows : (gi+1)*g.kg*g.rows]
		kernel.SgemmRows(g.kg, l.n, 1, w, g.rows, xp, s.rows, 0, out, l.n)
		if e != nil { // over whole rows of the product, margins and all: one call a channel
			for k := 0; k < g.kg; k++ {
				e.plane(out[k*l.n:(k+1)*l.n], gi*g.kg+k)
			}
		}
		for b := 0; b < nb; b++ {
			for k := 0; k < g.kg; k++ {
				kernel.CopyStrided(y.Data[((lo+b)*c.Out+gi*g.kg+k)*plane:], out[k*l.n+b*l.sp:], g.h, g.w, g.w, l.wp)
			}
		}
	}
}

// shiftedRows is the product's input rows, in the weights' order (c, ky,
// kx): channel c's padded plane shifted by the tap.
func (c *Conv2d) shiftedRows(rows []int, g convGeometry, l shiftedLayout) []int {
	rows = rows[:0]
	for ci := 0; ci < g.cg; ci++ {
		for ky := 0; ky < c.Kernel; ky++ {
			for kx := 0; kx < c.Kernel; kx++ {
				rows = append(rows, ci*l.plane+ky*l.wp+kx)
			}
		}
	}
	return rows
}

// grown is *b resized to n floats, reallocated if too small.
func grown(b *[]float32, n int) []float32 {
	if cap(*b) < n {
		*b = make([]float32, n)
	}
	*b = (*b)[:n]
	return *b
}

// shiftedBudget caps a run's padded images and product output, in floats:
// 2 MiB, past a Zen 5 core's 1 MiB L2, measured best of 1<<17 to 1<<20 on
// BenchmarkConvShifted (wider products fill their tiles better; 4 MiB was
// slower again).
var shiftedBudget = 1 << 19
