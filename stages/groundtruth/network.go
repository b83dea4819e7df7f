package groundtruth

import (
	"fmt"
	"math"
	"math/rand/v2"

	"nmdyn/stages/rnn"
)

// profile is the design of one mechanism: the ratio w of the two populations'
// feedback along the slow direction (population 1 has overlap +s, population 2
// has -w s, s calibrated) and the population means of the NE parameters (at
// ne_strength 1), one row of K = 2 basis coefficients per population (beta for
// additive, gamma for pregain and postgain, the coefficients of m_1 in q_1, q_2
// for lowrank). The profiles are derived in the package comment.
type profile struct {
	w  float64
	ne [2][2]float64
}

// profileOf returns the design of a mechanism for population fractions a1, a2.
func profileOf(v rnn.Variant, a1, a2 float64) profile {
	// Population 2's negative feedback (w s m_1 . m_1 with m_1 of mean square
	// v2) is half of population 1's positive feedback (weighted by their sizes):
	// the flat-top condition of the gain mechanisms, kept for the others so
	// that the populations look alike.
	w := a1 / (2 * a2 * popTwoSlowInputVar)
	switch v {
	case rnn.PostGain:
		// Log-gains -a u^2 and -2 a u^2 (u = 2 nu - 1): lambda(u) / lambda(0) =
		// 1 - (1 - e^{-a u^2})^2, which is flat to fourth order at u = 0 and
		// 0.47 at u = +-1 for a = 1.3. Both populations respond less away from
		// intermediate NE, population 2 most.
		return profile{w: w, ne: [2][2]float64{{0, -1.3}, {0, -2.6}}}
	case rnn.PreGain:
		// Log-gains +a u^2 and +2 a u^2: the outputs grow away from
		// intermediate NE, population 2's (negative feedback on the slow
		// direction, positive feedback on the second) twice as fast, so
		// lambda(u) / lambda(0) = 2 e^{a u^2} - e^{2 a u^2} = 1 - (e^{a u^2} - 1)^2,
		// flat to fourth order at u = 0 and strongly negative at u = +-1 for
		// a = 1.05, while the second loop's coupling fast_coupling e^{2 a u^2}
		// rises (0.1 -> 0.82): at the ends of NE the slow direction is fast and
		// the second one slows down, and population 1's m_2 response, relayed
		// by population 2, grows eightfold. Two loops changing in opposite
		// ways, seen only through the recurrence (a neuron's own response
		// keeps its size), is what neither postgain (which would rescale the
		// responses) nor lowrank (one rank-one term per basis function) can
		// imitate.
		return profile{w: w, ne: [2][2]float64{{0, 1.05}, {0, 2.1}}}
	case rnn.Additive:
		// Population 1's input rises as 0.5 u^2 and population 2's falls as
		// -0.3 u^2: both saturate at the ends of NE, population 1 (positive
		// feedback) more, which weakens the slow feedback: lambda / lambda(0) ~
		// 2 sech^2(0.5 u^2) - sech^2(0.3 u^2) (population 2's larger input
		// loadings aside): 0.99 at |u| = 0.5, 0.66 at |u| = 1. The two
		// populations' mean NE parameters are 0.8 apart, 5 spreads.
		return profile{w: w, ne: [2][2]float64{{0, 0.5}, {0, -0.3}}}
	case rnn.LowRank:
		// q_k = c_k m_1 in both populations: the term k reads the slow
		// state, q_k . m_1 / N = c_k (a1 + a2 v2) = lowRankDrive, so that at
		// |f_k| = 1 its drive along its own new direction p_k equals the slow
		// direction's drive m_1 kappa_1 (see lowRankDrive).
		c := lowRankDrive / (a1 + a2*popTwoSlowInputVar)
		return profile{w: w, ne: [2][2]float64{{c, c}, {c, c}}}
	}
	return profile{w: w}
}

// popTwoSlowInputVar is the mean square v2 of population 2's slow input loading
// m_1 (population 1's is 1). Population 2 then saturates earlier as the state
// moves along m_1, and the loss of its negative feedback offsets the loss of
// population 1's positive feedback: with equal sizes and the flat-top w,
//
//	lambda(y) / s = a1 [ E m^2 sech^2(m y) ]_1 - a2 w [ E m^2 sech^2(m y) ]_2
//	             = a1 ( 1/2 - 3 y^2 (1 - v2/2) + 10 y^4 (1 - v2^2/2) + ... )
//
// at nu = 1/2 (sech^2 z = 1 - z^2 + 2 z^4 / 3 - ..., Gaussian moments), so v2 = 2
// removes the y^2 term: the coupling stays near its peak over a longer stretch
// of the line (lambda = lambda0 (1 - 20 y^4) instead of lambda0 (1 - 3 y^2)).
const popTwoSlowInputVar = 2.0

// lowRankDrive is the strength of the lowrank mechanism's two terms. Both read
// the slow state (q_k = c m_1) and write along new directions p_1, p_2,
// orthogonal to the loadings: at |f_k(nu)| = 1 the drive along p_k equals
// lowRankDrive times the slow direction's own drive m_1 kappa_1. A neuron's
// response to the slow state (and to events) then follows m_1 + u p_1 + u^2 p_2
// (u = 2 nu - 1): it turns towards +p_1 at high NE and -p_1 at low NE, and
// towards p_2 at both ends. No gain mechanism can flip the sign of a neuron's
// response (gains are positive), additive inputs are not locked to the state,
// and a gain network of rank 2 could imitate one such term with its second
// latent direction but not two, so this is the lowrank mechanism's own
// signature.
const lowRankDrive = 1.0

// lowRankLoop is the feedback of the lowrank mechanism's u^2 direction onto
// the slow one, n_1 += eta p_2, which makes the slow coupling fall away from
// nu = 1/2 (the line attractor's collapse). The slow direction and p_2 form the
// loop
//
//	tau dk_1/dt = (lambda0 - 1) k_1 + eta p_2,  tau dp_2/dt = -p_2 + u^2 D k_1   (D = lowRankDrive)
//
// whose slowest eigenvalue is (-(2 - lambda0) + sqrt(lambda0^2 + 4 eta D u^2)) / 2;
// eta D = -lowRankLoop lambda0^2 / 4 makes the two eigenvalues meet at |u| = 1
// (coupling lambda0 / 2 there, critically damped: no oscillation).
const lowRankLoop = 1.0

// fastKick is the weight of the second direction m_2 in the event inputs,
// relative to the slow direction's: the slow direction must stay near its
// fixed point, where the line is flat (see popTwoSlowInputVar), so its kicks are
// small; the second direction's loop is far from critical and can take larger
// kicks, which make its NE-dependent relaxation visible in the responses.
const fastKick = 3.0

// network is the generating model and what the generator keeps of its design.
type network struct {
	model      *rnn.Model
	population []int     // 1 or 2 per neuron
	slowScale  float64   // calibrated s
	couplings  []float64 // effective slow coupling on the calibration grid
	calGrid    []float64
}

// calibrationLevels is the NE grid on which the slow coupling is calibrated.
const calibrationLevels = 41

// buildNetwork draws the generating network of cfg (see the package comment) and
// calibrates the strength of its slow feedback.
func buildNetwork(cfg *Config, rng *rand.Rand) (*network, error) {
	v := rnn.Variant(cfg.Mechanism)
	n, R, K, E := cfg.Neurons, cfg.Rank, cfg.BasisK, len(cfg.Events.Labels)
	m := rnn.New(v, n, R, K, E, cfg.BinMs/1000, cfg.TauMs/1000)
	m.Events = append([]string(nil), cfg.Events.Labels...)
	a1, a2 := cfg.Populations[0], cfg.Populations[1]
	prof := profileOf(v, a1, a2)

	// Populations, in random order over the unit ids so that nothing downstream
	// can find them from the order of the units.
	pop := make([]int, n)
	n1 := int(math.Round(a1 * float64(n)))
	for i := range pop {
		pop[i] = 1
		if i >= n1 {
			pop[i] = 2
		}
	}
	rng.Shuffle(n, func(i, j int) { pop[i], pop[j] = pop[j], pop[i] })

	// Loadings: within each population, the columns m_1..m_R and the noise
	// columns z_1..z_R are centred and orthogonalised, with mean square 1, so
	// the sample overlaps are exactly the designed ones:
	//   n_1 = s rho_p m_1 + sigma z_1,  n_r = fast m_r + sigma z_r (r >= 2).
	// The per-neuron spread of the NE parameters is drawn the same way:
	// centred, with standard deviation exactly param_spread, and orthogonal to
	// the loadings and to the products m_1^2, m_1 z_1 that weight a neuron's
	// contribution to the slow coupling, so that the spread does not shift the
	// sample's coupling profile at first order (it stays symmetric in u).
	rho := make([]float64, n) // rho_p m_1 (scaled by s after calibration)
	mcol := make([]float64, n*R)
	zcol := make([]float64, n*R)
	str, spread := cfg.Network.NEStrength, cfg.Network.ParamSpread
	neMean := func(p, k int) float64 {
		if k < 2 {
			return str * prof.ne[p-1][k]
		}
		return 0
	}
	for p := 1; p <= 2; p++ {
		var idx []int
		for i := range pop {
			if pop[i] == p {
				idx = append(idx, i)
			}
		}
		np := len(idx)
		cols := loadingColumns(rng, np, R)
		if p == 2 {
			sc := math.Sqrt(popTwoSlowInputVar)
			for a := range cols[0] {
				cols[0][a] *= sc
			}
		}
		for a, i := range idx {
			for r := 0; r < R; r++ {
				mcol[i*R+r] = cols[r][a]
				zcol[i*R+r] = cols[R+r][a]
			}
			rho[i] = 1
			if p == 2 {
				rho[i] = -prof.w
			}
		}
		m1, z1 := cols[0], cols[R]
		m1sq := make([]float64, np)
		m1z1 := make([]float64, np)
		m1q := make([]float64, np)
		for a := range m1 {
			m1sq[a], m1z1[a] = m1[a]*m1[a], m1[a]*z1[a]
			m1q[a] = m1sq[a] * m1sq[a]
		}
		avoid := append(append([][]float64(nil), cols...), m1sq, m1z1, m1q)
		// The same for the other directions' loops (weights m_r^2 and m_r z_r):
		// their coupling stays symmetric in u too.
		for r := 1; r < R; r++ {
			mr, zr := cols[r], cols[R+r]
			sq, mz := make([]float64, np), make([]float64, np)
			for a := range mr {
				sq[a], mz[a] = mr[a]*mr[a], mr[a]*zr[a]
			}
			avoid = append(avoid, sq, mz)
		}
		switch v {
		case rnn.Additive, rnn.PreGain, rnn.PostGain:
			dst := m.Gamma
			if v == rnn.Additive {
				dst = m.Beta
			}
			for k := 0; k < K; k++ {
				dev := spreadColumn(rng, np, spread, avoid)
				for a, i := range idx {
					dst[i*K+k] = neMean(p, k) + dev[a]
				}
			}
		case rnn.LowRank:
			// p_1, p_2: new directions of unit mean square, orthogonal to the
			// loadings and to each other (so q_k . p_j = 0 and n_r . p_1 = 0:
			// no feedback but the designed n_1 . p_2); q_k = c_k m_1 + spread
			// outside the loadings and the p's.
			var ps [][]float64
			for k := 0; k < 2; k++ {
				ps = append(ps, spreadColumn(rng, np, 1, append(append([][]float64(nil), avoid...), ps...)))
			}
			qAvoid := append(append([][]float64(nil), avoid...), ps...)
			for k := 0; k < K; k++ {
				pk := make([]float64, np)
				if k < 2 {
					pk = ps[k]
				}
				dev := spreadColumn(rng, np, spread, qAvoid)
				for a, i := range idx {
					m.P[i*K+k] = pk[a]
					m.Q[i*K+k] = neMean(p, k)*m1[a] + dev[a]
				}
			}
		}
	}
	copy(m.M, mcol)
	sigma := cfg.Network.LoadingNoise
	// The other directions' feedback comes from population 2 alone: n_r =
	// (fast / a2) m_r there, so their coupling is fast_coupling at nu = 1/2
	// and follows population 2's gain (a loop of its own, which a mechanism
	// acting on population 2 changes differently from the slow one).
	for i := 0; i < n; i++ {
		for r := 1; r < R; r++ {
			fb := 0.0
			if pop[i] == 2 {
				fb = cfg.Network.FastCoupling / a2
			}
			m.Nv[i*R+r] = fb*mcol[i*R+r] + sigma*zcol[i*R+r]
		}
	}
	// The lowrank loop: n_1 += eta p_2 (see lowRankLoop), scaled with
	// ne_strength like the rest of the mechanism.
	eta := 0.0
	if v == rnn.LowRank {
		eta = -str * lowRankLoop * cfg.Network.PeakCoupling * cfg.Network.PeakCoupling / (4 * lowRankDrive)
	}
	setSlow := func(s float64) {
		for i := 0; i < n; i++ {
			m.Nv[i*R] = s*rho[i]*mcol[i*R] + sigma*zcol[i*R]
			if eta != 0 {
				m.Nv[i*R] += eta * m.P[i*K+1]
			}
		}
	}

	// Event inputs: label e kicks along (-1)^e m_1 + fastKick m_2, probing both
	// loops.
	for i := 0; i < n; i++ {
		for e := 0; e < E; e++ {
			sign := 1.0
			if e%2 == 1 {
				sign = -1
			}
			b := sign * mcol[i*R]
			if R > 1 && pop[i] == 2 {
				b += fastKick * mcol[i*R+1]
			}
			m.B[i*E+e] = cfg.Events.Strength * (b + cfg.Events.Spread*rng.NormFloat64())
		}
	}

	// Readouts: log rate = c r + d.
	lo, hi := math.Log(cfg.Rates.MinHz), math.Log(cfg.Rates.MaxHz)
	for i := 0; i < n; i++ {
		m.C[i] = cfg.Rates.Modulation[0] + (cfg.Rates.Modulation[1]-cfg.Rates.Modulation[0])*rng.Float64()
		m.D[i] = lo + (hi-lo)*rng.Float64()
	}

	// Calibration: the largest slow coupling over NE is peak_coupling (for none,
	// the constant coupling is none_coupling).
	target := cfg.Network.PeakCoupling
	if v == rnn.None {
		target = cfg.Network.NoneCoupling
	}
	grid := make([]float64, calibrationLevels)
	for j := range grid {
		grid[j] = float64(j) / float64(calibrationLevels-1)
	}
	if v == rnn.None {
		grid = []float64{0.5}
	}
	peak := func(s float64) (float64, []float64) {
		setSlow(s)
		cs := make([]float64, len(grid))
		best := math.Inf(-1)
		for j, nu := range grid {
			c, ok := couplingFromOrigin(m, nu)
			if !ok {
				c = math.Inf(1) // no fixed point near the origin: too strong
			}
			cs[j] = c
			best = math.Max(best, c)
		}
		return best, cs
	}
	sLo, sHi := 0.0, 1.0
	for it := 0; ; it++ {
		if p, _ := peak(sHi); p > target {
			break
		}
		if it == 30 {
			return nil, fmt.Errorf("groundtruth: cannot reach the slow coupling %g for mechanism %s", target, v)
		}
		sLo, sHi = sHi, 2*sHi
	}
	if p, _ := peak(sLo); p > target {
		return nil, fmt.Errorf("groundtruth: the slow coupling is %g > %g without feedback (mechanism %s)", p, target, v)
	}
	for it := 0; it < 60; it++ {
		mid := 0.5 * (sLo + sHi)
		if p, _ := peak(mid); p > target {
			sHi = mid
		} else {
			sLo = mid
		}
	}
	_, cs := peak(sLo)
	m.Units = make([]int64, n)
	for i := range m.Units {
		m.Units[i] = int64(i)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("groundtruth: generating model: %v", err)
	}
	return &network{model: m, population: pop, slowScale: sLo, couplings: cs, calGrid: grid}, nil
}

// loadingColumns returns the loading columns of one population of n neurons:
// m_1..m_R, then z_1..z_R. m_1 holds the standard normal quantiles
// Phi^{-1}((k + 1/2) / n), k = 0..n-1, in random order, scaled to mean square 1: its
// sample moments (which set how the slow coupling falls along the line, and so
// whether the compensation of popTwoSlowInputVar holds) are then the same for
// every seed. The other columns are Gaussian, centred, orthogonal to the previous
// ones and to m_1^3 and m_1^5 (so that z_1, which enters n_1, adds nothing to the
// slow coupling at first order nor to its leading nonlinear terms), with mean
// square 1.
func loadingColumns(rng *rand.Rand, n, R int) [][]float64 {
	m1 := make([]float64, n)
	for k, j := range rng.Perm(n) {
		m1[j] = math.Sqrt2 * math.Erfinv(2*(float64(k)+0.5)/float64(n)-1)
	}
	sc := math.Sqrt(dot(m1, m1) / float64(n))
	m3, m5 := make([]float64, n), make([]float64, n)
	for a := range m1 {
		m1[a] /= sc
		m3[a] = m1[a] * m1[a] * m1[a]
		m5[a] = m3[a] * m1[a] * m1[a]
	}
	cols := [][]float64{m1}
	for c := 1; c < 2*R; c++ {
		avoid := append(append([][]float64(nil), cols...), m3, m5)
		cols = append(cols, spreadColumn(rng, n, 1, avoid))
	}
	return cols
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// spreadColumn draws a Gaussian column of length n, removes its mean and its
// projection on the span of avoid, and scales it to standard deviation sd
// exactly (mean square over the n entries). With nothing left after the
// projection (n too small) it returns zeros.
func spreadColumn(rng *rand.Rand, n int, sd float64, avoid [][]float64) []float64 {
	v := make([]float64, n)
	for a := range v {
		v[a] = rng.NormFloat64()
	}
	// Orthonormal basis of span(1, avoid) by Gram-Schmidt.
	ones := make([]float64, n)
	for a := range ones {
		ones[a] = 1
	}
	var basis [][]float64
	for _, b := range append([][]float64{ones}, avoid...) {
		u := append([]float64(nil), b...)
		for pass := 0; pass < 2; pass++ {
			for _, e := range basis {
				d := dot(e, u)
				for a := range u {
					u[a] -= d * e[a]
				}
			}
		}
		if nu := math.Sqrt(dot(u, u)); nu > 1e-9*math.Sqrt(float64(n)) {
			for a := range u {
				u[a] /= nu
			}
			basis = append(basis, u)
		}
	}
	for pass := 0; pass < 2; pass++ {
		for _, e := range basis {
			d := dot(e, v)
			for a := range v {
				v[a] -= d * e[a]
			}
		}
	}
	ms := math.Sqrt(dot(v, v) / float64(n))
	if ms == 0 {
		return v
	}
	for a := range v {
		v[a] *= sd / ms
	}
	return v
}
