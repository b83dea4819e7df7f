package rnn

import "math"

// The fit spends most of its time in exp and tanh. expFast and tanhFast define the
// functions the model uses; expRow and tanhRow apply them to whole rows, with an
// AVX2+FMA version (fastmath_amd64.s) that computes bit-identical results four lanes at
// a time. Every step is an exactly rounded IEEE operation (FMA included), so scalar,
// vector, any CPU and any number of threads give the same bits.
//
// exp: x is clamped to [-708, 709], then x = n ln2 + r with n = round(x / ln2) and
// |r| <= ln2 / 2 (Cody-Waite split of ln2), e^r by its Taylor polynomial of degree 13
// (truncation error below 4e-18) in Horner form with FMA, and 2^n applied by adding n
// to the exponent bits. Relative error below 5e-16 (fastmath_test.go, against math.Exp).
// Beyond the clamp the result saturates (about 3e-308 and 8e307) instead of reaching 0
// or +Inf: harmless for rates and gains, and a diverging fit still overflows its loss.
//
// tanh(x) = (e^{2x} - 1) / (e^{2x} + 1) with x clamped to [-19, 19] (tanh(19) rounds
// to 1); absolute error below 3e-16. Gradients stay exact for the functions computed:
// d/dx expFast is taken as expFast and d/dx tanhFast as 1 - tanhFast^2.

const (
	ln2Hi   = 6.93147180369123816490e-01 // high part of ln 2 (Cody-Waite)
	ln2Lo   = 1.90821492927058770002e-10 // low part
	log2e   = 1.44269504088896338700e+00
	shifter = 6755399441055744.0 // 1.5 * 2^52: z = x log2e + shifter holds round(x log2e) in its low bits
	expLo   = -708.0
	expHi   = 709.0
	tanhLim = 19.0
)

// expPoly holds the Taylor coefficients 1/k!, k = 13 down to 0, each repeated four
// times so the vector code can load them as whole registers.
var expPoly = func() (c [14][4]float64) {
	f := 1.0
	coef := make([]float64, 14)
	for k := 0; k < 14; k++ {
		if k > 0 {
			f *= float64(k)
		}
		coef[k] = 1 / f
	}
	for j := 0; j < 14; j++ {
		for l := range c[j] {
			c[j][l] = coef[13-j]
		}
	}
	return c
}()

// expConst holds the scalar constants of the vector code: expLo, expHi, log2e,
// shifter, ln2Hi, ln2Lo, 1, 2, tanhLim, -tanhLim.
var expConst = [10]float64{expLo, expHi, log2e, shifter, ln2Hi, ln2Lo, 1, 2, tanhLim, -tanhLim}

// expFast returns e^x as described in the file comment.
func expFast(x float64) float64 {
	if x != x {
		return x
	}
	if x < expLo {
		x = expLo
	} else if x > expHi {
		x = expHi
	}
	z := math.FMA(x, log2e, shifter)
	nf := z - shifter
	r := math.FMA(-nf, ln2Hi, x)
	r = math.FMA(-nf, ln2Lo, r)
	p := expPoly[0][0]
	for j := 1; j < 14; j++ {
		p = math.FMA(p, r, expPoly[j][0])
	}
	return math.Float64frombits(math.Float64bits(p) + math.Float64bits(z)<<52)
}

// tanhFast returns tanh(x) as described in the file comment.
func tanhFast(x float64) float64 {
	if x != x {
		return x
	}
	if x < -tanhLim {
		x = -tanhLim
	} else if x > tanhLim {
		x = tanhLim
	}
	e := expFast(2 * x)
	return (e - 1) / (e + 1)
}

// expRow sets dst_i = expFast(src_i).
func expRow(dst, src []float64) {
	src = src[:len(dst)]
	done := 0
	if useVector {
		done = len(dst) &^ 3
		if done > 0 {
			expRowAVX2(dst[:done], src[:done])
		}
	}
	for i := done; i < len(dst); i++ {
		dst[i] = expFast(src[i])
	}
}

// tanhRow sets dst_i = tanhFast(src_i).
func tanhRow(dst, src []float64) {
	src = src[:len(dst)]
	done := 0
	if useVector {
		done = len(dst) &^ 3
		if done > 0 {
			tanhRowAVX2(dst[:done], src[:done])
		}
	}
	for i := done; i < len(dst); i++ {
		dst[i] = tanhFast(src[i])
	}
}
