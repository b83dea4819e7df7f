package groundtruth

import (
	"math"
	"sort"

	"nmdyn/stages/latent"
	"nmdyn/stages/rnn"
)

// This file is the package's own latent-space fixed-point analysis: the
// independent check of package dynamics on the generating networks.

// lineScoreThreshold is this package's own rule for a line attractor, the
// independent check of package dynamics in the tests: one stable fixed point
// whose slowest time constant is at least 2^3 = 8 times the next one (dynamics
// also asks for a long enough slow manifold).
const lineScoreThreshold = 3

// analyzeLevel finds every fixed point of the latent dynamics at nu by Newton
// from a grid of starts in [-2, 2]^d (latent coordinates are averages of n tanh,
// bounded by the mean |n|, ~1 here), deduplicated at 1e-6, and labels the level.
func analyzeLevel(m *rnn.Model, nu float64) Level {
	sys := latent.New(m, nu)
	d := sys.Dim()
	per := 5
	if d > 2 {
		per = 3
	}
	var found [][]float64
	idx := make([]int, d)
	for {
		start := make([]float64, d)
		for a := range start {
			start[a] = -2 + 4*float64(idx[a])/float64(per-1)
		}
		if x, ok := newton(sys, start); ok {
			dup := false
			for _, f := range found {
				if dist(f, x) < 1e-6 {
					dup = true
					break
				}
			}
			if !dup {
				found = append(found, x)
			}
		}
		a := 0
		for ; a < d; a++ {
			idx[a]++
			if idx[a] < per {
				break
			}
			idx[a] = 0
		}
		if a == d {
			break
		}
	}
	tau := m.TauSeconds
	lv := Level{Nu: nu, FixedPoints: len(found)}
	var stableRe []float64
	for _, x := range found {
		re := eigenRe(sys, x)
		if re != nil && re[0] < 0 {
			lv.Stable++
			if stableRe == nil {
				stableRe = re
			}
		}
	}
	switch {
	case lv.Stable == 0:
		lv.Regime = RegimeOther
	case lv.Stable > 1:
		lv.Regime = RegimeMultistable
	}
	if stableRe != nil {
		// Time constants: the latent ones, and tau for the N - d directions
		// outside the latent space (eigenvalue -1).
		taus := []float64{tau}
		for _, r := range stableRe {
			taus = append(taus, tau/math.Abs(r))
		}
		sort.Sort(sort.Reverse(sort.Float64Slice(taus)))
		lv.Tau1S, lv.Tau2S = taus[0], taus[1]
		lv.Score = math.Log2(lv.Tau1S / lv.Tau2S)
		lv.Coupling = 1 + stableRe[0]
		if lv.Stable == 1 {
			lv.Regime = RegimeSingle
			if lv.Score >= lineScoreThreshold {
				lv.Regime = RegimeLine
			}
		}
	}
	return lv
}

// sweepLocal runs analyzeLevel over the grid.
func sweepLocal(m *rnn.Model, grid []float64) []Level {
	out := make([]Level, len(grid))
	for j, nu := range grid {
		out[j] = analyzeLevel(m, nu)
	}
	return out
}
