package fixedpoints

import (
	"fmt"

	"nmdyn/stages/dynamics"
)

// params are the stage's parameters; defaultParams gives their defaults.
type params struct {
	Fixedpoints struct {
		Grid       int                 `yaml:"grid"`
		Variants   string              `yaml:"variants"`
		FullStarts int                 `yaml:"full_starts"`
		FlowGrid   int                 `yaml:"flow_grid"`
		Thresholds dynamics.Thresholds `yaml:"thresholds"`
	} `yaml:"fixedpoints"`
}

func defaultParams() params {
	var p params
	f := &p.Fixedpoints
	f.Grid = 21
	f.Variants = "winner"
	f.FullStarts = 16
	f.FlowGrid = 25
	f.Thresholds = dynamics.DefaultThresholds()
	return p
}

// check rejects values that parse but make no sense; the message names the key.
func (p *params) check() error {
	f := &p.Fixedpoints
	if f.Grid < 2 {
		return fmt.Errorf("fixedpoints.grid = %d: want >= 2 NE levels", f.Grid)
	}
	if f.Variants != "winner" && f.Variants != "all" {
		return fmt.Errorf("fixedpoints.variants = %q: want winner or all", f.Variants)
	}
	if f.FullStarts < 1 {
		return fmt.Errorf("fixedpoints.full_starts = %d: want >= 1", f.FullStarts)
	}
	if f.FlowGrid < 2 {
		return fmt.Errorf("fixedpoints.flow_grid = %d: want >= 2", f.FlowGrid)
	}
	return f.Thresholds.Check()
}

// settings are the analysis settings the params give.
func (p *params) settings(threads int) *dynamics.Settings {
	f := &p.Fixedpoints
	return &dynamics.Settings{
		SpeedTol:      f.Thresholds.SpeedTol,
		SlowRate:      f.Thresholds.SlowRate,
		MinSlowLength: f.Thresholds.MinSlowLength,
		FullQTol:      f.Thresholds.QTol,
		FullStarts:    f.FullStarts,
		FlowGrid:      f.FlowGrid,
		Threads:       max(threads, 1),
	}
}
