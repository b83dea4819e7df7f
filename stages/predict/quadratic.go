package predict

import "math"

// Quadratic is the fit y = A + B nu + C nu^2 of a measure over the NE bins, with Lo
// and Hi the NE range the fit covers (the first and last bin centres).
type Quadratic struct {
	A, B, C float64
	Lo, Hi  float64
	OK      bool // false when the weighted normal equations were singular
}

// FitQuadratic is the weighted least-squares fit of y = a + b x + c x^2: it
// minimises sum_j w_j (y_j - a - b x_j - c x_j^2)^2. A nil w weighs every point 1;
// points with a non-finite y or weight, or a weight <= 0, are left out. It needs
// at least three distinct x among the points kept (OK is false otherwise).
// The covered range [Lo, Hi] is the smallest and largest x given.
func FitQuadratic(x, y, w []float64) Quadratic {
	if len(x) != len(y) || (w != nil && len(w) != len(x)) {
		panic("predict: FitQuadratic: length mismatch")
	}
	q := Quadratic{Lo: math.Inf(1), Hi: math.Inf(-1)}
	for _, v := range x {
		q.Lo, q.Hi = math.Min(q.Lo, v), math.Max(q.Hi, v)
	}
	// Centre and scale x so the normal equations stay well conditioned; the
	// coefficients are mapped back below.
	x0, s := (q.Lo+q.Hi)/2, (q.Hi-q.Lo)/2
	if !(s > 0) {
		return q
	}
	var m [3][4]float64 // augmented normal equations in u = (x - x0) / s
	distinct := map[float64]bool{}
	for j := range x {
		wj := 1.0
		if w != nil {
			wj = w[j]
		}
		if !(wj > 0) || math.IsInf(wj, 0) || math.IsNaN(y[j]) || math.IsInf(y[j], 0) {
			continue
		}
		distinct[x[j]] = true
		u := (x[j] - x0) / s
		p := [3]float64{1, u, u * u}
		for r := 0; r < 3; r++ {
			for c := 0; c < 3; c++ {
				m[r][c] += wj * p[r] * p[c]
			}
			m[r][3] += wj * p[r] * y[j]
		}
	}
	if len(distinct) < 3 {
		return q
	}
	coef, ok := solve3(m)
	if !ok {
		return q
	}
	// y = a' + b' u + c' u^2 with u = (x - x0) / s.
	a, b, c := coef[0], coef[1], coef[2]
	q.C = c / (s * s)
	q.B = b/s - 2*c*x0/(s*s)
	q.A = a - b*x0/s + c*x0*x0/(s*s)
	q.OK = true
	return q
}

// solve3 solves a 3x3 system given as an augmented matrix by Gaussian elimination
// with partial pivoting.
func solve3(m [3][4]float64) ([3]float64, bool) {
	var out [3]float64
	scale := 0.0
	for r := 0; r < 3; r++ {
		for c := 0; c < 3; c++ {
			scale = math.Max(scale, math.Abs(m[r][c]))
		}
	}
	if scale == 0 {
		return out, false
	}
	for col := 0; col < 3; col++ {
		p := col
		for r := col + 1; r < 3; r++ {
			if math.Abs(m[r][col]) > math.Abs(m[p][col]) {
				p = r
			}
		}
		if math.Abs(m[p][col]) <= 1e-12*scale {
			return out, false
		}
		m[col], m[p] = m[p], m[col]
		for r := col + 1; r < 3; r++ {
			f := m[r][col] / m[col][col]
			for c := col; c < 4; c++ {
				m[r][c] -= f * m[col][c]
			}
		}
	}
	for r := 2; r >= 0; r-- {
		v := m[r][3]
		for c := r + 1; c < 3; c++ {
			v -= m[r][c] * out[c]
		}
		out[r] = v / m[r][r]
	}
	return out, true
}

// At evaluates the fitted quadratic.
func (q Quadratic) At(x float64) float64 { return q.A + q.B*x + q.C*x*x }

// Vertex is -B / 2C, the stationary point of the quadratic (NaN when C = 0 or
// the fit failed).
func (q Quadratic) Vertex() float64 {
	if !q.OK || q.C == 0 {
		return math.NaN()
	}
	return -q.B / (2 * q.C)
}

// InvertedU reports whether the fit is concave with its vertex inside [Lo, Hi].
func (q Quadratic) InvertedU() bool {
	v := q.Vertex()
	return q.OK && q.C < 0 && v >= q.Lo && v <= q.Hi
}

// Peak is where the fitted quadratic is largest on [Lo, Hi]: the vertex for an
// inverted U, otherwise the end with the larger value. Unlike the vertex it is
// always defined and inside the range, so bootstrap replicates without an interior
// maximum still give a location (at an end), which widens the interval honestly.
func (q Quadratic) Peak() float64 {
	if !q.OK {
		return math.NaN()
	}
	if q.InvertedU() {
		return q.Vertex()
	}
	if q.At(q.Lo) >= q.At(q.Hi) {
		return q.Lo
	}
	return q.Hi
}

// PeakHeight is the null statistic: how far the fitted maximum inside the range
// rises above the higher of the two ends,
//
//	S = y(vertex) - max(y(Lo), y(Hi))   for an inverted U,   0 otherwise,
//
// so S > 0 exactly when the fit is an inverted U, and grows with its curvature and
// with how central the vertex is. NaN when the fit failed.
func (q Quadratic) PeakHeight() float64 {
	if !q.OK {
		return math.NaN()
	}
	if !q.InvertedU() {
		return 0
	}
	return q.At(q.Vertex()) - math.Max(q.At(q.Lo), q.At(q.Hi))
}
