package dag

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/afero"

	"nmdyn/cache"
	"nmdyn/stages/table"
	"nmdyn/stages/task"
)

// counts records how many times each task ran.
type counts struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counts) add(label string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[label]++
}

func (c *counts) get(label string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[label]
}

func (c *counts) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.n {
		n += v
	}
	return n
}

// fake is a stage that writes one table "out" with one string, v, made of its
// params, its item and the v of every task of the named input stages: what a
// task computed shows where its data came from.
func fake(c *counts, name string, inputs ...string) task.Func {
	return func(ctx task.Context) error {
		var p map[string]any
		if err := ctx.Decode(&p); err != nil {
			return err
		}
		item := p["item"]
		delete(p, "item")
		parts := []string{fmt.Sprintf("%s%v params=%v", name, item, p)}
		for _, in := range inputs {
			ins, err := ctx.Inputs(in)
			if err != nil {
				return err
			}
			for _, u := range ins {
				tb, err := u.Table("out")
				if err != nil {
					return err
				}
				v, err := tb.String("v")
				if err != nil {
					return err
				}
				parts = append(parts, "<"+v[0]+">")
			}
		}
		c.add(taskLabel(name, ctx.Item()))
		return ctx.WriteTable("out", table.New().AddString("v", []string{strings.Join(parts, " ")}))
	}
}

// testEngine is an engine on a pipeline written to a temp dir, with a cache in
// it and fake code identities set per run name.
type testEngine struct {
	*Engine
	dir   string
	codes map[string]string
	log   *Collector
}

func newTestEngine(t *testing.T, yaml string, reg map[string]task.Func) *testEngine {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "pipeline.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	pl, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	store, err := cache.Open(afero.NewOsFs(), filepath.Join(dir, ".nmdyn"))
	if err != nil {
		t.Fatal(err)
	}
	te := &testEngine{dir: dir, codes: map[string]string{}, log: &Collector{}}
	te.Engine = &Engine{Pipeline: pl, Registry: reg, Store: store, Report: te.log, Version: "test",
		Code: func(run string, fn task.Func) (string, error) { return "code-of-" + run + te.codes[run], nil }}
	return te
}

// with returns a copy of the engine with params overridden (--set).
func (te *testEngine) with(t *testing.T, sets ...string) *testEngine {
	t.Helper()
	params := te.Pipeline.Params.Clone()
	for _, kv := range sets {
		k, v, _ := strings.Cut(kv, "=")
		val, err := ParseValue(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := params.Set(k, val); err != nil {
			t.Fatal(err)
		}
	}
	e := *te.Engine
	e.Params = params
	e.Report = &Collector{}
	return &testEngine{Engine: &e, dir: te.dir, codes: te.codes, log: e.Report.(*Collector)}
}

func (te *testEngine) plan(t *testing.T) *Plan {
	t.Helper()
	p, err := te.Plan()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (te *testEngine) run(t *testing.T, opt RunOptions) *Summary {
	t.Helper()
	if opt.Executor == nil {
		opt.Executor = &LocalExecutor{Jobs: 2}
	}
	s, err := te.Run(context.Background(), te.plan(t), opt)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// stale lists "label reason,reason" for every stale task, sorted.
func stale(p *Plan) []string {
	var out []string
	for _, st := range p.Status() {
		if !st.Fresh {
			out = append(out, st.Task.Label+" "+strings.Join(st.Reasons, ","))
		}
	}
	sort.Strings(out)
	return out
}

// outputV reads the v string a task wrote.
func outputV(t *testing.T, te *testEngine, task *Task) string {
	t.Helper()
	m, err := te.Store.ReadManifest(task.Key)
	if err != nil {
		t.Fatal(err)
	}
	o, _ := m.Output("out.parquet")
	b, err := te.Store.ReadObject(o.Object)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := table.ReadParquet(strings.NewReader(string(b)), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := tb.String("v")
	return v[0]
}

const chainYAML = `
params:
  a: {x: 1}
  b: {y: 2.5}
  c: {z: text}
  e: {w: true}
stages:
  - {name: a, run: a, params: [a]}
  - {name: b, run: b, inputs: [a], params: [b]}
  - {name: c, run: c, inputs: [b], params: [c]}
  - {name: d, run: d, inputs: [c, a]}
  - {name: e, run: e, inputs: [a], params: [e]}
`

func chainRegistry(c *counts) map[string]task.Func {
	return map[string]task.Func{
		"a": fake(c, "a"), "b": fake(c, "b", "a"), "c": fake(c, "c", "b"),
		"d": fake(c, "d", "a", "c"), "e": fake(c, "e", "a"),
	}
}

func TestRunAllThenCached(t *testing.T) {
	var c counts
	te := newTestEngine(t, chainYAML, chainRegistry(&c))
	if got := stale(te.plan(t)); len(got) != 5 || got[0] != "a missing" {
		t.Fatalf("fresh cache: stale %v", got)
	}
	s := te.run(t, RunOptions{})
	if s.Ran != 5 || s.Cached != 0 || c.total() != 5 {
		t.Fatalf("first run: %+v, counts %v", s, c.n)
	}
	// d read a and c (inputs sorted by stage name), c read b, b read a.
	p := te.plan(t)
	want := "dmap[] params=map[] <amap[] params=map[a:map[x:1]]> <cmap[] params=map[c:map[z:text]] <bmap[] params=map[b:map[y:2.5]] <amap[] params=map[a:map[x:1]]>>>"
	if got := outputV(t, te, p.StageTasks("d")[0]); got != want {
		t.Errorf("d computed\n  %s\nwant\n  %s", got, want)
	}
	s = te.run(t, RunOptions{})
	if s.Ran != 0 || s.Cached != 5 || c.total() != 5 {
		t.Fatalf("second run: %+v", s)
	}
	if got := stale(te.plan(t)); len(got) != 0 {
		t.Errorf("after a run, stale: %v", got)
	}
	// Provenance is recorded.
	m, _ := te.Store.ReadManifest(p.StageTasks("a")[0].Key)
	if m.Provenance.Executor != "local" || m.Provenance.PeakRSSBytes <= 0 || m.Provenance.Version != "test" || m.Provenance.End.Before(m.Provenance.Start) {
		t.Errorf("provenance %+v", m.Provenance)
	}
}

// Changing one mid-DAG param reruns exactly that stage and its downstream, and
// status says so beforehand: "params" for the stage, "upstream" below it.
func TestPartialRerun(t *testing.T) {
	var c counts
	te := newTestEngine(t, chainYAML, chainRegistry(&c))
	te.run(t, RunOptions{})
	te2 := te.with(t, "b.y=3")
	want := []string{"b params", "c upstream", "d upstream"}
	if got := stale(te2.plan(t)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("stale %v, want %v", got, want)
	}
	s := te2.run(t, RunOptions{})
	sort.Strings(s.RanTasks)
	if fmt.Sprint(s.RanTasks) != "[b c d]" || s.Cached != 2 {
		t.Fatalf("reran %v (cached %d), want [b c d]", s.RanTasks, s.Cached)
	}
	// Back to the file's value: everything is in the cache already.
	if got := stale(te.plan(t)); len(got) != 0 {
		t.Errorf("original params stale: %v", got)
	}
	// 3 and 3.0 are the same param value: same key.
	if got := stale(te.with(t, "b.y=3.0").plan(t)); len(got) != 0 {
		t.Errorf("b.y=3.0 after b.y=3: stale %v", got)
	}
	// why names the param.
	p := te.with(t, "b.y=4").plan(t)
	st, lines := p.Why(p.StageTasks("b")[0])
	if st.Fresh || !strings.Contains(strings.Join(lines, "\n"), "params    CHANGED: b.y: 3 -> 4") {
		t.Errorf("why b:\n%s", strings.Join(lines, "\n"))
	}
	_, lines = p.Why(p.StageTasks("d")[0])
	if !strings.Contains(strings.Join(lines, "\n"), "upstream  CHANGED: c") || !strings.Contains(strings.Join(lines, "\n"), "params    same") {
		t.Errorf("why d:\n%s", strings.Join(lines, "\n"))
	}
}

func TestStageSelection(t *testing.T) {
	var c counts
	te := newTestEngine(t, chainYAML, chainRegistry(&c))
	// `stage c` runs c and what it needs (a, b), nothing else.
	s := te.run(t, RunOptions{Targets: []string{"c"}})
	sort.Strings(s.RanTasks)
	if fmt.Sprint(s.RanTasks) != "[a b c]" {
		t.Fatalf("stage c ran %v", s.RanTasks)
	}
	// --force reruns the target only; upstream comes from the cache.
	s = te.run(t, RunOptions{Targets: []string{"c"}, Force: true})
	if fmt.Sprint(s.RanTasks) != "[c]" || s.Cached != 2 {
		t.Fatalf("stage c --force ran %v, cached %d", s.RanTasks, s.Cached)
	}
	// --downstream adds d (e does not depend on c).
	s = te.run(t, RunOptions{Targets: []string{"c"}, Downstream: true, Force: true})
	sort.Strings(s.RanTasks)
	if fmt.Sprint(s.RanTasks) != "[c d]" {
		t.Fatalf("stage c --downstream --force ran %v", s.RanTasks)
	}
	if _, err := te.Run(context.Background(), te.plan(t), RunOptions{Targets: []string{"cc"}}); err == nil || !strings.Contains(err.Error(), `did you mean "c"`) {
		t.Errorf("unknown stage: %v", err)
	}
}

func TestUnknownRun(t *testing.T) {
	var c counts
	reg := chainRegistry(&c)
	delete(reg, "e")
	te := newTestEngine(t, chainYAML, reg)
	_, err := te.Plan()
	// chainYAML starts with a newline: stage e is on line 12, its run value at column 20.
	if err == nil || !strings.Contains(err.Error(), `pipeline.yaml:12:20: stage "e": run "e" is not a registered Go stage; registered: a, b, c, d`) {
		t.Errorf("unknown run: %v", err)
	}
}
