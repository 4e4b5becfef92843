package nn

import (
	"github.com/convscope/convscope/nn/kernel"
)

// The Winograd path: Winograd's minimal filtering F(2x2, 3x3) (Lavin and
// Gray, "Fast Algorithms for Convolutional Neural Networks", 2015). A 3x3,
// stride-1, padding-1 convolution computes each 2x2 tile of output pixels
// from the 4x4 input tile under it as
//
//	Y = Aᵀ [ Σ_c (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
// (kernel/winograd.go has the matrices and the transforms). For each of
// the 16 entries ξ of a transformed tile the sum over input channels is
// one matrix product, M[ξ] (K × tiles) = U[ξ] (K × C) · V[ξ] (C × tiles):
// 16 multiplies for 4 outputs and a channel pair, where the direct
// convolution does 36, for the price of the transforms (adds only).
// Tiles go by rows of tiles, a block of them at a time: the block's
// transformed inputs V and products M stay in cache between the input
// transform, the 16 products and the output transform.

// winogradConv is one convolution on the Winograd path: cin channels of
// h×w maps into cout, 3x3, stride 1, padding 1.
type winogradConv struct{ h, w, cin, cout int }

// winograd reports a convolution that takes the Winograd path in a fused
// evaluation (Context.Fuse: batch passes that read only the logits or one
// layer's maps): 3x3, stride 1, padding 1, no dilation or groups, and
// enough channels and pixels for the products to pay for the transforms.
// Measured with BenchmarkWinograd against the path taken without it:
//   - batch 64 (and a Slicer's 16 on one core): 1.2-1.5x on 32 and 64
//     channels at 8x8 to 16x16, but 0.87-1.1x on 16 channels, whose
//     products are only 16 deep;
//   - batch 1: 1.7-2.2x on VGG-16's 64 and 128 channels at 224 and 112,
//     1.3-1.5x on 64 to 256 channels at 56; at 28x28 1.35x on 128
//     channels but 0.6-0.95x on 256 and 512, where transforming the
//     filters on every pass (16/9 of the weights, written and read again)
//     costs as much as 196 tiles' products save;
//   - odd maps, whose last tiles hang over the edge (8x8 tiles' work for
//     7x7 outputs) and whose rows go through a scratch plane: 0.95x on 64
//     channels at 7x7, 1.03-1.2x on 128;
//   - maps of a tile or two across, at batch 128: 0.87-0.95x on 128 and
//     256 channels at 3x3, 1.0x at 2x2, 1.0-1.06x at 4x4, 1.14x at 6x6.
//
// Other passes keep the direct sums: Winograd's rounding is a few ulps
// further from them, enough to flip a rectifier or a max-pool's choice
// under a gradient (SmoothGrad on GoogLeNet moved by 1% of its largest
// value against PyTorch's).
func (c *Conv2d) winograd(g convGeometry) bool {
	if noWinograd || c.Kernel != 3 || c.Stride != 1 || c.Padding != 1 || c.Dilation != 1 || c.Groups != 1 {
		return false
	}
	if forceWinograd {
		return true
	}
	odd := g.h%2 == 1 || g.w%2 == 1
	if g.cg < 32 || g.kg < 32 || g.h < 4 || g.w < 4 || odd && min(g.cg, g.kg) < 128 {
		return false
	}
	if g.n == 1 {
		return g.h*g.w >= 56*56
	}
	return g.n*g.h*g.w >= 28*28
}

// noWinograd turns the Winograd path off, and forceWinograd takes it for
// any 3x3 "same" convolution, past the bounds above (the benchmarks'
// comparisons, the layers it declines included).
var noWinograd, forceWinograd bool

func (c *Conv2d) winogradConv(g convGeometry) winogradConv {
	return winogradConv{h: g.h, w: g.w, cin: g.cg, cout: g.kg}
}

// tiles is the number of 2x2 output tiles down and across a map; on an
// odd map the last ones hang over its edge (zeros in, outputs dropped).
func (wc winogradConv) tiles() (th, tw int) { return (wc.h + 1) / 2, (wc.w + 1) / 2 }

// filters returns U: 16 matrices of cout rows and cin columns, U[ξ][k][c]
// = (G w[k][c] Gᵀ)[ξ], from w in the weights' order (cout, cin, 3, 3).
// Runs of filters are transformed into a small buffer and copied out 16
// rows at a time: written straight, the 16 entries of a filter land a
// whole matrix apart, in the same cache sets (twice as slow at 512x512).
func (wc winogradConv) filters(w []float32) *[]float32 {
	const run = 64
	kc := wc.cout * wc.cin
	u := getScratch(16 * kc)
	kernel.ParallelFor((kc+run-1)/run, func(_, r int) {
		var buf [16 * run]float32
		lo, hi := r*run, min(kc, (r+1)*run)
		for at := lo; at < hi; at++ {
			kernel.WinogradFilter(buf[at-lo:], run, w[at*9:])
		}
		for xi := 0; xi < 16; xi++ {
			copy((*u)[xi*kc+lo:xi*kc+hi], buf[xi*run:])
		}
	})
	return u
}

// winogradBlock is a worker's buffers: a block's V and M, a channel's
// phase planes, and an output plane for rows too short to be written in
// place.
type winogradBlock struct{ v, m, q, plane *[]float32 }

func (s *winogradBlock) release() {
	for _, b := range []*[]float32{s.v, s.m, s.q, s.plane} {
		if b != nil {
			putScratch(b)
		}
	}
	*s = winogradBlock{}
}

// allocate takes s's buffers from the scratch pool, where it has none yet;
// they grow as blocks need.
func (s *winogradBlock) allocate() {
	if s.v == nil {
		s.v, s.m, s.q, s.plane = getScratch(0), getScratch(0), getScratch(0), getScratch(0)
	}
}

// tileBlock is tile rows [r0, r1) of the batch (tile row r being row r%th
// of sample r/th): its V and M hold (r1-r0)*tw tiles in rows of ld
// floats, ld leaving WinogradSlack past the last.
type tileBlock struct{ r0, r1, tw, ld int }

func (wc winogradConv) block(r0, r1 int) tileBlock {
	_, tw := wc.tiles()
	nt := (r1 - r0) * tw
	return tileBlock{r0: r0, r1: r1, tw: tw, ld: nt + kernel.WinogradSlack}
}

// samples calls f for each sample b the block covers, with its tile rows
// [ty0, ty1) and the block's tile row of ty0.
func (bl tileBlock) samples(th int, f func(b, ty0, ty1, at int)) {
	for r := bl.r0; r < bl.r1; {
		b, ty0 := r/th, r%th
		ty1 := min(th, ty0+bl.r1-r)
		f(b, ty0, ty1, r-bl.r0)
		r += ty1 - ty0
	}
}

// input writes channels [c0, c1) of the block's V (V[ξ][c][tile], ξ
// cin*ld floats apart) from x, through s's phase planes.
func (wc winogradConv) input(x []float32, bl tileBlock, v []float32, c0, c1 int, s *winogradBlock) {
	th, tw := wc.tiles()
	rs := tw + 1
	plane := wc.h * wc.w
	ds := wc.cin * bl.ld
	bl.samples(th, func(b, ty0, ty1, at int) {
		rows := ty1 - ty0 + 1 // phase plane rows: padded rows 2*ty0 .. 2*ty1+1
		ps := rows * rs
		q := grown(s.q, 4*ps+kernel.WinogradSlack+2)
		for c := c0; c < c1; c++ {
			src := x[(b*wc.cin+c)*plane:][:plane]
			kernel.WinogradPhases(q, ps, rs, src, wc.h, wc.w, ty0, rows)
			for ty := ty0; ty < ty1; ty++ {
				kernel.WinogradInputRow(v[c*bl.ld+(at+ty-ty0)*tw:], ds, q[(ty-ty0)*rs:], ps, rs, tw)
			}
		}
	})
}

// output writes channels [k0, k1) of the block's tiles of y from M
// (M[ξ][k][tile], ξ cout*ld floats apart), applying e (or nothing) to
// each plane's rows once they are written.
func (wc winogradConv) output(m []float32, bl tileBlock, y []float32, k0, k1 int, s *winogradBlock, e *epilogue) {
	th, tw := wc.tiles()
	plane := wc.h * wc.w
	ms := wc.cout * bl.ld
	// Tiles write whole 2x2 outputs, and rows shorter than a vector write
	// past their end: such maps go through s's plane, 2*tw floats a row,
	// and on into y.
	inPlace := tw >= kernel.WinogradSlack && wc.w%2 == 0
	wo := wc.w // out's row length
	if !inPlace {
		wo = 2 * tw
	}
	bl.samples(th, func(b, ty0, ty1, at int) {
		y0, y1 := 2*ty0, min(2*ty1, wc.h) // the map's rows these tiles hold
		for k := k0; k < k1; k++ {
			dst := y[(b*wc.cout+k)*plane:][:plane]
			rows := dst[y0*wc.w : y1*wc.w]
			out := dst
			if !inPlace {
				out = grown(s.plane, 2*th*wo+2*wo+2*kernel.WinogradSlack)
			}
			for ty := ty0; ty < ty1; ty++ {
				kernel.WinogradOutputRow(out[2*ty*wo:], wo, m[k*bl.ld+(at+ty-ty0)*tw:], ms, tw)
			}
			if wo != wc.w { // an odd width: the rows closed up, dropping the last column
				for r := y0; r < y1; r++ {
					copy(out[r*wc.w:(r+1)*wc.w], out[r*wo:])
				}
			}
			src := out[y0*wc.w : y1*wc.w]
			if e == nil {
				if !inPlace {
					copy(rows, src)
				}
				continue
			}
			// The epilogue and the residual sum: one pass.
			e.rowsFrom(rows, src, 1, len(rows), len(rows), k, (b*wc.cout+k)*plane+y0*wc.w)
		}
	})
}

// multiply is the block's 16 products, M[ξ] = U[ξ] · V[ξ].
func (wc winogradConv) multiply(u, v, m []float32, bl tileBlock) {
	nt := (bl.r1 - bl.r0) * bl.tw
	kc := wc.cout * wc.cin
	for xi := 0; xi < 16; xi++ {
		kernel.Sgemm(false, false, wc.cout, nt, wc.cin, 1, u[xi*kc:(xi+1)*kc], wc.cin,
			v[xi*wc.cin*bl.ld:], bl.ld, 0, m[xi*wc.cout*bl.ld:], bl.ld)
	}
}

// buffers returns s's V and M, grown for the block.
func (wc winogradConv) buffers(s *winogradBlock, bl tileBlock) (v, m []float32) {
	s.allocate()
	return grown(s.v, 16*wc.cin*bl.ld), grown(s.m, 16*wc.cout*bl.ld)
}

// The Winograd path's blocking, measured on BenchmarkWinograd:
// winogradBudget caps a block's V and M, in floats, unless that leaves
// fewer than winogradMinTiles tiles for the products' columns. A single
// image whose U is larger than winogradUBudget floats (each block reads it
// all), or that has fewer blocks than twice the cores, runs its blocks
// one at a time with each step split across the cores, within
// winogradWideBudget and at least winogradWideTiles tiles a block.
var (
	winogradBudget     = 1 << 18
	winogradMinTiles   = 128
	winogradUBudget    = 1 << 22
	winogradWideBudget = 1 << 20
	winogradWideTiles  = 128
)

// forwardWinograd computes y on the Winograd path, with the epilogue e
// (or the bias). Blocks of tile rows within winogradBudget go to the
// workers, each doing its blocks' transforms and products on its own; a
// single image with fewer than two blocks a worker, or whose U is larger
// than winogradUBudget, runs its blocks one at a time instead, each step
// split across the workers.
func (c *Conv2d) forwardWinograd(g convGeometry, x, y *Tensor, e *epilogue) {
	e = c.withBias(e)
	wc := c.winogradConv(g)
	u := wc.filters(c.Weight.Value.Data)
	defer putScratch(u)
	th, tw := wc.tiles()
	per := max((winogradMinTiles+tw-1)/tw, winogradBudget/(16*(wc.cin+wc.cout)*tw))
	count, span := runsOf(g.n*th, per)
	sc := make([]winogradBlock, kernel.Workers())
	defer func() {
		for i := range sc {
			sc[i].release()
		}
	}()
	if g.n > 1 || count >= 2*kernel.Workers() && 16*wc.cin*wc.cout <= winogradUBudget {
		kernel.ParallelFor(count, func(wk, i int) {
			bl := wc.block(span(i))
			s := &sc[wk]
			v, m := wc.buffers(s, bl)
			wc.input(x.Data, bl, v, 0, wc.cin, s)
			wc.multiply(*u, v, m, bl)
			wc.output(m, bl, y.Data, 0, wc.cout, s, e)
		})
		return
	}
	per = max((winogradWideTiles+tw-1)/tw, winogradWideBudget/(16*(wc.cin+wc.cout)*tw))
	count = (th + per - 1) / per
	for i := 0; i < count; i++ {
		bl := wc.block(i*th/count, (i+1)*th/count)
		v, m := wc.buffers(&sc[0], bl)
		kernel.ParallelFor(wc.cin, func(wk, c int) {
			sc[wk].allocate()
			wc.input(x.Data, bl, v, c, c+1, &sc[wk])
		})
		wc.multiply(*u, v, m, bl)
		kernel.ParallelFor(wc.cout, func(wk, k int) {
			wc.output(m, bl, y.Data, k, k+1, &sc[wk], e)
		})
	}
}
