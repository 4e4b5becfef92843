package nn

import "github.com/convscope/convscope/nn/kernel"

// Depthwise convolutions (G = C, K = mC for a channel multiplier m, so each
// filter sees one input channel) run kernel.Depthwise's direct loops rather
// than im2col + a product with one output row per group. Work is split by
// input channel, each task looping over the samples in order, so batch 1
// uses every core and every sum runs in a fixed order.

// depthwise reports a convolution whose groups each hold one input channel.
func (c *Conv2d) depthwise() bool { return c.Groups == c.In && c.Groups > 1 }

// depthwiseForward sets y = conv(x, W) + b (g.kg = m outputs per input channel).
func (c *Conv2d) depthwiseForward(g convGeometry, x, y *Tensor, e *epilogue) {
	k2, plane, cols := c.Kernel*c.Kernel, g.h*g.w, g.cols
	if g.kg == 1 && c.Bias == nil {
		c.depthwisePlanes(g, x, y, e)
		return
	}
	kernel.ParallelFor(c.In, func(_, ci int) {
		for i := 0; i < g.n; i++ {
			xp := x.Data[(i*c.In+ci)*plane:][:plane]
			for m := 0; m < g.kg; m++ {
				o := ci*g.kg + m
				yp := y.Data[(i*c.Out+o)*cols:][:cols]
				kernel.Depthwise(xp, g.h, g.w, c.Weight.Value.Data[o*k2:(o+1)*k2], c.Kernel, c.Stride, c.Padding, c.Dilation, g.oh, g.ow, yp)
				if e != nil {
					e.plane(yp, o)
				} else if c.Bias != nil {
					b := c.Bias.Value.Data[o]
					for j := range yp {
						yp[j] += b
					}
				}
			}
		}
	})
}

// depthwisePlanes is depthwiseForward for one filter per channel and no
// bias (MobileNet's and ConvNeXt's layers): each task runs a sample's
// channels lo..hi-1 in one kernel.DepthwisePlanes call, with the fused
// epilogue's batch norm and rectifier inside it when there is one.
func (c *Conv2d) depthwisePlanes(g convGeometry, x, y *Tensor, e *epilogue) {
	k2, plane, cols := c.Kernel*c.Kernel, g.h*g.w, g.cols
	parts := kernel.Workers()
	kernel.ParallelFor(g.n*parts, func(_, t int) {
		i, part := t/parts, t%parts
		lo, hi := part*c.In/parts, (part+1)*c.In/parts
		if lo == hi {
			return
		}
		xs := x.Data[(i*c.In+lo)*plane : (i*c.In+hi)*plane]
		ys := y.Data[(i*c.Out+lo)*cols : (i*c.Out+hi)*cols]
		ep, fused := e.planes(lo, hi)
		var epp *kernel.PlaneEpilogue
		if fused {
			epp = &ep
		}
		kernel.DepthwisePlanes(xs, hi-lo, g.h, g.w, c.Weight.Value.Data[lo*k2:hi*k2], c.Kernel, c.Stride, c.Padding, c.Dilation, g.oh, g.ow, ys, epp)
		if e != nil && !fused {
			for o := lo; o < hi; o++ {
				e.plane(ys[(o-lo)*cols:(o-lo+1)*cols], o)
			}
		}
	})
}

// depthwiseBackward sets dx to the input gradient (dx is zero on entry when
// the channel multiplier g.kg is above 1: the filters of a plane add to it)
// and, when grads is not nil, adds the filter and bias gradients. The
// planes are walked in memory order, each task a sample's run of channels
// (as the forward pass), so that each core streams through one stretch of
// x and dy; each plane's filter and bias gradients go to their own slot,
// added to the gradients in sample order after, which gives the bits of
// adding them one plane at a time.
func (c *Conv2d) depthwiseBackward(g convGeometry, x, dy, dx *Tensor, grads Grads) {
	var dW, db, partW, partB []float32
	k2, plane, cols := c.Kernel*c.Kernel, g.h*g.w, g.cols
	if grads != nil {
		dW = grads.For(c.Weight).Data
		pw := getScratch(g.n * c.Out * k2)
		defer putScratch(pw)
		partW = *pw
		clear(partW)
		if c.Bias != nil {
			db = grads.For(c.Bias).Data
			pb := getScratch(g.n * c.Out)
			defer putScratch(pb)
			partB = *pb
		}
	}
	parts := kernel.Workers()
	kernel.ParallelFor(g.n*parts, func(_, t int) {
		i, part := t/parts, t%parts
		lo, hi := part*c.In/parts, (part+1)*c.In/parts
		if g.kg == 1 { // each plane's only filter: dx is set, not added to, from the same padded dy as dW
			var dWs []float32
			if dW != nil {
				dWs = partW[(i*c.Out+lo)*k2 : (i*c.Out+hi)*k2]
			}
			kernel.DepthwiseGradsSetPlanes(x.Data[(i*c.In+lo)*plane:(i*c.In+hi)*plane], hi-lo, g.h, g.w, dy.Data[(i*c.Out+lo)*cols:(i*c.Out+hi)*cols],
				c.Weight.Value.Data[lo*k2:hi*k2], c.Kernel, c.Stride, c.Padding, c.Dilation, g.oh, g.ow, dx.Data[(i*c.In+lo)*plane:(i*c.In+hi)*plane], dWs)
		}
		for ci := lo; ci < hi && g.kg > 1; ci++ {
			xp := x.Data[(i*c.In+ci)*plane:][:plane]
			dxp := dx.Data[(i*c.In+ci)*plane:][:plane]
			for m := 0; m < g.kg; m++ {
				o := ci*g.kg + m
				dyp := dy.Data[(i*c.Out+o)*cols:][:cols]
				wt := c.Weight.Value.Data[o*k2 : (o+1)*k2]
				var dWo []float32
				if dW != nil {
					dWo = partW[(i*c.Out+o)*k2:][:k2]
				}
				kernel.DepthwiseInputGrad(dyp, g.h, g.w, wt, c.Kernel, c.Stride, c.Padding, c.Dilation, g.oh, g.ow, dxp)
				if dWo != nil {
					kernel.DepthwiseWeightGrad(xp, g.h, g.w, dyp, c.Kernel, c.Stride, c.Padding, c.Dilation, g.oh, g.ow, dWo)
				}
			}
		}
		for o := lo * g.kg; o < hi*g.kg && db != nil; o++ { // the filters of the task's planes
			var sum float32
			for _, v := range dy.Data[(i*c.Out+o)*cols:][:cols] {
				sum += v
			}
			partB[i*c.Out+o] = sum
		}
	})
	for i := 0; i < g.n && dW != nil; i++ {
		kernel.Add(dW, dW, partW[i*c.Out*k2:(i+1)*c.Out*k2])
		if db != nil {
			kernel.Add(db, db, partB[i*c.Out:(i+1)*c.Out])
		}
	}
}
