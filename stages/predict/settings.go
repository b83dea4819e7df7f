package predict

import (
	"fmt"
	"math"
)

// Settings are the `predict` params.
type Settings struct {
	// NEBins is the number of NE bins, quantiles of the NE level over the
	// recording (5).
	NEBins int `yaml:"ne_bins"`
	// Shifts is the number of circular shifts of the NE trace in the null (500;
	// at least 500).
	Shifts int `yaml:"shifts"`
	// MinShiftS is the smallest circular shift, s (60): shifts shorter than the NE
	// trace's correlation time would leave its structure in place.
	MinShiftS float64 `yaml:"min_shift_s"`
	// Seed seeds the bootstrap, the shifts and the mean matching (1).
	Seed uint64 `yaml:"seed"`
	// Bootstrap is the number of bootstrap resamples of time chunks (1000).
	Bootstrap int `yaml:"bootstrap"`
	// ChunkS is the length of the resampled time chunks, s, used when the bins
	// carry no bootstrap sub-block (10, as preprocess.bootstrap_block_s).
	ChunkS float64 `yaml:"chunk_s"`
	// MatchRepeats is how many random draws of the mean matching are averaged
	// (10, as Churchland et al. 2010); MatchBins is the number of histogram bins
	// of mean counts in which the distributions are matched (10).
	MatchRepeats int `yaml:"match_repeats"`
	MatchBins    int `yaml:"match_bins"`
	// Variability names the headline variability measure of summary.json:
	// fano_mm (mean-matched Fano factor) or slow_var (variance along the slow
	// mode).
	Variability string  `yaml:"variability"`
	Windows     Windows `yaml:"windows"`
	// ModelGrid is the number of NE levels of the model curves when the
	// fixedpoints stage gives none (21).
	ModelGrid int `yaml:"model_grid"`
}

// Windows are the analysis windows, s.
type Windows struct {
	PreS   float64 `yaml:"pre_s"`   // baseline before an event (0.5)
	PostS  float64 `yaml:"post_s"`  // response after an event (0.5)
	CountS float64 `yaml:"count_s"` // spike-counting window of the Fano factor and the slow mode (0.5)
}

// Measure names, as in the fits and null tables.
const (
	Responsiveness = "responsiveness"
	FanoMM         = "fano_mm"
	SlowVar        = "slow_var"
	SlowShared     = "slow_shared"
)

// measures are the measures tested for an inverted U, in table order.
var measures = []string{Responsiveness, FanoMM, SlowVar, SlowShared}

// Measures lists the measures tested for an inverted U, in table order.
func Measures() []string { return append([]string(nil), measures...) }

// Defaults are the settings when pipeline.yaml says nothing.
func Defaults() Settings {
	return Settings{
		NEBins:       5,
		Shifts:       500,
		MinShiftS:    60,
		Seed:         1,
		Bootstrap:    1000,
		ChunkS:       10,
		MatchRepeats: 10,
		MatchBins:    10,
		Variability:  FanoMM,
		Windows:      Windows{PreS: 0.5, PostS: 0.5, CountS: 0.5},
		ModelGrid:    21,
	}
}

// Check rejects settings that cannot give a valid test; messages name the key.
func (s *Settings) Check() error {
	pos := func(v float64) bool { return v > 0 && !math.IsInf(v, 0) }
	switch {
	case s.NEBins < 3:
		return fmt.Errorf("predict.ne_bins = %d: a quadratic needs at least 3 NE bins", s.NEBins)
	case s.Shifts < 500:
		return fmt.Errorf("predict.shifts = %d: want at least 500 circular shifts", s.Shifts)
	case !pos(s.MinShiftS):
		return fmt.Errorf("predict.min_shift_s = %v: want > 0", s.MinShiftS)
	case s.Bootstrap < 100:
		return fmt.Errorf("predict.bootstrap = %d: want at least 100 resamples (1000 for 95 %% intervals)", s.Bootstrap)
	case !pos(s.ChunkS):
		return fmt.Errorf("predict.chunk_s = %v: want > 0", s.ChunkS)
	case s.MatchRepeats < 1 || s.MatchBins < 1:
		return fmt.Errorf("predict.match_repeats = %d, match_bins = %d: want >= 1", s.MatchRepeats, s.MatchBins)
	case s.Variability != FanoMM && s.Variability != SlowVar && s.Variability != SlowShared:
		return fmt.Errorf("predict.variability = %q: want %s, %s or %s", s.Variability, FanoMM, SlowVar, SlowShared)
	case !pos(s.Windows.PreS) || !pos(s.Windows.PostS) || !pos(s.Windows.CountS):
		return fmt.Errorf("predict.windows = %+v: pre_s, post_s and count_s must be > 0", s.Windows)
	case s.ModelGrid < 3:
		return fmt.Errorf("predict.model_grid = %d: want >= 3", s.ModelGrid)
	}
	return nil
}
