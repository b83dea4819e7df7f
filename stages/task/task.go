// Package task is the contract between the pipeline engine and a stage: what a stage
// may read (its params, its fan-out item, its upstream outputs) and how it writes its
// outputs. The engine (package dag) implements Context; stages depend only on this
// package, never on the engine, so the science knows nothing of scheduling.
package task

import (
	"context"

	"nmdyn/stages/table"
)

// Func is a stage: it reads from ctx and writes its outputs through ctx. It must be
// deterministic: the same params, item and inputs give the same output bytes whatever
// the number of threads. An error fails the task and nothing of it is cached.
type Func func(ctx Context) error

// Item is the fan-out item of a task: dimension name -> value (string, int64, float64
// or bool, as written in pipeline.yaml). Empty for a stage without foreach.
type Item map[string]any

// Context is what a running task sees.
type Context interface {
	// Ctx is cancelled when the run is interrupted; long loops should check it.
	Ctx() context.Context

	// Decode fills dst (a pointer to a struct with yaml tags) from the params the
	// stage references in pipeline.yaml, as a map keyed by the top-level param group
	// (e.g. {"fit": {...}, "preprocess": {...}}), plus the fan-out item under the key
	// "item" (e.g. {"item": {"variant": "postgain", "seed": 1}}). Unknown fields in
	// dst are left at their zero value; fields absent from params are not touched, so
	// set defaults before calling.
	Decode(dst any) error

	// Item is this task's fan-out item.
	Item() Item

	// Inputs returns the outputs of every upstream task of the named stage that
	// feeds this task, in a fixed order (sorted by item). Error if the stage is not
	// an input of this stage in pipeline.yaml.
	Inputs(stage string) ([]Input, error)

	// Input is Inputs for a stage that must give exactly one task.
	Input(stage string) (Input, error)

	// ProjectRoot is the directory holding pipeline.yaml: relative paths in params
	// (such as data.session) are relative to it.
	ProjectRoot() string

	// WriteTable stores a Parquet table output under name (no extension; the engine
	// adds .parquet). Writing the same name twice is an error.
	WriteTable(name string, t *table.Table) error

	// CreateTable streams a large Parquet table output (name without extension) in
	// chunks: every chunk has the same columns; row groups are cut at a fixed number
	// of rows whatever the chunk sizes, so the bytes do not depend on chunking. Close
	// the writer to finish the output.
	CreateTable(name string) (TableWriter, error)

	// WriteFile stores any other output (a figure as .png or .svg, a .json) under
	// name, which includes its extension.
	WriteFile(name string, data []byte) error

	// Threads is how many goroutines the stage may use for its own parallel work.
	Threads() int

	// Logf writes a line to the task's log (shown in progress output and kept in the
	// provenance record).
	Logf(format string, args ...any)

	// Progress reports the fraction of the task done, in [0, 1], with a short note
	// (e.g. "epoch 40/200"). Cheap: call it as often as useful.
	Progress(fraction float64, note string)
}

// Input is one upstream task's outputs.
type Input interface {
	// Item is the upstream task's fan-out item.
	Item() Item
	// Names lists its outputs (with extensions, e.g. "counts.parquet").
	Names() []string
	// Table reads the Parquet output name (without extension). The engine verifies
	// the content hash before returning it.
	Table(name string) (*table.Table, error)
	// File reads any output by its full name, verified like Table.
	File(name string) ([]byte, error)
	// ScanTable streams a Parquet output row group by row group (each chunk holds
	// only the named columns, all if none are named), for tables too large to hold.
	ScanTable(name string, columns []string, fn func(chunk *table.Table) error) error
}

// TableWriter receives a streamed table output.
type TableWriter interface {
	Write(chunk *table.Table) error
	Close() error
}
