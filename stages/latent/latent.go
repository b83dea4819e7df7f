// Package latent is the exact latent reduction of a low-rank rnn.Model at one NE
// level with inputs off: the dynamics on the span of the recurrent input, in which
// every fixed point of the full network lies. Package dynamics analyses it (fixed
// points, stability, slow manifolds), package mft approximates it by the mean-field
// limit, and package groundtruth calibrates the simulator's networks with it; one
// implementation for all three. Its tests are in package dynamics
// (TestLatentMatchesModel: velocity against the model's own latent drive, Jacobian
// against finite differences, fixed points against the full drift).
package latent

import (
	"fmt"
	"math"

	"nmdyn/stages/rnn"
)

// Network is the exact latent reduction of an rnn.Model at one NE level with inputs
// off. With x = M kappa_{1..R} + P kappa_{R+1..R+K} + h + a(nu) the span of the
// recurrent input is invariant and
//
//	tau dkappa/dt = -kappa + sum_i n_out_i tanh( g_post_i ( m_in_i . kappa + h_i + a_i(nu) ) )
//
// with m_in_i = (M_i, P_i) and n_out_i = g_pre_i (Nv_i, f(nu) * Q_i) / N, the
// coordinates of (*rnn.Model).Latent: at a fixed point kappa equals Latent of the
// rates. Every fixed point of the full network is x = Embed(kappa) for a fixed point
// kappa of this system and conversely. One evaluation costs O(N d).
type Network struct {
	Nu   float64
	n, d int
	// MIn (N x d) are the input loadings m_in_i, NOut (N x d) the output loadings
	// n_out_i (divided by N and multiplied by g_pre), HIn the static input h + a(nu)
	// and GIn the postsynaptic gains g_post: read them, do not change them.
	MIn, NOut, HIn, GIn []float64
	box                 []float64 // sum_i |n_out_ir|
}

// New builds the latent system of m at NE level nu.
func New(m *rnn.Model, nu float64) *Network {
	d := Dim(m)
	s := m.AtNE(nu, nil)
	w := &Network{Nu: nu, n: m.N, d: d,
		MIn: make([]float64, m.N*d), NOut: make([]float64, m.N*d),
		HIn: make([]float64, m.N), GIn: make([]float64, m.N), box: make([]float64, d)}
	invN := 1 / float64(m.N)
	for i := 0; i < m.N; i++ {
		for r := 0; r < m.R; r++ {
			w.MIn[i*d+r] = m.M[i*m.R+r]
			w.NOut[i*d+r] = m.Nv[i*m.R+r] * s.GPre[i] * invN
		}
		if m.Variant == rnn.LowRank {
			for k := 0; k < m.K; k++ {
				w.MIn[i*d+m.R+k] = m.P[i*m.K+k]
				w.NOut[i*d+m.R+k] = s.F[k] * m.Q[i*m.K+k] * s.GPre[i] * invN
			}
		}
		w.HIn[i] = m.H[i] + s.A[i]
		w.GIn[i] = s.GPost[i]
		for a := 0; a < d; a++ {
			w.box[a] += math.Abs(w.NOut[i*d+a])
		}
	}
	return w
}

// Dim is the latent dimension of m: R, plus K for the lowrank variant.
func Dim(m *rnn.Model) int {
	if m.Variant == rnn.LowRank {
		return m.R + m.K
	}
	return m.R
}

// Dim is the latent dimension.
func (w *Network) Dim() int { return w.d }

// Neurons is the number of neurons N.
func (w *Network) Neurons() int { return w.n }

// Box fills half with sum_i |n_out_ir|, a bound on |kappa_r| at any fixed point.
func (w *Network) Box(half []float64) { copy(half, w.box) }

// Embedded reports whether the network has directions outside the latent span.
func (w *Network) Embedded() bool { return w.n > w.d }

// Velocity fills dst with tau dkappa/dt at kappa.
func (w *Network) Velocity(kappa, dst []float64) {
	w.check(kappa, dst, w.d)
	d := w.d
	for a := range dst {
		dst[a] = -kappa[a]
	}
	for i := 0; i < w.n; i++ {
		row := w.MIn[i*d : (i+1)*d]
		y := w.HIn[i]
		for a, m := range row {
			y += m * kappa[a]
		}
		r := math.Tanh(w.GIn[i] * y)
		out := w.NOut[i*d : (i+1)*d]
		for a, n := range out {
			dst[a] += n * r
		}
	}
}

// Jacobian fills dst (d x d) with d velocity_r / d kappa_s =
// -delta_rs + sum_i n_out_ir g_i sech^2(g_i y_i) m_in_is.
func (w *Network) Jacobian(kappa, dst []float64) {
	w.VelocityJacobian(kappa, nil, dst)
}

// VelocityJacobian computes the velocity (when v is not nil) and the Jacobian (when
// jac is not nil) in one pass over the neurons.
func (w *Network) VelocityJacobian(kappa, v, jac []float64) {
	d := w.d
	if v != nil {
		w.check(kappa, v, d)
		for a := range v {
			v[a] = -kappa[a]
		}
	}
	if jac != nil {
		w.check(kappa, jac, d*d)
		for a := range jac {
			jac[a] = 0
		}
	}
	for i := 0; i < w.n; i++ {
		row := w.MIn[i*d : (i+1)*d]
		y := w.HIn[i]
		for a, m := range row {
			y += m * kappa[a]
		}
		g := w.GIn[i]
		r := math.Tanh(g * y)
		out := w.NOut[i*d : (i+1)*d]
		if v != nil {
			for a, n := range out {
				v[a] += n * r
			}
		}
		if jac != nil {
			slope := g * (1 - r*r)
			for a, n := range out {
				ns := n * slope
				jr := jac[a*d : (a+1)*d]
				for b, m := range row {
					jr[b] += ns * m
				}
			}
		}
	}
	if jac != nil {
		for a := 0; a < d; a++ {
			jac[a*d+a]--
		}
	}
}

// Embed fills x (length N) with the network state of latent point kappa:
// x_i = m_in_i . kappa + h_i + a_i(nu).
func (w *Network) Embed(kappa, x []float64) []float64 {
	if len(x) < w.n {
		x = make([]float64, w.n)
	}
	x = x[:w.n]
	d := w.d
	for i := range x {
		y := w.HIn[i]
		for a := 0; a < d; a++ {
			y += w.MIn[i*d+a] * kappa[a]
		}
		x[i] = y
	}
	return x
}

func (w *Network) check(kappa, dst []float64, n int) {
	if len(kappa) != w.d || len(dst) != n {
		panic(fmt.Sprintf("latent: kappa has length %d (want %d) and dst %d (want %d)", len(kappa), w.d, len(dst), n))
	}
}
