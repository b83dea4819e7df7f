package meanfield

import (
	"math"

	"nmdyn/stages/dynamics"
)

// Analysis is what the stage keeps of the fixed-point analysis at one NE level.
type Analysis struct {
	Regime       string
	FixedPoints  []FixedPoint // stable ones first (dynamics' order)
	NStable      int
	Tau1S, Tau2S float64 // slowest and second slowest time constants (s), NaN when absent
	Score        float64 // log2(tau1 / tau2)
	SlowDim      int
	SlowLength   float64
}

// FixedPoint is one fixed point in latent coordinates.
type FixedPoint struct {
	Kappa  []float64
	Stable bool
	Speed  float64 // |dkappa/dt| left by Newton (units 1/tau)
	MaxRe  float64 // largest real part of the latent Jacobian's eigenvalues (units 1/tau)
}

// analyze runs dynamics.AnalyzeLatent, the analysis stage fixedpoints runs on the
// full network, so that both are labelled by one rule with the same thresholds.
func analyze(sys dynamics.LatentSystem, set *dynamics.Settings) (Analysis, error) {
	lv, err := dynamics.AnalyzeLatent(sys, set)
	if err != nil {
		return Analysis{}, err
	}
	return fromLevel(lv)
}

// fromLevel keeps what the stage needs of a dynamics level.
func fromLevel(lv dynamics.Level) (Analysis, error) {
	an := Analysis{Regime: lv.Regime, NStable: lv.NStable, Tau1S: math.NaN(), Tau2S: math.NaN(),
		Score: lv.Score, SlowDim: lv.SlowManifold.Dim, SlowLength: lv.SlowManifold.Length}
	if len(lv.Tau) > 0 {
		an.Tau1S = lv.Tau[0]
	}
	if len(lv.Tau) > 1 {
		an.Tau2S = lv.Tau[1]
	}
	for _, f := range lv.FixedPoints {
		an.FixedPoints = append(an.FixedPoints, FixedPoint{Kappa: f.Kappa, Stable: f.Stable, Speed: f.Speed, MaxRe: f.MaxRe})
	}
	return an, nil
}
