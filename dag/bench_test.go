package dag

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/afero"

	"nmdyn/cache"
	"nmdyn/stages/table"
	"nmdyn/stages/task"
)

// statusYAML makes 1,000 tasks: a over i (10), b over i x j (980), c over i
// (10, each gathering 98 b tasks).
func statusYAML() string {
	var j []string
	for k := 0; k < 98; k++ {
		j = append(j, fmt.Sprint(k))
	}
	return `
params:
  grid: {i: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], j: [` + strings.Join(j, ", ") + `]}
  b: {lr: 0.01, epochs: 200}
stages:
  - {name: a, run: tiny, foreach: {i: '${grid.i}'}}
  - {name: b, run: tiny, inputs: [a], params: [b], foreach: {i: '${grid.i}', j: '${grid.j}'}}
  - {name: c, run: tiny, inputs: [b], foreach: {i: '${grid.i}'}}
`
}

// BenchmarkStatus1000 is `run status` over a synthetic DAG of 1,000 cached
// tasks: parse the pipeline, compute every key, stat every manifest.
func BenchmarkStatus1000(b *testing.B) {
	dir := b.TempDir()
	file := filepath.Join(dir, "pipeline.yaml")
	os.WriteFile(file, []byte(statusYAML()), 0o644)
	tiny := func(ctx task.Context) error {
		return ctx.WriteTable("out", table.New().AddInt("x", []int64{1}))
	}
	reg := map[string]task.Func{"tiny": tiny}
	code := func(run string, fn task.Func) (string, error) { return "code", nil }
	open := func() (*Engine, *Plan) {
		pl, err := Load(file)
		if err != nil {
			b.Fatal(err)
		}
		store, err := cache.OpenExisting(afero.NewOsFs(), filepath.Join(dir, ".nmdyn"))
		if err != nil {
			b.Fatal(err)
		}
		e := &Engine{Pipeline: pl, Registry: reg, Code: code, Store: store}
		p, err := e.Plan()
		if err != nil {
			b.Fatal(err)
		}
		return e, p
	}
	cache.Open(afero.NewOsFs(), filepath.Join(dir, ".nmdyn"))
	e, p := open()
	if len(p.Tasks) != 1000 {
		b.Fatalf("%d tasks", len(p.Tasks))
	}
	if _, err := e.Run(context.Background(), p, RunOptions{Executor: &LocalExecutor{Jobs: 2}}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, p := open()
		for _, st := range p.Status() {
			if !st.Fresh {
				b.Fatalf("%s stale", st.Task.Label)
			}
		}
	}
}
