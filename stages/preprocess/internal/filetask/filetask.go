// Package filetask is a small file-backed task.Context for running stages in
// tests and benchmarks without the pipeline engine: each task's outputs go to a
// folder as Parquet files (streamed outputs through table.ParquetWriter, read
// back with table.ScanParquet), so memory behaves as it does under the engine.
package filetask

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"

	"nmdyn/stages/table"
	"nmdyn/stages/task"
)

// Context runs one task.
type Context struct {
	Root   string         // project root (relative data paths start here)
	OutDir string         // where this task's outputs go
	Params map[string]any // param groups, e.g. {"preprocess": {"bin_ms": 20}}
	// Upstream maps a stage name to the output folder of its (single) task.
	Upstream map[string]string

	mu   sync.Mutex
	Logs []string
	Last float64 // last progress fraction
}

var _ task.Context = (*Context)(nil)

// Ctx is never cancelled.
func (c *Context) Ctx() context.Context { return context.Background() }

// Decode fills dst from Params through YAML, as the engine does.
func (c *Context) Decode(dst any) error {
	b, err := yaml.Marshal(c.Params)
	if err != nil {
		return err
	}
	return yaml.Unmarshal(b, dst)
}

// Item is empty: no fan-out.
func (c *Context) Item() task.Item { return task.Item{} }

// Inputs returns the one upstream task of stage.
func (c *Context) Inputs(stage string) ([]task.Input, error) {
	in, err := c.Input(stage)
	if err != nil {
		return nil, err
	}
	return []task.Input{in}, nil
}

// Input returns the outputs of the named upstream stage.
func (c *Context) Input(stage string) (task.Input, error) {
	dir, ok := c.Upstream[stage]
	if !ok {
		return nil, fmt.Errorf("stage %q is not an input", stage)
	}
	return input{dir: dir}, nil
}

// ProjectRoot is Root.
func (c *Context) ProjectRoot() string { return c.Root }

func (c *Context) path(name string) (string, error) {
	if err := os.MkdirAll(c.OutDir, 0o755); err != nil {
		return "", err
	}
	p := filepath.Join(c.OutDir, name)
	if _, err := os.Stat(p); err == nil {
		return "", fmt.Errorf("output %s written twice", name)
	}
	return p, nil
}

// WriteTable writes name.parquet.
func (c *Context) WriteTable(name string, t *table.Table) error {
	p, err := c.path(name + ".parquet")
	if err != nil {
		return err
	}
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	if err := table.WriteParquet(f, t); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", name, err)
	}
	return f.Close()
}

type fileWriter struct {
	f  *os.File
	pw *table.ParquetWriter
}

func (w *fileWriter) Write(t *table.Table) error { return w.pw.Write(t) }
func (w *fileWriter) Close() error {
	err := w.pw.Close()
	if e := w.f.Close(); err == nil {
		err = e
	}
	return err
}

// CreateTable streams name.parquet.
func (c *Context) CreateTable(name string) (task.TableWriter, error) {
	p, err := c.path(name + ".parquet")
	if err != nil {
		return nil, err
	}
	f, err := os.Create(p)
	if err != nil {
		return nil, err
	}
	return &fileWriter{f: f, pw: table.NewParquetWriter(f)}, nil
}

// WriteFile writes any other output.
func (c *Context) WriteFile(name string, data []byte) error {
	p, err := c.path(name)
	if err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o644)
}

// Threads is 1.
func (c *Context) Threads() int { return 1 }

// Logf records a log line.
func (c *Context) Logf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Logs = append(c.Logs, fmt.Sprintf(format, args...))
}

// Progress records the fraction.
func (c *Context) Progress(f float64, _ string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Last = f
}

type input struct{ dir string }

func (in input) Item() task.Item { return task.Item{} }

func (in input) Names() []string {
	entries, _ := os.ReadDir(in.dir)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func (in input) Table(name string) (*table.Table, error) {
	f, err := os.Open(filepath.Join(in.dir, name+".parquet"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return table.ReadParquet(f, st.Size())
}

func (in input) File(name string) ([]byte, error) {
	if strings.Contains(name, "/") {
		return nil, fmt.Errorf("bad output name %q", name)
	}
	return os.ReadFile(filepath.Join(in.dir, name))
}

func (in input) ScanTable(name string, columns []string, fn func(*table.Table) error) error {
	f, err := os.Open(filepath.Join(in.dir, name+".parquet"))
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	return table.ScanParquet(f, st.Size(), columns, fn)
}
