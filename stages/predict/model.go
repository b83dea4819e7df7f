package predict

import (
	"math"
	"math/cmplx"

	"gonum.org/v1/gonum/mat"

	"nmdyn/stages/rnn"
)

// latentNet is the network at one NE level written in its latent coordinates.
// With inputs off, every stationary state lies in the affine space
//
//	x = h + a(nu) + U kappa,   U = [M | P]  (N x D, D = R, + K for lowrank)
//
// and a state in it stays in it: x[t+1] = h + a + U ((1 - alpha) kappa + alpha G(kappa)),
//
//	G(kappa) = V^T ( g_pre * tanh( g_post * (h + a + U kappa) ) ) / N,   V = [Nv | Q diag f(nu)],
//
// so the fixed points are the solutions of G(kappa) = kappa, found by Newton's
// method in D dimensions. The Jacobian of the drift at a fixed point x* is
//
//	-I + U V^T diag(d) / N,   d_i = g_pre_i g_post_i (1 - tanh^2(g_post_i x*_i)),
//
// whose eigenvalues are -1 (N - D times) and -1 + eig(L), with the latent Jacobian
// L = V^T diag(d) U / N (D x D); span(U) is invariant under it.
type latentNet struct {
	m     *rnn.Model
	s     *rnn.NEState
	d     int
	u, v  []float64 // N x D
	base  []float64 // h + a(nu)
	alpha float64
	x     []float64 // scratch state of eval
}

func newLatentNet(m *rnn.Model, nu float64) *latentNet {
	s := m.AtNE(nu, nil)
	d := m.R
	if m.Variant == rnn.LowRank {
		d += m.K
	}
	ln := &latentNet{m: m, s: s, d: d, u: make([]float64, m.N*d), v: make([]float64, m.N*d),
		base: make([]float64, m.N), alpha: m.Alpha()}
	for i := 0; i < m.N; i++ {
		ln.base[i] = m.H[i] + s.A[i]
		for j := 0; j < m.R; j++ {
			ln.u[i*d+j] = m.M[i*m.R+j]
			ln.v[i*d+j] = m.Nv[i*m.R+j]
		}
		if m.Variant == rnn.LowRank {
			for k := 0; k < m.K; k++ {
				ln.u[i*d+m.R+k] = m.P[i*m.K+k]
				ln.v[i*d+m.R+k] = m.Q[i*m.K+k] * s.F[k]
			}
		}
	}
	return ln
}

// state fills x = h + a + U kappa.
func (ln *latentNet) state(kappa, x []float64) []float64 {
	n, d := ln.m.N, ln.d
	x = resize(x, n)
	for i := 0; i < n; i++ {
		v := ln.base[i]
		for j := 0; j < d; j++ {
			v += ln.u[i*d+j] * kappa[j]
		}
		x[i] = v
	}
	return x
}

// eval returns G(kappa) and, when jac is not nil, fills it with L (D x D, row-major)
// at the state h + a + U kappa.
func (ln *latentNet) eval(kappa []float64, jac []float64) []float64 {
	n, d, s := ln.m.N, ln.d, ln.s
	ln.x = ln.state(kappa, ln.x)
	x := ln.x
	g := make([]float64, d)
	if jac != nil {
		clear(jac)
	}
	for i := 0; i < n; i++ {
		r := math.Tanh(s.GPost[i] * x[i])
		rp := s.GPre[i] * r
		di := s.GPre[i] * s.GPost[i] * (1 - r*r)
		for a := 0; a < d; a++ {
			va := ln.v[i*d+a]
			g[a] += va * rp
			if jac != nil {
				for b := 0; b < d; b++ {
					jac[a*d+b] += va * di * ln.u[i*d+b]
				}
			}
		}
	}
	inv := 1 / float64(n)
	for a := range g {
		g[a] *= inv
	}
	for k := range jac {
		jac[k] *= inv
	}
	return g
}

// fixedPoint relaxes the network from x = h + a (kappa = 0) with inputs off, as the
// simulated network would, then polishes the state with Newton's method on
// G(kappa) - kappa. It returns the latent coordinates, the latent Jacobian L there,
// and whether the fixed point converged and is stable (every eigenvalue of L has a
// real part below 1). In a multistable network this is the attractor whose basin
// holds the state without recurrent drive. When the relaxation stalls on an
// unstable fixed point (kappa = 0 is one in a symmetric network), it restarts from
// that point nudged along the unstable direction, first +, then -.
func (ln *latentNet) fixedPoint() (kappa, jac []float64, ok bool) {
	d := ln.d
	jac = make([]float64, d*d)
	if d == 0 {
		return make([]float64, 0), jac, true
	}
	starts := [][]float64{make([]float64, d)}
	for try := 0; try < len(starts) && try < 3; try++ {
		k := append([]float64(nil), starts[try]...)
		for t := 0; t < 4000; t++ {
			g := ln.eval(k, nil)
			for a := range k {
				k[a] = (1-ln.alpha)*k[a] + ln.alpha*g[a]
			}
		}
		if !newton(ln, k, jac) {
			continue
		}
		ln.eval(k, jac)
		if maxRealEig(jac, d) < 1 {
			return k, jac, true
		}
		if try == 0 {
			vals, vecs := eigen(jac, d, true)
			if vals == nil {
				break
			}
			best := 0
			for a := range vals {
				if real(vals[a]) > real(vals[best]) {
					best = a
				}
			}
			scale := 0.1
			for _, v := range k {
				scale = math.Max(scale, 0.1*math.Abs(v))
			}
			for _, sign := range []float64{1, -1} {
				s := append([]float64(nil), k...)
				var norm float64
				for a := 0; a < d; a++ {
					norm += real(vecs.At(a, best)) * real(vecs.At(a, best))
				}
				norm = math.Sqrt(norm)
				for a := 0; a < d; a++ {
					if norm > 0 {
						s[a] += sign * scale * real(vecs.At(a, best)) / norm
					}
				}
				starts = append(starts, s)
			}
		}
	}
	return make([]float64, d), jac, false
}

// newton solves G(kappa) = kappa in place from the given start, with step halving
// on the residual norm. It reports convergence (residual below 1e-12 relative to
// the scale of kappa, or 1e-12 absolute).
func newton(ln *latentNet, kappa, jac []float64) bool {
	d := ln.d
	resid := func(k []float64) ([]float64, float64) {
		g := ln.eval(k, nil)
		var ss float64
		for a := range g {
			g[a] -= k[a]
			ss += g[a] * g[a]
		}
		return g, math.Sqrt(ss)
	}
	f, norm := resid(kappa)
	for it := 0; it < 100; it++ {
		scale := 1.0
		for _, v := range kappa {
			scale = math.Max(scale, math.Abs(v))
		}
		if norm <= 1e-12*scale {
			return true
		}
		ln.eval(kappa, jac)
		a := mat.NewDense(d, d, nil)
		for i := 0; i < d; i++ {
			for j := 0; j < d; j++ {
				v := jac[i*d+j]
				if i == j {
					v--
				}
				a.Set(i, j, v)
			}
		}
		var step mat.VecDense
		if err := step.SolveVec(a, mat.NewVecDense(d, append([]float64(nil), f...))); err != nil {
			return false
		}
		improved := false
		for lam := 1.0; lam > 1e-6; lam /= 2 {
			trial := make([]float64, d)
			for i := range trial {
				trial[i] = kappa[i] - lam*step.AtVec(i)
			}
			tf, tn := resid(trial)
			if tn < norm {
				copy(kappa, trial)
				f, norm = tf, tn
				improved = true
				break
			}
		}
		if !improved {
			scale := 1.0
			for _, v := range kappa {
				scale = math.Max(scale, math.Abs(v))
			}
			return norm <= 1e-9*scale
		}
	}
	return false
}

// eigen returns the eigenvalues of the D x D matrix a (row-major) and, when
// vectors is true, its right eigenvectors as columns.
func eigen(a []float64, d int, vectors bool) ([]complex128, *mat.CDense) {
	var e mat.Eigen
	kind := mat.EigenNone
	if vectors {
		kind = mat.EigenRight
	}
	if !e.Factorize(mat.NewDense(d, d, append([]float64(nil), a...)), kind) {
		return nil, nil
	}
	vals := e.Values(nil)
	if !vectors {
		return vals, nil
	}
	var v mat.CDense
	e.VectorsTo(&v)
	return vals, &v
}

// maxRealEig is the largest real part of the eigenvalues of a (NaN when the
// factorisation fails).
func maxRealEig(a []float64, d int) float64 {
	vals, _ := eigen(a, d, false)
	if vals == nil {
		return math.NaN()
	}
	best := math.Inf(-1)
	for _, v := range vals {
		best = math.Max(best, real(v))
	}
	return best
}

// ModelPoint is the model's prediction at one NE level.
type ModelPoint struct {
	Nu     float64
	Stable bool // a stable fixed point was found (otherwise the curves are NaN)
	// Tau1S is the slowest time constant at the fixed point, tau / (1 - max Re
	// eig L), s.
	Tau1S float64
	// PulseResponse is the linear response to a one-bin unit pulse of each event
	// input, integrated over time and summed over the event channels:
	//
	//	sum_e sum_{t >= 1} dt (1/N) |delta r_e[t]|^2,
	//
	// delta r = g_post (1 - r*^2) delta x the deviation of the rates from the fixed
	// point, delta x[1] = alpha B_e and delta x[t+1] = A delta x[t] with A the
	// one-step Jacobian (1 - alpha) I + alpha U V^T diag(d) / N. Units: s. Without
	// event inputs, the pulses are along the columns of U (the recurrent input
	// directions).
	PulseResponse float64
	// StationaryVariance is the mean per-neuron variance of the rates under unit
	// white noise along each latent direction (an Euler-Maruyama step
	// x[t+1] = A x[t] + sqrt(alpha) U xi[t], xi ~ N(0, I_D)): with the noise in
	// span(U), x = U k and k[t+1] = A_L k[t] + sqrt(alpha) xi, A_L = (1 - alpha) I
	// + alpha L, whose stationary covariance S solves the discrete Lyapunov
	// equation S = A_L S A_L^T + alpha I; the variance is tr(U^T Q U S) / N with
	// Q = diag(g_post^2 (1 - r*^2)^2).
	StationaryVariance float64
}

// ModelCurve computes the model's prediction at each NE level of grid.
func ModelCurve(m *rnn.Model, grid []float64) []ModelPoint {
	out := make([]ModelPoint, len(grid))
	for g, nu := range grid {
		out[g] = modelPoint(m, nu)
	}
	return out
}

func modelPoint(m *rnn.Model, nu float64) ModelPoint {
	pt := ModelPoint{Nu: nu, Tau1S: math.NaN(), PulseResponse: math.NaN(), StationaryVariance: math.NaN()}
	ln := newLatentNet(m, nu)
	kappa, jac, ok := ln.fixedPoint()
	if !ok {
		return pt
	}
	pt.Stable = true
	n, d, alpha := m.N, ln.d, ln.alpha
	lmax := 0.0
	if d > 0 {
		lmax = maxRealEig(jac, d)
	}
	pt.Tau1S = m.TauSeconds / (1 - lmax)

	x := ln.state(kappa, nil)
	q := make([]float64, n)    // d r_i / d x_i
	dvec := make([]float64, n) // g_pre g_post (1 - r^2)
	for i := 0; i < n; i++ {
		r := math.Tanh(ln.s.GPost[i] * x[i])
		q[i] = ln.s.GPost[i] * (1 - r*r)
		dvec[i] = ln.s.GPre[i] * q[i]
	}
	// UQU = U^T diag(q^2) U.
	uqu := make([]float64, d*d)
	for i := 0; i < n; i++ {
		for a := 0; a < d; a++ {
			for b := 0; b < d; b++ {
				uqu[a*d+b] += ln.u[i*d+a] * q[i] * q[i] * ln.u[i*d+b]
			}
		}
	}
	// A_L = (1 - alpha) I + alpha L.
	al := make([]float64, d*d)
	for a := 0; a < d; a++ {
		for b := 0; b < d; b++ {
			al[a*d+b] = alpha * jac[a*d+b]
			if a == b {
				al[a*d+b] += 1 - alpha
			}
		}
	}
	rho := 1 - alpha // spectral radius of the one-step map
	if d > 0 {
		vals, _ := eigen(al, d, false)
		for _, v := range vals {
			rho = math.Max(rho, cmplx.Abs(v))
		}
	}
	if !(rho < 1) {
		return pt
	}

	// Pulses: one per event channel, or one per latent direction without events.
	var pulses [][]float64
	if m.E > 0 {
		for e := 0; e < m.E; e++ {
			p := make([]float64, n)
			for i := range p {
				p[i] = alpha * m.B[i*m.E+e]
			}
			pulses = append(pulses, p)
		}
	} else {
		for a := 0; a < d; a++ {
			p := make([]float64, n)
			for i := range p {
				p[i] = alpha * ln.u[i*d+a]
			}
			pulses = append(pulses, p)
		}
	}
	pt.PulseResponse = 0
	for _, w0 := range pulses {
		pt.PulseResponse += pulseEnergy(ln, w0, q, dvec, uqu, al, rho) * m.DtSeconds
	}

	// Stationary variance from the discrete Lyapunov equation.
	if d > 0 {
		s, ok := lyapunov(al, d, alpha)
		if !ok {
			pt.StationaryVariance = math.NaN()
		} else {
			var tr float64
			for a := 0; a < d; a++ {
				for b := 0; b < d; b++ {
					tr += uqu[a*d+b] * s[b*d+a]
				}
			}
			pt.StationaryVariance = tr / float64(n)
		}
	} else {
		pt.StationaryVariance = 0
	}
	return pt
}

// pulseEnergy is sum_{t >= 1} (1/N) |q * delta x[t]|^2 for delta x[1] = w0. Writing
// delta x[t] = (1 - alpha)^(t-1) w0 + U k[t] (k[1] = 0), the one-step map gives
//
//	k[t+1] = A_L k[t] + alpha (1 - alpha)^(t-1) c0,   c0 = V^T (d * w0) / N,
//
// so each step costs O(D^2) whatever N. It runs until the remaining energy is below
// 1e-13 of the sum (bounded by the spectral radius rho of the one-step map).
func pulseEnergy(ln *latentNet, w0, q, dvec, uqu, al []float64, rho float64) float64 {
	n, d, alpha := ln.m.N, ln.d, ln.alpha
	c0 := make([]float64, d)
	uqw := make([]float64, d) // U^T Q w0
	var wqw float64
	for i := 0; i < n; i++ {
		wqw += q[i] * q[i] * w0[i] * w0[i]
		for a := 0; a < d; a++ {
			c0[a] += ln.v[i*d+a] * dvec[i] * w0[i]
			uqw[a] += ln.u[i*d+a] * q[i] * q[i] * w0[i]
		}
	}
	for a := range c0 {
		c0[a] /= float64(n)
	}
	k := make([]float64, d)
	next := make([]float64, d)
	decay := 1.0 // (1 - alpha)^(t-1)
	var sum float64
	// Enough steps for rho^(2t) to fall below 1e-13 (plus a margin).
	steps := int(math.Ceil(math.Log(1e-13)/(2*math.Log(math.Max(rho, 1e-300))))) + 10
	steps = min(max(steps, 10), 10_000_000)
	for t := 1; t <= steps; t++ {
		e := decay * decay * wqw
		for a := 0; a < d; a++ {
			e += 2 * decay * uqw[a] * k[a]
			for b := 0; b < d; b++ {
				e += k[a] * uqu[a*d+b] * k[b]
			}
		}
		sum += e
		for a := 0; a < d; a++ {
			v := alpha * decay * c0[a]
			for b := 0; b < d; b++ {
				v += al[a*d+b] * k[b]
			}
			next[a] = v
		}
		k, next = next, k
		decay *= 1 - alpha
	}
	return sum / float64(n)
}

// lyapunov solves S = A S A^T + c I for the D x D matrix A (row-major) by
// vectorisation: (I - A kron A) vec(S) = c vec(I). ok is false when the system is
// singular (A has an eigenvalue on the unit circle).
func lyapunov(a []float64, d int, c float64) ([]float64, bool) {
	dd := d * d
	sys := mat.NewDense(dd, dd, nil)
	rhs := mat.NewVecDense(dd, nil)
	// vec index of S[i][j] is i*d + j; (A S A^T)[i][j] = sum_kl A[i][k] S[k][l] A[j][l].
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			r := i*d + j
			for k := 0; k < d; k++ {
				for l := 0; l < d; l++ {
					v := -a[i*d+k] * a[j*d+l]
					if r == k*d+l {
						v++
					}
					sys.Set(r, k*d+l, v)
				}
			}
			if i == j {
				rhs.SetVec(r, c)
			}
		}
	}
	var s mat.VecDense
	if err := s.SolveVec(sys, rhs); err != nil {
		return nil, false
	}
	out := make([]float64, dd)
	for i := range out {
		out[i] = s.AtVec(i)
	}
	return out, true
}

// SlowDirection is the model's slowest mode at NE level nu as a direction in the
// space of z-scored spike counts of windows of countS seconds, one weight per
// model neuron (unit length; nil when no stable fixed point is found). With v1 the
// right eigenvector of L for the eigenvalue of largest real part (its real part if
// complex), the mode moves the state along u = U v1; neuron i's log rate moves by
// c_i g_post_i (1 - r*_i^2) u_i, its window count by lambda_i countS times that
// (lambda_i = exp(c_i r*_i + d_i) the rate at the fixed point), and its z-score by
// that over its count's sd, about sqrt(lambda_i countS) for Poisson counts:
//
//	w_i ∝ sqrt(lambda_i countS) c_i g_post_i (1 - r*_i^2) u_i.
//
// Weighing by the neurons' readout and rate, rather than taking M v1 as it is,
// points the projection where the mode actually shows in the counts.
func SlowDirection(m *rnn.Model, nu, countS float64) []float64 {
	ln := newLatentNet(m, nu)
	kappa, jac, ok := ln.fixedPoint()
	if !ok || ln.d == 0 {
		return nil
	}
	d := ln.d
	vals, vecs := eigen(jac, d, true)
	if vals == nil {
		return nil
	}
	best := 0
	for a := range vals {
		if real(vals[a]) > real(vals[best]) {
			best = a
		}
	}
	v1 := make([]float64, d)
	for a := 0; a < d; a++ {
		v1[a] = real(vecs.At(a, best))
	}
	x := ln.state(kappa, nil)
	w := make([]float64, m.N)
	var norm float64
	for i := 0; i < m.N; i++ {
		var u float64
		for a := 0; a < d; a++ {
			u += ln.u[i*d+a] * v1[a]
		}
		r := math.Tanh(ln.s.GPost[i] * x[i])
		lam := math.Exp(m.C[i]*r + m.D[i])
		w[i] = math.Sqrt(lam*countS) * m.C[i] * ln.s.GPost[i] * (1 - r*r) * u
		norm += w[i] * w[i]
	}
	norm = math.Sqrt(norm)
	if !(norm > 0) {
		return nil
	}
	// Fix the sign (an eigenvector's is arbitrary): the largest weight positive.
	big := 0
	for i := range w {
		if math.Abs(w[i]) > math.Abs(w[big]) {
			big = i
		}
	}
	if w[big] < 0 {
		norm = -norm
	}
	for i := range w {
		w[i] /= norm
	}
	return w
}

// PeakOf is the NE level where a curve sampled on grid is largest, refined by the
// vertex of the parabola through the largest sample and its two neighbours (when
// the largest is interior). NaN when no sample is finite.
func PeakOf(grid, y []float64) float64 {
	best := -1
	for i, v := range y {
		if !math.IsNaN(v) && !math.IsInf(v, 0) && (best < 0 || v > y[best]) {
			best = i
		}
	}
	if best < 0 {
		return math.NaN()
	}
	if best == 0 || best == len(y)-1 || math.IsNaN(y[best-1]) || math.IsNaN(y[best+1]) ||
		math.IsInf(y[best-1], 0) || math.IsInf(y[best+1], 0) {
		return grid[best]
	}
	q := FitQuadratic(grid[best-1:best+2], y[best-1:best+2], nil)
	if v := q.Vertex(); q.C < 0 && v >= grid[best-1] && v <= grid[best+1] {
		return v
	}
	return grid[best]
}

func resize(s []float64, n int) []float64 {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]float64, n)
}
