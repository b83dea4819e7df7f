// Package stages is the registry of the pipeline's Go stages: the names that
// `run:` in pipeline.yaml may use.
package stages

import (
	"nmdyn/stages/cluster"
	"nmdyn/stages/figures"
	"nmdyn/stages/fit"
	"nmdyn/stages/fixedpoints"
	"nmdyn/stages/meanfield"
	"nmdyn/stages/predict"
	"nmdyn/stages/preprocess"
	"nmdyn/stages/recovery"
	"nmdyn/stages/selection"
	"nmdyn/stages/session"
	"nmdyn/stages/task"
)

// Registry returns the stages by name. Each is a stage package's Run function; the
// engine derives a stage's code identity from the package defining the function, so
// register the package's own function, not a wrapper defined here.
func Registry() map[string]task.Func {
	return map[string]task.Func{
		"session":     session.Run,
		"preprocess":  preprocess.Run,
		"fit":         fit.Run,
		"select":      selection.Run,
		"fixedpoints": fixedpoints.Run,
		"meanfield":   meanfield.Run,
		"cluster":     cluster.Run,
		"predict":     predict.Run,
		"figures":     figures.Run,
		"recovery":    recovery.Run,
	}
}
