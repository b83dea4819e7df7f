package dag

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"nmdyn/stages/table"
	"nmdyn/stages/task"
)

// A model-recovery pipeline: simulate over mechanism x sim_seed, fit over
// mechanism x sim_seed x variant x seed, select per mechanism x sim_seed, one
// summary over everything.
const recoveryYAML = `
params:
  sim: {seeds: [2, 1]}
  fit: {seeds: [1, 2], epochs: 10}
stages:
  - name: simulate
    run: simulate
    params: [sim]
    foreach: {mechanism: [postgain, additive], sim_seed: '${sim.seeds}'}
  - name: fit
    run: fit
    inputs: [simulate]
    params: [fit]
    foreach: {mechanism: [postgain, additive], sim_seed: '${sim.seeds}', variant: [none, lowrank], seed: '${fit.seeds}'}
  - name: select
    run: select
    inputs: [fit, simulate]
    foreach: {mechanism: [postgain, additive], sim_seed: '${sim.seeds}'}
  - name: summary
    run: summary
    inputs: [select]
`

// recoveryRegistry's stages write their label and record the labels they read.
func recoveryRegistry(c *counts, seen map[string][]string) map[string]task.Func {
	record := func(name string) task.Func {
		return func(ctx task.Context) error {
			label := taskLabel(name, ctx.Item())
			c.add(label)
			for _, in := range []string{"fit", "select", "simulate"} { // as the want strings list them
				ins, err := ctx.Inputs(in)
				if err != nil {
					continue // not an input of this stage
				}
				for _, u := range ins {
					tb, err := u.Table("out")
					if err != nil {
						return err
					}
					v, _ := tb.String("v")
					c.mu.Lock()
					seen[label] = append(seen[label], v[0])
					c.mu.Unlock()
				}
			}
			return ctx.WriteTable("out", table.New().AddString("v", []string{label}))
		}
	}
	return map[string]task.Func{"simulate": record("simulate"), "fit": record("fit"), "select": record("select"), "summary": record("summary")}
}

func TestFanOutMatching(t *testing.T) {
	var c counts
	seen := map[string][]string{}
	te := newTestEngine(t, recoveryYAML, recoveryRegistry(&c, seen))
	p := te.plan(t)
	n := map[string]int{}
	for _, task := range p.Tasks {
		n[task.Stage.Name]++
	}
	// 2 mechanisms x 2 sim seeds; x 2 variants x 2 seeds; per mechanism x sim seed; one.
	if fmt.Sprint(n) != "map[fit:16 select:4 simulate:4 summary:1]" {
		t.Fatalf("tasks per stage %v", n)
	}
	// Items are typed as written (ints stay int64) and expanded in sorted order:
	// dimensions by name, values sorted (sim.seeds is written [2, 1]).
	sim := p.StageTasks("simulate")
	var labels []string
	for _, s := range sim {
		labels = append(labels, s.Label)
	}
	want := "[simulate[mechanism=additive,sim_seed=1] simulate[mechanism=additive,sim_seed=2] simulate[mechanism=postgain,sim_seed=1] simulate[mechanism=postgain,sim_seed=2]]"
	if fmt.Sprint(labels) != want {
		t.Errorf("simulate tasks %v", labels)
	}
	if _, ok := sim[0].Item["sim_seed"].(int64); !ok {
		t.Errorf("sim_seed is %T, want int64", sim[0].Item["sim_seed"])
	}
	te.run(t, RunOptions{})
	if c.total() != 25 {
		t.Fatalf("ran %d tasks, want 25", c.total())
	}
	// A fit task reads the one simulate task of its mechanism and sim seed.
	got := seen["fit[mechanism=postgain,seed=2,sim_seed=1,variant=lowrank]"]
	if fmt.Sprint(got) != "[simulate[mechanism=postgain,sim_seed=1]]" {
		t.Errorf("fit read %v", got)
	}
	// select reads its 4 fits (variant x seed gathered, sorted by item), then
	// its one simulate task (input stages in name order: fit, then simulate).
	got = seen["select[mechanism=additive,sim_seed=2]"]
	want = "[fit[mechanism=additive,seed=1,sim_seed=2,variant=lowrank] fit[mechanism=additive,seed=1,sim_seed=2,variant=none] fit[mechanism=additive,seed=2,sim_seed=2,variant=lowrank] fit[mechanism=additive,seed=2,sim_seed=2,variant=none] simulate[mechanism=additive,sim_seed=2]]"
	if fmt.Sprint(got) != want {
		t.Errorf("select read\n  %v\nwant\n  %v", got, want)
	}
	if got := seen["summary"]; len(got) != 4 || !sort.StringsAreSorted(got) {
		t.Errorf("summary read %v", got)
	}

	// Adding a seed runs only the new tasks and what gathers them: the fits of
	// the other seeds keep their keys (the seeds list is not in their params).
	te2 := te.with(t, "fit.seeds=[1, 2, 3]")
	st := stale(te2.plan(t))
	var fits, others []string
	for _, s := range st {
		if strings.HasPrefix(s, "fit[") {
			fits = append(fits, s)
		} else {
			others = append(others, s)
		}
	}
	// 2 mechanisms x 2 sim seeds x 2 variants with seed 3.
	if len(fits) != 8 || !strings.Contains(fits[0], "seed=3") || !strings.HasSuffix(fits[0], " missing") {
		t.Errorf("stale fits after adding seed 3: %v", fits)
	}
	wantOthers := "[select[mechanism=additive,sim_seed=1] upstream select[mechanism=additive,sim_seed=2] upstream select[mechanism=postgain,sim_seed=1] upstream select[mechanism=postgain,sim_seed=2] upstream summary upstream]"
	if fmt.Sprint(others) != wantOthers {
		t.Errorf("other stale tasks %v", others)
	}
}

func TestFanOutNoMatch(t *testing.T) {
	yaml := `
params: {}
stages:
  - {name: a, run: a, foreach: {seed: [1, 2]}}
  - {name: b, run: b, inputs: [a], foreach: {seed: [1, 3]}}
`
	var c counts
	te := newTestEngine(t, yaml, map[string]task.Func{"a": fake(&c, "a"), "b": fake(&c, "b", "a")})
	_, err := te.Plan()
	if err == nil || !strings.Contains(err.Error(), "task b[seed=3]: no task of its input a has a matching item") {
		t.Errorf("unmatched item: %v", err)
	}
}

func TestFanOutSetErrors(t *testing.T) {
	var c counts
	seen := map[string][]string{}
	te := newTestEngine(t, recoveryYAML, recoveryRegistry(&c, seen))
	for _, set := range []string{"fit.seeds=[]", "fit.seeds=3", "fit.seeds=[1, 1]"} {
		_, err := te.with(t, set).Plan()
		if err == nil || !strings.Contains(err.Error(), "(set with --set)") || !strings.Contains(err.Error(), "foreach seed") {
			t.Errorf("--set %s: %v", set, err)
		}
	}
}
