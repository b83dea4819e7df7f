package dag

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"nmdyn/stages/table"
	"nmdyn/stages/task"
)

// An input file that changes while its task runs makes the task fail uncommitted:
// its key names the content planned, which is no longer what the stage read.
func TestInputChangedDuringTask(t *testing.T) {
	yaml := `
params:
  data: {path: rec.txt}
stages:
  - {name: s, run: s, params: [data], files: [data.path]}
`
	var te *testEngine
	reg := map[string]task.Func{"s": func(ctx task.Context) error {
		if err := os.WriteFile(filepath.Join(te.dir, "rec.txt"), []byte("edited during the run"), 0o644); err != nil {
			return err
		}
		return ctx.WriteTable("out", table.New().AddString("v", []string{"x"}))
	}}
	te = newTestEngine(t, yaml, reg)
	if err := os.WriteFile(filepath.Join(te.dir, "rec.txt"), []byte("the recording"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := te.plan(t)
	s, err := te.Run(context.Background(), p, RunOptions{Executor: &LocalExecutor{Jobs: 1}})
	if err == nil && s.Failed == 0 {
		t.Fatal("the task committed although its input changed while it ran")
	}
	if s == nil || len(s.Failures) != 1 || !strings.Contains(s.Failures[0].Err.Error(), "changed while the task ran") {
		t.Fatalf("summary %+v, err %v", s, err)
	}
	if _, err := te.Store.ReadManifest(p.StageTasks("s")[0].Key); err == nil {
		t.Fatal("a manifest was committed")
	}
}
