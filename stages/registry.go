// Package stages is the registry of the pipeline's Go stages: the names that
// `run:` in pipeline.yaml may use.
package stages

import "nmdyn/stages/task"

// Registry returns the stages by name. Each is a stage package's Run function,
// e.g. "fit": fit.Run (import "nmdyn/stages/fit"); the engine derives a stage's
// code identity from the package defining the function, so register the
// package's own function, not a wrapper defined here.
func Registry() map[string]task.Func {
	return map[string]task.Func{}
}
