package dynamics

import (
	"fmt"
	"math"
	"math/cmplx"
	"sort"
	"testing"

	"gonum.org/v1/gonum/mat"

	"nmdyn/stages/rnn"
)

// TestRankOneMeanField is acceptance 1: a rank-one tanh network with zero-mean
// Gaussian loadings (sigma_m = 1) has only kappa = 0 for sigma_mn < 1, and for
// sigma_mn = 1.5 two stable fixed points at the roots of the mean-field equation
// kappa = mu_n <phi>(mu_m kappa, Delta) + sigma_nm kappa <phi'>(mu_m kappa, Delta),
// Delta = sigma_m^2 kappa^2 (Mastrogiuseppe & Ostojic 2018; Stein's lemma).
func TestRankOneMeanField(t *testing.T) {
	// The large-N value: with zero means, kappa = 1.5 kappa <sech^2>(0, kappa^2),
	// solved here by bisection with Gauss-Hermite averages: 0.843417 (the issue's
	// number).
	limit := bisect(func(k float64) float64 { return 1.5*gaussAvg(sech2, 0, k*k) - 1 }, 0.1, 3)
	if math.Abs(limit-0.843417) > 1e-6 {
		t.Fatalf("mean-field fixed point for sigma_mn = 1.5: %.7f, want 0.843417", limit)
	}

	for _, overlap := range []float64{0.5, 0.8} {
		m := rankOneModel(4000, overlap, 1)
		lv, err := AnalyzeLatent(LatentOf(m, 0.5), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(lv.FixedPoints) != 1 || math.Abs(lv.FixedPoints[0].Kappa[0]) > 1e-12 || !lv.FixedPoints[0].Stable {
			t.Errorf("sigma_mn = %v: fixed points %+v, want only a stable kappa = 0", overlap, lv.FixedPoints)
		}
		if lv.Regime != RegimeSingle {
			t.Errorf("sigma_mn = %v: regime %q, want %q", overlap, lv.Regime, RegimeSingle)
		}
	}

	// The sampled network, N = 4000: its own loading moments give the mean-field
	// value it should land on (within 1 %: the rest is non-Gaussianity of a finite
	// sample).
	m := rankOneModel(4000, 1.5, 1)
	var muM, muN float64
	for i := 0; i < m.N; i++ {
		muM += m.M[i] / float64(m.N)
		muN += m.Nv[i] / float64(m.N)
	}
	var varM, covNM float64
	for i := 0; i < m.N; i++ {
		varM += (m.M[i] - muM) * (m.M[i] - muM) / float64(m.N)
		covNM += (m.Nv[i] - muN) * (m.M[i] - muM) / float64(m.N)
	}
	mf := func(k float64) float64 {
		mu, delta := muM*k, varM*k*k
		return -k + muN*gaussAvg(math.Tanh, mu, delta) + covNM*k*gaussAvg(sech2, mu, delta)
	}
	want := []float64{bisect(mf, -3, -0.2), bisect(mf, 0.2, 3)}
	lv, err := AnalyzeLatent(LatentOf(m, 0.5), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []float64
	for _, f := range lv.FixedPoints {
		if f.Stable {
			got = append(got, f.Kappa[0])
		}
	}
	sort.Float64s(got)
	if len(got) != 2 {
		t.Fatalf("sampled sigma_mn = 1.5: stable fixed points %v, want two", got)
	}
	for j := range got {
		if rel := math.Abs(got[j]-want[j]) / math.Abs(want[j]); rel > 0.01 {
			t.Errorf("stable fixed point %.6f, mean field of the sample %.6f: relative error %.4f > 1 %%", got[j], want[j], rel)
		}
	}
	t.Logf("sample moments mu_m %.4f mu_n %.4f var_m %.4f cov_nm %.4f: solver %v, mean field %v", muM, muN, varM, covNM, got, want)
	if lv.Regime != RegimeMultistable || len(lv.FixedPoints) != 3 {
		t.Errorf("sampled sigma_mn = 1.5: regime %q with %d fixed points, want multistable with 3 (two stable, the saddle at 0)", lv.Regime, len(lv.FixedPoints))
	}
}

// TestLatentMatchesModel checks the reduction against the model's own methods: at
// x = Embed(kappa), the latent velocity is Latent(Rates(x)) - kappa, and at a fixed
// point the full drift (*rnn.Model).Drift vanishes.
func TestLatentMatchesModel(t *testing.T) {
	for _, v := range rnn.Variants {
		m := randomModel(v, 150, 2, 2, 7)
		for _, nu := range []float64{0, 0.3, 1} {
			net := LatentOf(m, nu).(*Network)
			s := m.AtNE(nu, nil)
			d := net.Dim()
			kappa := []float64{0.3, -0.7, 0.2, 0.5}[:d]
			vel := make([]float64, d)
			net.Velocity(kappa, vel)
			x := net.Embed(kappa, nil)
			lat := m.Latent(m.Rates(x, s, nil), s, nil)
			for a := range vel {
				if math.Abs(vel[a]-(lat[a]-kappa[a])) > 1e-13 {
					t.Errorf("%s nu=%v: velocity[%d] = %v, Latent - kappa = %v", v, nu, a, vel[a], lat[a]-kappa[a])
				}
			}
			// Jacobian against central differences of Velocity.
			jac := make([]float64, d*d)
			net.Jacobian(kappa, jac)
			vp, vm := make([]float64, d), make([]float64, d)
			for b := 0; b < d; b++ {
				kp := append([]float64(nil), kappa...)
				km := append([]float64(nil), kappa...)
				kp[b] += 1e-6
				km[b] -= 1e-6
				net.Velocity(kp, vp)
				net.Velocity(km, vm)
				for a := 0; a < d; a++ {
					if fd := (vp[a] - vm[a]) / 2e-6; math.Abs(fd-jac[a*d+b]) > 1e-7 {
						t.Errorf("%s nu=%v: jacobian[%d,%d] = %v, finite difference %v", v, nu, a, b, jac[a*d+b], fd)
					}
				}
			}
			lv, err := AnalyzeLatent(net, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range lv.FixedPoints {
				drift := m.Drift(net.Embed(f.Kappa, nil), s, nil, nil)
				worst := 0.0
				for _, dv := range drift {
					worst = math.Max(worst, math.Abs(dv))
				}
				if worst > 1e-9 {
					t.Errorf("%s nu=%v: fixed point %v has full drift %v", v, nu, f.Kappa, worst)
				}
			}
		}
	}
}

// TestPureRankSpectrum is acceptance 2 (first half): the full Jacobian of a pure
// rank-R network at a fixed point has N - R eigenvalues at exactly -1 and the R
// latent ones (dense eigen-decomposition with gonum/mat, N = 60).
func TestPureRankSpectrum(t *testing.T) {
	const n, r = 60, 3
	m := randomModel(rnn.None, n, r, 0, 11)
	lv, err := AnalyzeLatent(LatentOf(m, 0.5), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(lv.FixedPoints) < 2 {
		t.Fatalf("want several fixed points to check, got %d", len(lv.FixedPoints))
	}
	net := LatentOf(m, 0.5).(*Network)
	for _, f := range lv.FixedPoints {
		x := net.Embed(f.Kappa, nil)
		J := FullJacobian(m, 0.5, x)
		// FullJacobian against central differences of the model's Drift.
		s := m.AtNE(0.5, nil)
		for j := 0; j < n; j += 7 {
			xp := append([]float64(nil), x...)
			xm := append([]float64(nil), x...)
			xp[j] += 1e-6
			xm[j] -= 1e-6
			dp, dm := m.Drift(xp, s, nil, nil), m.Drift(xm, s, nil, nil)
			for i := 0; i < n; i++ {
				if fd := (dp[i] - dm[i]) / 2e-6; math.Abs(fd-J.At(i, j)) > 1e-7 {
					t.Fatalf("J[%d,%d] = %v, finite difference of Drift %v", i, j, J.At(i, j), fd)
				}
			}
		}
		var eg mat.Eigen
		if !eg.Factorize(J, mat.EigenNone) {
			t.Fatal("eigen-decomposition failed")
		}
		var minusOne int
		var rest []complex128
		for _, l := range eg.Values(nil) {
			if cmplx.Abs(l+1) < 1e-10 {
				minusOne++
			} else {
				rest = append(rest, l)
			}
		}
		if minusOne != n-r {
			t.Errorf("fixed point %v: %d eigenvalues at -1, want N - R = %d", f.Kappa, minusOne, n-r)
		}
		sort.Slice(rest, func(a, b int) bool { return real(rest[a]) > real(rest[b]) })
		for k := range rest {
			if k >= len(f.Eig) || cmplx.Abs(rest[k]-f.Eig[k]) > 1e-9 {
				t.Errorf("fixed point %v: full eigenvalues %v, latent %v", f.Kappa, rest, f.Eig)
				break
			}
		}
	}
}

// TestRingAttractor is acceptance 3: a rank-two network with sigma_{n1 m1} =
// sigma_{n2 m2} = 2 and no cross terms is a ring attractor, labelled a continuous
// attractor (closed slow manifold of the mean-field ring's length), not isolated
// points; and nearby networks that are not continuous attractors are not labelled
// one.
func TestRingAttractor(t *testing.T) {
	m := ringModel(1000, 2, 2, 1)
	lv, err := AnalyzeLatent(LatentOf(m, 0.5), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Mean-field ring radius: 1 = 2 <sech^2>(0, rho^2) (sigma_m = 1).
	rho := bisect(func(k float64) float64 { return 2*gaussAvg(sech2, 0, k*k) - 1 }, 0.1, 5)
	t.Logf("ring: %d fixed points, %d stable, slow manifold length %.3f (2 pi rho = %.3f), closed %v, tau %v s, score %.2f",
		len(lv.FixedPoints), lv.NStable, lv.SlowManifold.Length, 2*math.Pi*rho, lv.SlowManifold.Closed, lv.Tau, lv.Score)
	if lv.Regime != RegimeLine {
		t.Errorf("ring: regime %q, want %q", lv.Regime, RegimeLine)
	}
	if !lv.SlowManifold.Closed || lv.SlowManifold.Dim != 1 {
		t.Errorf("ring: slow manifold closed %v, dimension %d; want a closed curve", lv.SlowManifold.Closed, lv.SlowManifold.Dim)
	}
	if rel := math.Abs(lv.SlowManifold.Length-2*math.Pi*rho) / (2 * math.Pi * rho); rel > 0.05 {
		t.Errorf("ring length %.3f, mean field 2 pi rho = %.3f", lv.SlowManifold.Length, 2*math.Pi*rho)
	}
	if lv.NStable < 2 {
		t.Errorf("a finite ring breaks into several stable points; found %d", lv.NStable)
	}
	for _, j := range lv.SlowManifold.Members {
		if r := norm(lv.FixedPoints[j].Kappa); math.Abs(r-rho) > 0.1*rho {
			t.Errorf("fixed point %v on the ring at radius %.3f, mean field %.3f", lv.FixedPoints[j].Kappa, r, rho)
		}
	}

	for _, c := range []struct {
		name string
		m    *rnn.Model
		want string
	}{
		{"weak coupling (one fast fixed point)", ringModel(1000, 0.5, 0.5, 1), RegimeSingle},
		{"unequal overlaps 2 and 1.3 (two points on the first axis)", ringModel(1000, 2, 1.3, 1), RegimeMultistable},
		{"rank one, sigma_mn = 1.5 (bistable)", rankOneModel(1000, 1.5, 1), RegimeMultistable},
		{"rotation (a limit cycle around an unstable focus)", rotationModel(1000, 1.2, 1), RegimeOther},
	} {
		lv, err := AnalyzeLatent(LatentOf(c.m, 0.5), nil)
		if err != nil {
			t.Fatal(err)
		}
		if lv.Regime != c.want {
			t.Errorf("%s: regime %q, want %q (tau %v, slow length %.3f)", c.name, lv.Regime, c.want, lv.Tau, lv.SlowManifold.Length)
		}
	}
}

// TestSlowSingleFixedPoint: one stable fixed point whose slowest time constant is
// 20 tau (a rank-one network just below the pitchfork, sigma_mn = 0.95 exactly in
// the sample) is a line attractor; at 2 tau (sigma_mn = 0.5) it is not.
func TestSlowSingleFixedPoint(t *testing.T) {
	for _, c := range []struct {
		overlap float64
		want    string
	}{{0.95, RegimeLine}, {0.5, RegimeSingle}} {
		cols := orthoColumns(rand2(5), 2000, 2)
		m := rnn.New(rnn.None, 2000, 1, 0, 0, 0.05, 0.1)
		for i := 0; i < m.N; i++ {
			m.M[i] = cols[0][i]
			m.Nv[i] = c.overlap*cols[0][i] + cols[1][i]
		}
		lv, err := AnalyzeLatent(LatentOf(m, 0.5), &Settings{TauSeconds: m.TauSeconds})
		if err != nil {
			t.Fatal(err)
		}
		// At kappa = 0 the latent eigenvalue is -1 + sigma_nm <phi'>(0) = -1 + overlap
		// exactly (<phi'> = 1 at 0, sample overlap exact by construction).
		wantTau := m.TauSeconds / (1 - c.overlap)
		if len(lv.FixedPoints) != 1 || math.Abs(lv.Tau[0]-wantTau) > 1e-9*wantTau {
			t.Errorf("overlap %v: %d fixed points, tau1 %v s, want one with %v s", c.overlap, len(lv.FixedPoints), lv.Tau, wantTau)
		}
		if wantScore := math.Log2(wantTau / m.TauSeconds); math.Abs(lv.Score-wantScore) > 1e-9 {
			t.Errorf("overlap %v: score %v, want log2(tau1/tau) = %v", c.overlap, lv.Score, wantScore)
		}
		if lv.Regime != c.want {
			t.Errorf("overlap %v: regime %q, want %q", c.overlap, lv.Regime, c.want)
		}
	}
}

// TestFullSpaceAgrees is acceptance 2 (second half) on random networks standing in
// for fitted ones: full-space fixed points found from trajectory states coincide with
// the latent ones to 1e-6 (largest coordinate difference), with the same stability.
func TestFullSpaceAgrees(t *testing.T) {
	for _, v := range []rnn.Variant{rnn.PostGain, rnn.Additive, rnn.LowRank, rnn.None} {
		m := randomModel(v, 200, 2, 2, 21)
		if v == rnn.None {
			m = ringModel(1000, 2, 2, 1) // the nearly degenerate fixed points of a ring
		}
		for _, nu := range []float64{0.2, 0.8} {
			lv, err := AnalyzeLatent(LatentOf(m, nu), nil)
			if err != nil {
				t.Fatal(err)
			}
			lv.Nu = nu
			starts := trajectoryStates(m, nu, 4, 200, 25, 9)
			pts, err := CheckFullSpace(m, nu, starts, nil)
			if err != nil {
				t.Fatal(err)
			}
			MatchFullSpace(m, &lv, pts)
			worst := 0.0
			for _, p := range pts {
				worst = math.Max(worst, p.Dist)
			}
			if len(pts) == 0 && lv.NStable > 0 {
				t.Errorf("%s nu=%v: no full-space fixed point from %d starts", v, nu, len(starts))
			}
			for _, p := range pts {
				if !(p.Dist < 1e-6) {
					t.Errorf("%s nu=%v: full-space point (q %v) is %v from the nearest latent fixed point", v, nu, p.Q, p.Dist)
					continue
				}
				f := lv.FixedPoints[p.Match]
				if p.Stable != f.Stable {
					t.Errorf("%s nu=%v: full-space stability %v, latent %v", v, nu, p.Stable, f.Stable)
				}
				for k := range p.Eig {
					if cmplx.Abs(p.Eig[k]-f.Eig[k]) > 1e-8 {
						t.Errorf("%s nu=%v: full-space eigenvalues %v, latent %v", v, nu, p.Eig, f.Eig)
						break
					}
				}
			}
			t.Logf("%s nu=%v: %d latent fixed points (%d stable), %d full-space points from %d starts, largest distance %.2g",
				v, nu, len(lv.FixedPoints), lv.NStable, len(pts), len(starts), worst)
		}
	}
}

// TestSweepDeterministic: the same sweep on 1 and 2 goroutines gives identical
// levels, bit for bit.
func TestSweepDeterministic(t *testing.T) {
	m := randomModel(rnn.PostGain, 300, 2, 2, 5)
	grid := DefaultGrid(7)
	a, err := Sweep(m, grid, &Settings{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Sweep(m, grid, &Settings{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%v", a) != fmt.Sprintf("%v", b) {
		t.Error("sweep differs between 1 and 2 threads")
	}
	for j, lv := range a {
		if lv.Nu != grid[j] {
			t.Errorf("level %d has nu %v, want %v", j, lv.Nu, grid[j])
		}
	}
}

func TestLineAttractorRange(t *testing.T) {
	mk := func(regimes ...string) []Level {
		out := make([]Level, len(regimes))
		for i, r := range regimes {
			out[i] = Level{Nu: float64(i) / 10, Regime: r}
		}
		return out
	}
	S, L, M := RegimeSingle, RegimeLine, RegimeMultistable
	for _, c := range []struct {
		levels []Level
		lo, hi float64
		ok     bool
	}{
		{mk(S, S, S), 0, 0, false},
		{mk(S, L, L, L, S), 0.1, 0.3, true},
		{mk(L, S, L, L, M, L), 0.2, 0.3, true}, // the longest run
		{mk(L, L, S, L, L), 0, 0.1, true},      // the first of equal runs
		{mk(L), 0, 0, true},
	} {
		lo, hi, ok := LineAttractorRange(c.levels)
		if lo != c.lo || hi != c.hi || ok != c.ok {
			t.Errorf("%v: got %v %v %v, want %v %v %v", c.levels, lo, hi, ok, c.lo, c.hi, c.ok)
		}
	}
}

func TestFlow(t *testing.T) {
	m := ringModel(300, 2, 2, 1)
	sys := LatentOf(m, 0.5)
	lv, err := AnalyzeLatent(sys, nil)
	if err != nil {
		t.Fatal(err)
	}
	ff := Flow(sys, &lv, &Settings{FlowGrid: 9})
	if len(ff.K1) != 81 || len(ff.DK2) != 81 {
		t.Fatalf("flow has %d points, want 81", len(ff.K1))
	}
	v := make([]float64, 2)
	for i := range ff.K1 {
		sys.Velocity([]float64{ff.K1[i], ff.K2[i]}, v)
		if v[0] != ff.DK1[i] || v[1] != ff.DK2[i] || math.Abs(norm(v)-ff.Speed[i]) > 1e-15 {
			t.Fatalf("flow point %d differs from Velocity", i)
		}
	}
	// The grid covers the ring (radius about 1.3).
	if ff.K1[0] > -1.3 || ff.K1[80] < 1.3 {
		t.Errorf("flow grid [%v, %v] does not cover the ring", ff.K1[0], ff.K1[80])
	}
}
