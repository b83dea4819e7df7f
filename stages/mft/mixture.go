package mft

import (
	"fmt"
	"math"
	"strconv"

	"gonum.org/v1/gonum/integrate/quad"
	"gonum.org/v1/gonum/mat"

	"nmdyn/stages/rnn"
)

// ParamNames lists the per-neuron parameter vector theta of a variant, in order:
// m_1..m_R, n_1..n_R, h, then beta_1..beta_K (additive), gamma_1..gamma_K (pregain,
// postgain) or p_1..p_K, q_1..q_K (lowrank). The names are those of the rnn neuron
// table.
func ParamNames(v rnn.Variant, r, k int) []string {
	var out []string
	for j := 1; j <= r; j++ {
		out = append(out, "m_"+strconv.Itoa(j))
	}
	for j := 1; j <= r; j++ {
		out = append(out, "n_"+strconv.Itoa(j))
	}
	out = append(out, "h")
	add := func(prefix string) {
		for j := 1; j <= k; j++ {
			out = append(out, prefix+strconv.Itoa(j))
		}
	}
	switch v {
	case rnn.Additive:
		add("beta_")
	case rnn.PreGain, rnn.PostGain:
		add("gamma_")
	case rnn.LowRank:
		add("p_")
		add("q_")
	}
	return out
}

// ParamVector fills dst (allocated when too short) with neuron i's parameter vector
// theta, in ParamNames order.
func ParamVector(m *rnn.Model, i int, dst []float64) []float64 {
	n := 2*m.R + 1 + rnn.NEParamsPerNeuron(m.Variant, m.K)
	if cap(dst) < n {
		dst = make([]float64, n)
	}
	dst = dst[:n]
	copy(dst, m.M[i*m.R:(i+1)*m.R])
	copy(dst[m.R:], m.Nv[i*m.R:(i+1)*m.R])
	dst[2*m.R] = m.H[i]
	ne := dst[2*m.R+1:]
	switch m.Variant {
	case rnn.Additive:
		copy(ne, m.Beta[i*m.K:(i+1)*m.K])
	case rnn.PreGain, rnn.PostGain:
		copy(ne, m.Gamma[i*m.K:(i+1)*m.K])
	case rnn.LowRank:
		copy(ne, m.P[i*m.K:(i+1)*m.K])
		copy(ne[m.K:], m.Q[i*m.K:(i+1)*m.K])
	}
	return dst
}

// Population is one Gaussian component of the distribution of the neurons'
// parameter vectors theta (ParamNames order).
type Population struct {
	Alpha float64   // fraction of the neurons in this population
	Mean  []float64 // E[theta]
	Cov   []float64 // Cov[theta], row-major, len(Mean) x len(Mean)
}

// Mixture is a Gaussian-mixture low-rank network: in the limit of many neurons, a
// neuron belongs to population p with probability Alpha_p and then draws its
// parameter vector from N(Mean_p, Cov_p). Its latent dynamics at an NE level are
// given by At.
type Mixture struct {
	Variant rnn.Variant
	R, K    int
	Pops    []Population
}

// ParamDim is the length of theta.
func (mx *Mixture) ParamDim() int { return 2*mx.R + 1 + rnn.NEParamsPerNeuron(mx.Variant, mx.K) }

// LatentDim is the dimension of the latent dynamics: R, plus K for lowrank (the
// coordinates of the NE-dependent rank-one terms, as in rnn.Model.Latent).
func (mx *Mixture) LatentDim() int {
	if mx.Variant == rnn.LowRank {
		return mx.R + mx.K
	}
	return mx.R
}

// Validate checks sizes, weights (positive, summing to 1 within 1e-9), finiteness,
// and that each covariance is symmetric with a non-negative diagonal.
func (mx *Mixture) Validate() error {
	if _, err := rnn.ParseVariant(string(mx.Variant)); err != nil {
		return fmt.Errorf("mft: %w", err)
	}
	if mx.R < 0 || mx.K < 0 || mx.LatentDim() == 0 {
		return fmt.Errorf("mft: bad sizes R=%d K=%d", mx.R, mx.K)
	}
	if len(mx.Pops) == 0 {
		return fmt.Errorf("mft: mixture has no populations")
	}
	d := mx.ParamDim()
	sum := 0.0
	for p, pop := range mx.Pops {
		if !(pop.Alpha > 0) {
			return fmt.Errorf("mft: population %d has weight %v", p+1, pop.Alpha)
		}
		sum += pop.Alpha
		if len(pop.Mean) != d || len(pop.Cov) != d*d {
			return fmt.Errorf("mft: population %d has %d means and %d covariances, want %d and %d", p+1, len(pop.Mean), len(pop.Cov), d, d*d)
		}
		for _, v := range append(append([]float64(nil), pop.Mean...), pop.Cov...) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("mft: population %d has a non-finite statistic", p+1)
			}
		}
		for a := 0; a < d; a++ {
			if pop.Cov[a*d+a] < 0 {
				return fmt.Errorf("mft: population %d has negative variance %v", p+1, pop.Cov[a*d+a])
			}
			for b := 0; b < a; b++ {
				if x, y := pop.Cov[a*d+b], pop.Cov[b*d+a]; math.Abs(x-y) > 1e-12*(1+math.Abs(x)) {
					return fmt.Errorf("mft: population %d covariance is not symmetric", p+1)
				}
			}
		}
	}
	if math.Abs(sum-1) > 1e-9 {
		return fmt.Errorf("mft: population weights sum to %v, want 1", sum)
	}
	return nil
}

// Settings tune the latent system. A nil *Settings means the defaults.
type Settings struct {
	// GainNodes is the number of Gauss-Hermite nodes over a postgain population's
	// log-gain; 0 chooses it from the log-gain's spread (see gainNodes).
	GainNodes int
}

// component is one Gaussian piece of the latent drive: a population, or for
// postgain one quadrature node of a population's log-gain. For the effective
// input y = m_in . kappa + h_in and output loadings n_out, all jointly Gaussian, it
// contributes weight * E[n_out phi(y)] to the velocity.
type component struct {
	pop    int
	weight float64 // alpha_p * quadrature weight * E[g_pre] (pregain)
	inGain float64 // postgain: e^l at this node (already folded into the input statistics)
	muM    []float64
	muN    []float64
	muH    float64
	smm    []float64 // Cov(m_in, m_in), d x d
	smh    []float64 // Cov(m_in, h_in)
	shh    float64
	snm    []float64 // Cov(n_out, m_in), d x d: row r is n_out_r
	snh    []float64 // Cov(n_out, h_in)
	snn    []float64 // Var(n_out_r), for the box
}

// System is the mean-field latent dynamics of a Mixture at one NE level, with inputs
// off and time in units of the membrane time constant tau. It implements the
// LatentSystem interface of package dynamics. Not safe for concurrent use (it keeps
// scratch space); make one System per goroutine.
type System struct {
	Nu    float64
	d     int
	alpha []float64 // population weights
	comps []component
	cmy   []float64 // scratch: Cov(m_in, y)
	cny   []float64 // scratch: Cov(n_out, y)
}

// Dim is the latent dimension.
func (s *System) Dim() int { return s.d }

// At builds the latent system at NE level nu. It panics if mx is invalid (call
// Validate on mixtures from outside).
func (mx *Mixture) At(nu float64, set *Settings) *System {
	d := mx.LatentDim()
	s := &System{Nu: nu, d: d, cmy: make([]float64, d), cny: make([]float64, d)}
	f := make([]float64, mx.K)
	rnn.Basis(nu, f)
	for p := range mx.Pops {
		s.alpha = append(s.alpha, mx.Pops[p].Alpha)
		s.comps = append(s.comps, mx.components(p, f, set)...)
	}
	return s
}

// effective returns the mean and covariance of the effective vector
// z = (m_in (d), n_out (d), h_in, [l]) = A theta at basis values f, where l is the
// log-gain of pregain and postgain; hasL reports whether l is present.
func (mx *Mixture) effective(p int, f []float64) (mean, cov []float64, hasL bool) {
	R, K, d := mx.R, mx.K, mx.LatentDim()
	dt := mx.ParamDim()
	hasL = mx.Variant == rnn.PreGain || mx.Variant == rnn.PostGain
	dz := 2*d + 1
	if hasL {
		dz++
	}
	A := make([]float64, dz*dt)
	ne := 2*R + 1 // first NE parameter in theta
	for r := 0; r < R; r++ {
		A[r*dt+r] = 1       // m_in_r = m_r
		A[(d+r)*dt+R+r] = 1 // n_out_r = n_r
	}
	hRow := 2 * d
	A[hRow*dt+2*R] = 1 // h_in = h (+ beta . f)
	switch mx.Variant {
	case rnn.Additive:
		for k := 0; k < K; k++ {
			A[hRow*dt+ne+k] = f[k]
		}
	case rnn.PreGain, rnn.PostGain:
		for k := 0; k < K; k++ {
			A[(hRow+1)*dt+ne+k] = f[k] // l = gamma . f
		}
	case rnn.LowRank:
		for k := 0; k < K; k++ {
			A[(R+k)*dt+ne+k] = 1        // m_in_{R+k} = p_k
			A[(d+R+k)*dt+ne+K+k] = f[k] // n_out_{R+k} = f_k q_k
		}
	}
	pop := &mx.Pops[p]
	mean = make([]float64, dz)
	for a := 0; a < dz; a++ {
		mean[a] = dot(A[a*dt:(a+1)*dt], pop.Mean)
	}
	// cov = A Sigma A^T
	tmp := make([]float64, dz*dt) // A Sigma
	for a := 0; a < dz; a++ {
		for j := 0; j < dt; j++ {
			v := 0.0
			for i := 0; i < dt; i++ {
				v += A[a*dt+i] * pop.Cov[i*dt+j]
			}
			tmp[a*dt+j] = v
		}
	}
	cov = make([]float64, dz*dz)
	for a := 0; a < dz; a++ {
		for b := 0; b < dz; b++ {
			cov[a*dz+b] = dot(tmp[a*dt:(a+1)*dt], A[b*dt:(b+1)*dt])
		}
	}
	return mean, cov, hasL
}

// minLogGainVar is the log-gain variance under which a postgain population is treated
// as having one gain (a single quadrature node).
const minLogGainVar = 1e-18

// components splits population p at basis values f into Gaussian components.
func (mx *Mixture) components(p int, f []float64, set *Settings) []component {
	d := mx.LatentDim()
	mean, cov, hasL := mx.effective(p, f)
	dz := len(mean)
	alpha := mx.Pops[p].Alpha
	if !hasL {
		return []component{newComponent(p, alpha, 1, d, mean, cov, dz)}
	}
	l := dz - 1
	muL, varL := mean[l], cov[l*dz+l]
	if mx.Variant == rnn.PreGain {
		// Exponential tilting: for (x, l) jointly Gaussian,
		// E[x e^l] = E[e^l] E~[x] where under E~ the means shift by Cov(., l) and the
		// covariances are unchanged; E[e^l] = exp(mu_l + var_l / 2).
		tilted := append([]float64(nil), mean...)
		for a := 0; a < dz; a++ {
			tilted[a] += cov[a*dz+l]
		}
		return []component{newComponent(p, alpha*math.Exp(muL+varL/2), 1, d, tilted, cov, dz)}
	}
	// Postgain: condition on l (Gauss-Hermite over l ~ N(mu_l, var_l)); given l the
	// rest is Gaussian with the conditional mean and covariance, and the gain e^l
	// scales the input statistics.
	if varL < minLogGainVar {
		return []component{scaledComponent(p, alpha, math.Exp(muL), d, mean, cov, dz)}
	}
	// The inputs are z_0..z_{d-1} (m_in) and z_{2d} (h_in): permute h_in next to m_in.
	perm := make([]float64, (d+2)*(d+2))
	idx := make([]int, 0, d+2)
	for a := 0; a < d; a++ {
		idx = append(idx, a)
	}
	idx = append(idx, 2*d, l)
	for a, ia := range idx {
		for b, ib := range idx {
			perm[a*(d+2)+b] = cov[ia*dz+ib]
		}
	}
	n := gainNodes(math.Sqrt(varL), maxCorr2(perm, d+2, d+1, d+1), set)
	x := make([]float64, n)
	w := make([]float64, n)
	quad.Hermite{}.FixedLocations(x, w, math.Inf(-1), math.Inf(1))
	out := make([]component, 0, n)
	condCov := make([]float64, dz*dz)
	for a := 0; a < dz; a++ {
		for b := 0; b < dz; b++ {
			condCov[a*dz+b] = cov[a*dz+b] - cov[a*dz+l]*cov[b*dz+l]/varL
		}
	}
	condMean := make([]float64, dz)
	for j := range x {
		lj := muL + math.Sqrt2*math.Sqrt(varL)*x[j]
		for a := 0; a < dz; a++ {
			condMean[a] = mean[a] + cov[a*dz+l]*(lj-muL)/varL
		}
		out = append(out, scaledComponent(p, alpha*w[j]/math.SqrtPi, math.Exp(lj), d, condMean, condCov, dz))
	}
	return out
}

// gainNodes is the number of Gauss-Hermite nodes over a postgain log-gain l with
// standard deviation sd whose largest squared correlation with any combination of
// the inputs (m_in, h_in) is rho2. Given l, the input's mean moves by a multiple of
// the standardised l, so the integrand over l gets steeper both as sd grows (the gain
// e^l varies more) and as rho2 -> 1 (the conditional input variance that smooths phi
// vanishes). The rule
//
//	n = ceil( (6 + 6 sd + 22 sd^2) (1 - rho2)^-1.5 ),  4 <= n <= 64,
//
// was fitted to the node counts that keep the velocity within 1e-8 of a 200-node rule
// for |kappa| <= 5 (sd 0.05-1.5, rho 0-0.9); TestGainNodes checks it. The cap makes
// rho2 close to 1 less accurate (about 1e-6 at rho = 0.97).
func gainNodes(sd, rho2 float64, set *Settings) int {
	if set != nil && set.GainNodes > 0 {
		return set.GainNodes
	}
	n := (6 + 6*sd + 22*sd*sd) * math.Pow(math.Max(1-rho2, 1e-3), -1.5)
	return int(math.Min(math.Max(math.Ceil(n), 4), 64))
}

// maxCorr2 is the largest squared correlation between z_l and a linear combination of
// z_0..z_{k-1}: c^T S^+ c / var_l with c = Cov(z_{<k}, z_l), S = Cov(z_{<k}) and S^+
// its pseudo-inverse (eigenvalues under 1e-12 of the largest dropped).
func maxCorr2(cov []float64, dz, k, l int) float64 {
	S := mat.NewSymDense(k, nil)
	for a := 0; a < k; a++ {
		for b := 0; b <= a; b++ {
			S.SetSym(a, b, cov[a*dz+b])
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(S, true) {
		return 1 // be generous with nodes when in doubt
	}
	vals := eig.Values(nil)
	var V mat.Dense
	eig.VectorsTo(&V)
	top := 0.0
	for _, v := range vals {
		top = math.Max(top, v)
	}
	r2 := 0.0
	for j, v := range vals {
		if v <= 1e-12*top {
			continue
		}
		proj := 0.0
		for a := 0; a < k; a++ {
			proj += V.At(a, j) * cov[a*dz+l]
		}
		r2 += proj * proj / v
	}
	return math.Min(r2/cov[l*dz+l], 1)
}

// newComponent copies the (m_in, n_out, h_in) statistics out of an effective mean and
// covariance of dimension dz.
func newComponent(p int, weight, inGain float64, d int, mean, cov []float64, dz int) component {
	c := component{pop: p, weight: weight, inGain: inGain,
		muM: make([]float64, d), muN: make([]float64, d),
		smm: make([]float64, d*d), smh: make([]float64, d),
		snm: make([]float64, d*d), snh: make([]float64, d), snn: make([]float64, d)}
	h := 2 * d
	copy(c.muM, mean[:d])
	copy(c.muN, mean[d:2*d])
	c.muH = mean[h]
	c.shh = cov[h*dz+h]
	for a := 0; a < d; a++ {
		c.smh[a] = cov[a*dz+h]
		c.snh[a] = cov[(d+a)*dz+h]
		c.snn[a] = cov[(d+a)*dz+d+a]
		for b := 0; b < d; b++ {
			c.smm[a*d+b] = cov[a*dz+b]
			c.snm[a*d+b] = cov[(d+a)*dz+b]
		}
	}
	return c
}

// scaledComponent is newComponent with the input (m_in, h_in) multiplied by the
// postsynaptic gain g: the argument of phi is g (m_in . kappa + h_in).
func scaledComponent(p int, weight, g float64, d int, mean, cov []float64, dz int) component {
	c := newComponent(p, weight, g, d, mean, cov, dz)
	for a := range c.muM {
		c.muM[a] *= g
		c.smh[a] *= g * g
		c.snh[a] *= g
	}
	for a := range c.smm {
		c.smm[a] *= g * g
		c.snm[a] *= g
	}
	c.muH *= g
	c.shh *= g * g
	return c
}

// moments returns, for component c at kappa, the mean and variance of the input y
// and fills s.cmy = Cov(m_in, y), s.cny = Cov(n_out, y).
func (s *System) moments(c *component, kappa []float64) (mu, delta float64) {
	d := s.d
	mu = c.muH
	delta = c.shh
	for a := 0; a < d; a++ {
		mu += c.muM[a] * kappa[a]
		v := c.smh[a]
		w := c.snh[a]
		for b := 0; b < d; b++ {
			v += c.smm[a*d+b] * kappa[b]
			w += c.snm[a*d+b] * kappa[b]
		}
		s.cmy[a] = v
		s.cny[a] = w
		delta += kappa[a] * (v + c.smh[a])
	}
	return mu, delta
}

// Velocity fills dst with tau dkappa/dt at kappa (both of length Dim):
//
//	tau dkappa/dt = -kappa + sum_c w_c ( mu_n <phi>_c + Cov(n, y) <phi'>_c )
func (s *System) Velocity(kappa, dst []float64) {
	s.drive(kappa, dst, -1)
	for a := range dst {
		dst[a] -= kappa[a]
	}
}

// drive fills dst with the recurrent drive E[n_out phi(y)] summed over the components
// of population pop (all when pop < 0).
func (s *System) drive(kappa, dst []float64, pop int) {
	if len(kappa) != s.d || len(dst) != s.d {
		panic(fmt.Sprintf("mft: kappa and dst have lengths %d and %d, want %d", len(kappa), len(dst), s.d))
	}
	for a := range dst {
		dst[a] = 0
	}
	for i := range s.comps {
		c := &s.comps[i]
		if pop >= 0 && c.pop != pop {
			continue
		}
		mu, delta := s.moments(c, kappa)
		g := gauss(mu, delta, true)
		for a := 0; a < s.d; a++ {
			dst[a] += c.weight * (c.muN[a]*g.Phi + s.cny[a]*g.D1)
		}
	}
}

// Jacobian fills dst (Dim x Dim, row-major: dst[r*Dim+s] = d velocity_r / d kappa_s)
// with -delta_rs + the couplings (see Couplings).
func (s *System) Jacobian(kappa, dst []float64) {
	s.Couplings(kappa, -1, dst)
	for a := 0; a < s.d; a++ {
		dst[a*s.d+a] -= 1
	}
}

// Couplings fills dst (Dim x Dim) with the effective couplings at kappa, the
// derivative of the recurrent drive, restricted to population pop (all when pop < 0):
//
//	J_rs = sum_c w_c E[n_r m_s phi'(y)]
//	     = sum_c w_c [ (mu_nr mu_ms + S_nr,ms) <phi'> + (mu_nr C_ms,y + C_nr,y mu_ms) <phi''>
//	                   + C_nr,y C_ms,y <phi'''> ]
//
// (the second-order Gaussian integration by parts of E[a b f(y)]).
func (s *System) Couplings(kappa []float64, pop int, dst []float64) {
	d := s.d
	if len(kappa) != d || len(dst) != d*d {
		panic(fmt.Sprintf("mft: kappa and dst have lengths %d and %d, want %d and %d", len(kappa), len(dst), d, d*d))
	}
	for a := range dst {
		dst[a] = 0
	}
	for i := range s.comps {
		c := &s.comps[i]
		if pop >= 0 && c.pop != pop {
			continue
		}
		mu, delta := s.moments(c, kappa)
		g := gauss(mu, delta, false)
		for r := 0; r < d; r++ {
			for q := 0; q < d; q++ {
				v := (c.muN[r]*c.muM[q]+c.snm[r*d+q])*g.D1 +
					(c.muN[r]*s.cmy[q]+s.cny[r]*c.muM[q])*g.D2 +
					s.cny[r]*s.cmy[q]*g.D3
				dst[r*d+q] += c.weight * v
			}
		}
	}
}

// VelocityJacobian fills v with the velocity and jac with the Jacobian at kappa in
// one pass (one Gaussian average per component instead of two).
func (s *System) VelocityJacobian(kappa, v, jac []float64) {
	d := s.d
	if len(kappa) != d || len(v) != d || len(jac) != d*d {
		panic(fmt.Sprintf("mft: kappa, v and jac have lengths %d, %d and %d, want %d, %d and %d", len(kappa), len(v), len(jac), d, d, d*d))
	}
	for a := range v {
		v[a] = -kappa[a]
	}
	for a := range jac {
		jac[a] = 0
	}
	for a := 0; a < d; a++ {
		jac[a*d+a] = -1
	}
	for i := range s.comps {
		c := &s.comps[i]
		mu, delta := s.moments(c, kappa)
		g := gauss(mu, delta, true)
		for r := 0; r < d; r++ {
			v[r] += c.weight * (c.muN[r]*g.Phi + s.cny[r]*g.D1)
			for q := 0; q < d; q++ {
				jac[r*d+q] += c.weight * ((c.muN[r]*c.muM[q]+c.snm[r*d+q])*g.D1 +
					(c.muN[r]*s.cmy[q]+s.cny[r]*c.muM[q])*g.D2 +
					s.cny[r]*s.cmy[q]*g.D3)
			}
		}
	}
}

// Box fills half with a bound on every fixed point, |kappa_r| <= half[r]: since
// |tanh| <= 1 the recurrent drive is at most sum_c w_c E_c|n_out_r|, the large-N
// limit of the bound sum_i |n_out_ir| that dynamics uses for a finite network (so
// the analysis' relative tolerances mean the same for both). For X ~ N(mu, s^2),
// E|X| = s sqrt(2/pi) exp(-mu^2 / (2 s^2)) + mu erf(mu / (s sqrt 2)).
func (s *System) Box(half []float64) {
	for a := range half {
		half[a] = 0
	}
	for i := range s.comps {
		c := &s.comps[i]
		for a := range half {
			half[a] += c.weight * meanAbs(c.muN[a], c.snn[a])
		}
	}
}

// meanAbs is E|X| for X ~ N(mu, variance).
func meanAbs(mu, variance float64) float64 {
	if !(variance > 0) {
		return math.Abs(mu)
	}
	sd := math.Sqrt(variance)
	return sd*math.Sqrt(2/math.Pi)*math.Exp(-mu*mu/(2*variance)) + mu*math.Erf(mu/(sd*math.Sqrt2))
}

// EffectiveGain is population p's mean slope of its output at kappa,
//
//	E_p[ g_pre g_post phi'( g_post (m_in . kappa + h_in) ) ],
//
// the factor by which the population passes on a small change of its input.
func (s *System) EffectiveGain(kappa []float64, p int) float64 {
	sum := 0.0
	for i := range s.comps {
		c := &s.comps[i]
		if c.pop != p {
			continue
		}
		mu, delta := s.moments(c, kappa)
		sum += c.weight * c.inGain * gauss(mu, delta, false).D1
	}
	return sum / s.alpha[p]
}

// MeanGain is population p's mean multiplicative NE gain at nu, E_p[e^l] =
// exp(mu_l + sigma_l^2 / 2) with l = gamma . f(nu): of the output for pregain, of the
// transfer function's slope for postgain; 1 for the other variants.
func (mx *Mixture) MeanGain(nu float64, p int) float64 {
	if mx.Variant != rnn.PreGain && mx.Variant != rnn.PostGain {
		return 1
	}
	_, muL, varL := mx.neMoments(nu, p)
	return math.Exp(muL + varL/2)
}

// MeanShift is population p's mean additive NE input at nu, E_p[beta . f(nu)], for
// additive; 0 for the other variants.
func (mx *Mixture) MeanShift(nu float64, p int) float64 {
	if mx.Variant != rnn.Additive {
		return 0
	}
	_, mu, _ := mx.neMoments(nu, p)
	return mu
}

// neMoments returns f(nu) and the mean and variance of the NE parameters' combination
// with it (beta . f or gamma . f) in population p.
func (mx *Mixture) neMoments(nu float64, p int) (f []float64, mu, variance float64) {
	f = make([]float64, mx.K)
	rnn.Basis(nu, f)
	dt := mx.ParamDim()
	ne := 2*mx.R + 1
	pop := &mx.Pops[p]
	for k := 0; k < mx.K && ne+k < dt; k++ {
		mu += f[k] * pop.Mean[ne+k]
		for j := 0; j < mx.K && ne+j < dt; j++ {
			variance += f[k] * f[j] * pop.Cov[(ne+k)*dt+ne+j]
		}
	}
	return f, mu, variance
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}
