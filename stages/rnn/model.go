// Package rnn is the data-constrained low-rank recurrent network of nmdyn: one unit per
// recorded neuron, connectivity of rank R, and five ways for the neuromodulator level
// nu in [0, 1] to act on it. It holds the model, its tables, the simulation of its
// dynamics, the Poisson likelihood with analytic gradients by backpropagation through
// time, and the training loop.
//
// The model (Euler step alpha = dt / tau):
//
//	x[t+1]   = (1 - alpha) x[t] + alpha ( J(nu) r_pre[t] + h + a(nu) + B u[t] )
//	r[t]     = tanh( g_post(nu) * x[t] )                 (elementwise)
//	r_pre[t] = g_pre(nu) * r[t]
//	J(nu)    = M N^T / N  (+ sum_k f_k(nu) P_k Q_k^T / N  for the lowrank variant)
//	y[i,t]   ~ Poisson( dt * exp(c_i r[i,t] + d_i) )
//
// with the NE basis f_k(nu) = (2 nu - 1)^k, k = 1..K (smooth, zero at nu = 1/2, and
// with no constant in its span, so a gain exp(sum_k gamma_k f_k) cannot trade with the
// scale of x). The N x N matrix J is never formed.
package rnn

import (
	"fmt"
	"math"
)

// Variant names how NE acts on the network.
type Variant string

const (
	None     Variant = "none"     // no NE effect (control)
	Additive Variant = "additive" // a_i(nu) = sum_k beta_ik f_k(nu)
	PreGain  Variant = "pregain"  // g_pre_i(nu) = exp(sum_k gamma_ik f_k(nu))
	PostGain Variant = "postgain" // g_post_i(nu) = exp(sum_k gamma_ik f_k(nu))
	LowRank  Variant = "lowrank"  // J(nu) += sum_k f_k(nu) P_k Q_k^T / N
)

// Variants lists the five variants in their canonical order.
var Variants = []Variant{None, Additive, PreGain, PostGain, LowRank}

// ParseVariant checks a variant name.
func ParseVariant(s string) (Variant, error) {
	for _, v := range Variants {
		if string(v) == s {
			return v, nil
		}
	}
	return "", fmt.Errorf("unknown variant %q (want none, additive, pregain, postgain or lowrank)", s)
}

// Nests reports whether variant a contains variant b as a special case (every
// variant contains none; each contains itself).
func Nests(a, b Variant) bool { return a == b || b == None }

// Model is a fitted or generating network. Matrices are row-major, one row per neuron.
type Model struct {
	Variant Variant
	N       int // neurons
	R       int // rank of the NE-independent connectivity
	K       int // NE basis functions
	E       int // event input channels

	DtSeconds  float64 // bin width
	TauSeconds float64 // membrane time constant; Alpha = DtSeconds / TauSeconds

	Units  []int64  // recorded unit id of each row
	Events []string // label of each event input channel

	M, Nv []float64 // N x R loadings: J = M Nv^T / N
	H     []float64 // N static input
	B     []float64 // N x E event input weights
	C, D  []float64 // N readout: log rate (Hz) = C r + D

	Beta  []float64 // N x K, additive
	Gamma []float64 // N x K, pregain and postgain
	P, Q  []float64 // N x K, lowrank: J(nu) += sum_k f_k(nu) P_k Q_k^T / N

	// Initial state of a window: x0_i = X0W_i * z_i + X0B_i, where z is a fixed
	// data statistic (see InitStatistic).
	X0W, X0B []float64
}

// Alpha is the Euler step dt / tau.
func (m *Model) Alpha() float64 { return m.DtSeconds / m.TauSeconds }

// NEParamsPerNeuron is how many NE parameters each neuron has in a variant.
func NEParamsPerNeuron(v Variant, k int) int {
	switch v {
	case None:
		return 0
	case LowRank:
		return 2 * k
	}
	return k
}

// New allocates a zero model with unit gains; X0W is 1.
func New(v Variant, n, r, k, e int, dtSeconds, tauSeconds float64) *Model {
	m := &Model{Variant: v, N: n, R: r, K: k, E: e, DtSeconds: dtSeconds, TauSeconds: tauSeconds}
	m.Units = make([]int64, n)
	for i := range m.Units {
		m.Units[i] = int64(i)
	}
	m.Events = make([]string, e)
	for j := range m.Events {
		m.Events[j] = fmt.Sprintf("event%d", j)
	}
	m.M = make([]float64, n*r)
	m.Nv = make([]float64, n*r)
	m.H = make([]float64, n)
	m.B = make([]float64, n*e)
	m.C = make([]float64, n)
	m.D = make([]float64, n)
	switch v {
	case Additive:
		m.Beta = make([]float64, n*k)
	case PreGain, PostGain:
		m.Gamma = make([]float64, n*k)
	case LowRank:
		m.P = make([]float64, n*k)
		m.Q = make([]float64, n*k)
	}
	m.X0W = make([]float64, n)
	m.X0B = make([]float64, n)
	for i := range m.X0W {
		m.X0W[i] = 1
	}
	return m
}

// Clone returns a deep copy.
func (m *Model) Clone() *Model {
	c := *m
	cp := func(s []float64) []float64 {
		if s == nil {
			return nil
		}
		return append([]float64(nil), s...)
	}
	c.Units = append([]int64(nil), m.Units...)
	c.Events = append([]string(nil), m.Events...)
	c.M, c.Nv, c.H, c.B, c.C, c.D = cp(m.M), cp(m.Nv), cp(m.H), cp(m.B), cp(m.C), cp(m.D)
	c.Beta, c.Gamma, c.P, c.Q = cp(m.Beta), cp(m.Gamma), cp(m.P), cp(m.Q)
	c.X0W, c.X0B = cp(m.X0W), cp(m.X0B)
	return &c
}

// Basis fills dst (length K) with f_k(nu) = (2 nu - 1)^k, k = 1..K.
func Basis(nu float64, dst []float64) {
	u := 2*nu - 1
	p := 1.0
	for k := range dst {
		p *= u
		dst[k] = p
	}
}

// NEState is the NE-dependent part of the network at one level nu: gains, additive
// input and low-rank coefficients. Fill it with (*Model).AtNE.
type NEState struct {
	Nu    float64
	F     []float64 // basis f_k(nu)
	GPre  []float64 // N (all 1 unless pregain)
	GPost []float64 // N (all 1 unless postgain)
	A     []float64 // N additive input (0 unless additive)
}

// AtNE evaluates the NE-dependent quantities at nu into s (allocated when nil).
func (m *Model) AtNE(nu float64, s *NEState) *NEState {
	if s == nil {
		s = &NEState{}
	}
	s.Nu = nu
	s.F = resize(s.F, m.K)
	s.GPre = resize(s.GPre, m.N)
	s.GPost = resize(s.GPost, m.N)
	s.A = resize(s.A, m.N)
	Basis(nu, s.F)
	for i := 0; i < m.N; i++ {
		s.GPre[i], s.GPost[i], s.A[i] = 1, 1, 0
	}
	switch m.Variant {
	case Additive:
		for i := 0; i < m.N; i++ {
			s.A[i] = dot(m.Beta[i*m.K:(i+1)*m.K], s.F)
		}
	case PreGain:
		for i := 0; i < m.N; i++ {
			s.GPre[i] = math.Exp(dot(m.Gamma[i*m.K:(i+1)*m.K], s.F))
		}
	case PostGain:
		for i := 0; i < m.N; i++ {
			s.GPost[i] = math.Exp(dot(m.Gamma[i*m.K:(i+1)*m.K], s.F))
		}
	}
	return s
}

// Rates fills r (N) with tanh(g_post * x) and returns it.
func (m *Model) Rates(x []float64, s *NEState, r []float64) []float64 {
	r = resize(r, m.N)
	for i := range r {
		r[i] = math.Tanh(s.GPost[i] * x[i])
	}
	return r
}

// Latent fills kappa (length R, plus K for lowrank) with the recurrent drive
// coordinates of presynaptic activity r (already tanh'd, before g_pre):
// kappa_r = sum_i Nv_ir g_pre_i r_i / N, and for lowrank kappa_{R+k} = f_k(nu)
// sum_i Q_ik g_pre_i r_i / N. The recurrent input is then M kappa[:R] + P kappa[R:].
func (m *Model) Latent(r []float64, s *NEState, kappa []float64) []float64 {
	nl := m.R
	if m.Variant == LowRank {
		nl += m.K
	}
	kappa = resize(kappa, nl)
	for j := range kappa {
		kappa[j] = 0
	}
	invN := 1 / float64(m.N)
	for i := 0; i < m.N; i++ {
		rp := s.GPre[i] * r[i]
		for j := 0; j < m.R; j++ {
			kappa[j] += m.Nv[i*m.R+j] * rp
		}
		if m.Variant == LowRank {
			for k := 0; k < m.K; k++ {
				kappa[m.R+k] += m.Q[i*m.K+k] * rp
			}
		}
	}
	for j := 0; j < m.R; j++ {
		kappa[j] *= invN
	}
	for k := 0; k < nl-m.R; k++ {
		kappa[m.R+k] *= invN * s.F[k]
	}
	return kappa
}

// Drift fills dst with the continuous-time velocity times tau at state x:
//
//	tau dx/dt = -x + J(nu) r_pre + h + a(nu) + B u
//
// u may be nil (inputs off). Returns dst.
func (m *Model) Drift(x []float64, s *NEState, u []float64, dst []float64) []float64 {
	dst = resize(dst, m.N)
	r := m.Rates(x, s, nil)
	kappa := m.Latent(r, s, nil)
	for i := 0; i < m.N; i++ {
		v := -x[i] + m.H[i] + s.A[i]
		for j := 0; j < m.R; j++ {
			v += m.M[i*m.R+j] * kappa[j]
		}
		if m.Variant == LowRank {
			for k := 0; k < m.K; k++ {
				v += m.P[i*m.K+k] * kappa[m.R+k]
			}
		}
		for e := 0; e < m.E && u != nil; e++ {
			v += m.B[i*m.E+e] * u[e]
		}
		dst[i] = v
	}
	return dst
}

// LogRates fills dst with the log firing rate (Hz) c_i r_i + d_i.
func (m *Model) LogRates(r []float64, dst []float64) []float64 {
	dst = resize(dst, m.N)
	for i := range dst {
		dst[i] = m.C[i]*r[i] + m.D[i]
	}
	return dst
}

// Validate checks shapes and finiteness.
func (m *Model) Validate() error {
	if _, err := ParseVariant(string(m.Variant)); err != nil {
		return err
	}
	if m.N <= 0 || m.R < 0 || m.K < 0 || m.E < 0 {
		return fmt.Errorf("rnn: bad sizes N=%d R=%d K=%d E=%d", m.N, m.R, m.K, m.E)
	}
	if !(m.DtSeconds > 0) || !(m.TauSeconds > 0) {
		return fmt.Errorf("rnn: dt %v s and tau %v s must be positive", m.DtSeconds, m.TauSeconds)
	}
	check := func(name string, s []float64, want int) error {
		if len(s) != want {
			return fmt.Errorf("rnn: %s has %d values, want %d", name, len(s), want)
		}
		for i, v := range s {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("rnn: %s[%d] = %v", name, i, v)
			}
		}
		return nil
	}
	n, r, k, e := m.N, m.R, m.K, m.E
	for _, c := range []struct {
		name string
		s    []float64
		want int
	}{{"M", m.M, n * r}, {"N", m.Nv, n * r}, {"h", m.H, n}, {"B", m.B, n * e}, {"c", m.C, n}, {"d", m.D, n}, {"x0_w", m.X0W, n}, {"x0_b", m.X0B, n}} {
		if err := check(c.name, c.s, c.want); err != nil {
			return err
		}
	}
	if len(m.Units) != n || len(m.Events) != e {
		return fmt.Errorf("rnn: %d unit ids and %d event labels for N=%d, E=%d", len(m.Units), len(m.Events), n, e)
	}
	switch m.Variant {
	case Additive:
		return check("beta", m.Beta, n*k)
	case PreGain, PostGain:
		return check("gamma", m.Gamma, n*k)
	case LowRank:
		if err := check("p", m.P, n*k); err != nil {
			return err
		}
		return check("q", m.Q, n*k)
	}
	return nil
}

func resize(s []float64, n int) []float64 {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]float64, n)
}
