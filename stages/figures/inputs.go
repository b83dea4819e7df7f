package figures

import (
	"fmt"
	"slices"

	"nmdyn/stages/table"
	"nmdyn/stages/task"
)

// inputs gives the figures read access to every upstream stage's outputs, where a
// missing stage, output or column is not an error but a reason that a figure shows
// in its "not available" note (a real recording may lack events, photometry
// control, a stable fixed point, ...: every figure must still render).
type inputs struct {
	ctx    task.Context
	stages map[string][]task.Input
	why    map[string]string // stage -> why it is unavailable
}

// upstream are the stages the figures read (pipeline.yaml inputs).
var upstream = []string{"session", "preprocess", "fit", "select", "fixedpoints", "meanfield", "cluster", "predict"}

func loadInputs(ctx task.Context) *inputs {
	in := &inputs{ctx: ctx, stages: map[string][]task.Input{}, why: map[string]string{}}
	for _, s := range upstream {
		tasks, err := ctx.Inputs(s)
		switch {
		case err != nil:
			in.why[s] = fmt.Sprintf("stage %s is not an input (%v)", s, err)
		case len(tasks) == 0:
			in.why[s] = fmt.Sprintf("stage %s gave no task", s)
		default:
			in.stages[s] = tasks
		}
	}
	return in
}

// one is the single task of a stage, or nil with the reason.
func (in *inputs) one(stage string) (task.Input, string) {
	tasks, ok := in.stages[stage]
	if !ok {
		return nil, in.why[stage]
	}
	return tasks[0], ""
}

// table reads an output table of a single-task stage; nil and a reason when the
// stage, the output or its rows are missing or it cannot be read.
func (in *inputs) table(stage, name string) (*table.Table, string) {
	t, why := in.tableMaybeEmpty(stage, name)
	if t != nil && t.Len() == 0 {
		return nil, fmt.Sprintf("%s output %s is empty", stage, name)
	}
	return t, why
}

// tableMaybeEmpty is table without the check for rows.
func (in *inputs) tableMaybeEmpty(stage, name string) (*table.Table, string) {
	task, why := in.one(stage)
	if task == nil {
		return nil, why
	}
	return readOptional(task, stage, name)
}

func readOptional(t task.Input, stage, name string) (*table.Table, string) {
	if !slices.Contains(t.Names(), name+".parquet") {
		return nil, fmt.Sprintf("%s has no output %s", stage, name)
	}
	tab, err := t.Table(name)
	if err != nil {
		return nil, fmt.Sprintf("%s output %s: %v", stage, name, err)
	}
	return tab, ""
}

// file reads another output (e.g. summary.json) of a single-task stage.
func (in *inputs) file(stage, name string) ([]byte, string) {
	task, why := in.one(stage)
	if task == nil {
		return nil, why
	}
	if !slices.Contains(task.Names(), name) {
		return nil, fmt.Sprintf("%s has no output %s", stage, name)
	}
	b, err := task.File(name)
	if err != nil {
		return nil, fmt.Sprintf("%s output %s: %v", stage, name, err)
	}
	return b, ""
}

// columns reads typed columns of a table and remembers the first problem, so that
// a figure checks once after reading all it needs.
type columns struct {
	t    *table.Table
	what string // e.g. "fixedpoints output levels", for messages
	err  string
}

func cols(t *table.Table, what string) *columns { return &columns{t: t, what: what} }

func (c *columns) fail(err error) {
	if c.err == "" {
		c.err = fmt.Sprintf("%s: %v", c.what, err)
	}
}

func (c *columns) f(name string) []float64 {
	v, err := c.t.Float(name)
	if err != nil {
		c.fail(err)
		return make([]float64, c.t.Len())
	}
	return v
}

func (c *columns) i(name string) []int64 {
	v, err := c.t.Int(name)
	if err != nil {
		c.fail(err)
		return make([]int64, c.t.Len())
	}
	return v
}

func (c *columns) s(name string) []string {
	v, err := c.t.String(name)
	if err != nil {
		c.fail(err)
		return make([]string, c.t.Len())
	}
	return v
}

func (c *columns) b(name string) []bool {
	v, err := c.t.Bool(name)
	if err != nil {
		c.fail(err)
		return make([]bool, c.t.Len())
	}
	return v
}
