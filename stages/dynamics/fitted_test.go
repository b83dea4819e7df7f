package dynamics

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"nmdyn/stages/rnn"
)

// fittedModel fits a postgain network (package rnn: ridge initialisation, then Adam
// for a few epochs) to Poisson spikes simulated from a random network, so that the
// parameters have the structure a fit gives them rather than a random draw's.
func fittedModel(t *testing.T, n, bins, epochs int) *rnn.Model {
	t.Helper()
	truth := randomModel(rnn.PostGain, n, 2, 2, 31)
	rng := rand.New(rand.NewPCG(31, 8))
	for i := 0; i < n; i++ {
		truth.C[i] = 1
		truth.D[i] = math.Log(5)
	}
	nu := make([]float64, bins)
	u := make([]float64, bins)
	for b := range nu {
		nu[b] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(b)/600)
		if b%40 == 10 {
			u[b] = 1
		}
	}
	_, R := truth.Trajectory(make([]float64, n), rnn.Inputs{Nu: nu, Events: u}, func(_ int, x []float64) {
		for i := range x {
			x[i] += 0.2 * rng.NormFloat64()
		}
	})
	y := make([]float32, bins*n)
	for b := 0; b < bins; b++ {
		for i := 0; i < n; i++ {
			lam := math.Exp(truth.C[i]*R[b*n+i]+truth.D[i]) * truth.DtSeconds
			// Poisson by inversion (lam is small).
			k, p, s, v := 0, math.Exp(-lam), math.Exp(-lam), rng.Float64()
			for v > s && k < 100 {
				k++
				p *= lam / float64(k)
				s += p
			}
			y[b*n+i] = float32(k)
		}
	}
	d, err := rnn.NewData(y, n, nu, u, 1, 2, truth.DtSeconds)
	if err != nil {
		t.Fatal(err)
	}
	var starts []int
	for s := 10; s+20 <= bins; s += 20 {
		starts = append(starts, s)
	}
	all := func(int) bool { return true }
	z := rnn.InitStatistics(d, starts, 0.25, all)
	var train, val []rnn.Window
	for j, s := range starts {
		w := rnn.Window{Start: s, Len: 20, Z: z[j]}
		if j%5 == 4 {
			val = append(val, w)
		} else {
			train = append(train, w)
		}
	}
	m, err := rnn.Initialise(rnn.PostGain, d, all, train, 2, 2, truth.TauSeconds, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	null := make([]float64, n)
	for i := range null {
		null[i] = 5
	}
	res, err := rnn.Train(context.Background(), m, d, train, val, null, &rnn.TrainSettings{Epochs: epochs, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return res.Model
}

// TestFullSpaceAgreesFitted is acceptance 2 on a fitted network: the latent and
// full-space solvers agree to 1e-6 at every level where the full-space check finds a
// fixed point, and the full-space check finds one wherever the latent analysis has a
// stable one.
func TestFullSpaceAgreesFitted(t *testing.T) {
	m := fittedModel(t, 40, 3000, 10)
	for _, nu := range []float64{0, 0.5, 1} {
		lv, err := AnalyzeLatent(LatentOf(m, nu), nil)
		if err != nil {
			t.Fatal(err)
		}
		lv.Nu = nu
		pts, err := CheckFullSpace(m, nu, trajectoryStates(m, nu, 4, 200, 25, 3), nil)
		if err != nil {
			t.Fatal(err)
		}
		MatchFullSpace(m, &lv, pts)
		if lv.NStable > 0 && len(pts) == 0 {
			t.Errorf("nu %v: %d stable latent fixed points, none found in full space", nu, lv.NStable)
		}
		worst := 0.0
		for _, p := range pts {
			if !(p.Dist < 1e-6) || p.Stable != lv.FixedPoints[p.Match].Stable {
				t.Errorf("nu %v: full-space point %v from the latent one (stable %v vs %v)", nu, p.Dist, p.Stable, lv.FixedPoints[p.Match].Stable)
			}
			worst = math.Max(worst, p.Dist)
		}
		t.Logf("fitted, nu %v: %s, %d latent fixed points (%d stable), %d full-space, largest distance %.2g", nu, lv.Regime, len(lv.FixedPoints), lv.NStable, len(pts), worst)
	}
}
