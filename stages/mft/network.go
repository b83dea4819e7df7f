package mft

import (
	"fmt"
	"math"

	"nmdyn/stages/rnn"
)

// Network is the exact latent dynamics of a finite network at one NE level with
// inputs off: with x = M kappa_{1..R} + P kappa_{R+1..R+K} + h + a(nu) the span of
// the recurrent input is invariant, and on it
//
//	tau dkappa_r/dt = -kappa_r + sum_i nOut_ir tanh( g_post_i (m_in_i . kappa + h_i + a_i(nu)) )
//
// with m_in_i = (M_i, P_i) and nOut_i = g_pre_i (N_i, f(nu) * Q_i) / N, the
// coordinates of rnn.Model.Latent. It implements the dynamics LatentSystem interface
// and is what the mean-field System approximates when the neurons' parameters are
// drawn from a Gaussian mixture. It is the same system as dynamics.LatentOf (kept
// here for packages that use it, e.g. groundtruth; TestNetworkMatchesLatentOf checks
// that they agree).
type Network struct {
	Nu   float64
	n, d int
	mIn  []float64 // n x d
	nOut []float64 // n x d, already divided by N and multiplied by g_pre
	hIn  []float64 // h + a(nu)
	gIn  []float64 // g_post
}

// NewNetwork builds the latent dynamics of m at NE level nu.
func NewNetwork(m *rnn.Model, nu float64) *Network {
	d := m.R
	if m.Variant == rnn.LowRank {
		d += m.K
	}
	s := m.AtNE(nu, nil)
	w := &Network{Nu: nu, n: m.N, d: d, mIn: make([]float64, m.N*d), nOut: make([]float64, m.N*d),
		hIn: make([]float64, m.N), gIn: make([]float64, m.N)}
	invN := 1 / float64(m.N)
	for i := 0; i < m.N; i++ {
		for r := 0; r < m.R; r++ {
			w.mIn[i*d+r] = m.M[i*m.R+r]
			w.nOut[i*d+r] = m.Nv[i*m.R+r] * s.GPre[i] * invN
		}
		if m.Variant == rnn.LowRank {
			for k := 0; k < m.K; k++ {
				w.mIn[i*d+m.R+k] = m.P[i*m.K+k]
				w.nOut[i*d+m.R+k] = s.F[k] * m.Q[i*m.K+k] * s.GPre[i] * invN
			}
		}
		w.hIn[i] = m.H[i] + s.A[i]
		w.gIn[i] = s.GPost[i]
	}
	return w
}

// Dim is the latent dimension.
func (w *Network) Dim() int { return w.d }

// Velocity fills dst with tau dkappa/dt at kappa.
func (w *Network) Velocity(kappa, dst []float64) {
	if len(kappa) != w.d || len(dst) != w.d {
		panic(fmt.Sprintf("mft: kappa and dst have lengths %d and %d, want %d", len(kappa), len(dst), w.d))
	}
	copy(dst, kappa)
	for a := range dst {
		dst[a] = -dst[a]
	}
	for i := 0; i < w.n; i++ {
		r := math.Tanh(w.gIn[i] * (dot(w.mIn[i*w.d:(i+1)*w.d], kappa) + w.hIn[i]))
		for a := 0; a < w.d; a++ {
			dst[a] += w.nOut[i*w.d+a] * r
		}
	}
}

// Jacobian fills dst (Dim x Dim, row-major) with d velocity_r / d kappa_s.
func (w *Network) Jacobian(kappa, dst []float64) {
	d := w.d
	if len(kappa) != d || len(dst) != d*d {
		panic(fmt.Sprintf("mft: kappa and dst have lengths %d and %d, want %d and %d", len(kappa), len(dst), d, d*d))
	}
	for a := range dst {
		dst[a] = 0
	}
	for i := 0; i < w.n; i++ {
		t := math.Tanh(w.gIn[i] * (dot(w.mIn[i*d:(i+1)*d], kappa) + w.hIn[i]))
		slope := w.gIn[i] * (1 - t*t)
		for r := 0; r < d; r++ {
			nr := w.nOut[i*d+r] * slope
			for q := 0; q < d; q++ {
				dst[r*d+q] += nr * w.mIn[i*d+q]
			}
		}
	}
	for a := 0; a < d; a++ {
		dst[a*d+a] -= 1
	}
}
