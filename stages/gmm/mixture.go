package gmm

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// log2Pi is log(2 pi).
var log2Pi = math.Log(2 * math.Pi)

// Mixture is a Gaussian mixture in R^D with K components. Slices are row-major:
// Means is K x D, Covs is K blocks of D x D.
type Mixture struct {
	K, D    int
	Weights []float64
	Means   []float64
	Covs    []float64

	// Prepared by factor: the lower Cholesky factor L_k of each covariance (K blocks
	// of D x D, Sigma_k = L_k L_k^T) and log w_k - D/2 log 2 pi - log det L_k.
	chol    []float64
	logNorm []float64
}

// NewMixture allocates a mixture of k components in dimension d with zero parameters.
func NewMixture(k, d int) *Mixture {
	return &Mixture{K: k, D: d, Weights: make([]float64, k), Means: make([]float64, k*d),
		Covs: make([]float64, k*d*d), chol: make([]float64, k*d*d), logNorm: make([]float64, k)}
}

// Clone returns a deep copy.
func (m *Mixture) Clone() *Mixture {
	c := *m
	c.Weights = append([]float64(nil), m.Weights...)
	c.Means = append([]float64(nil), m.Means...)
	c.Covs = append([]float64(nil), m.Covs...)
	c.chol = append([]float64(nil), m.chol...)
	c.logNorm = append([]float64(nil), m.logNorm...)
	return &c
}

// Mean returns component k's mean (a view).
func (m *Mixture) Mean(k int) []float64 { return m.Means[k*m.D : (k+1)*m.D] }

// Cov returns component k's covariance, row-major D x D (a view).
func (m *Mixture) Cov(k int) []float64 { return m.Covs[k*m.D*m.D : (k+1)*m.D*m.D] }

// factor computes the Cholesky factors and normalising constants with gonum's
// Cholesky. A component of weight 0 gets log normaliser -Inf and is never chosen.
// It reports false when a covariance of a live component is not positive definite.
func (m *Mixture) factor() bool {
	d := m.D
	if len(m.chol) != m.K*d*d {
		m.chol = make([]float64, m.K*d*d)
		m.logNorm = make([]float64, m.K)
	}
	var chol mat.Cholesky
	var lower mat.TriDense
	sym := mat.NewSymDense(d, nil)
	for k := 0; k < m.K; k++ {
		if !(m.Weights[k] > 0) {
			m.logNorm[k] = math.Inf(-1)
			continue
		}
		cov := m.Cov(k)
		for a := 0; a < d; a++ {
			for b := a; b < d; b++ {
				// Symmetrise: round-off may leave the stored matrix a hair off.
				sym.SetSym(a, b, 0.5*(cov[a*d+b]+cov[b*d+a]))
			}
		}
		if !chol.Factorize(sym) {
			return false
		}
		chol.LTo(&lower)
		l := m.chol[k*d*d : (k+1)*d*d]
		for a := 0; a < d; a++ {
			for b := 0; b < d; b++ {
				l[a*d+b] = lower.At(a, b)
			}
		}
		m.logNorm[k] = math.Log(m.Weights[k]) - 0.5*float64(d)*log2Pi - 0.5*chol.LogDet()
	}
	return true
}

// Prepare validates the parameters and precomputes what density evaluation needs; call
// it after setting Weights, Means and Covs by hand. It fails when a weight is negative,
// the weights do not sum to 1 (within 1e-9), a value is not finite, or a covariance of a
// component with positive weight is not positive definite.
func (m *Mixture) Prepare() error {
	if len(m.Weights) != m.K || len(m.Means) != m.K*m.D || len(m.Covs) != m.K*m.D*m.D {
		return fmt.Errorf("gmm: mixture slices do not match K=%d, D=%d", m.K, m.D)
	}
	sum := 0.0
	for k, w := range m.Weights {
		if !(w >= 0) || math.IsInf(w, 0) {
			return fmt.Errorf("gmm: weight %d is %v", k, w)
		}
		sum += w
	}
	if math.Abs(sum-1) > 1e-9 {
		return fmt.Errorf("gmm: weights sum to %v, want 1", sum)
	}
	for _, s := range [][]float64{m.Means, m.Covs} {
		for _, v := range s {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("gmm: parameter %v is not finite", v)
			}
		}
	}
	if !m.factor() {
		return fmt.Errorf("gmm: a covariance is not positive definite")
	}
	return nil
}

// logJoint fills lp (length K) with log w_k + log N(x; mu_k, Sigma_k), using z (length
// D) as scratch, and returns log p(x) by log-sum-exp.
func (m *Mixture) logJoint(x, lp, z []float64) float64 {
	d := m.D
	best := math.Inf(-1)
	for k := 0; k < m.K; k++ {
		if math.IsInf(m.logNorm[k], -1) {
			lp[k] = math.Inf(-1)
			continue
		}
		mu := m.Means[k*d : (k+1)*d]
		l := m.chol[k*d*d : (k+1)*d*d]
		// Forward substitution L z = x - mu; the Mahalanobis distance is |z|^2.
		maha := 0.0
		for a := 0; a < d; a++ {
			s := x[a] - mu[a]
			row := l[a*d : a*d+a]
			for b, v := range row {
				s -= v * z[b]
			}
			z[a] = s / l[a*d+a]
			maha += z[a] * z[a]
		}
		lp[k] = m.logNorm[k] - 0.5*maha
		if lp[k] > best {
			best = lp[k]
		}
	}
	if math.IsInf(best, -1) {
		return best
	}
	s := 0.0
	for _, v := range lp {
		s += math.Exp(v - best)
	}
	return best + math.Log(s)
}

// Posterior returns, for the n points of x (row-major n x D), the responsibilities
// r_ik = P(component k | x_i) (row-major n x K), the most probable component of each
// point (ties to the lower index), and the log-likelihood sum_i log p(x_i). The mixture
// must be prepared (by Fit or Prepare).
func (m *Mixture) Posterior(x []float64) (resp []float64, labels []int, logLik float64) {
	n := checkShape(x, m.D)
	resp = make([]float64, n*m.K)
	labels = make([]int, n)
	z := make([]float64, m.D)
	for i := 0; i < n; i++ {
		r := resp[i*m.K : (i+1)*m.K]
		lx := m.logJoint(x[i*m.D:(i+1)*m.D], r, z)
		logLik += lx
		best := 0
		for k := range r {
			r[k] = math.Exp(r[k] - lx)
			if r[k] > r[best] {
				best = k
			}
		}
		labels[i] = best
	}
	return resp, labels, logLik
}

// LogLikelihood is sum_i log p(x_i) for the n points of x (row-major n x D).
func (m *Mixture) LogLikelihood(x []float64) float64 {
	n := checkShape(x, m.D)
	lp := make([]float64, m.K)
	z := make([]float64, m.D)
	s := 0.0
	for i := 0; i < n; i++ {
		s += m.logJoint(x[i*m.D:(i+1)*m.D], lp, z)
	}
	return s
}

// Sample draws n points from the mixture: a component k with probability w_k, then
// mu_k + L_k xi with xi standard normal. It returns the points (row-major n x D) and
// their components. The mixture must be prepared.
func (m *Mixture) Sample(n int, rng *rand.Rand) (x []float64, labels []int) {
	d := m.D
	x = make([]float64, n*d)
	labels = make([]int, n)
	xi := make([]float64, d)
	for i := 0; i < n; i++ {
		u := rng.Float64()
		k, cum := 0, 0.0
		for k = 0; k < m.K-1; k++ {
			cum += m.Weights[k]
			if u < cum {
				break
			}
		}
		for k > 0 && !(m.Weights[k] > 0) { // round-off must not pick an empty component
			k--
		}
		labels[i] = k
		for a := range xi {
			xi[a] = rng.NormFloat64()
		}
		mu := m.Mean(k)
		l := m.chol[k*d*d : (k+1)*d*d]
		row := x[i*d : (i+1)*d]
		for a := 0; a < d; a++ {
			s := mu[a]
			for b := 0; b <= a; b++ {
				s += l[a*d+b] * xi[b]
			}
			row[a] = s
		}
	}
	return x, labels
}

// checkShape returns the number of rows of x with d columns; a length that is not a
// multiple of d is a programmer error.
func checkShape(x []float64, d int) int {
	if d <= 0 || len(x)%d != 0 {
		panic(fmt.Sprintf("gmm: %d values do not form rows of %d", len(x), d))
	}
	return len(x) / d
}

// Reordered returns a prepared copy whose component j is component order[j] of m.
// order must be a permutation of 0..K-1 (anything else is a programmer error).
func (m *Mixture) Reordered(order []int) *Mixture {
	if len(order) != m.K {
		panic(fmt.Sprintf("gmm: order of %d components for a mixture of %d", len(order), m.K))
	}
	seen := make([]bool, m.K)
	out := NewMixture(m.K, m.D)
	dd := m.D * m.D
	for j, c := range order {
		if c < 0 || c >= m.K || seen[c] {
			panic(fmt.Sprintf("gmm: %v is not a permutation", order))
		}
		seen[c] = true
		out.Weights[j] = m.Weights[c]
		copy(out.Means[j*m.D:(j+1)*m.D], m.Mean(c))
		copy(out.Covs[j*dd:(j+1)*dd], m.Cov(c))
		copy(out.chol[j*dd:(j+1)*dd], m.chol[c*dd:(c+1)*dd])
		out.logNorm[j] = m.logNorm[c]
	}
	return out
}

// SampleMatched draws n points whose per-component sample moments are exactly the
// mixture's: component k gets a fixed share n_k of the points (n w_k rounded by the
// largest-remainder method, ties to the lower index), drawn as standard normal
// vectors xi whose own sample mean xbar and covariance S = L_S L_S^T (1/n_k
// normalisation) are then removed,
//
//	x = mu_k + L_k L_S^-1 (xi - xbar),
//
// so the sample mean is mu_k and the sample covariance Sigma_k up to round-off. A
// component with n_k <= D points (whose sample covariance is singular) gets plain
// draws mu_k + L_k xi. Points come component by component; labels says which. The
// mixture must be prepared.
//
// Use it when what matters is the mixture's moments rather than the spread of a
// finite sample around them (e.g. networks resampled from a fitted mixture, whose
// low-rank dynamics depend on the sample's second moments).
func (m *Mixture) SampleMatched(n int, rng *rand.Rand) (x []float64, labels []int) {
	d := m.D
	counts := apportion(m.Weights, n)
	x = make([]float64, 0, n*d)
	labels = make([]int, 0, n)
	var chol mat.Cholesky
	var lower mat.TriDense
	sym := mat.NewSymDense(d, nil)
	for k, c := range counts {
		xi := make([]float64, c*d)
		for i := range xi {
			xi[i] = rng.NormFloat64()
		}
		mean := make([]float64, d)
		ls := make([]float64, d*d) // L_S, or the identity for plain draws
		for a := 0; a < d; a++ {
			ls[a*d+a] = 1
		}
		if c > d {
			for i := 0; i < c; i++ {
				for a := 0; a < d; a++ {
					mean[a] += xi[i*d+a]
				}
			}
			for a := range mean {
				mean[a] /= float64(c)
			}
			for a := 0; a < d; a++ {
				for b := a; b < d; b++ {
					s := 0.0
					for i := 0; i < c; i++ {
						s += (xi[i*d+a] - mean[a]) * (xi[i*d+b] - mean[b])
					}
					sym.SetSym(a, b, s/float64(c))
				}
			}
			if chol.Factorize(sym) {
				chol.LTo(&lower)
				for a := 0; a < d; a++ {
					for b := 0; b < d; b++ {
						ls[a*d+b] = lower.At(a, b)
					}
				}
			} else {
				for a := range mean {
					mean[a] = 0
				}
			}
		}
		mu := m.Mean(k)
		l := m.chol[k*d*d : (k+1)*d*d]
		w := make([]float64, d)
		for i := 0; i < c; i++ {
			// w = L_S^-1 (xi - xbar) by forward substitution, then x = mu + L_k w.
			for a := 0; a < d; a++ {
				s := xi[i*d+a] - mean[a]
				for b := 0; b < a; b++ {
					s -= ls[a*d+b] * w[b]
				}
				w[a] = s / ls[a*d+a]
			}
			for a := 0; a < d; a++ {
				s := mu[a]
				for b := 0; b <= a; b++ {
					s += l[a*d+b] * w[b]
				}
				x = append(x, s)
			}
			labels = append(labels, k)
		}
	}
	return x, labels
}

// apportion splits n into shares proportional to weights by the largest-remainder
// method (ties to the lower index).
func apportion(weights []float64, n int) []int {
	counts := make([]int, len(weights))
	rem := make([]float64, len(weights))
	left := n
	for k, w := range weights {
		v := w * float64(n)
		counts[k] = int(math.Floor(v))
		rem[k] = v - float64(counts[k])
		left -= counts[k]
	}
	for ; left > 0; left-- {
		best := 0
		for k := range rem {
			if rem[k] > rem[best] {
				best = k
			}
		}
		counts[best]++
		rem[best] = -1
	}
	return counts
}
