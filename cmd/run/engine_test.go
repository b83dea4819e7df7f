package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/afero"

	"nmdyn/cache"
	"nmdyn/stages/table"
	"nmdyn/stages/task"
)

// The engine verbs are tested on a small study of fake stages (the real ones
// are tested in their packages): a session folder hashed into the key, a
// fan-out, a gathering stage and a publishing figures stage.
const testPipeline = `params:
  data: {session: data/s1}
  prep: {bin_ms: 50}
  fit: {seeds: [1, 2], epochs: 10}
  figs: {dpi: 100}
stages:
  - {name: session, run: session, params: [data], files: [data.session]}
  - {name: prep, run: prep, inputs: [session], params: [prep]}
  - name: fit
    run: fit
    inputs: [prep]
    params: [fit]
    foreach: {variant: [none, postgain], seed: '${fit.seeds}'}
  - {name: select, run: select, inputs: [fit], params: [fit]}
  - {name: figures, run: figures, inputs: [select], params: [figs], publish: figures}
`

var (
	runsMu sync.Mutex
	runs   = map[string]int{} // stage name -> tasks run in this process
	gate   chan struct{}      // when set, prep waits for it to close
)

func countRun(stage string) {
	runsMu.Lock()
	runs[stage]++
	runsMu.Unlock()
}

func runCount(stage string) int {
	runsMu.Lock()
	defer runsMu.Unlock()
	return runs[stage]
}

// fakeStage writes one table whose v joins its params, item and inputs' v.
func fakeStage(name string, inputs ...string) task.Func {
	return func(ctx task.Context) error {
		var p map[string]any
		if err := ctx.Decode(&p); err != nil {
			return err
		}
		parts := []string{fmt.Sprintf("%s %v", name, p)}
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
				v, _ := tb.String("v")
				parts = append(parts, v[0])
			}
		}
		if name == "prep" && gate != nil {
			<-gate
		}
		countRun(name)
		return ctx.WriteTable("out", table.New().AddString("v", []string{strings.Join(parts, " | ")}))
	}
}

func testRegistry() map[string]task.Func {
	return map[string]task.Func{
		"session": func(ctx task.Context) error {
			var p struct {
				Data struct{ Session string } `yaml:"data"`
			}
			if err := ctx.Decode(&p); err != nil {
				return err
			}
			b, err := os.ReadFile(filepath.Join(ctx.ProjectRoot(), p.Data.Session, "spikes.csv"))
			if err != nil {
				return err
			}
			countRun("session")
			return ctx.WriteTable("out", table.New().AddString("v", []string{string(b)}))
		},
		"prep":   fakeStage("prep", "session"),
		"fit":    fakeStage("fit", "prep"),
		"select": fakeStage("select", "fit"),
		"figures": func(ctx task.Context) error {
			in, err := ctx.Input("select")
			if err != nil {
				return err
			}
			tb, err := in.Table("out")
			if err != nil {
				return err
			}
			v, _ := tb.String("v")
			svg := []byte(fmt.Sprintf("<svg><!-- %d --></svg>", len(v[0])))
			csv := []byte("k,v\nlen," + fmt.Sprint(len(v[0])) + "\n")
			manifest := cache.HashBytes(svg) + "  fig.svg\n" + cache.HashBytes(csv) + "  summary.csv\n"
			countRun("figures")
			for name, b := range map[string][]byte{"fig.svg": svg, "summary.csv": csv, "MANIFEST": []byte(manifest)} {
				if err := ctx.WriteFile(name, b); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// codeVersion fakes code edits: a stage's identity is "fake-<run><version>".
var codeVersion = map[string]string{}

func fakeCodeIdentity() (func(string, task.Func) (string, error), error) {
	return func(run string, _ task.Func) (string, error) { return "fake-" + run + codeVersion[run], nil }, nil
}

func TestMain(m *testing.M) {
	registry, codeIdentity = testRegistry, fakeCodeIdentity
	if os.Getenv("NMDYN_RUN_AS_MAIN") == "1" {
		// Re-executed as the `run` binary (a worker of --isolate).
		os.Exit(execute(os.Args[1:]))
	}
	selfCommand = func(args ...string) *exec.Cmd {
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), "NMDYN_RUN_AS_MAIN=1")
		return cmd
	}
	os.Exit(m.Run())
}

// newStudy writes the test pipeline and its session folder into a temp dir.
func newStudy(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "data", "s1"), 0o755)
	os.WriteFile(filepath.Join(dir, "data", "s1", "spikes.csv"), []byte("unit,time\n1,0.5\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "pipeline.yaml"), []byte(testPipeline), 0o644)
	return dir
}

// run executes the command line in dir's pipeline and returns exit code,
// stdout and stderr.
func run(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	full := append(args, "--pipeline", filepath.Join(dir, "pipeline.yaml"))
	code := executeIO(context.Background(), full, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRunAllStatusAndPartialRerun(t *testing.T) {
	dir := newStudy(t)
	code, out, errs := run(t, dir, "all")
	if code != 0 {
		t.Fatalf("run all: exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "8 run, 0 cached, 0 failed") {
		t.Errorf("first run all:\n%s", out)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "figures", "fig.svg")); err != nil || !bytes.HasPrefix(b, []byte("<svg>")) {
		t.Errorf("figures not published: %v", err)
	}
	// Second run: nothing executes, fast.
	start := time.Now()
	code, out, _ = run(t, dir, "all")
	if d := time.Since(start); code != 0 || !strings.Contains(out, "0 run, 8 cached") || d > time.Second {
		t.Errorf("second run all: exit %d in %v\n%s", code, d, out)
	}
	if code, out, _ = run(t, dir, "status"); code != 0 || !strings.Contains(out, "8 tasks: 8 fresh, 0 stale") {
		t.Errorf("status after run all: exit %d\n%s", code, out)
	}
	// A mid-DAG param: that stage and its downstream, and only they.
	code, out, _ = run(t, dir, "status", "--set", "prep.bin_ms=20")
	if code != 1 {
		t.Errorf("status --set: exit %d, want 1", code)
	}
	for _, want := range []string{"stale  prep", "params (prep.bin_ms: 50 -> 20)", "stale  fit[seed=1,variant=none]", "upstream", "stale  select", "stale  figures", "8 tasks: 1 fresh, 7 stale"} {
		if !strings.Contains(out, want) {
			t.Errorf("status --set lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "stale  session") {
		t.Errorf("session reported stale:\n%s", out)
	}
	before := runCount("session")
	code, out, _ = run(t, dir, "all", "--set", "prep.bin_ms=20")
	if code != 0 || !strings.Contains(out, "7 run, 1 cached") || runCount("session") != before {
		t.Errorf("run all --set: exit %d\n%s", code, out)
	}
	// Editing the session folder restales from the top, reason "input".
	os.WriteFile(filepath.Join(dir, "data", "s1", "spikes.csv"), []byte("unit,time\n1,0.75\n"), 0o644)
	code, out, _ = run(t, dir, "status")
	if code != 1 || !strings.Contains(out, "stale  session") || !strings.Contains(out, "input") {
		t.Errorf("status after editing the session:\n%s", out)
	}
	// A code edit of one stage: it and its downstream, reason "code".
	run(t, dir, "all")
	codeVersion["select"] = "-v2"
	defer delete(codeVersion, "select")
	code, out, _ = run(t, dir, "status")
	if code != 1 || !strings.Contains(out, "stale  select   code") || !strings.Contains(out, "stale  figures  upstream") || !strings.Contains(out, "6 fresh, 2 stale") {
		t.Errorf("status after a code edit:\n%s", out)
	}
	code, out, _ = run(t, dir, "why", "select")
	if code != 1 || !strings.Contains(out, "select: stale (code)") || !strings.Contains(out, "code      CHANGED") || !strings.Contains(out, "params    same") {
		t.Errorf("why select:\n%s", out)
	}
	code, out, _ = run(t, dir, "why", "prep")
	if code != 0 || !strings.Contains(out, "prep: fresh") || !strings.Contains(out, "committed") {
		t.Errorf("why prep:\n%s", out)
	}
}

func TestStageVerb(t *testing.T) {
	dir := newStudy(t)
	code, out, errs := run(t, dir, "stage", "fit")
	if code != 0 || !strings.Contains(out, "6 run, 0 cached") {
		t.Fatalf("stage fit: exit %d\n%s%s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "figures")); err == nil {
		t.Error("stage fit published figures")
	}
	code, out, _ = run(t, dir, "stage", "select", "--force", "--downstream")
	if code != 0 || !strings.Contains(out, "2 run, 6 cached") {
		t.Errorf("stage select --force --downstream: exit %d\n%s", code, out)
	}
	code, _, errs = run(t, dir, "stage", "fitt")
	if code != 2 || !strings.Contains(errs, `no stage "fitt"`) || !strings.Contains(errs, `did you mean "fit"`) {
		t.Errorf("unknown stage: exit %d, %s", code, errs)
	}
}

func TestOutputsDagGC(t *testing.T) {
	dir := newStudy(t)
	if code, out, _ := run(t, dir, "outputs", "fit"); code != 1 {
		t.Errorf("outputs of a stale stage: exit %d\n%s", code, out)
	}
	run(t, dir, "all")
	code, out, _ := run(t, dir, "outputs", "fit")
	paths := strings.Fields(out)
	if code != 0 || len(paths) != 4 {
		t.Fatalf("outputs fit: exit %d\n%s", code, out)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		tb, err := table.ReadParquet(bytes.NewReader(b), int64(len(b)))
		if err != nil || !tb.Has("v") {
			t.Errorf("%s: not the table written: %v", p, err)
		}
	}
	_, out, _ = run(t, dir, "outputs", "figures", "--files", "--long")
	if !strings.Contains(out, "figures\tfig.svg\t") {
		t.Errorf("outputs --files --long:\n%s", out)
	}

	_, out, _ = run(t, dir, "dag")
	if !strings.Contains(out, "fit      fit      4 tasks: seed x variant  prep") {
		t.Errorf("dag text:\n%s", out)
	}
	_, out, _ = run(t, dir, "dag", "--format", "dot", "--set", "fit.seeds=[1,2,3]")
	if !strings.Contains(out, `"fit" [label="fit\n6 tasks: seed x variant"]`) || !strings.Contains(out, `"prep" -> "fit";`) {
		t.Errorf("dag dot:\n%s", out)
	}
	_, out, _ = run(t, dir, "dag", "--format", "mermaid")
	if !strings.HasPrefix(out, "flowchart LR\n") || !strings.Contains(out, "s1 --> s2") {
		t.Errorf("dag mermaid:\n%s", out)
	}
	if code, _, _ := run(t, dir, "dag", "--format", "png"); code != 2 {
		t.Errorf("dag --format png: exit %d", code)
	}

	// gc with another param: what only the default params reach goes; status
	// then names the param that differs from the last commit.
	run(t, dir, "all", "--set", "figs.dpi=300")
	code, out, _ = run(t, dir, "gc", "--set", "figs.dpi=300")
	if code != 0 || !strings.Contains(out, "removed 1 manifests") {
		t.Errorf("gc: exit %d\n%s", code, out)
	}
	if code, out, _ := run(t, dir, "status", "--set", "figs.dpi=300"); code != 0 {
		t.Errorf("status after gc: %s", out)
	}
	if code, out, _ := run(t, dir, "status"); code != 1 || !strings.Contains(out, "stale  figures  params (figs.dpi: 300 -> 100)") {
		t.Errorf("status of the collected task: exit %d\n%s", code, out)
	}
}

func TestExitCodes(t *testing.T) {
	dir := newStudy(t)
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"all", "--set", "prep.bin_mss=3"}, 2, `unknown param "prep.bin_mss" (did you mean "prep.bin_ms"?)`},
		{[]string{"all", "--set", "prep.bin_ms"}, 2, "want key=value"},
		{[]string{"all", "--nope"}, 2, "unknown flag: --nope"},
		{[]string{"nope"}, 2, `unknown command "nope"`},
		{[]string{"why"}, 2, "accepts 1 arg"},
		{[]string{"all", "extra"}, 2, "unknown command"},
	} {
		code, _, errs := run(t, dir, c.args...)
		if code != c.code || !strings.Contains(errs, c.msg) {
			t.Errorf("%v: exit %d, %q; want %d, %q", c.args, code, errs, c.code, c.msg)
		}
	}
	// An invalid pipeline: exit 4, with file:line:column.
	os.WriteFile(filepath.Join(dir, "pipeline.yaml"), []byte(strings.Replace(testPipeline, "inputs: [fit]", "inputs: [fitt]", 1)), 0o644)
	code, _, errs := run(t, dir, "status")
	if code != 4 || !strings.Contains(errs, "pipeline.yaml:14:42: stage \"select\": input \"fitt\" is not a stage") {
		t.Errorf("bad pipeline: exit %d, %s", code, errs)
	}
	// A failing task: exit 1.
	os.WriteFile(filepath.Join(dir, "pipeline.yaml"), []byte(strings.Replace(testPipeline, "data/s1", "data/none", 1)), 0o644)
	code, _, errs = run(t, dir, "all")
	if code != 1 || !strings.Contains(errs, "data/none") {
		t.Errorf("missing session folder: exit %d, %s", code, errs)
	}
	// The help lists the exit codes.
	var out bytes.Buffer
	executeIO(context.Background(), []string{"--help"}, &out, &out)
	if !strings.Contains(out.String(), "3    the cache is locked by another run") {
		t.Errorf("help:\n%s", out.String())
	}
}

// Two runs at once on one cache: the second exits with the locked code, or
// waits with --wait; nothing is corrupted.
func TestConcurrentRuns(t *testing.T) {
	dir := newStudy(t)
	gate = make(chan struct{})
	defer func() { gate = nil }()
	first := make(chan int, 1)
	go func() {
		code, _, _ := run(t, dir, "all")
		first <- code
	}()
	store, _ := cache.Open(afero.NewOsFs(), filepath.Join(dir, ".nmdyn"))
	for deadline := time.Now().Add(10 * time.Second); store.ReadLock() == nil; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("first run never took the lock")
		}
	}
	code, _, errs := run(t, dir, "all")
	if code != 3 || !strings.Contains(errs, "cache is locked by another run") {
		t.Fatalf("second run: exit %d, %s", code, errs)
	}
	// Readers need no lock.
	if code, _, _ := run(t, dir, "status"); code != 1 {
		t.Errorf("status during a run: exit %d", code)
	}
	third := make(chan string, 1)
	go func() {
		code, out, errs := run(t, dir, "all", "--wait")
		third <- fmt.Sprintf("%d\n%s%s", code, out, errs)
	}()
	select {
	case r := <-third:
		t.Fatalf("--wait returned while the lock was held: %s", r)
	case <-time.After(200 * time.Millisecond):
	}
	close(gate)
	if code := <-first; code != 0 {
		t.Fatalf("first run: exit %d", code)
	}
	r := <-third
	if !strings.HasPrefix(r, "0\n") || !strings.Contains(r, "0 run, 8 cached") || !strings.Contains(r, "waiting for the cache lock held by pid") {
		t.Errorf("waiting run:\n%s", r)
	}
	if code, out, _ := run(t, dir, "status"); code != 0 {
		t.Errorf("status after both:\n%s", out)
	}
}

// --isolate runs every task in a child process through `run exec`.
func TestIsolate(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := newStudy(t)
	before := runCount("fit")
	code, out, errs := run(t, dir, "all", "--isolate", "-j", "2")
	if code != 0 || !strings.Contains(out, "8 run") {
		t.Fatalf("all --isolate: exit %d\n%s%s", code, out, errs)
	}
	if runCount("fit") != before {
		t.Error("tasks ran in the controller process")
	}
	code, out, _ = run(t, dir, "why", "fit")
	if code != 0 || !strings.Contains(out, "peak RSS") || !strings.Contains(out, "(task)") {
		t.Errorf("why fit after --isolate:\n%s", out)
	}
	// The same outputs as in process.
	dir2 := newStudy(t)
	run(t, dir2, "all")
	_, a, _ := run(t, dir, "outputs", "select")
	_, b, _ := run(t, dir2, "outputs", "select")
	if filepath.Base(strings.TrimSpace(a)) != filepath.Base(strings.TrimSpace(b)) {
		t.Errorf("isolated and in-process select outputs differ: %s vs %s", a, b)
	}
}

func TestVerify(t *testing.T) {
	dir := newStudy(t)
	run(t, dir, "all")
	code, out, errs := run(t, dir, "verify")
	if code != 0 || !strings.Contains(out, "verify figures: every file matches") {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errs)
	}
	// A committed figure edited by hand is reported.
	os.WriteFile(filepath.Join(dir, "figures", "fig.svg"), []byte("<svg>edited</svg>"), 0o644)
	code, out, _ = run(t, dir, "verify")
	if code != 1 || !strings.Contains(out, "fig.svg: the committed file does not match its MANIFEST line") {
		t.Errorf("verify after an edit: exit %d\n%s", code, out)
	}
	// One value of a committed figure table altered, with its MANIFEST line
	// updated to match (a consistent but wrong commit): the regenerated table
	// differs in that value and verify fails, naming the column.
	run(t, dir, "all") // republish: undo the edit above
	csvPath := filepath.Join(dir, "figures", "summary.csv")
	orig, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(orig), "\n")
	k, v, _ := strings.Cut(lines[1], ",")
	lines[1] = k + "," + v + "1" // e.g. 3 -> 31
	altered := []byte(strings.Join(lines, "\n"))
	if err := os.WriteFile(csvPath, altered, 0o644); err != nil {
		t.Fatal(err)
	}
	manPath := filepath.Join(dir, "figures", "MANIFEST")
	man, err := os.ReadFile(manPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(man), cache.HashBytes(orig)+"  summary.csv") {
		t.Fatalf("MANIFEST does not list the committed summary.csv:\n%s", man)
	}
	if err := os.WriteFile(manPath, []byte(strings.Replace(string(man), cache.HashBytes(orig), cache.HashBytes(altered), 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = run(t, dir, "verify")
	if code != 1 || !strings.Contains(out, `summary.csv: column "v": 1 of 1 rows differ`) {
		t.Errorf("verify after altering one table value: exit %d\n%s", code, out)
	}
	// The project's cache was not used: status still says fresh.
	if code, out, _ := run(t, dir, "status"); code != 0 {
		t.Errorf("status after verify:\n%s", out)
	}
}

// An exec job refuses to run code other than the controller's.
func TestExecCodeMismatch(t *testing.T) {
	dir := newStudy(t)
	codeVersion["prep"] = "-controller"
	code, _, _ := run(t, dir, "stage", "session")
	delete(codeVersion, "prep")
	if code != 0 {
		t.Fatal("stage session failed")
	}
	// Build a job as the controller would, for prep with the "controller" code,
	// and run it with this process's code.
	codeVersion["prep"] = "-controller"
	g := &globalOptions{pipeline: filepath.Join(dir, "pipeline.yaml")}
	p, err := openProject(g, true)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := p.engine.Plan()
	delete(codeVersion, "prep")
	if err != nil {
		t.Fatal(err)
	}
	spec := plan.JobSpec(plan.StageTasks("prep")[0], 1, "test")
	specPath := filepath.Join(dir, "job.json")
	if err := writeJSON(specPath, spec); err != nil {
		t.Fatal(err)
	}
	code, _, errs := run(t, dir, "exec", specPath)
	if code != 1 || !strings.Contains(errs, "differs from the controller's") {
		t.Errorf("exec with other code: exit %d, %s", code, errs)
	}
	if b, err := os.ReadFile(specPath + ".result.json"); err != nil || !strings.Contains(string(b), `"ok": false`) {
		t.Errorf("result file: %s %v", b, err)
	}
}

func writeJSON(path string, v any) error {
	return dagWriteJSON(path, v)
}
