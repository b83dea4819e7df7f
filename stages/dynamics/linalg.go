package dynamics

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// evaluator wraps a LatentSystem with scratch space for the hot loops.
type evaluator struct {
	sys LatentSystem
	vj  velocityJacobian
	d   int
}

func newEvaluator(sys LatentSystem) *evaluator {
	e := &evaluator{sys: sys, d: sys.Dim()}
	e.vj, _ = sys.(velocityJacobian)
	return e
}

// both fills v and jac at kappa.
func (e *evaluator) both(kappa, v, jac []float64) {
	if e.vj != nil {
		e.vj.VelocityJacobian(kappa, v, jac)
		return
	}
	e.sys.Velocity(kappa, v)
	e.sys.Jacobian(kappa, jac)
}

// speed returns |velocity| at kappa, using v as scratch.
func (e *evaluator) speed(kappa, v []float64) float64 {
	e.sys.Velocity(kappa, v)
	return norm(v)
}

// solve overwrites b with the solution of A x = b (A is n x n row-major and is
// destroyed) by Gaussian elimination with partial pivoting; ok is false when A is
// singular to working precision.
func solve(n int, A, b []float64) bool {
	scale := 0.0
	for _, v := range A {
		scale = math.Max(scale, math.Abs(v))
	}
	if scale == 0 || math.IsNaN(scale) || math.IsInf(scale, 0) {
		return false
	}
	for c := 0; c < n; c++ {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(A[r*n+c]) > math.Abs(A[p*n+c]) {
				p = r
			}
		}
		if math.Abs(A[p*n+c]) <= 1e-14*scale {
			return false
		}
		if p != c {
			for k := 0; k < n; k++ {
				A[c*n+k], A[p*n+k] = A[p*n+k], A[c*n+k]
			}
			b[c], b[p] = b[p], b[c]
		}
		for r := c + 1; r < n; r++ {
			f := A[r*n+c] / A[c*n+c]
			if f == 0 {
				continue
			}
			for k := c; k < n; k++ {
				A[r*n+k] -= f * A[c*n+k]
			}
			b[r] -= f * b[c]
		}
	}
	for c := n - 1; c >= 0; c-- {
		s := b[c]
		for k := c + 1; k < n; k++ {
			s -= A[c*n+k] * b[k]
		}
		b[c] = s / A[c*n+c]
	}
	for _, v := range b[:n] {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// eigen returns the eigenvalues of the d x d matrix jac sorted by real part,
// largest first (ties by imaginary part, larger first), and the right eigenvector
// (real part, unit length) of the first one. ok is false when the factorisation fails.
func eigen(d int, jac []float64) (vals []complex128, lead []float64, ok bool) {
	var eg mat.Eigen
	if !eg.Factorize(mat.NewDense(d, d, append([]float64(nil), jac...)), mat.EigenRight) {
		return nil, nil, false
	}
	vals = eg.Values(nil)
	var vecs mat.CDense
	eg.VectorsTo(&vecs)
	order := make([]int, d)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		va, vb := vals[order[a]], vals[order[b]]
		if real(va) != real(vb) {
			return real(va) > real(vb)
		}
		return imag(va) > imag(vb)
	})
	sorted := make([]complex128, d)
	for i, j := range order {
		sorted[i] = vals[j]
	}
	lead = make([]float64, d)
	for a := 0; a < d; a++ {
		lead[a] = real(vecs.At(a, order[0]))
	}
	if n := norm(lead); n > 0 {
		scaleVec(lead, 1/n)
	} else {
		// A complex vector with zero real part: use its imaginary part.
		for a := 0; a < d; a++ {
			lead[a] = imag(vecs.At(a, order[0]))
		}
		if n := norm(lead); n > 0 {
			scaleVec(lead, 1/n)
		} else {
			lead[0] = 1
		}
	}
	// A deterministic sign: the largest component positive.
	big := 0
	for a := range lead {
		if math.Abs(lead[a]) > math.Abs(lead[big])+1e-12 {
			big = a
		}
	}
	if lead[big] < 0 {
		scaleVec(lead, -1)
	}
	return sorted, lead, true
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func norm(v []float64) float64 { return math.Sqrt(dot(v, v)) }

func dist(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return math.Sqrt(s)
}

func scaleVec(v []float64, f float64) {
	for i := range v {
		v[i] *= f
	}
}
