package mft

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"nmdyn/stages/rnn"
)

// Sample draws a finite network of n neurons from the mixture: population p gets
// round(Alpha_p n) neurons (the largest remainders take the rounding slack, ties to
// the lower population), each with theta ~ N(Mean_p, Cov_p) drawn as
// Mean_p + V sqrt(Lambda) xi from the eigendecomposition of Cov_p (negative
// eigenvalues from rounding are clipped to 0), xi standard normal from a PCG source
// seeded with seed. Readout, event and initial-state parameters are left at the
// rnn.New defaults; D is 0 and C is 1. The second result is each neuron's population.
// Deterministic for a given seed.
func (mx *Mixture) Sample(n int, seed uint64, dtSeconds, tauSeconds float64) (*rnn.Model, []int) {
	counts := apportion(mx, n)
	m := rnn.New(mx.Variant, n, mx.R, mx.K, 0, dtSeconds, tauSeconds)
	rng := rand.New(rand.NewPCG(seed, 0x6d6674)) // "mft"
	dt := mx.ParamDim()
	theta := make([]float64, dt)
	xi := make([]float64, dt)
	pops := make([]int, 0, n)
	i := 0
	for p, cnt := range counts {
		root := covRoot(mx.Pops[p].Cov, dt)
		for c := 0; c < cnt; c++ {
			for j := range xi {
				xi[j] = rng.NormFloat64()
			}
			for a := 0; a < dt; a++ {
				theta[a] = mx.Pops[p].Mean[a] + dot(root[a*dt:(a+1)*dt], xi)
			}
			setParams(m, i, theta)
			m.C[i] = 1
			pops = append(pops, p)
			i++
		}
	}
	return m, pops
}

// apportion splits n neurons by the mixture weights (largest remainder method).
func apportion(mx *Mixture, n int) []int {
	counts := make([]int, len(mx.Pops))
	rem := make([]float64, len(mx.Pops))
	left := n
	for p, pop := range mx.Pops {
		x := pop.Alpha * float64(n)
		counts[p] = int(math.Floor(x))
		rem[p] = x - float64(counts[p])
		left -= counts[p]
	}
	for ; left > 0; left-- {
		best := 0
		for p := range rem {
			if rem[p] > rem[best] {
				best = p
			}
		}
		counts[best]++
		rem[best] = -1
	}
	return counts
}

// covRoot returns V sqrt(max(Lambda, 0)), row-major dt x dt, with Cov = V Lambda V^T.
func covRoot(cov []float64, dt int) []float64 {
	var eig mat.EigenSym
	if !eig.Factorize(mat.NewSymDense(dt, append([]float64(nil), cov...)), true) {
		panic("mft: eigendecomposition of a population covariance failed")
	}
	vals := eig.Values(nil)
	var v mat.Dense
	eig.VectorsTo(&v)
	root := make([]float64, dt*dt)
	for a := 0; a < dt; a++ {
		for b := 0; b < dt; b++ {
			root[a*dt+b] = v.At(a, b) * math.Sqrt(math.Max(vals[b], 0))
		}
	}
	return root
}

// setParams writes theta (ParamNames order) into neuron i of m.
func setParams(m *rnn.Model, i int, theta []float64) {
	copy(m.M[i*m.R:(i+1)*m.R], theta[:m.R])
	copy(m.Nv[i*m.R:(i+1)*m.R], theta[m.R:2*m.R])
	m.H[i] = theta[2*m.R]
	ne := theta[2*m.R+1:]
	switch m.Variant {
	case rnn.Additive:
		copy(m.Beta[i*m.K:(i+1)*m.K], ne)
	case rnn.PreGain, rnn.PostGain:
		copy(m.Gamma[i*m.K:(i+1)*m.K], ne)
	case rnn.LowRank:
		copy(m.P[i*m.K:(i+1)*m.K], ne[:m.K])
		copy(m.Q[i*m.K:(i+1)*m.K], ne[m.K:])
	}
}
