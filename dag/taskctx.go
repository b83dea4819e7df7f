package dag

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"

	"nmdyn/cache"
	"nmdyn/stages/table"
	"nmdyn/stages/task"
)

// taskContext is the engine's task.Context: params and item from the job,
// inputs from upstream manifests, outputs streamed into cache objects.
type taskContext struct {
	ctx     context.Context
	spec    *JobSpec
	item    task.Item
	store   *cache.Store
	inputs  map[string][]task.Input
	threads int
	onProg  func(float64, string)
	onLog   func(string)

	mu       sync.Mutex
	outputs  map[string]cache.Object // name with extension -> object
	reserved map[string]bool         // names being written
	open     map[string]*tableWriter // streamed tables not closed yet
	log      []string
	corrupt  []*CorruptInputError // integrity failures seen while reading inputs
}

var _ task.Context = (*taskContext)(nil)

func (c *taskContext) Ctx() context.Context { return c.ctx }

// Decode fills dst from the params YAML of the job (the stage's params plus the
// item under "item").
func (c *taskContext) Decode(dst any) error {
	if err := yaml.Unmarshal([]byte(c.spec.Params), dst); err != nil {
		return fmt.Errorf("params of stage %s: %w", c.spec.Stage, err)
	}
	return checkOwnGroup(c.spec.Params, c.spec.Stage, dst)
}

func (c *taskContext) Item() task.Item {
	out := make(task.Item, len(c.item))
	for k, v := range c.item {
		out[k] = v
	}
	return out
}

func (c *taskContext) Inputs(stage string) ([]task.Input, error) {
	in, ok := c.inputs[stage]
	if !ok {
		names := make([]string, 0, len(c.inputs))
		for k := range c.inputs {
			names = append(names, k)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("stage %s: %q is not one of its inputs in the pipeline file (inputs: %s)", c.spec.Stage, stage, strings.Join(names, ", "))
	}
	return append([]task.Input(nil), in...), nil
}

func (c *taskContext) Input(stage string) (task.Input, error) {
	in, err := c.Inputs(stage)
	if err != nil {
		return nil, err
	}
	if len(in) != 1 {
		return nil, fmt.Errorf("stage %s: input %q gives %d tasks here, want exactly 1 (use Inputs)", c.spec.Stage, stage, len(in))
	}
	return in[0], nil
}

func (c *taskContext) ProjectRoot() string { return c.spec.ProjectRoot }
func (c *taskContext) Threads() int        { return c.threads }

func (c *taskContext) Logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	c.mu.Lock()
	if len(c.log) < maxLogLines {
		c.log = append(c.log, line)
	} else if len(c.log) == maxLogLines {
		c.log = append(c.log, "… (log truncated)")
	}
	c.mu.Unlock()
	if c.onLog != nil {
		c.onLog(line)
	}
}

// maxLogLines bounds the log kept in a manifest.
const maxLogLines = 1000

func (c *taskContext) Progress(fraction float64, note string) {
	if c.onProg != nil {
		c.onProg(fraction, note)
	}
}

// checkOutputName tells what is wrong with an output name ("" if nothing): a
// clean relative slash path (a published file's path under the publish dir).
func checkOutputName(name string) string {
	switch {
	case name == "":
		return "empty output name"
	case !fs.ValidPath(name) || name == ".":
		return fmt.Sprintf("output name %q: want a clean relative path (no leading /, no ..)", name)
	case strings.HasPrefix(name, ".") || strings.Contains(name, "/."):
		return fmt.Sprintf("output name %q: names starting with '.' are reserved", name)
	}
	return ""
}

// reserve claims an output name.
func (c *taskContext) reserve(name string) error {
	if msg := checkOutputName(name); msg != "" {
		return fmt.Errorf("stage %s: %s", c.spec.Stage, msg)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reserved[name] {
		return fmt.Errorf("stage %s: output %q written twice", c.spec.Stage, name)
	}
	c.reserved[name] = true
	return nil
}

func (c *taskContext) done(name string, o cache.Object) {
	c.mu.Lock()
	c.outputs[name] = o
	c.mu.Unlock()
}

func (c *taskContext) WriteTable(name string, t *table.Table) error {
	full := name + ".parquet"
	if err := c.reserve(full); err != nil {
		return err
	}
	w, err := c.store.NewObject()
	if err != nil {
		return err
	}
	if err := table.WriteParquet(w, t); err != nil {
		w.Abort()
		return fmt.Errorf("stage %s: output %s: %w", c.spec.Stage, full, err)
	}
	o, err := w.Commit()
	if err != nil {
		return err
	}
	c.done(full, o)
	return nil
}

func (c *taskContext) CreateTable(name string) (task.TableWriter, error) {
	full := name + ".parquet"
	if err := c.reserve(full); err != nil {
		return nil, err
	}
	w, err := c.store.NewObject()
	if err != nil {
		return nil, err
	}
	tw := &tableWriter{c: c, name: full, obj: w, pw: table.NewParquetWriter(w)}
	c.mu.Lock()
	c.open[full] = tw
	c.mu.Unlock()
	return tw, nil
}

func (c *taskContext) WriteFile(name string, data []byte) error {
	if err := c.reserve(name); err != nil {
		return err
	}
	o, err := c.store.PutBytes(data)
	if err != nil {
		return err
	}
	c.done(name, o)
	return nil
}

// abortOpen drops the temp files of streamed tables left open (a failed task).
func (c *taskContext) abortOpen() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var names []string
	for n, tw := range c.open {
		tw.obj.Abort()
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// tableWriter is a streamed table output.
type tableWriter struct {
	c      *taskContext
	name   string
	obj    *cache.ObjectWriter
	pw     *table.ParquetWriter
	closed bool
}

func (w *tableWriter) Write(chunk *table.Table) error {
	if w.closed {
		return fmt.Errorf("output %s: write after Close", w.name)
	}
	if err := w.pw.Write(chunk); err != nil {
		return fmt.Errorf("output %s: %w", w.name, err)
	}
	return nil
}

func (w *tableWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	w.c.mu.Lock()
	delete(w.c.open, w.name)
	w.c.mu.Unlock()
	if err := w.pw.Close(); err != nil {
		w.obj.Abort()
		return fmt.Errorf("output %s: %w", w.name, err)
	}
	o, err := w.obj.Commit()
	if err != nil {
		return err
	}
	w.c.done(w.name, o)
	return nil
}

// CorruptInputError is a failure to read an upstream task's output because the
// cache holds damaged bytes for it (or lost its manifest). The scheduler reacts
// by recomputing that upstream task and then this one.
type CorruptInputError struct {
	Key   string // the upstream task's key
	Label string // and its name
	Err   error
}

func (e *CorruptInputError) Error() string {
	return fmt.Sprintf("input %s: %v", e.Label, e.Err)
}

func (e *CorruptInputError) Unwrap() error { return e.Err }

// input is one upstream task's outputs, as task.Input.
type input struct {
	c     *taskContext
	label string
	key   string
	item  task.Item
	m     *cache.Manifest
}

func (in *input) Item() task.Item {
	out := make(task.Item, len(in.item))
	for k, v := range in.item {
		out[k] = v
	}
	return out
}

func (in *input) Names() []string { return in.m.Names() }

func (in *input) output(name string) (cache.Output, error) {
	o, ok := in.m.Output(name)
	if !ok {
		return o, fmt.Errorf("input %s: no output %q (it has: %s)", in.label, name, strings.Join(in.m.Names(), ", "))
	}
	return o, nil
}

// fail records an integrity failure (so a stage that wraps it with %v, or
// ignores it, still fails the task the right way).
func (in *input) fail(err error) error {
	if errors.Is(err, cache.ErrIntegrity) || errors.Is(err, fs.ErrNotExist) {
		ce := &CorruptInputError{Key: in.key, Label: in.label, Err: err}
		in.c.mu.Lock()
		in.c.corrupt = append(in.c.corrupt, ce)
		in.c.mu.Unlock()
		return ce
	}
	return fmt.Errorf("input %s: %w", in.label, err)
}

func (in *input) File(name string) ([]byte, error) {
	o, err := in.output(name)
	if err != nil {
		return nil, err
	}
	b, err := in.c.store.ReadObject(o.Object)
	if err != nil {
		return nil, in.fail(err)
	}
	return b, nil
}

func (in *input) Table(name string) (*table.Table, error) {
	b, err := in.File(name + ".parquet")
	if err != nil {
		return nil, err
	}
	t, err := table.ReadParquet(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("input %s: %s.parquet: %w", in.label, name, err)
	}
	return t, nil
}

func (in *input) ScanTable(name string, columns []string, fn func(*table.Table) error) error {
	o, err := in.output(name + ".parquet")
	if err != nil {
		return err
	}
	f, err := in.c.store.OpenObject(o.Object)
	if err != nil {
		return in.fail(err)
	}
	defer f.Close()
	return table.ScanParquet(f, o.Size, columns, fn)
}

// checkOwnGroup reports the keys of the stage's own param group (the group named like
// the stage: fit for stage fit, ...) that dst has no field for: a misspelt key in
// pipeline.yaml would otherwise be silently ignored while still changing the key.
// Other groups a stage reads may be read in part, so only its own is checked.
func checkOwnGroup(paramsYAML, stage string, dst any) error {
	var params map[string]any
	if err := yaml.Unmarshal([]byte(paramsYAML), &params); err != nil {
		return nil // Decode has reported it
	}
	own, ok := params[stage].(map[string]any)
	if !ok {
		return nil
	}
	b, err := yaml.Marshal(dst)
	if err != nil {
		return nil
	}
	var decoded map[string]any
	if err := yaml.Unmarshal(b, &decoded); err != nil {
		return nil
	}
	got, ok := decoded[stage].(map[string]any)
	if !ok {
		return nil // dst does not read the group as a whole
	}
	var unknown []string
	var walk func(prefix string, p, d map[string]any)
	walk = func(prefix string, p, d map[string]any) {
		for k, v := range p {
			dv, ok := d[k]
			if !ok {
				unknown = append(unknown, prefix+k)
				continue
			}
			if pm, ok := v.(map[string]any); ok {
				if dm, ok := dv.(map[string]any); ok {
					walk(prefix+k+".", pm, dm)
				}
			}
		}
	}
	walk(stage+".", own, got)
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return fmt.Errorf("stage %s does not know the param(s) %s (misspelt? see the stage's documentation for its params)", stage, strings.Join(unknown, ", "))
}
