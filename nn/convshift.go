package nn

import (
	"slices"

	"github.com/convscope/convscope/nn/kernel"
)

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
// (the first tile of each panel, in assembly). The columns that fall in
// the margins would be (H+P)(W+P)/(HW) of the work, 1.07 at 28x28 and 1.3
// at 7x7: where that is enough to pay for it (gathers), the product's
// columns are only the output pixels' places (kernel.SgemmGather), else
// the margins' are computed and dropped. A stride-2 convolution runs the
// same way over the four phase planes of each channel (shiftedConv.layout). The input
// gradient of a stride-1 one is the same product on dy with the flipped
// filters. Measured against unrolling in BenchmarkConvShifted and
// BenchmarkConvHalving (docs/PERFORMANCE.md).

// shifted reports a convolution that takes the shifted path: no
// dilation, padding (k-1)/2, stride 1 or 2, and at least 36 input rows (4
// channels of 3x3). Against unrolling, at 16 samples on one core
// (BenchmarkConvShifted, BenchmarkConvHalving; other layers measured the
// same way): 1.1-1.3x on ResNet-20's and VGG's layers (16 to 512 channels,
// 7x7 to 32x32 maps) and LeNet-like 6-channel inputs; 0.8-0.86x on 1- and
// 3-channel inputs, whose product is too short to pay for the padded copy.
// A single sample (serving, both cores on one product) takes it at stride
// 1 with at most 64 input channels or maps of at most 64 pixels: 1.15-1.3x
// on 64 channels at 56 and 224 and on 512 at 7x7 (no weight transposes for
// a narrow product), but 0.8-0.98x on 128 to 512 channels at 14 to 28, and
// 0.6-0.9x at stride 2; ResNet-18 at batch 1 gained about 1.1x, ResNet-50
// 1.03x.
func (c *Conv2d) shifted(g convGeometry) bool { return c.shiftable(g) && g.rows >= 36 }

// shiftedBack reports a convolution whose input gradient takes the shifted
// path: dy convolved with the flipped filters (stride 1), whose input rows
// are the output channels' taps.
func (c *Conv2d) shiftedBack(g convGeometry) bool {
	return c.Stride == 1 && c.shiftable(g) && g.kg*c.Kernel*c.Kernel >= 36
}

// backShiftedConv is the input gradient's product on the shifted path: dy's
// K/G channels convolved, stride 1, into dx's C/G.
func (c *Conv2d) backShiftedConv(g convGeometry) shiftedConv {
	return shiftedConv{h: g.h, w: g.w, k: c.Kernel, p: c.Padding, s: 1, cin: g.kg, cout: g.cg}
}

// shiftable is the shifted path's geometry: no dilation, padding (k-1)/2;
// at stride 2 several samples, at stride 1 several samples or one on a
// product that the path measured faster for.
func (c *Conv2d) shiftable(g convGeometry) bool {
	if noShifted || c.Dilation != 1 || c.Padding == 0 || 2*c.Padding != c.Kernel-1 {
		return false
	}
	switch c.Stride {
	case 1:
		return g.w >= c.Padding && (g.n > 1 || g.cg <= 64 || g.cols <= 64)
	case 2:
		return g.n > 1
	}
	return false
}

// noShifted turns the shifted path off (the benchmarks' comparison).
var noShifted bool

// shiftedConv is one product on the shifted path: cin channels of h×w
// maps convolved with a k×k kernel, padding p (2p = k-1) and stride s (1
// or 2), into cout channels.
type shiftedConv struct{ h, w, k, p, s, cin, cout int }

func (c *Conv2d) shiftedConv(g convGeometry) shiftedConv {
	return shiftedConv{h: g.h, w: g.w, k: c.Kernel, p: c.Padding, s: c.Stride, cin: g.cg, cout: g.kg}
}

// out is the output's size: (h-1)/s+1 by (w-1)/s+1 for a padding of (k-1)/2.
func (sc shiftedConv) out() (oh, ow int) { return (sc.h-1)/sc.s + 1, (sc.w-1)/sc.s + 1 }

// shiftedLayout is the padded layout of a run of nb samples: rows of wp
// floats, a sample every sp floats, each channel's phase planes (one at
// stride 1, four at stride 2) plane floats each, and the product's n
// columns.
type shiftedLayout struct{ wp, sp, plane, phases, n int }

// layout places a run of nb samples. At stride 1 a channel's plane is
// the padded images themselves, their rows sharing margins. At stride 2 it
// is four phase planes, (a, b) holding the padded images' pixels (2i+a,
// 2j+b): tap (ky, kx) of output (oy, ox) is pixel (oy+ky/2, ox+kx/2) of
// phase plane (ky%2, kx%2), a contiguous window again; each phase plane
// has oh+p rows of ow+p a sample, written whole, margins included.
func (sc shiftedConv) layout(nb int) shiftedLayout {
	p := sc.p
	if sc.s == 2 {
		oh, ow := sc.out()
		l := shiftedLayout{wp: ow + p, phases: 4}
		l.sp = (oh + p) * l.wp
		l.n = nb * l.sp
		// The last column's widest tap reads p rows and p floats past it.
		l.plane = l.n + p*(l.wp+1)
		return l
	}
	l := shiftedLayout{wp: sc.w + p, phases: 1}
	l.sp = (sc.h + p) * l.wp
	l.n = nb * l.sp
	// The last column's widest tap reads 2p rows and 2p floats past it,
	// which covers the p rows above the first sample too.
	l.plane = l.n + 2*p*(l.wp+1)
	return l
}

// perRun is how many samples a run holds: its padded images and its
// product's output together within shiftedBudget.
func (sc shiftedConv) perRun() int { return sc.perRunWithin(shiftedBudget) }

// perRunWithin is perRun for a budget of so many floats.
func (sc shiftedConv) perRunWithin(budget int) int {
	l := sc.layout(1)
	return max(1, budget/(sc.cin*l.phases*l.sp+sc.cout*l.sp))
}

// shiftedRun is a worker's buffers for the shifted path.
type shiftedRun struct {
	padded, out *[]float32
	rows        []int
	// The product's columns and each sample's first (columns).
	cols, starts []int
	// The weight gradient's input, channels last (weightGradShifted), one
	// sample's transpose on the way there, and its dy's rows; the pixels'
	// places and one tap's rows of the input.
	last, sample, dy *[]float32
	places, tapRows  []int
}

func (s *shiftedRun) release() {
	for _, b := range []*[]float32{s.padded, s.out, s.last, s.sample, s.dy} {
		if b != nil {
			putScratch(b)
		}
	}
	*s = shiftedRun{}
}

// run convolves channels [x0, x0+cin) of samples [lo, hi) of x (xc
// channels a sample) with wt (cout rows of cin*k*k, in the weights' order)
// into channels [y0, y0+cout) of y (yc channels a sample), applying e to
// output channel y0+k (when e is not nil) before it copies the product's
// columns out.
func (sc shiftedConv) run(x []float32, xc, x0 int, wt []float32, y []float32, yc, y0, lo, hi int, s *shiftedRun, e *epilogue) {
	xp, l := sc.pad(x, xc, x0, lo, hi, s)
	sc.multiply(xp, l, wt, y, yc, y0, lo, hi, s, e)
}

// pad writes channels [x0, x0+cin) of samples [lo, hi) of x (xc channels
// a sample) into s's padded buffer in the run's layout, and returns it.
func (sc shiftedConv) pad(x []float32, xc, x0, lo, hi int, s *shiftedRun) ([]float32, shiftedLayout) {
	nb, plane := hi-lo, sc.h*sc.w
	l := sc.layout(nb)
	// The padded planes, and past them the slack that SgemmGather's
	// windows may read.
	chans := sc.cin*l.phases*l.plane + kernel.GatherWindow
	if s.padded == nil {
		s.padded, s.out = getScratch(chans), getScratch(sc.cout*l.n)
	}
	xp := grown(s.padded, chans)
	if sc.s == 1 {
		clear(xp)
	}
	for b := 0; b < nb; b++ {
		for ci := 0; ci < sc.cin; ci++ {
			src := x[((lo+b)*xc+x0+ci)*plane:][:plane]
			if sc.s == 2 {
				sc.phases(xp[ci*l.phases*l.plane:], src, l, b)
				continue
			}
			kernel.CopyStrided(xp[ci*l.plane+(sc.p+b*(sc.h+sc.p))*l.wp+sc.p:], src, sc.h, sc.w, l.wp, sc.w)
		}
	}
	return xp, l
}

// multiply is the product of a run padded by pad, e applied and its
// columns copied out into y (as run). Where the margins would be enough
// of the product (gathers), its columns are only the output pixels'
// places in the padded layout (columns, kernel.SgemmGather): on
// AlexNet-small's 13x13 maps with a 5x5 kernel the margins were a third
// more columns. Otherwise it computes every column of the layout
// (kernel.SgemmRows) and drops the margins' on the way out.
func (sc shiftedConv) multiply(xp []float32, l shiftedLayout, wt []float32, y []float32, yc, y0, lo, hi int, s *shiftedRun, e *epilogue) {
	nb := hi - lo
	oh, ow := sc.out()
	s.rows = sc.rows(s.rows, l)
	n := l.n
	gather := gathers(l.n, kernel.ImageColumnsLen(nb, oh, ow, l.sp, l.wp), sc.cout)
	if gather {
		s.columns(l, nb, oh, ow)
		n = len(s.cols)
	}
	out := grown(s.out, sc.cout*n)
	if gather {
		kernel.SgemmGather(sc.cout, 1, wt, len(s.rows), xp, s.rows, s.cols, 0, out, n)
	} else {
		kernel.SgemmRows(sc.cout, n, 1, wt, len(s.rows), xp, s.rows, 0, out, n)
	}
	for b := 0; b < nb; b++ {
		for k := 0; k < sc.cout; k++ {
			at := ((lo+b)*yc + y0 + k) * oh * ow
			// The epilogue and the residual sum on the way out: one pass.
			if gather {
				e.rowsFrom(y[at:at+oh*ow], out[k*n+s.starts[b]:], 1, oh*ow, oh*ow, y0+k, at)
			} else {
				e.rowsFrom(y[at:at+oh*ow], out[k*n+b*l.sp:], oh, ow, l.wp, y0+k, at)
			}
		}
	}
}

// gathers reports whether a shifted product of m rows computes only its
// output pixels' columns (gathered of the layout's all;
// kernel.GatherPays).
func gathers(all, gathered, m int) bool {
	return !noGather && kernel.GatherPays(all, gathered, m)
}

// noGather turns gathered columns off (the benchmarks' comparison).
var noGather bool

// columns sets s.cols to the product's columns for a run of nb samples
// in layout l, and s.starts[b] to sample b's first (kernel.ImageColumns).
func (s *shiftedRun) columns(l shiftedLayout, nb, oh, ow int) {
	s.cols, s.starts = kernel.ImageColumns(s.cols[:0], s.starts[:0], nb, oh, ow, l.sp, l.wp)
}

// phases writes sample b's plane src (h×w) into its place in the four
// phase planes of a channel (stride 2), zeros in the padding included.
func (sc shiftedConv) phases(dst, src []float32, l shiftedLayout, b int) {
	rq := l.sp / l.wp
	for ph := 0; ph < 4; ph++ {
		a, c := ph>>1, ph&1
		d := dst[ph*l.plane+b*l.sp:][:l.sp]
		for i := 0; i < rq; i++ {
			row := d[i*l.wp : (i+1)*l.wp]
			y := 2*i + a - sc.p
			if y < 0 || y >= sc.h {
				clear(row)
				continue
			}
			// Columns j with 0 <= 2j+c-p < w are inside the image.
			lo, hi := max(0, (sc.p-c+1)/2), min(l.wp, (sc.w-1+sc.p-c)/2+1)
			clear(row[:lo])
			kernel.Evens(row[lo:hi], src[y*sc.w+2*lo+c-sc.p:(y+1)*sc.w])
			clear(row[hi:])
		}
	}
}

// rows is the product's input rows, in the weights' order (c, ky, kx):
// channel c's padded plane (stride 1) or the tap's phase plane (stride 2)
// shifted by the tap.
func (sc shiftedConv) rows(rows []int, l shiftedLayout) []int {
	rows = slices.Grow(rows[:0], sc.cin*sc.k*sc.k)
	for ci := 0; ci < sc.cin; ci++ {
		for ky := 0; ky < sc.k; ky++ {
			for kx := 0; kx < sc.k; kx++ {
				if sc.s == 2 {
					rows = append(rows, (ci*4+(ky&1)*2+(kx&1))*l.plane+(ky>>1)*l.wp+(kx>>1))
					continue
				}
				rows = append(rows, ci*l.plane+ky*l.wp+kx)
			}
		}
	}
	return rows
}

// tappedGrad reports a convolution whose weight gradient comes from its
// padded dy (weightGradShifted): the shifted input gradient's geometry,
// and at least 16 input channels a group, each tap's product being C/G
// wide.
func (c *Conv2d) tappedGrad(g convGeometry) bool {
	return !noTapped && c.shiftedBack(g) && g.cg >= 16
}

// noTapped turns weightGradShifted off (the benchmarks' comparison).
var noTapped bool

// backwardShifted computes samples [lo, hi) of dx on the shifted path: dy
// convolved with the flipped, transposed filters wf (flipWeights); dx nil
// skips it. With taps, it also adds the samples' weight gradient to taps
// (the layout of weightGradShifted), from the same padded dy unless its
// margins would be enough of the product to pay for dy's own copy
// (compactDy).
func (c *Conv2d) backwardShifted(g convGeometry, x, dy, dx *Tensor, wf []float32, lo, hi int, s *shiftedRun, taps []float32) {
	sc := c.backShiftedConv(g)
	fr := g.kg * c.Kernel * c.Kernel
	l := sc.layout(hi - lo)
	compact := compactDy(l.n, (hi-lo)*g.h*g.w)
	for gi := 0; gi < c.Groups; gi++ {
		var dyp []float32
		if dx != nil || !compact {
			dyp, _ = sc.pad(dy.Data, c.Out, gi*g.kg, lo, hi, s)
		}
		if taps != nil {
			wg := taps[gi*g.kg*g.rows : (gi+1)*g.kg*g.rows]
			if compact {
				c.weightGradShifted(g, x, dy, nil, l, gi, lo, hi, s, wg)
			} else {
				c.weightGradShifted(g, x, nil, dyp, l, gi, lo, hi, s, wg)
			}
		}
		if dx != nil {
			sc.multiply(dyp, l, wf[gi*g.cg*fr:(gi+1)*g.cg*fr], dx.Data, c.In, gi*g.cg, lo, hi, s, nil)
		}
	}
}

// compactDy reports whether the weight gradient sums over the output
// pixels only, from a copy of dy, rather than over the padded layout's
// columns, from the padded dy in place: when the layout has a fifth more
// columns than pixels or more. The backward pass at batch 128, copy
// against padded (BenchmarkConvCompactDy, three counts): 1.06-1.11x at
// 6x6, 1.07-1.09x on 13x13 maps with margins of 2, 1.05-1.07x at 8x8 and
// 7x7, 1.27-1.51x at 3x3; on larger maps the copy costs more than the
// margins save: 0.95-0.98x at 14x14, 0.93-0.95x at 16x16, 0.79-0.82x at
// 32x32 (16 channels).
func compactDy(columns, pixels int) bool {
	if compactForced != 0 {
		return compactForced > 0
	}
	return 5*columns >= 6*pixels
}

// compactForced overrides compactDy for the benchmarks' comparison: 1
// copies dy for every weight gradient, -1 for none, 0 follows the rule.
var compactForced int

// weightGradShifted adds group gi's weight gradient over samples [lo, hi)
// to taps, k*k matrices of K/G rows and C/G columns, tap (ky, kx) by tap:
// dW[k][c, ky, kx] is the sum over output pixels of dy[k] at the pixel
// times x[c] at the pixel shifted by (ky-p, kx-p). x goes into the run's
// padded layout l channels last (zeros in the margins), so that for each
// tap the product dy · x_shifted reads x in place: dy's rows are the
// output channels, and the shifted x's rows are the pixels' channel
// vectors, tap*C/G floats further on. dy is either dyp, group gi's dy in
// the run's padded layout (zeros in the margins), read in place, whose
// margins' columns are (H+p)(W+p)/(HW) of the work as on the forward
// pass; or, when dyp is nil, dy itself, the run's pixels of each output
// channel copied side by side, with the shifted x's rows taken where
// each pixel's place says (kernel.SgemmRows), so that only the output
// pixels are summed over. No unrolling either way.
func (c *Conv2d) weightGradShifted(g convGeometry, x, dy *Tensor, dyp []float32, l shiftedLayout, gi, lo, hi int, s *shiftedRun, taps []float32) {
	p, cg, plane, nb := c.Padding, g.cg, g.h*g.w, hi-lo
	if s.last == nil {
		s.last, s.sample = getScratch(l.plane*cg), getScratch(plane*cg)
	}
	last, sample := grown(s.last, l.plane*cg), grown(s.sample, plane*cg)
	end := 0 // pixels of last written so far
	for b := 0; b < nb; b++ {
		kernel.Transpose(sample, x.Data[((lo+b)*c.In+gi*cg)*plane:][:cg*plane], cg, plane)
		for y := 0; y < g.h; y++ {
			at := (p+b*(g.h+p)+y)*l.wp + p
			clear(last[end*cg : at*cg])
			copy(last[at*cg:(at+g.w)*cg], sample[y*g.w*cg:(y+1)*g.w*cg])
			end = at + g.w
		}
	}
	clear(last[end*cg:])
	if dyp != nil {
		q0 := p*l.wp + p // dy's first pixel in dyp
		for ky := 0; ky < c.Kernel; ky++ {
			for kx := 0; kx < c.Kernel; kx++ {
				t := ky*c.Kernel + kx
				off := ky*l.wp + kx // x's pixel under the tap, from the output pixel's place
				kernel.Sgemm(false, false, g.kg, cg, l.n, 1, dyp[q0:], l.plane, last[off*cg:], cg, 1, taps[t*g.kg*cg:(t+1)*g.kg*cg], cg)
			}
		}
		return
	}
	// dy's rows: the run's pixels of each output channel side by side.
	k := nb * plane
	if s.dy == nil {
		s.dy = getScratch(g.kg * k)
	}
	dyr := grown(s.dy, g.kg*k)
	for b := 0; b < nb; b++ {
		src := dy.Data[((lo+b)*c.Out+gi*g.kg)*plane:][:g.kg*plane]
		for o := 0; o < g.kg; o++ {
			copy(dyr[o*k+b*plane:][:plane], src[o*plane:(o+1)*plane])
		}
	}
	// Pixel (b, y, x) is b*l.sp + y*l.wp + x floats of the layout past the
	// first pixel's place; the one under tap (ky, kx) is ky*l.wp + kx further.
	places := s.places[:0]
	for b := 0; b < nb; b++ {
		for y := 0; y < g.h; y++ {
			for x := 0; x < g.w; x++ {
				places = append(places, b*l.sp+y*l.wp+x)
			}
		}
	}
	s.places = places
	s.tapRows = slices.Grow(s.tapRows[:0], k)[:k]
	for ky := 0; ky < c.Kernel; ky++ {
		for kx := 0; kx < c.Kernel; kx++ {
			t, off := ky*c.Kernel+kx, ky*l.wp+kx
			for i, q := range places {
				s.tapRows[i] = (q + off) * cg
			}
			kernel.SgemmRows(g.kg, cg, 1, dyr, k, last, s.tapRows, 1, taps[t*g.kg*cg:(t+1)*g.kg*cg], cg)
		}
	}
}

// forwardShifted computes samples [lo, hi) of y on the shifted path, with
// the epilogue e (or the bias).
func (c *Conv2d) forwardShifted(g convGeometry, x, y *Tensor, lo, hi int, s *shiftedRun, e *epilogue) {
	e = c.withBias(e)
	sc := c.shiftedConv(g)
	for gi := 0; gi < c.Groups; gi++ {
		w := c.Weight.Value.Data[gi*g.kg*g.rows : (gi+1)*g.kg*g.rows]
		sc.run(x.Data, c.In, gi*g.cg, w, y.Data, c.Out, gi*g.kg, lo, hi, s, e)
	}
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

// shiftedBackBudget is shiftedBudget for the backward pass, whose runs
// also hold x channels last for the weight gradient: 512 KiB, measured
// best of 1<<16 to 1<<19 on BenchmarkConvBackward (1<<19 was 0.87x at
// 16x32x32, 1<<16 no better; the unrolled path's runs of one to three
// samples were 0.94-0.97x).
var shiftedBackBudget = 1 << 17
