package cluster

import (
	"nmdyn/stages/dynamics"
	"nmdyn/stages/rnn"
)

func init() { regimeFunc = fixedPointRegimes }

// fixedPointRegimes labels the regime at each NE level with the fixed-point analysis
// of the fixedpoints stage (package dynamics, default settings, inputs off), so that
// resampled networks are judged by the same rule as the fitted one. It runs on one
// thread: the stage runs several networks at once.
func fixedPointRegimes(m *rnn.Model, grid []float64) ([]string, error) {
	levels, err := dynamics.Sweep(m, grid, &dynamics.Settings{Threads: 1})
	if err != nil {
		return nil, err
	}
	out := make([]string, len(levels))
	for i, lv := range levels {
		out[i] = lv.Regime
	}
	return out, nil
}
