// Package truthdyn labels the regime of a simulated session's generating network
// along NE with the fixed-point analysis the pipeline applies to fitted networks
// (package dynamics), and records it in the session's truth
// (groundtruth.Generated.SetRegimes). It is separate from package groundtruth so
// that the generator, and with it every simulated session in the cache, does not
// depend on the analysis code.
package truthdyn

import (
	"fmt"
	"math"

	"nmdyn/stages/dynamics"
	"nmdyn/stages/groundtruth"
	"nmdyn/stages/rnn"
)

// Method names the analysis in truth.json.
const Method = "package dynamics (Sweep with default settings; see its package comment for the regime rule)"

// Levels sweeps m over grid with dynamics.Sweep (default settings) and returns the
// levels and the line-attractor range ([lo, hi], or nil when no level is one).
func Levels(m *rnn.Model, grid []float64) ([]groundtruth.Level, []float64, error) {
	dl, err := dynamics.Sweep(m, grid, nil)
	if err != nil {
		return nil, nil, err
	}
	out := make([]groundtruth.Level, len(dl))
	for j, l := range dl {
		lv := groundtruth.Level{Nu: l.Nu, Regime: l.Regime, FixedPoints: len(l.FixedPoints), Stable: l.NStable,
			Score: l.Score, Tau1S: math.NaN(), Tau2S: math.NaN(), Coupling: math.NaN()}
		if len(l.Tau) > 0 {
			lv.Tau1S = l.Tau[0]
		}
		if len(l.Tau) > 1 {
			lv.Tau2S = l.Tau[1]
		}
		if l.Ref >= 0 && l.Ref < len(l.FixedPoints) {
			lv.Coupling = 1 + l.FixedPoints[l.Ref].MaxRe
		}
		out[j] = lv
	}
	var rng []float64
	if lo, hi, ok := dynamics.LineAttractorRange(dl); ok {
		rng = []float64{lo, hi}
	}
	return out, rng, nil
}

// Label sweeps the generating network of g over the config's NE grid (ne_grid
// levels on [0, 1]) and records the result with g.SetRegimes.
func Label(g *groundtruth.Generated) error {
	levels, rng, err := Levels(g.Model, dynamics.DefaultGrid(g.Truth.Config.NEGrid))
	if err != nil {
		return fmt.Errorf("simulate: regime of the generating network: %w", err)
	}
	return g.SetRegimes(levels, rng, Method)
}
