// Package tasktest runs a stage in memory, without the engine: a task.Context whose
// params, item and upstream outputs a test sets by hand, and whose outputs it keeps.
package tasktest

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/goccy/go-yaml"

	"nmdyn/stages/table"
	"nmdyn/stages/task"
)

// Outputs are the outputs of one task: tables by name, and files by name.
type Outputs struct {
	ItemValue task.Item
	Tables    map[string]*table.Table
	Files     map[string][]byte
}

// NewOutputs returns empty outputs for an upstream task with the given item.
func NewOutputs(item task.Item) *Outputs {
	return &Outputs{ItemValue: item, Tables: map[string]*table.Table{}, Files: map[string][]byte{}}
}

// Item implements task.Input.
func (o *Outputs) Item() task.Item { return o.ItemValue }

// Names implements task.Input.
func (o *Outputs) Names() []string {
	var names []string
	for n := range o.Tables {
		names = append(names, n+".parquet")
	}
	for n := range o.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Table implements task.Input: the table goes through a Parquet round trip, as it
// would through the cache.
func (o *Outputs) Table(name string) (*table.Table, error) {
	t, ok := o.Tables[name]
	if !ok {
		return nil, fmt.Errorf("no output %q", name)
	}
	var buf bytes.Buffer
	if err := table.WriteParquet(&buf, t); err != nil {
		return nil, err
	}
	return table.ReadParquet(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
}

// File implements task.Input.
func (o *Outputs) File(name string) ([]byte, error) {
	b, ok := o.Files[name]
	if !ok {
		return nil, fmt.Errorf("no output %q", name)
	}
	return b, nil
}

// ScanTable implements task.Input.
func (o *Outputs) ScanTable(name string, columns []string, fn func(*table.Table) error) error {
	t, err := o.Table(name)
	if err != nil {
		return err
	}
	if len(columns) > 0 {
		if t, err = t.Select(columns...); err != nil {
			return err
		}
	}
	return fn(t)
}

// Context is an in-memory task.Context.
type Context struct {
	Context  context.Context
	Params   map[string]any        // param groups, as pipeline.yaml would give them
	ItemVal  task.Item             // this task's item
	Upstream map[string][]*Outputs // upstream stage -> its tasks' outputs
	Root     string                // project root
	NThreads int                   // Threads(); default 1
	Out      *Outputs              // what the stage wrote
	Log      []string              // Logf lines
	mu       sync.Mutex
}

// New returns a context with the given params (may be nil).
func New(params map[string]any) *Context {
	return &Context{Context: context.Background(), Params: params, Upstream: map[string][]*Outputs{}, Out: NewOutputs(nil)}
}

// AddInput registers an upstream task's outputs under a stage name.
func (c *Context) AddInput(stage string, o *Outputs) {
	c.Upstream[stage] = append(c.Upstream[stage], o)
}

// Ctx implements task.Context.
func (c *Context) Ctx() context.Context { return c.Context }

// Decode implements task.Context (through a YAML round trip, as the engine does).
func (c *Context) Decode(dst any) error {
	all := map[string]any{}
	for k, v := range c.Params {
		all[k] = v
	}
	if c.ItemVal != nil {
		all["item"] = map[string]any(c.ItemVal)
	}
	b, err := yaml.Marshal(all)
	if err != nil {
		return err
	}
	return yaml.Unmarshal(b, dst)
}

// Item implements task.Context.
func (c *Context) Item() task.Item { return c.ItemVal }

// Inputs implements task.Context.
func (c *Context) Inputs(stage string) ([]task.Input, error) {
	outs, ok := c.Upstream[stage]
	if !ok {
		return nil, fmt.Errorf("stage %q is not an input", stage)
	}
	in := make([]task.Input, len(outs))
	for i, o := range outs {
		in[i] = o
	}
	return in, nil
}

// Input implements task.Context.
func (c *Context) Input(stage string) (task.Input, error) {
	in, err := c.Inputs(stage)
	if err != nil {
		return nil, err
	}
	if len(in) != 1 {
		return nil, fmt.Errorf("stage %q gives %d tasks, want 1", stage, len(in))
	}
	return in[0], nil
}

// ProjectRoot implements task.Context.
func (c *Context) ProjectRoot() string { return c.Root }

// WriteTable implements task.Context.
func (c *Context) WriteTable(name string, t *table.Table) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.Out.Tables[name]; dup {
		return fmt.Errorf("output %q written twice", name)
	}
	c.Out.Tables[name] = t
	return nil
}

type writer struct {
	c     *Context
	name  string
	parts []*table.Table
}

func (w *writer) Write(chunk *table.Table) error {
	w.parts = append(w.parts, chunk)
	return nil
}

func (w *writer) Close() error {
	t, err := table.Concat(w.parts...)
	if err != nil {
		return err
	}
	return w.c.WriteTable(w.name, t)
}

// CreateTable implements task.Context.
func (c *Context) CreateTable(name string) (task.TableWriter, error) {
	return &writer{c: c, name: name}, nil
}

// WriteFile implements task.Context.
func (c *Context) WriteFile(name string, data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.Out.Files[name]; dup {
		return fmt.Errorf("output %q written twice", name)
	}
	c.Out.Files[name] = append([]byte(nil), data...)
	return nil
}

// Threads implements task.Context.
func (c *Context) Threads() int {
	if c.NThreads <= 0 {
		return 1
	}
	return c.NThreads
}

// Logf implements task.Context.
func (c *Context) Logf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Log = append(c.Log, fmt.Sprintf(format, args...))
}

// Progress implements task.Context.
func (c *Context) Progress(fraction float64, note string) {}

var _ task.Context = (*Context)(nil)
