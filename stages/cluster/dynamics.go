package cluster

import (
	"nmdyn/stages/dynamics"
	"nmdyn/stages/rnn"
)

// fixedPointRegimes labels the regime at each NE level with the fixed-point analysis
// of the fixedpoints stage (package dynamics, with the pipeline's regime thresholds,
// inputs off), so that resampled networks are judged by the same rule as the fitted
// one. It runs on one thread: the stage runs several networks at once.
func fixedPointRegimes(th dynamics.Thresholds) RegimeFunc {
	return func(m *rnn.Model, grid []float64) ([]string, error) {
		levels, err := dynamics.Sweep(m, grid, th.Settings(m.TauSeconds, 1))
		if err != nil {
			return nil, err
		}
		out := make([]string, len(levels))
		for i, lv := range levels {
			out[i] = lv.Regime
		}
		return out, nil
	}
}
