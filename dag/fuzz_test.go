package dag

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"

	"nmdyn/cache"
	"nmdyn/stages/task"
)

// FuzzParsePipeline: whatever the bytes, parsing does not panic, every error
// names the file, and a pipeline that parses expands into tasks with keys
// without panicking.
func FuzzParsePipeline(f *testing.F) {
	for _, s := range []string{chainYAML, recoveryYAML, branchYAML, publishYAML, crashYAML, statusYAML(),
		"params: {a: 1}\nstages:\n  - {name: x, run: x, params: [a], foreach: {s: [1, 2.5, \"t\", true]}}\n",
		"stages:\n  - {name: a, run: a, inputs: [b]}\n  - {name: b, run: b, inputs: [a]}\n",
		"params:\n  a: &x 1\nstages: []\n", "", "{", "stages: [", "- a\n- b\n", "params: {a: {b: {c: [1, {d: 2}]}}}\nstages:\n  - {name: a, run: a, params: [a.b.c]}\n",
	} {
		f.Add([]byte(s))
	}
	if b, err := os.ReadFile(filepath.Join("..", "pipeline.yaml")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// A hang is a failure too: crash the worker so the input is kept.
		watchdog := time.AfterFunc(20*time.Second, func() { panic(fmt.Sprintf("input takes over 20 s: %q", data)) })
		defer watchdog.Stop()
		p, err := Parse("f.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, s := range p.Stages {
			if len(s.Files) > 0 {
				return // would hash files named by the input
			}
		}
		reg := map[string]task.Func{}
		for _, s := range p.Stages {
			reg[s.Run.Name] = func(task.Context) error { return nil }
		}
		store, err := cache.Open(afero.NewMemMapFs(), "/c")
		if err != nil {
			t.Fatal(err)
		}
		e := &Engine{Pipeline: p, Registry: reg, Store: store,
			Code: func(string, task.Func) (string, error) { return "c", nil }}
		plan, err := e.Plan()
		if err != nil {
			return
		}
		for _, task := range plan.Tasks {
			if len(task.Key) != 64 {
				t.Fatalf("key %q", task.Key)
			}
			yamlText(plan.jobSpecDecode(task))
		}
		plan.Status()
	})
}
