package dynamics_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	"nmdyn/stages/dynamics"
	"nmdyn/stages/rnn"
)

// A rank-one network with overlap sigma_mn = 0.9 between its loadings has one fixed
// point, kappa = 0, whose latent eigenvalue is -1 + 0.9 = -0.1: time constant
// 10 tau = 1 s, score log2(10) = 3.32, a line attractor by the package's rule.
func ExampleAnalyzeLatent() {
	const n = 500
	rng := rand.New(rand.NewPCG(1, 1))
	m := rnn.New(rnn.None, n, 1, 0, 0, 0.05, 0.1)
	// n = 0.9 m + z with m, z centred, orthogonal, mean square 1: the sample
	// overlap is exactly 0.9.
	z := make([]float64, n)
	for i := 0; i < n; i++ {
		m.M[i], z[i] = rng.NormFloat64(), rng.NormFloat64()
	}
	centre := func(v []float64) {
		mu := 0.0
		for _, x := range v {
			mu += x / n
		}
		for i := range v {
			v[i] -= mu
		}
	}
	dot := func(a, b []float64) float64 {
		s := 0.0
		for i := range a {
			s += a[i] * b[i] / n
		}
		return s
	}
	centre(m.M)
	centre(z)
	f := dot(z, m.M) / dot(m.M, m.M)
	for i := range z {
		z[i] -= f * m.M[i]
	}
	sm, sz := math.Sqrt(dot(m.M, m.M)), math.Sqrt(dot(z, z))
	for i := 0; i < n; i++ {
		m.M[i] /= sm
		m.Nv[i] = 0.9*m.M[i] + z[i]/sz
	}

	lv, err := dynamics.AnalyzeLatent(dynamics.LatentOf(m, 0.5), &dynamics.Settings{TauSeconds: m.TauSeconds})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %d fixed point at kappa = %.3f, tau1 = %.3f s, score %.2f\n",
		lv.Regime, len(lv.FixedPoints), lv.FixedPoints[0].Kappa[0], lv.Tau[0], lv.Score)
	// Output:
	// line attractor: 1 fixed point at kappa = 0.000, tau1 = 1.000 s, score 3.32
}
