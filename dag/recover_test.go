package dag

import (
	"context"
	"sync"
	"testing"

	"nmdyn/stages/table"
	"nmdyn/stages/task"
)

// Two tasks reading the same damaged upstream object at the same time: the upstream
// task is recomputed once and both readers run again (found by review: the second
// reader used to fail the run).
func TestTwoReadersOfCorruptInput(t *testing.T) {
	var c counts
	reg := chainRegistry(&c)
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]bool{}
	barrier := func(name string) task.Func {
		return func(ctx task.Context) error {
			first := false
			mu.Lock()
			if !seen[name] {
				seen[name] = true
				first = true
			}
			mu.Unlock()
			if first {
				wg.Done()
				wg.Wait()
			}
			in, err := ctx.Input("a")
			if err != nil {
				return err
			}
			if _, err := in.Table("out"); err != nil {
				return err
			}
			c.add(name)
			return ctx.WriteTable("out", table.New().AddString("v", []string{name}))
		}
	}
	te := newTestEngine(t, chainYAML, reg)
	te.run(t, RunOptions{})
	p := te.plan(t)
	a := p.StageTasks("a")[0]
	m, _ := te.Store.ReadManifest(a.Key)
	flip(t, te.Store.ObjectPath(m.Outputs[0].Hash), 10)

	reg2 := chainRegistry(&c)
	reg2["b"] = barrier("b")
	reg2["e"] = barrier("e")
	te2 := te.with(t)
	te2.Registry = reg2
	wg.Add(2)
	s, err := te2.Run(context.Background(), te2.plan(t), RunOptions{Targets: []string{"b", "e"}, Force: true, KeepGoing: true, Executor: &LocalExecutor{Jobs: 2}})
	if s.Recovered != 1 || s.Failed != 0 {
		t.Errorf("summary %+v: want the upstream recomputed once and no failure", s)
	}
	if err != nil {
		t.Fatalf("a damaged object read by two running tasks failed the run: %v", err)
	}
}
