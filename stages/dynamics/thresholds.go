package dynamics

import (
	"fmt"
	"math"
)

// Thresholds are the regime rule's thresholds as pipeline.yaml gives them
// (fixedpoints.thresholds): every stage that labels regimes (fixedpoints, meanfield,
// cluster) decodes the same struct, so the labels they compare follow one rule.
type Thresholds struct {
	SpeedTol      float64 `yaml:"speed_tol"`       // slow manifold: speed below this x scale per tau (0.02)
	SlowRate      float64 `yaml:"slow_rate"`       // slow direction: |Re lambda| at most this per tau (1/8)
	MinSlowLength float64 `yaml:"min_slow_length"` // a line attractor's slow curve at least this x scale (0.15)
	QTol          float64 `yaml:"q_tol"`           // full-space check: q below this (1e-12)
}

// DefaultThresholds are the defaults of Settings.
func DefaultThresholds() Thresholds {
	return Thresholds{SpeedTol: 0.02, SlowRate: 1.0 / 8, MinSlowLength: 0.15, QTol: 1e-12}
}

// Check reports the first threshold that is not a positive finite number.
func (t Thresholds) Check() error {
	for _, c := range []struct {
		key string
		v   float64
	}{{"speed_tol", t.SpeedTol}, {"slow_rate", t.SlowRate}, {"min_slow_length", t.MinSlowLength}, {"q_tol", t.QTol}} {
		if !(c.v > 0) || math.IsInf(c.v, 0) {
			return fmt.Errorf("fixedpoints.thresholds.%s = %v: want a positive number", c.key, c.v)
		}
	}
	return nil
}

// Settings returns analysis settings with these thresholds (other fields default).
func (t Thresholds) Settings(tauSeconds float64, threads int) *Settings {
	return &Settings{TauSeconds: tauSeconds, SpeedTol: t.SpeedTol, SlowRate: t.SlowRate,
		MinSlowLength: t.MinSlowLength, FullQTol: t.QTol, Threads: max(threads, 1)}
}
