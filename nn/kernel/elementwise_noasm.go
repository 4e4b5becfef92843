//go:build !amd64 || noasm

package kernel

// Without assembly the elementwise loops of elementwise.go run in Go.
var useAVX2 = false

func sumsAVX2(x *float32, n int, mu float32, out *[16]float32)             { panic("no assembly") }
func sumDotAVX2(d, x *float32, n int, mu float32, out *[16]float32)        { panic("no assembly") }
func affineAVX2(dst, x *float32, n int, a, b float32)                      { panic("no assembly") }
func linearCombinationAVX2(dst, d, x *float32, n int, a, b, mu, c float32) { panic("no assembly") }
func clampAVX2(dst, x *float32, n int, lo, hi float32)                     { panic("no assembly") }
func maskBetweenAVX2(dst, dy, x *float32, n int, lo, hi float32)           { panic("no assembly") }
func addAVX2(dst, a, b *float32, n int)                                    { panic("no assembly") }
func copyRowsAVX2(dst, src *float32, rows, w, ldDst, ldSrc int)            { panic("no assembly") }
func mulAVX2(dst, a, b *float32, n int)                                    { panic("no assembly") }
func mulAddAVX2(dst, a, b, c *float32, n int)                              { panic("no assembly") }
func axpyAVX2(dst, x *float32, n int, a float32)                           { panic("no assembly") }
func dotAVX2(a, b *float32, n int, out *[8]float32)                        { panic("no assembly") }
func tanhAVX2(dst, x *float32, n int, s, a float32)                        { panic("no assembly") }
func geluAVX2(dst, x *float32, n int, s, a float32)                        { panic("no assembly") }
func geluGradAVX2(dst, dy, x *float32, n int)                              { panic("no assembly") }
func tanhGradAVX2(dst, dy, y *float32, n int, c0, c1 float32)              { panic("no assembly") }
func evensAVX2(dst, src *float32, n int)                                   { panic("no assembly") }
func depthwiseTapsAVX2(out, base *float32, offs *int, w *float32, taps, rows, n, ldOut, ldIn int) {
	panic("no assembly")
}
func depthwiseTapsAffineClampAVX2(out, base *float32, offs *int, w *float32, taps, rows, n, ldOut, ldIn int, a, b, lo, hi float32) {
	panic("no assembly")
}
func affineClampAVX2(dst, x *float32, n int, a, b, lo, hi float32) { panic("no assembly") }
func tapDotsAVX2(sums, dy, base *float32, offs *int, taps, n int)  { panic("no assembly") }
func maxTapsAVX2(out *float32, arg *int32, base *float32, offs *int, taps, n int) {
	panic("no assembly")
}
func winogradInputAVX2(v *float32, ds int, q *float32, ps, rs, tw int) { panic("no assembly") }
func winogradOutputAVX2(y *float32, w int, m *float32, ms, tw int)     { panic("no assembly") }
func winogradPhasesAVX2(q *float32, ps, rs int, src *float32, h, w int, masks *[16]int32) {
	panic("no assembly")
}
func epilogueRowsAVX2(dst, src *float32, rows, w, ldDst, ldSrc int, a, b, lo, hi float32) {
	panic("no assembly")
}
func epilogueRowsResidualAVX2(dst, src, res *float32, rows, w, ldDst, ldSrc int, a, b, lo, hi, sumHi float32) {
	panic("no assembly")
}
func maxPool2x2AVX2(y *float32, sw *int32, x *float32, offs *int32, w, rows, ow int) {
	panic("no assembly")
}
func maxPool3x3AVX2(y *float32, sw *int32, x *float32, offs *int32, w, rows, ow int) {
	panic("no assembly")
}
