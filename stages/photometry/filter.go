package photometry

import "math"

// Biquad is a second-order IIR filter
//
//	y[n] = b0 x[n] + b1 x[n-1] + b2 x[n-2] - a1 y[n-1] - a2 y[n-2]
//
// (a0 = 1).
type Biquad struct {
	B0, B1, B2, A1, A2 float64
}

// ButterLowpass returns the 2nd-order Butterworth low-pass filter with cut-off
// cutoffHz (gain 1/sqrt(2) there) for a sampling rate rateHz, by the bilinear
// transform with pre-warping (as scipy.signal.butter(2, cutoff, fs=rate)):
//
//	K = tan(pi fc / fs),  n = 1 + sqrt(2) K + K^2
//	b = K^2 (1, 2, 1) / n,  a = (1, 2 (K^2 - 1) / n, (1 - sqrt(2) K + K^2) / n)
//
// It panics unless 0 < cutoffHz < rateHz / 2.
func ButterLowpass(cutoffHz, rateHz float64) Biquad {
	k, n := butterK(cutoffHz, rateHz)
	b0 := k * k / n
	return Biquad{B0: b0, B1: 2 * b0, B2: b0, A1: 2 * (k*k - 1) / n, A2: (1 - math.Sqrt2*k + k*k) / n}
}

// ButterHighpass is the matching high-pass filter: b = (1, -2, 1) / n, same a.
func ButterHighpass(cutoffHz, rateHz float64) Biquad {
	k, n := butterK(cutoffHz, rateHz)
	return Biquad{B0: 1 / n, B1: -2 / n, B2: 1 / n, A1: 2 * (k*k - 1) / n, A2: (1 - math.Sqrt2*k + k*k) / n}
}

func butterK(cutoffHz, rateHz float64) (k, n float64) {
	if !(cutoffHz > 0 && cutoffHz < rateHz/2) {
		panic("photometry: Butterworth cut-off must lie in (0, rate/2)")
	}
	k = math.Tan(math.Pi * cutoffHz / rateHz)
	return k, 1 + math.Sqrt2*k + k*k
}

// Gain is |H(e^{i 2 pi f / fs})|, the filter's amplitude response at f Hz.
func (q Biquad) Gain(fHz, rateHz float64) float64 {
	w := 2 * math.Pi * fHz / rateHz
	z1 := complex(math.Cos(w), -math.Sin(w)) // z^-1
	z2 := z1 * z1
	h := (complex(q.B0, 0) + complex(q.B1, 0)*z1 + complex(q.B2, 0)*z2) /
		(1 + complex(q.A1, 0)*z1 + complex(q.A2, 0)*z2)
	return math.Hypot(real(h), imag(h))
}

// run filters x in place, in transposed direct form II, starting from the state
// that a constant input x0 would have reached (scipy's lfilter_zi times x0), so a
// trace that starts away from zero gives no start-up transient.
func (q Biquad) run(x []float64, x0 float64) {
	if len(x) == 0 {
		return
	}
	g := (q.B0 + q.B1 + q.B2) / (1 + q.A1 + q.A2) // DC gain
	z1 := (g - q.B0) * x0
	z2 := (q.B2 - q.A2*g) * x0
	for i, v := range x {
		y := q.B0*v + z1
		z1 = q.B1*v - q.A1*y + z2
		z2 = q.B2*v - q.A2*y
		x[i] = y
	}
}

// FiltFilt applies q forwards then backwards (zero phase: the amplitude response is
// |H|^2 and nothing is delayed), like scipy.signal.filtfilt with its defaults: the
// ends are extended by an odd reflection of padLen = 3 (max(len(a), len(b))) = 9
// samples (fewer for very short traces) and each pass starts from the steady state
// of its first value. It returns a new slice.
func (q Biquad) FiltFilt(x []float64) []float64 {
	n := len(x)
	if n == 0 {
		return nil
	}
	if n == 1 {
		return []float64{x[0] * q.Gain(0, 1) * q.Gain(0, 1)}
	}
	pad := min(9, n-1)
	ext := make([]float64, n+2*pad)
	for i := 0; i < pad; i++ {
		ext[i] = 2*x[0] - x[pad-i]
		ext[pad+n+i] = 2*x[n-1] - x[n-2-i]
	}
	copy(ext[pad:], x)
	q.run(ext, ext[0])
	reverse(ext)
	q.run(ext, ext[0])
	reverse(ext)
	out := make([]float64, n)
	copy(out, ext[pad:pad+n])
	return out
}

func reverse(x []float64) {
	for i, j := 0, len(x)-1; i < j; i, j = i+1, j-1 {
		x[i], x[j] = x[j], x[i]
	}
}
