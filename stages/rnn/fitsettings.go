package rnn

import (
	"fmt"
	"math"
)

// FitSettings are the `fit` params of pipeline.yaml: what the fit stage does and what
// every later stage needs to run a fitted model the same way (window length, initial
// state smoothing, basis size).
type FitSettings struct {
	Epochs   int     `yaml:"epochs"`     // maximum epochs (200)
	Rank     int     `yaml:"rank"`       // R (2)
	BasisK   int     `yaml:"basis_k"`    // NE basis functions K (2)
	WindowS  float64 `yaml:"window_s"`   // window length, seconds (1)
	Batch    int     `yaml:"batch"`      // windows per step (32)
	LR       float64 `yaml:"lr"`         // Adam step (0.005)
	L2       float64 `yaml:"l2"`         // penalty (1e-3)
	Patience int     `yaml:"patience"`   // early-stopping patience, epochs (30)
	TauMs    float64 `yaml:"tau_ms"`     // membrane time constant (100)
	InitEmaS float64 `yaml:"init_ema_s"` // smoothing of the initial-state statistic (0.25 s)
	// Init is the starting point: "regression" (teacher-forced regression on
	// PCA-denoised rates, the default), "raw" (the same regression without the
	// denoising) or "simple" (mean rates and small random loadings).
	Init string `yaml:"init"`
}

// DefaultFitSettings are the settings used for params absent from pipeline.yaml.
func DefaultFitSettings() FitSettings {
	return FitSettings{Epochs: 200, Rank: 2, BasisK: 2, WindowS: 1, Batch: 32, LR: 0.005, L2: 1e-3,
		Patience: 30, TauMs: 100, InitEmaS: 0.25, Init: "regression"}
}

// Check reports the first setting out of range.
func (s FitSettings) Check() error {
	switch {
	case s.Epochs < 1:
		return fmt.Errorf("fit.epochs = %d: want at least 1", s.Epochs)
	case s.Rank < 1:
		return fmt.Errorf("fit.rank = %d: want at least 1", s.Rank)
	case s.BasisK < 1:
		return fmt.Errorf("fit.basis_k = %d: want at least 1 (with 0 every NE variant would be the none model)", s.BasisK)
	case !(s.WindowS > 0):
		return fmt.Errorf("fit.window_s = %v: want a positive length", s.WindowS)
	case s.Batch < 1:
		return fmt.Errorf("fit.batch = %d: want at least 1", s.Batch)
	case !(s.LR > 0):
		return fmt.Errorf("fit.lr = %v: want a positive step", s.LR)
	case s.L2 < 0 || math.IsNaN(s.L2):
		return fmt.Errorf("fit.l2 = %v: want 0 or more", s.L2)
	case s.Patience < 1:
		return fmt.Errorf("fit.patience = %d: want at least 1", s.Patience)
	case !(s.TauMs > 0):
		return fmt.Errorf("fit.tau_ms = %v: want a positive time constant", s.TauMs)
	case !(s.InitEmaS > 0):
		return fmt.Errorf("fit.init_ema_s = %v: want a positive time constant", s.InitEmaS)
	}
	switch s.Init {
	case "regression", "raw", "simple":
	default:
		return fmt.Errorf("fit.init = %q: want regression, raw or simple", s.Init)
	}
	return nil
}

// TrainSettings translates the settings into those of Train (without seed, threads
// and progress, which the caller adds). Train reads an L2 of 0 as its default
// penalty, so fit.l2 = 0, no penalty, becomes a negative L2 here.
func (s FitSettings) TrainSettings() *TrainSettings {
	l2 := s.L2
	if l2 == 0 {
		l2 = -1
	}
	return &TrainSettings{Epochs: s.Epochs, BatchWindows: s.Batch, LearningRate: s.LR, L2: l2, Patience: s.Patience}
}

// WindowBins is the window length in bins of width dtSeconds (at least 2).
func (s FitSettings) WindowBins(dtSeconds float64) int {
	return max(2, int(math.Round(s.WindowS/dtSeconds)))
}

// InitSettings translates Init into the initialisation's settings.
func (s FitSettings) InitSettings() *InitSettings {
	switch s.Init {
	case "simple":
		return &InitSettings{Simple: true}
	case "raw":
		return &InitSettings{Components: -1}
	}
	return &InitSettings{}
}
