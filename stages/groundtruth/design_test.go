package groundtruth

import (
	"math"
	"math/rand/v2"
	"testing"

	"nmdyn/stages/dynamics"
	"nmdyn/stages/latent"
	"nmdyn/stages/rnn"
)

// testNetwork builds the generating network of cfg as Generate does.
func testNetwork(t *testing.T, cfg Config) *network {
	t.Helper()
	if err := cfg.Check(); err != nil {
		t.Fatal(err)
	}
	nw, err := buildNetwork(&cfg, rand.New(rand.NewPCG(cfg.Seed, streamNetwork)))
	if err != nil {
		t.Fatal(err)
	}
	return nw
}

// TestDefaultDesignRegimes is the check the data README describes: the default
// session's network (postgain, 120 neurons) has a single fixed point at both ends
// of the NE grid and a line attractor in the middle, by this package's own latent
// analysis (Newton from a grid of starts, eigenvalues of the latent Jacobian) and
// by package dynamics, which agree level by level.
func TestDefaultDesignRegimes(t *testing.T) {
	nw := testNetwork(t, Defaults())
	grid := dynamics.DefaultGrid(21)
	mine := sweepLocal(nw.model, grid)
	theirs, err := dynamics.Sweep(nw.model, grid, nil)
	if err != nil {
		t.Fatal(err)
	}
	for j := range grid {
		if mine[j].FixedPoints != 1 {
			t.Errorf("nu %.2f: %d fixed points, want 1", grid[j], mine[j].FixedPoints)
		}
		if mine[j].Regime != theirs[j].Regime {
			t.Errorf("nu %.2f: own analysis says %q, dynamics says %q", grid[j], mine[j].Regime, theirs[j].Regime)
		}
		if math.Abs(mine[j].Score-theirs[j].Score) > 1e-6 {
			t.Errorf("nu %.2f: score %v (own) vs %v (dynamics)", grid[j], mine[j].Score, theirs[j].Score)
		}
	}
	for _, j := range []int{0, 20} {
		if mine[j].Regime != RegimeSingle {
			t.Errorf("nu %.2f: %q, want %q", grid[j], mine[j].Regime, RegimeSingle)
		}
	}
	for _, j := range []int{8, 10, 12} {
		if mine[j].Regime != RegimeLine {
			t.Errorf("nu %.2f: %q, want %q", grid[j], mine[j].Regime, RegimeLine)
		}
	}
	// The design is symmetric about nu = 1/2 (u = 2 nu - 1 enters as u^2), so the
	// range is too: [0.25, 0.75] is where 1 - coupling <= 1/8 (tau_1 >= 8 tau).
	lo, hi, ok := dynamics.LineAttractorRange(theirs)
	if !ok || lo != 0.25 || hi != 0.75 {
		t.Errorf("line-attractor range [%v, %v] (%v), want [0.25, 0.75]", lo, hi, ok)
	}
}

// TestMechanismRegimes: every mechanism's network (60 neurons, 3 seeds) has
// exactly one fixed point at every NE level; the NE mechanisms have a line
// attractor at nu = 1/2 and a single fixed point at nu = 0 and 1, while none has
// the constant coupling none_coupling (0.6) and no line attractor anywhere.
func TestMechanismRegimes(t *testing.T) {
	grid := dynamics.DefaultGrid(11)
	for _, v := range rnn.Variants {
		for seed := uint64(1); seed <= 3; seed++ {
			cfg := Defaults()
			cfg.Mechanism, cfg.Neurons, cfg.Seed = string(v), 60, seed
			nw := testNetwork(t, cfg)
			levels := sweepLocal(nw.model, grid)
			for j, l := range levels {
				if l.FixedPoints != 1 {
					t.Errorf("%s seed %d nu %.1f: %d fixed points, want 1", v, seed, grid[j], l.FixedPoints)
				}
			}
			if v == rnn.None {
				for j, l := range levels {
					if math.Abs(l.Coupling-cfg.Network.NoneCoupling) > 1e-6 || l.Regime != RegimeSingle {
						t.Errorf("none seed %d nu %.1f: coupling %v regime %q, want %v and %q", seed, grid[j], l.Coupling, l.Regime, cfg.Network.NoneCoupling, RegimeSingle)
					}
				}
				continue
			}
			if levels[0].Regime != RegimeSingle || levels[10].Regime != RegimeSingle || levels[5].Regime != RegimeLine {
				t.Errorf("%s seed %d: regimes at nu 0, 0.5, 1: %q, %q, %q", v, seed, levels[0].Regime, levels[5].Regime, levels[10].Regime)
			}
		}
	}
}

// TestCalibratedPeak: the calibration puts the largest slow coupling over its
// NE grid at peak_coupling (bisection to 2^-60 of the bracket).
func TestCalibratedPeak(t *testing.T) {
	for _, v := range []rnn.Variant{rnn.Additive, rnn.PostGain, rnn.LowRank} {
		cfg := Defaults()
		cfg.Mechanism, cfg.Neurons = string(v), 60
		nw := testNetwork(t, cfg)
		peak := math.Inf(-1)
		for _, c := range nw.couplings {
			peak = math.Max(peak, c)
		}
		if math.Abs(peak-cfg.Network.PeakCoupling) > 1e-9 {
			t.Errorf("%s: peak coupling %v, want %v", v, peak, cfg.Network.PeakCoupling)
		}
	}
}

// TestCouplingProfiles compares the slow coupling along NE with the design
// formulas of the package comment (u = 2 nu - 1, lambda0 = peak_coupling):
//
//	lowrank:  lambda0 (1 + sqrt(1 - u^2)) / 2 (exact: the slowest eigenvalue of the
//	          loop of the slow direction with the u^2 direction p_2, (-(2 - lambda0) +
//	          sqrt(lambda0^2 + 4 eta D u^2)) / 2 with eta D = -lambda0^2 / 4; see
//	          lowRankLoop)
//	postgain: lambda0 (2 G1 - G2), G_p = E exp(l_p(u)), l_1 = -1.3 u^2, l_2 = -2.6 u^2:
//	          exact without per-neuron spread; with spread sd on both coefficients,
//	          G = exp(mean + sd^2 (u^2 + u^4) / 2) for Gaussian spread, which the
//	          sample's spread (orthogonal to the loadings, so only its second order
//	          enters) follows to 0.01.
func TestCouplingProfiles(t *testing.T) {
	lr := Defaults()
	lr.Mechanism = "lowrank"
	lm := testNetwork(t, lr).model
	pg := Defaults()
	pm := testNetwork(t, pg).model
	pg0 := Defaults()
	pg0.Network.ParamSpread = 0
	pm0 := testNetwork(t, pg0).model
	lambda0 := pg.Network.PeakCoupling
	for _, nu := range []float64{0, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 1} {
		u := 2*nu - 1
		c, ok := couplingFromOrigin(lm, nu)
		// At |u| = 1 the two eigenvalues of the loop meet, where an error e in
		// the Jacobian moves them by sqrt(e): 1e-6 there, 1e-9 elsewhere.
		tol := 1e-9
		if math.Abs(u) == 1 {
			tol = 1e-6
		}
		if want := lambda0 * (1 + math.Sqrt(1-u*u)) / 2; !ok || math.Abs(c-want) > tol {
			t.Errorf("lowrank nu %.2f: coupling %v, want %v", nu, c, want)
		}
		for _, k := range []struct {
			m   *rnn.Model
			sd  float64
			tol float64
		}{{pm0, 0, 1e-9}, {pm, pg.Network.ParamSpread, 0.01}} {
			sd2 := k.sd * k.sd
			g := func(a float64) float64 { return math.Exp(-a*u*u + sd2*(u*u+u*u*u*u)/2) }
			want := lambda0 * (2*g(1.3) - g(2.6))
			c, ok = couplingFromOrigin(k.m, nu)
			if !ok || math.Abs(c-want) > k.tol {
				t.Errorf("postgain (spread %v) nu %.2f: coupling %v, want %v (+-%v)", k.sd, nu, c, want, k.tol)
			}
		}
	}
}

// TestSlowCouplingAlongLine: at nu = 1/2 the effective coupling of the slow
// direction, 1 + dF_1/dkappa_1 along kappa = (y, 0), never exceeds its value at the
// fixed point (popTwoSlowInputVar = 2 offsets the y^2 loss of feedback without
// overshooting, so no second pair of fixed points can appear), and stays within
// 0.02 of it up to y = 0.15 (without population 2's larger input loadings it has
// fallen to 0.88 at y = 0.2; see the package comment).
func TestSlowCouplingAlongLine(t *testing.T) {
	for _, n := range []int{30, 120, 400} {
		cfg := Defaults()
		cfg.Neurons = n
		m := testNetwork(t, cfg).model
		sys := latent.New(m, 0.5)
		jac := make([]float64, 4)
		sys.Jacobian([]float64{0, 0}, jac)
		c0 := 1 + jac[0]
		for y := 0.01; y <= 1.5; y += 0.01 {
			sys.Jacobian([]float64{y, 0}, jac)
			c := 1 + jac[0]
			if c > c0+1e-9 {
				t.Errorf("N %d: coupling %v at y = %.2f exceeds %v at 0", n, c, y, c0)
				break
			}
			if y <= 0.15 && c < c0-0.02 {
				t.Errorf("N %d: coupling %v at y = %.2f, want >= %v", n, c, y, c0-0.02)
			}
		}
	}
}
