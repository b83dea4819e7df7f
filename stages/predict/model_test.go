package predict

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"nmdyn/stages/rnn"
)

// rankOnePostgain is a rank-one postgain network whose effective coupling peaks
// at nu = 1/2: m_i = +-1 (balanced), n_i = j0 m_i, h = 0, gamma_i = (0, -1), so
// g_post(nu) = exp(-(2 nu - 1)^2) for every neuron, 1 at nu = 1/2. The origin is a
// fixed point (tanh 0 = 0), where the latent Jacobian is L = (1/N) sum n_i g m_i
// = j0 g(nu): the slowest time constant tau / (1 - j0 g) is largest at 1/2. The
// event input is B = m, readouts c = 1, d = log 5 (5 Hz at rest).
func rankOnePostgain(n int, j0 float64) *rnn.Model {
	m := rnn.New(rnn.PostGain, n, 1, 2, 1, 0.05, 0.1)
	m.Events = []string{"stim"}
	for i := 0; i < n; i++ {
		s := 1.0
		if i%2 == 1 {
			s = -1
		}
		m.M[i], m.Nv[i], m.B[i] = s, j0*s, s
		m.Gamma[i*2+1] = -1
		m.C[i], m.D[i] = 1, math.Log(5)
	}
	return m
}

func TestModelCurveRankOne(t *testing.T) {
	const j0 = 0.9
	m := rankOnePostgain(50, j0)
	grid := make([]float64, 21)
	for i := range grid {
		grid[i] = float64(i) / 20
	}
	curve := ModelCurve(m, grid)
	alpha, dt := m.Alpha(), m.DtSeconds
	pulse, variance := make([]float64, len(grid)), make([]float64, len(grid))
	for i, pt := range curve {
		// At the origin, with g = exp(-(2 nu - 1)^2) and a = 1 - alpha (1 - j0 g)
		// the one-step factor of the mode m: the pulse alpha m decays as
		// alpha a^(t-1) m, so its rate energy is dt g^2 alpha^2 / (1 - a^2); unit
		// noise along m has stationary variance alpha / (1 - a^2), rate variance
		// g^2 alpha / (1 - a^2); tau1 = tau / (1 - j0 g).
		g := math.Exp(-(2*pt.Nu - 1) * (2*pt.Nu - 1))
		a := 1 - alpha*(1-j0*g)
		wantPulse := dt * g * g * alpha * alpha / (1 - a*a)
		wantVar := g * g * alpha / (1 - a*a)
		wantTau := m.TauSeconds / (1 - j0*g)
		if !pt.Stable || math.Abs(pt.PulseResponse/wantPulse-1) > 1e-9 || math.Abs(pt.StationaryVariance/wantVar-1) > 1e-9 ||
			math.Abs(pt.Tau1S/wantTau-1) > 1e-9 {
			t.Errorf("nu %.2f: stable %v pulse %.6g (want %.6g) variance %.6g (want %.6g) tau1 %.4g (want %.4g)",
				pt.Nu, pt.Stable, pt.PulseResponse, wantPulse, pt.StationaryVariance, wantVar, pt.Tau1S, wantTau)
		}
		pulse[i], variance[i] = pt.PulseResponse, pt.StationaryVariance
	}
	// Both curves are symmetric about 1/2 and largest there.
	if p := PeakOf(grid, pulse); math.Abs(p-0.5) > 1e-9 {
		t.Errorf("pulse response peaks at %v, want 0.5", p)
	}
	if p := PeakOf(grid, variance); math.Abs(p-0.5) > 1e-9 {
		t.Errorf("stationary variance peaks at %v, want 0.5", p)
	}
	// The slow direction at 1/2: at the origin r = 0, rate 5 Hz, so
	// w_i ∝ sqrt(5 * 0.5) * 1 * 1 * m_i: +-1/sqrt(N), largest weight positive.
	w := SlowDirection(m, 0.5, 0.5)
	for i := range w {
		want := m.M[i] / math.Sqrt(50)
		if math.Abs(w[i]-want) > 1e-12 {
			t.Fatalf("slow direction[%d] = %v, want %v", i, w[i], want)
		}
	}
}

// randomModel draws a small network of a variant with couplings weak enough for a
// stable fixed point.
func randomModel(v rnn.Variant, seed uint64) *rnn.Model {
	rng := rand.New(rand.NewPCG(seed, 7))
	n, r, k := 30, 2, 2
	m := rnn.New(v, n, r, k, 1, 0.05, 0.1)
	m.Events = []string{"stim"}
	fill := func(s []float64, sd float64) {
		for i := range s {
			s[i] = sd * rng.NormFloat64()
		}
	}
	fill(m.M, 1)
	fill(m.Nv, 0.8)
	fill(m.H, 0.5)
	fill(m.B, 1)
	fill(m.C, 0.5)
	fill(m.D, 0.3)
	fill(m.Beta, 0.5)
	fill(m.Gamma, 0.3)
	fill(m.P, 1)
	fill(m.Q, 0.5)
	return m
}

func TestLatentLinearisationMatchesDrift(t *testing.T) {
	// Against package rnn's own Drift: the fixed point has zero drift, and the
	// full N x N Jacobian by central differences has the eigenvalues -1 + eig(L)
	// and otherwise -1.
	for _, v := range rnn.Variants {
		m := randomModel(v, 3)
		const nu = 0.3
		ln := newLatentNet(m, nu)
		kappa, jac, ok := ln.fixedPoint()
		if !ok {
			t.Fatalf("%s: no stable fixed point", v)
		}
		s := m.AtNE(nu, nil)
		x := ln.state(kappa, nil)
		for i, d := range m.Drift(x, s, nil, nil) {
			if math.Abs(d) > 1e-10 {
				t.Fatalf("%s: drift[%d] = %v at the fixed point", v, i, d)
			}
		}
		n := m.N
		full := mat.NewDense(n, n, nil)
		const h = 1e-6
		for j := 0; j < n; j++ {
			xp := append([]float64(nil), x...)
			xm := append([]float64(nil), x...)
			xp[j] += h
			xm[j] -= h
			fp, fm := m.Drift(xp, s, nil, nil), m.Drift(xm, s, nil, nil)
			for i := 0; i < n; i++ {
				full.Set(i, j, (fp[i]-fm[i])/(2*h))
			}
		}
		var e mat.Eigen
		if !e.Factorize(full, mat.EigenNone) {
			t.Fatal("eigen failed")
		}
		fullVals := e.Values(nil)
		latVals, _ := eigen(jac, ln.d, false)
		for _, mu := range latVals {
			best := math.Inf(1)
			for _, f := range fullVals {
				best = math.Min(best, cmplx.Abs(f-(mu-1)))
			}
			if best > 1e-6 {
				t.Errorf("%s: latent eigenvalue -1 + %v not among the full Jacobian's (closest %g away)", v, mu, best)
			}
		}
		off := 0
		for _, f := range fullVals {
			if cmplx.Abs(f+1) > 1e-6 {
				off++
			}
		}
		if off > ln.d {
			t.Errorf("%s: %d full eigenvalues differ from -1, want at most D = %d", v, off, ln.d)
		}
	}
}

func TestPulseResponseMatchesSimulation(t *testing.T) {
	// A small pulse eps through the event input, run with rnn's Trajectory: the
	// integrated squared rate deviation over eps^2 converges to the linear
	// response (relative error O(eps)).
	for _, v := range []rnn.Variant{rnn.PostGain, rnn.LowRank, rnn.PreGain} {
		m := randomModel(v, 5)
		const nu, eps = 0.6, 1e-4
		pt := modelPoint(m, nu)
		ln := newLatentNet(m, nu)
		kappa, _, _ := ln.fixedPoint()
		x0 := ln.state(kappa, nil)
		T := 3000
		in := rnn.Inputs{Nu: make([]float64, T), Events: make([]float64, T)}
		for i := range in.Nu {
			in.Nu[i] = nu
		}
		in.Events[0] = eps
		_, rates := m.Trajectory(x0, in, nil)
		rstar := m.Rates(x0, m.AtNE(nu, nil), nil)
		var sum float64
		for tt := 1; tt < T; tt++ {
			for i := 0; i < m.N; i++ {
				d := rates[tt*m.N+i] - rstar[i]
				sum += d * d
			}
		}
		sim := sum / float64(m.N) * m.DtSeconds / (eps * eps)
		if math.Abs(sim/pt.PulseResponse-1) > 1e-3 {
			t.Errorf("%s: simulated pulse response %.6g, linear %.6g", v, sim, pt.PulseResponse)
		}
	}
}

func TestLyapunovResidual(t *testing.T) {
	// S = A S A^T + c I for a non-symmetric stable 3 x 3 A (spectral radius < 1).
	a := []float64{0.5, 0.2, -0.1, 0.1, 0.7, 0.3, 0, -0.2, 0.4}
	s, ok := lyapunov(a, 3, 0.25)
	if !ok {
		t.Fatal("singular")
	}
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			v := s[i*3+j]
			for k := 0; k < 3; k++ {
				for l := 0; l < 3; l++ {
					v -= a[i*3+k] * s[k*3+l] * a[j*3+l]
				}
			}
			if i == j {
				v -= 0.25
			}
			if math.Abs(v) > 1e-12 {
				t.Fatalf("residual[%d][%d] = %v", i, j, v)
			}
		}
	}
}

func TestModelCurveUnstable(t *testing.T) {
	// j0 = 1.5: the origin is unstable at every nu where g > 1/1.5 and the
	// network is bistable there; the relaxation lands on one of the stable
	// points away from the origin, which is a valid (finite) prediction.
	m := rankOnePostgain(20, 1.5)
	for _, pt := range ModelCurve(m, []float64{0, 0.5, 1}) {
		if !pt.Stable || math.IsNaN(pt.PulseResponse) || math.IsNaN(pt.StationaryVariance) {
			t.Errorf("nu %v: stable %v, pulse %v, variance %v: want a stable point with finite curves", pt.Nu, pt.Stable, pt.PulseResponse, pt.StationaryVariance)
		}
	}
	// nu = 1/2: L at the origin would be 1.5; a stable point must have L < 1.
	ln := newLatentNet(m, 0.5)
	kappa, jac, ok := ln.fixedPoint()
	if !ok || math.Abs(kappa[0]) < 0.1 || !(jac[0] < 1) {
		t.Errorf("bistable level: kappa %v L %v ok %v, want a stable point off the origin", kappa, jac, ok)
	}
}
