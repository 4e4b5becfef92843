package kernel

// Float32 elementwise functions for the activations, replacing float64
// math calls per element. Each is checked against package math over a
// dense grid (math_test.go); the figures below are what that test measures.

// Tanh is tanh(x) in float32 to within 3.3e-7 absolute and relative (a few
// ULP): the odd rational approximation x*P(x²)/Q(x²) of
// degrees 13/6 that Eigen uses (ptanh_float), with inputs clamped to
// ±7.90531110763549805, where tanh rounds to ±1 in float32, and tanh(x) = x
// below 0.0004, where x is tanh(x) rounded. NaN stays NaN.
func Tanh(x float32) float32 {
	const (
		clampHi = 7.90531110763549805
		tiny    = 0.0004
		a1      = 4.89352455891786e-03
		a3      = 6.37261928875436e-04
		a5      = 1.48572235717979e-05
		a7      = 5.12229709037114e-08
		a9      = -8.60467152213735e-11
		a11     = 2.00018790482477e-13
		a13     = -2.76076847742355e-16
		b0      = 4.89352518554385e-03
		b2      = 2.26843463243900e-03
		b4      = 1.18534705686654e-04
		b6      = 1.19825839466702e-06
	)
	ax := x
	if ax < 0 {
		ax = -ax
	}
	if ax < tiny || x != x {
		return x
	}
	if x > clampHi {
		x = clampHi
	} else if x < -clampHi {
		x = -clampHi
	}
	x2 := x * x
	p := float32(a13)
	p = p*x2 + a11
	p = p*x2 + a9
	p = p*x2 + a7
	p = p*x2 + a5
	p = p*x2 + a3
	p = p*x2 + a1
	p *= x
	q := float32(b6)
	q = q*x2 + b4
	q = q*x2 + b2
	q = q*x2 + b0
	return p / q
}

// Erf is erf(x) in float32: the odd rational approximation x*P(x²)/Q(x²)
// of degrees 13/8 that Eigen uses for float (generic_fast_erf_float), with
// inputs clamped to ±4, where erf rounds to ±1 in float32. NaN stays NaN.
// math_test.go measures its error against math.Erf over a dense grid.
func Erf(x float32) float32 {
	const (
		a1  = -1.60960333262415e-02
		a3  = -2.95459980854025e-03
		a5  = -7.34990630326855e-04
		a7  = -5.69250639462346e-05
		a9  = -2.10102402082508e-06
		a11 = 2.77068142495902e-08
		a13 = -2.72614225801306e-10
		b0  = -1.42647390514189e-02
		b2  = -7.37332916720468e-03
		b4  = -1.68282697438203e-03
		b6  = -2.13374055278905e-04
		b8  = -1.45660718464996e-05
	)
	if x != x {
		return x
	}
	x = min(max(x, -4), 4)
	x2 := x * x
	p := float32(a13)
	p = p*x2 + a11
	p = p*x2 + a9
	p = p*x2 + a7
	p = p*x2 + a5
	p = p*x2 + a3
	p = p*x2 + a1
	p *= x
	q := float32(b8)
	q = q*x2 + b6
	q = q*x2 + b4
	q = q*x2 + b2
	q = q*x2 + b0
	return p / q
}
