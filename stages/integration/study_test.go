// Package integration runs the study's stages in memory, chained by hand with the
// in-memory task context, on a small simulated session: a check that every stage
// reads what its upstream writes, independent of the engine.
package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"nmdyn/stages/cluster"
	"nmdyn/stages/fit"
	"nmdyn/stages/fixedpoints"
	"nmdyn/stages/meanfield"
	"nmdyn/stages/predict"
	"nmdyn/stages/preprocess"
	"nmdyn/stages/selection"
	"nmdyn/stages/session"
	"nmdyn/stages/task"
	"nmdyn/stages/task/tasktest"
)

type step struct {
	name   string
	run    task.Func
	inputs []string
}

// runStudy runs session .. predict on the session folder dir with the given params
// and returns every task's outputs by stage.
func runStudy(t *testing.T, dir string, params map[string]any, variants []string, seeds []int64) map[string][]*tasktest.Outputs {
	t.Helper()
	params["data"] = map[string]any{"session": dir}
	outs := map[string][]*tasktest.Outputs{}
	exec := func(name string, fn task.Func, item task.Item, inputs ...string) {
		ctx := tasktest.New(params)
		ctx.NThreads = 2
		ctx.ItemVal = item
		ctx.Out = tasktest.NewOutputs(item)
		for _, in := range inputs {
			for _, o := range outs[in] {
				ctx.AddInput(in, o)
			}
		}
		if err := fn(ctx); err != nil {
			t.Fatalf("stage %s %v: %v", name, item, err)
		}
		for _, l := range ctx.Log {
			t.Logf("%s: %s", name, l)
		}
		outs[name] = append(outs[name], ctx.Out)
	}
	exec("session", session.Run, nil)
	exec("preprocess", preprocess.Run, nil, "session")
	for _, v := range variants {
		for _, s := range seeds {
			exec("fit", fit.Run, task.Item{"variant": v, "seed": s}, "preprocess")
		}
	}
	exec("select", selection.Run, nil, "session", "preprocess", "fit")
	exec("fixedpoints", fixedpoints.Run, nil, "preprocess", "select")
	exec("meanfield", meanfield.Run, nil, "select", "fixedpoints")
	exec("cluster", cluster.Run, nil, "session", "select", "meanfield", "fixedpoints")
	exec("predict", predict.Run, nil, "preprocess", "select", "fixedpoints")
	return outs
}

func summary(t *testing.T, o *tasktest.Outputs) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(o.Files["summary.json"], &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSmallStudy: a 6-minute, 60-neuron postgain session through every stage.
func TestSmallStudy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole study in memory")
	}
	dir := t.TempDir()
	sim := "mechanism: postgain\nneurons: 60\nminutes: 6\nseed: 3\n"
	if err := os.WriteFile(filepath.Join(dir, "simulate.yaml"), []byte(sim), 0o644); err != nil {
		t.Fatal(err)
	}
	params := map[string]any{
		"preprocess": map[string]any{"block_s": 30},
		"fit":        map[string]any{"epochs": 60},
		"select":     map[string]any{"bootstrap": 1000},
		"cluster":    map[string]any{"bootstrap": 20, "networks": 2},
		"predict":    map[string]any{"shifts": 500, "bootstrap": 200},
	}
	outs := runStudy(t, dir, params, []string{"none", "postgain"}, []int64{1})
	for _, st := range []string{"select", "fixedpoints", "meanfield", "cluster", "predict"} {
		s := summary(t, outs[st][0])
		b, _ := json.Marshal(s)
		t.Logf("%s summary: %.600s", st, b)
	}
}
