package dynamics

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/integrate/quad"

	"nmdyn/stages/rnn"
)

// gaussAvg is E_z[f(mu + sqrt(delta) z)], z ~ N(0, 1), by 200-node Gauss-Hermite
// quadrature (gonum quad.Hermite integrates against exp(-x^2), so z = sqrt(2) x).
func gaussAvg(f func(float64) float64, mu, delta float64) float64 {
	sd := math.Sqrt(delta)
	g := func(x float64) float64 { return f(mu+sd*math.Sqrt2*x) / math.Sqrt(math.Pi) }
	return quad.Fixed(g, math.Inf(-1), math.Inf(1), 200, quad.Hermite{}, 0)
}

func sech2(x float64) float64 {
	c := math.Cosh(x)
	return 1 / (c * c)
}

// bisect finds a root of f in [lo, hi] (f(lo) and f(hi) of opposite signs).
func bisect(f func(float64) float64, lo, hi float64) float64 {
	flo := f(lo)
	for it := 0; it < 200; it++ {
		mid := 0.5 * (lo + hi)
		fm := f(mid)
		if (fm < 0) == (flo < 0) {
			lo, flo = mid, fm
		} else {
			hi = mid
		}
	}
	return 0.5 * (lo + hi)
}

// rankOneModel is a rank-one network (variant none, h = 0) with m ~ N(0, 1) and
// n = overlap m + z, z ~ N(0, 1): sigma_m = 1 and sigma_nm = overlap in the limit.
func rankOneModel(n int, overlap float64, seed uint64) *rnn.Model {
	rng := rand.New(rand.NewPCG(seed, 1))
	m := rnn.New(rnn.None, n, 1, 0, 0, 0.05, 0.1)
	for i := 0; i < n; i++ {
		x := rng.NormFloat64()
		m.M[i] = x
		m.Nv[i] = overlap*x + rng.NormFloat64()
	}
	return m
}

// orthoColumns draws q Gaussian columns of length n, centres them, orthogonalises
// them (Gram-Schmidt, twice) and scales each to mean square 1, so their sample
// moments are exactly those of independent standard normals up to second order.
func orthoColumns(rng *rand.Rand, n, q int) [][]float64 {
	cols := make([][]float64, q)
	for c := range cols {
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		for pass := 0; pass < 2; pass++ {
			mu := 0.0
			for _, x := range v {
				mu += x
			}
			mu /= float64(n)
			for i := range v {
				v[i] -= mu
			}
			for _, u := range cols[:c] {
				f := dot(u, v) / float64(n)
				for i := range v {
					v[i] -= f * u[i]
				}
			}
		}
		f := norm(v) / math.Sqrt(float64(n))
		for i := range v {
			v[i] /= f
		}
		cols[c] = v
	}
	return cols
}

// ringModel is a rank-two network whose sample overlaps are exactly
// sigma_{n_r m_r} = s1, s2 and zero cross terms: n_r = s_r m_r + z_r with m_1, m_2,
// z_1, z_2 centred, orthogonal, mean square 1. For s1 = s2 > 1 the mean-field limit
// has a ring attractor of radius rho with 1 = s <phi'>(0, rho^2).
func ringModel(n int, s1, s2 float64, seed uint64) *rnn.Model {
	cols := orthoColumns(rand.New(rand.NewPCG(seed, 2)), n, 4)
	m := rnn.New(rnn.None, n, 2, 0, 0, 0.05, 0.1)
	s := []float64{s1, s2}
	for i := 0; i < n; i++ {
		for r := 0; r < 2; r++ {
			m.M[i*2+r] = cols[r][i]
			m.Nv[i*2+r] = s[r]*cols[r][i] + cols[2+r][i]
		}
	}
	return m
}

// randomModel is a network of the given variant with random parameters, standing in
// for a fitted one: overlap 1.6 along each direction (so it has several fixed
// points), random static input, NE parameters and low-rank terms.
func randomModel(v rnn.Variant, n, r, k int, seed uint64) *rnn.Model {
	rng := rand.New(rand.NewPCG(seed, 3))
	m := rnn.New(v, n, r, k, 1, 0.05, 0.1)
	for i := 0; i < n; i++ {
		for a := 0; a < r; a++ {
			x := rng.NormFloat64()
			m.M[i*r+a] = x
			m.Nv[i*r+a] = 1.6*x + rng.NormFloat64()
		}
		m.H[i] = 0.3 * rng.NormFloat64()
		m.B[i] = rng.NormFloat64()
		m.C[i] = 1
		for j := 0; j < k; j++ {
			switch v {
			case rnn.Additive:
				m.Beta[i*k+j] = 0.5 * rng.NormFloat64()
			case rnn.PreGain, rnn.PostGain:
				m.Gamma[i*k+j] = 0.3 * rng.NormFloat64()
			case rnn.LowRank:
				m.P[i*k+j] = m.M[i*r] + 0.5*rng.NormFloat64()
				m.Q[i*k+j] = 0.5*m.M[i*r] + 0.3*rng.NormFloat64()
			}
		}
	}
	return m
}

// trajectoryStates runs the model at a fixed NE level from nTraj random initial
// states with private noise and returns every stride-th state after a burn-in.
func trajectoryStates(m *rnn.Model, nu float64, nTraj, T, stride int, seed uint64) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 4))
	in := rnn.Inputs{Nu: make([]float64, T)}
	for t := range in.Nu {
		in.Nu[t] = nu
	}
	var out [][]float64
	for k := 0; k < nTraj; k++ {
		x0 := make([]float64, m.N)
		for i := range x0 {
			x0[i] = 2 * rng.NormFloat64()
		}
		X, _ := m.Trajectory(x0, in, func(_ int, x []float64) {
			for i := range x {
				x[i] += 0.05 * rng.NormFloat64()
			}
		})
		for t := T / 4; t < T; t += stride {
			out = append(out, append([]float64(nil), X[t*m.N:(t+1)*m.N]...))
		}
	}
	return out
}

func rand2(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 5)) }

// rotationModel is a rank-two network with overlap matrix [[s, w], [-w, s]] (w = 1):
// the origin is an unstable focus (eigenvalues -1 + s +- i w) and the activity
// settles on a limit cycle, with no stable fixed point.
func rotationModel(n int, s float64, seed uint64) *rnn.Model {
	cols := orthoColumns(rand.New(rand.NewPCG(seed, 6)), n, 4)
	m := rnn.New(rnn.None, n, 2, 0, 0, 0.05, 0.1)
	for i := 0; i < n; i++ {
		m.M[i*2], m.M[i*2+1] = cols[0][i], cols[1][i]
		// n_1 . m = (s, w) and n_2 . m = (-w, s) per unit mean square.
		m.Nv[i*2] = s*cols[0][i] + cols[1][i] + cols[2][i]
		m.Nv[i*2+1] = -cols[0][i] + s*cols[1][i] + cols[3][i]
	}
	return m
}
