package meanfield

import (
	"context"
	"fmt"
	"sort"

	"github.com/goccy/go-yaml"

	"nmdyn/stages/table"
	"nmdyn/stages/task"
)

// fakeInput is one upstream task's outputs held in memory.
type fakeInput struct {
	tables map[string]*table.Table
	files  map[string][]byte
}

func (f *fakeInput) Item() task.Item { return task.Item{} }

func (f *fakeInput) Names() []string {
	var out []string
	for n := range f.tables {
		out = append(out, n+".parquet")
	}
	for n := range f.files {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (f *fakeInput) Table(name string) (*table.Table, error) {
	t, ok := f.tables[name]
	if !ok {
		return nil, fmt.Errorf("no output %q", name)
	}
	return t, nil
}

func (f *fakeInput) File(name string) ([]byte, error) {
	b, ok := f.files[name]
	if !ok {
		return nil, fmt.Errorf("no output %q", name)
	}
	return b, nil
}

func (f *fakeInput) ScanTable(name string, columns []string, fn func(*table.Table) error) error {
	t, err := f.Table(name)
	if err != nil {
		return err
	}
	return fn(t)
}

// fakeContext is a minimal task.Context: params as a map, inputs in memory, outputs
// collected in maps.
type fakeContext struct {
	params  map[string]any
	inputs  map[string]*fakeInput
	tables  map[string]*table.Table
	files   map[string][]byte
	logs    []string
	threads int
}

func newFakeContext(params map[string]any, inputs map[string]*fakeInput) *fakeContext {
	return &fakeContext{params: params, inputs: inputs, tables: map[string]*table.Table{}, files: map[string][]byte{}, threads: 1}
}

func (c *fakeContext) Ctx() context.Context { return context.Background() }

// Decode round-trips the params through YAML, as the engine's decoder would see them.
func (c *fakeContext) Decode(dst any) error {
	b, err := yaml.Marshal(c.params)
	if err != nil {
		return err
	}
	return yaml.Unmarshal(b, dst)
}

func (c *fakeContext) Item() task.Item { return task.Item{} }

func (c *fakeContext) Inputs(stage string) ([]task.Input, error) {
	in, err := c.Input(stage)
	if err != nil {
		return nil, err
	}
	return []task.Input{in}, nil
}

func (c *fakeContext) Input(stage string) (task.Input, error) {
	in, ok := c.inputs[stage]
	if !ok {
		return nil, fmt.Errorf("stage %q is not an input", stage)
	}
	return in, nil
}

func (c *fakeContext) ProjectRoot() string { return "." }

func (c *fakeContext) WriteTable(name string, t *table.Table) error {
	if _, dup := c.tables[name]; dup {
		return fmt.Errorf("table %q written twice", name)
	}
	c.tables[name] = t
	return nil
}

func (c *fakeContext) CreateTable(name string) (task.TableWriter, error) {
	return nil, fmt.Errorf("streaming not supported by the fake context")
}

func (c *fakeContext) WriteFile(name string, data []byte) error {
	if _, dup := c.files[name]; dup {
		return fmt.Errorf("file %q written twice", name)
	}
	c.files[name] = data
	return nil
}

func (c *fakeContext) Threads() int { return c.threads }

func (c *fakeContext) Logf(format string, args ...any) {
	c.logs = append(c.logs, fmt.Sprintf(format, args...))
}

func (c *fakeContext) Progress(float64, string) {}

var _ task.Context = (*fakeContext)(nil)
