package dag

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"nmdyn/stages/task"
)

// A diamond with two branches: a -> b -> d and a -> c -> e.
const branchYAML = `
params: {}
stages:
  - {name: a, run: a}
  - {name: b, run: b, inputs: [a]}
  - {name: c, run: c, inputs: [a]}
  - {name: d, run: d, inputs: [b]}
  - {name: e, run: e, inputs: [c]}
`

func branchRegistry(c *counts) map[string]task.Func {
	return map[string]task.Func{"a": fake(c, "a"), "b": fake(c, "b", "a"), "c": fake(c, "c", "a"), "d": fake(c, "d", "b"), "e": fake(c, "e", "c")}
}

// started waits for the next started task.
func started(t *testing.T, m *ManualExecutor) *ManualTask {
	t.Helper()
	select {
	case mt := <-m.Started:
		return mt
	case <-time.After(5 * time.Second):
		t.Fatal("no task started")
		return nil
	}
}

// noneStarted checks that no task starts (for a moment).
func noneStarted(t *testing.T, m *ManualExecutor) {
	t.Helper()
	select {
	case mt := <-m.Started:
		t.Fatalf("%s started", mt.Label())
	case <-time.After(30 * time.Millisecond):
	}
}

type runResult struct {
	s   *Summary
	err error
}

func runAsync(te *testEngine, p *Plan, opt RunOptions) chan runResult {
	ch := make(chan runResult, 1)
	go func() {
		s, err := te.Run(context.Background(), p, opt)
		ch <- runResult{s, err}
	}()
	return ch
}

func TestManualScheduling(t *testing.T) {
	var c counts
	te := newTestEngine(t, branchYAML, branchRegistry(&c))
	m := NewManualExecutor(2)
	done := runAsync(te, te.plan(t), RunOptions{Executor: m})
	a := started(t, m)
	if a.Label() != "a" {
		t.Fatalf("first task %s", a.Label())
	}
	noneStarted(t, m) // b and c wait for a
	if err := a.Run(); err != nil {
		t.Fatal(err)
	}
	// Both branches are ready; 2 slots: both start, in plan order.
	x, y := started(t, m), started(t, m)
	if x.Label() != "b" || y.Label() != "c" {
		t.Fatalf("started %s, %s", x.Label(), y.Label())
	}
	noneStarted(t, m)
	// c finishes first: e starts while b still runs.
	y.Run()
	if e := started(t, m); e.Label() != "e" {
		t.Fatalf("started %s, want e", e.Label())
	} else {
		x.Run()
		d := started(t, m)
		e.Run()
		d.Run()
	}
	r := <-done
	if r.err != nil || r.s.Ran != 5 {
		t.Fatalf("run: %+v %v", r.s, r.err)
	}
	// One slot: one task at a time.
	te2 := te.with(t)
	m1 := NewManualExecutor(1)
	done = runAsync(te2, te2.plan(t), RunOptions{Executor: m1, Force: true})
	for i := 0; i < 5; i++ {
		mt := started(t, m1)
		noneStarted(t, m1)
		mt.Run()
	}
	if r := <-done; r.err != nil || r.s.Ran != 5 {
		t.Fatalf("one slot: %+v %v", r.s, r.err)
	}
}

func TestFailingTaskKeepGoing(t *testing.T) {
	var c counts
	te := newTestEngine(t, branchYAML, branchRegistry(&c))
	m := NewManualExecutor(2)
	p := te.plan(t)
	done := runAsync(te, p, RunOptions{Executor: m, KeepGoing: true})
	started(t, m).Run() // a
	b, cc := started(t, m), started(t, m)
	b.Fail(errors.New("b exploded"))
	cc.Run()
	e := started(t, m) // the other branch goes on
	if e.Label() != "e" {
		t.Fatalf("started %s", e.Label())
	}
	e.Run()
	r := <-done
	var re *RunError
	if !errors.As(r.err, &re) || len(re.Failures) != 1 || re.Failures[0].Task.Label != "b" || !strings.Contains(r.err.Error(), "b exploded") {
		t.Fatalf("run error %v", r.err)
	}
	if r.s.Ran != 3 || r.s.Failed != 1 || r.s.Skipped != 1 {
		t.Errorf("summary %+v", r.s)
	}
	if got := te.log.Labels(EventSkipped); fmt.Sprint(got) != "[d]" {
		t.Errorf("skipped %v", got)
	}
	// The failed task is not cached; the rerun does b and d only.
	if te.Store.HasManifest(p.StageTasks("b")[0].Key) {
		t.Fatal("failed task committed")
	}
	s := te.run(t, RunOptions{})
	sort.Strings(s.RanTasks)
	if fmt.Sprint(s.RanTasks) != "[b d]" || s.Cached != 3 {
		t.Errorf("rerun ran %v, cached %d", s.RanTasks, s.Cached)
	}
}

func TestFailingTaskStops(t *testing.T) {
	var c counts
	te := newTestEngine(t, branchYAML, branchRegistry(&c))
	m := NewManualExecutor(2)
	done := runAsync(te, te.plan(t), RunOptions{Executor: m})
	started(t, m).Run() // a
	b, cc := started(t, m), started(t, m)
	b.Fail(errors.New("b exploded"))
	noneStarted(t, m)
	cc.Run()          // a running task finishes and is kept...
	noneStarted(t, m) // ...but e does not start
	r := <-done
	if r.err == nil || r.s.Ran != 2 || r.s.Failed != 1 || r.s.Skipped != 2 {
		t.Fatalf("summary %+v, err %v", r.s, r.err)
	}
	p := te.plan(t)
	if !te.Store.HasManifest(p.StageTasks("c")[0].Key) {
		t.Error("c, finished after the failure, was not kept")
	}
}

// A real stage error (not a Fail by hand) and a panicking stage fail their task.
func TestStageErrorAndPanic(t *testing.T) {
	var c counts
	reg := branchRegistry(&c)
	reg["b"] = func(ctx task.Context) error { return errors.New("bad input: spikes.csv unsorted") }
	reg["c"] = func(ctx task.Context) error { panic("index out of range") }
	te := newTestEngine(t, branchYAML, reg)
	_, err := te.Run(context.Background(), te.plan(t), RunOptions{Executor: &LocalExecutor{Jobs: 2}, KeepGoing: true})
	if err == nil || !strings.Contains(err.Error(), "spikes.csv unsorted") || !strings.Contains(err.Error(), "stage c panicked: index out of range") {
		t.Fatalf("error: %v", err)
	}
}

func TestCancel(t *testing.T) {
	var c counts
	reg := branchRegistry(&c)
	reg["b"] = func(ctx task.Context) error {
		<-ctx.Ctx().Done()
		return ctx.Ctx().Err()
	}
	te := newTestEngine(t, branchYAML, reg)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for c.get("a") == 0 {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
		cancel()
	}()
	_, err := te.Run(ctx, te.plan(t), RunOptions{Executor: &LocalExecutor{Jobs: 1}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v", err)
	}
}
