package data

// Antialiased bilinear resampling of float planes: the filter of PIL's
// Image.resize(BILINEAR) and of torchvision's tensor Resize with
// antialias=True (PyTorch's _upsample_bilinear2d_aa). When shrinking, the
// triangle filter is stretched by the scale, so every source pixel counts
// (no aliasing); when enlarging it is plain bilinear interpolation at
// half-pixel centres (align_corners=False). Separable: rows, then columns.
// Not here: bicubic, or the 8-bit rounding PIL does between the passes.

import (
	"github.com/convscope/convscope/nn"
)

// taps is one output index's source window along an axis: the source
// pixels [start, start+len(w)) with weights w summing to one.
type taps struct {
	start int
	w     []float32
}

// bilinearTaps maps an axis of in source pixels onto out output pixels, as
// PIL's precompute_coeffs with the triangle filter (support 1):
//
//	scale = in/out; fs = max(scale, 1); support = fs
//	centre = (i+0.5)·scale
//	xmin = max(int(centre-support+0.5), 0); xmax = min(int(centre+support+0.5), in)
//	w[x] = tri((x+xmin-centre+0.5)/fs), normalised to sum 1
func bilinearTaps(in, out int) []taps {
	scale := float64(in) / float64(out)
	fs := max(scale, 1)
	support := fs
	res := make([]taps, out)
	for i := range res {
		centre := (float64(i) + 0.5) * scale
		xmin := max(int(centre-support+0.5), 0)
		xmax := min(int(centre+support+0.5), in)
		w := make([]float32, max(xmax-xmin, 0))
		var sum float64
		ws := make([]float64, len(w))
		for x := range ws {
			d := (float64(x+xmin) - centre + 0.5) / fs
			if d < 0 {
				d = -d
			}
			if d < 1 {
				ws[x] = 1 - d
			}
			sum += ws[x]
		}
		for x := range w {
			if sum != 0 {
				w[x] = float32(ws[x] / sum)
			}
		}
		res[i] = taps{start: xmin, w: w}
	}
	return res
}

// resizeBilinear returns the (C,oh,ow) antialiased bilinear resampling of
// x, which is (C,H,W). A same-size resize returns x itself.
func resizeBilinear(x *nn.Tensor, oh, ow int) *nn.Tensor {
	c, h, w := dims(x, "Resize")
	if oh == h && ow == w {
		return x
	}
	tx, ty := bilinearTaps(w, ow), bilinearTaps(h, oh)
	mid := make([]float32, h*ow) // one channel, resampled along rows
	out := nn.New(c, oh, ow)
	for ch := range c {
		src := x.Data[ch*h*w : (ch+1)*h*w]
		for y := range h {
			row, dst := src[y*w:(y+1)*w], mid[y*ow:(y+1)*ow]
			for j, t := range tx {
				var v float32
				for k, wt := range t.w {
					v += wt * row[t.start+k]
				}
				dst[j] = v
			}
		}
		plane := out.Data[ch*oh*ow : (ch+1)*oh*ow]
		for i, t := range ty {
			dst := plane[i*ow : (i+1)*ow]
			for k, wt := range t.w {
				srow := mid[(t.start+k)*ow : (t.start+k+1)*ow]
				for j, v := range srow {
					dst[j] += wt * v
				}
			}
		}
	}
	return out
}
