package dag

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"

	"nmdyn/cache"
	"nmdyn/stages/task"
)

// The Slurm executor's logic (submission, polling, retries, cancellation,
// adoption after a restart, quoting) is tested here on fakeSlurm, whose jobs
// run real shell scripts that re-execute this test binary as `run exec`
// (TestSlurmWorkerProcess). slurm_integration_test.go runs the same on a real
// cluster.

// slurmYAML uses every stage kind: a single task, a fan-out (seed x variant),
// a gather of the fan-out, and a publishing stage. The run of b is set per test.
const slurmYAML = `
params:
  a: {x: 1}
  b: {seeds: [1, 2]}
stages:
  - {name: a, run: a, params: [a]}
  - name: b
    run: %s
    inputs: [a]
    params: [b]
    foreach: {seed: '${b.seeds}', variant: [p, q]}
  - {name: c, run: c, inputs: [b]}
  - {name: figs, run: figs, inputs: [c], publish: figures}
`

const slurmWorkerEnv = "NMDYN_SLURM_TEST_WORKER"

// slurmRegistry: b waits for a file "release" in the project when run as
// "wait", and fails when run as "boom".
func slurmRegistry(c *counts) map[string]task.Func {
	b := fake(c, "b", "a")
	return map[string]task.Func{
		"a": fake(c, "a"), "b": b, "c": fake(c, "c", "b"), "figs": fake(c, "figs", "c"),
		"wait": func(ctx task.Context) error {
			for {
				if _, err := os.Stat(filepath.Join(ctx.ProjectRoot(), "release")); err == nil {
					return b(ctx)
				}
				select {
				case <-ctx.Ctx().Done():
					return ctx.Ctx().Err()
				case <-time.After(10 * time.Millisecond):
				}
			}
		},
		"boom": func(task.Context) error { return errors.New("boom: the data are bad") },
	}
}

func slurmCode(run string, _ task.Func) (string, error) { return "code-of-" + run, nil }

// TestSlurmWorkerProcess is `run exec` inside the fake cluster's jobs: the
// wrapper script (slurmWrapper) runs this binary with the job's argv after --.
func TestSlurmWorkerProcess(t *testing.T) {
	if os.Getenv(slurmWorkerEnv) != "1" {
		t.Skip("the worker of the Slurm executor tests (run by their jobs)")
	}
	args := flag.Args() // exec --cache C --result R SPEC
	if len(args) != 6 || args[0] != "exec" || args[1] != "--cache" || args[3] != "--result" {
		fmt.Fprintf(os.Stderr, "worker: unexpected argv %q\n", args)
		os.Exit(2)
	}
	fs := afero.NewOsFs()
	spec, err := ReadJobSpec(fs, args[5])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	store, err := cache.Open(fs, args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if spec.CacheRoot != args[2] {
		fmt.Fprintf(os.Stderr, "worker: --cache %q, job cache_root %q\n", args[2], spec.CacheRoot)
		os.Exit(2)
	}
	spec.JobID = os.Getenv("NMDYN_JOB_ID")
	var c counts
	env := JobEnv{Store: store, Registry: slurmRegistry(&c), Code: slurmCode, RSSScope: "task"}
	_, runErr := RunJob(context.Background(), env, spec)
	if err := WriteJSONAtomic(fs, args[4], ResultOf(runErr)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if runErr != nil {
		fmt.Fprintln(os.Stderr, runErr)
		os.Exit(1)
	}
	os.Exit(0)
}

// slurmWrapper writes the "nmdyn binary" of the fake cluster's jobs into dir:
// a script re-executing this test binary as the worker.
func slurmWrapper(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "nmdyn worker's \"bin\"")
	script := "#!/bin/sh\nexec " + shellQuote(os.Args[0]) + " -test.run='^TestSlurmWorkerProcess$' -test.count=1 -- \"$@\"\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// weirdName is a directory name a shell line built by concatenation would
// break on: spaces, both quotes, $, backquotes, a glob and a Slurm % pattern.
const weirdName = `it's a "dir" $HOME ` + "`x`" + ` * %j`

type slurmTest struct {
	*Engine
	project, cacheDir string
	fake              *fakeSlurm
	log               *Collector
}

// newSlurmTest writes the pipeline (b run as bRun) into a project directory and
// opens a cache, both under names full of shell metacharacters.
func newSlurmTest(t *testing.T, bRun string) *slurmTest {
	t.Helper()
	base := t.TempDir()
	project := filepath.Join(base, "project "+weirdName)
	cacheDir := filepath.Join(base, "cache "+weirdName)
	if err := os.MkdirAll(project, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(project, "pipeline.yaml")
	if err := os.WriteFile(file, []byte(fmt.Sprintf(slurmYAML, bRun)), 0o644); err != nil {
		t.Fatal(err)
	}
	st := &slurmTest{project: project, cacheDir: cacheDir, fake: newFakeSlurm(t), log: &Collector{}}
	st.Engine = st.engine(t)
	return st
}

// engine opens the project and cache anew, as a restarted controller does.
func (st *slurmTest) engine(t *testing.T) *Engine {
	t.Helper()
	pl, err := Load(filepath.Join(st.project, "pipeline.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	store, err := cache.Open(afero.NewOsFs(), st.cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	var c counts
	st.log = &Collector{}
	return &Engine{Pipeline: pl, Registry: slurmRegistry(&c), Store: store, Report: st.log, Version: "test", Code: slurmCode}
}

func (st *slurmTest) executor(t *testing.T) *SlurmExecutor {
	return &SlurmExecutor{Config: &SlurmConfig{Retries: 2, Defaults: SlurmResources{Partition: "debug", CPUs: 1}},
		Binary: slurmWrapper(t, filepath.Dir(st.project)), Env: []string{slurmWorkerEnv + "=1"},
		Run: st.fake.runner, Poll: 20 * time.Millisecond, ExitGrace: 300 * time.Millisecond, User: "tester"}
}

func (st *slurmTest) plan(t *testing.T) *Plan {
	t.Helper()
	p, err := st.Plan()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// logs is every log line of the run so far.
func (st *slurmTest) logs() string {
	st.log.mu.Lock()
	defer st.log.mu.Unlock()
	var b strings.Builder
	for _, ev := range st.log.Events {
		if ev.Kind == EventLog || ev.Kind == EventWarn {
			label := ""
			if ev.Task != nil {
				label = ev.Task.Label
			}
			fmt.Fprintf(&b, "%s: %s\n", label, ev.Note)
		}
	}
	return b.String()
}

// outputs maps every task of a plan to its outputs' names and object hashes.
func outputs(t *testing.T, store *cache.Store, p *Plan) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, task := range p.Tasks {
		m, err := store.ReadManifest(task.Key)
		if err != nil {
			t.Fatalf("%s: %v", task.Label, err)
		}
		var parts []string
		for _, o := range m.Outputs {
			parts = append(parts, o.Name+"="+o.Hash)
		}
		out[task.Label] = strings.Join(parts, " ")
	}
	return out
}

// noTemps fails if the cache holds temp files of unfinished writes.
func noTemps(t *testing.T, root string) {
	t.Helper()
	filepath.Walk(filepath.Join(root, "objects"), func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasPrefix(info.Name(), ".tmp-") {
			t.Errorf("partial write left in the cache: %s", p)
		}
		return nil
	})
}

// A run through Slurm commits the same bytes as a local run, with a cache and
// a project whose paths are full of shell metacharacters.
func TestSlurmMatchesLocal(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	st := newSlurmTest(t, "b")
	ex := st.executor(t)
	sum, err := st.Run(context.Background(), st.plan(t), RunOptions{Executor: ex})
	if err != nil {
		t.Fatalf("%v\n%s", err, st.logs())
	}
	if sum.Ran != 7 || st.fake.ranScripts() != 7 || st.fake.count("sbatch") != 7 {
		t.Fatalf("ran %d tasks, %d job scripts, %d sbatch calls; want 7 each", sum.Ran, st.fake.ranScripts(), st.fake.count("sbatch"))
	}
	// Local, in another cache.
	local := *st.Engine
	store, _ := cache.Open(afero.NewOsFs(), filepath.Join(t.TempDir(), "local"))
	local.Store = store
	if _, err := local.Run(context.Background(), st.plan(t), RunOptions{Executor: &LocalExecutor{Jobs: 2}}); err != nil {
		t.Fatal(err)
	}
	a, b := outputs(t, st.Store, st.plan(t)), outputs(t, store, st.plan(t))
	for label, o := range a {
		if b[label] != o {
			t.Errorf("%s: slurm %s, local %s", label, o, b[label])
		}
	}
	if len(a) != 7 {
		t.Errorf("%d tasks compared", len(a))
	}
	// Provenance: executor and Slurm job id; the task's files are gone.
	m, _ := st.Store.ReadManifest(st.plan(t).StageTasks("c")[0].Key)
	if m.Provenance.Executor != "slurm" || m.Provenance.JobID == "" || m.Provenance.Threads != 1 {
		t.Errorf("provenance %+v", m.Provenance)
	}
	if ents, _ := os.ReadDir(filepath.Join(st.cacheDir, "jobs", "slurm")); len(ents) != 0 {
		t.Errorf("job directories left after success: %d", len(ents))
	}
	if _, err := os.Stat(filepath.Join(st.project, "figures", "out.parquet")); err != nil {
		t.Errorf("not published: %v", err)
	}
	// Each sbatch: argv only, the reserved options and the resources.
	for _, c := range st.fake.callsOf("sbatch") {
		if !strings.Contains(c, "--parsable --job-name=nmdyn-") || !strings.Contains(c, "--partition=debug --cpus-per-task=1") {
			t.Errorf("sbatch call %q", c)
		}
	}
}

// The job script passes paths full of metacharacters to the binary as exactly
// those argv elements, and sbatch finds no #SBATCH directive in it.
func TestSlurmJobScriptQuoting(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "job "+weirdName+"\n#SBATCH --evil")
	os.MkdirAll(dir, 0o755)
	bin := filepath.Join(filepath.Dir(dir), "bin 'q' $(touch pwned)")
	argvFile := filepath.Join(filepath.Dir(dir), "argv")
	os.WriteFile(bin, []byte("#!/bin/sh\nfor a; do printf '%s\\0' \"$a\"; done >"+shellQuote(argvFile)+"\nprintf '%s' \"$WEIRD\" >>"+shellQuote(argvFile)+"\n"), 0o755)
	cacheRoot := "/shared/cache " + weirdName + "\n;rm -rf /"
	weirdEnv := `a'b"c $HOME ` + "`id`"
	script, err := jobScript(bin, cacheRoot, dir, 2, []string{"WEIRD=" + weirdEnv})
	if err != nil {
		t.Fatal(err)
	}
	// sbatch reads #SBATCH lines only before the first command.
	for _, line := range strings.Split(script, "\n")[1:] {
		if strings.HasPrefix(line, "#SBATCH") {
			t.Errorf("an #SBATCH line in the script: %q", line)
		}
		if !strings.HasPrefix(line, "#") {
			break
		}
	}
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Env = append(os.Environ(), "SLURM_JOB_ID=77")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("script: %v\n%s", err, out)
	}
	b, err := os.ReadFile(argvFile)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(string(b), "\x00")
	want := []string{"exec", "--cache", cacheRoot, "--result", filepath.Join(dir, "result.json"), filepath.Join(dir, "job.json"), weirdEnv}
	if fmt.Sprintf("%q", parts) != fmt.Sprintf("%q", want) {
		t.Errorf("argv\n got %q\nwant %q", parts, want)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "pwned")); err == nil {
		t.Error("a command substitution in a path ran")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "exit")); string(b) != "0\n" {
		t.Errorf("exit file %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "started")); !strings.HasSuffix(string(b), " 77\n") {
		t.Errorf("started file %q", b)
	}
	if _, err := jobScript(bin, "a\x00b", dir, 0, nil); err == nil {
		t.Error("a NUL byte was accepted")
	}
	if _, err := jobScript(bin, "/c", dir, 0, []string{"A B=1"}); err == nil {
		t.Error("a bad environment name was accepted")
	}
}

func TestSbatchArgs(t *testing.T) {
	r := SlurmResources{Partition: "gpu", Account: "lab", Time: "2:00:00", Mem: "4G", CPUs: 2, SbatchArgs: []string{"--qos=long"}}
	got := sbatchArgs("nmdyn-x", "/c/100%/j", "/c/100%/j/job.sh", r)
	want := []string{"--parsable", "--job-name=nmdyn-x", "--output=/c/100%%/j/slurm.out", "--chdir=/c/100%/j",
		"--partition=gpu", "--account=lab", "--time=2:00:00", "--mem=4G", "--cpus-per-task=2", "--qos=long", "/c/100%/j/job.sh"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sbatch args\n got %q\nwant %q", got, want)
	}
	if got := sbatchArgs("n", `/c\d`, "/s", SlurmResources{}); got[2] != "--output=/dev/null" {
		t.Errorf("a backslash path: %q", got[2])
	}
}

// A node failure or preemption resubmits the task (bounded); a task's own
// failure does not.
func TestSlurmRetries(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	st := newSlurmTest(t, "b")
	st.fake.failNext = []string{"NODE_FAIL"} // a's first job
	ex := st.executor(t)
	if _, err := st.Run(context.Background(), st.plan(t), RunOptions{Executor: ex}); err != nil {
		t.Fatalf("%v\n%s", err, st.logs())
	}
	if n := st.fake.count("sbatch"); n != 8 {
		t.Errorf("%d sbatch calls, want 8 (7 tasks + 1 resubmission)", n)
	}
	if !strings.Contains(st.logs(), "ended with NODE_FAIL; resubmitting (retry 1 of 2)") {
		t.Errorf("no retry message:\n%s", st.logs())
	}

	// Preempted three times with two retries: the task fails, saying so.
	st = newSlurmTest(t, "b")
	st.fake.failNext = []string{"PREEMPTED", "BOOT_FAIL", "PREEMPTED"}
	_, err := st.Run(context.Background(), st.plan(t), RunOptions{Executor: st.executor(t)})
	var re *RunError
	if !errors.As(err, &re) || len(re.Failures) != 1 || re.Failures[0].Task.Label != "a" ||
		!strings.Contains(err.Error(), "ended with PREEMPTED; given up after 3 submission(s) (executor.slurm.retries is 2)") {
		t.Errorf("err = %v", err)
	}

	// A failing stage: reported with its own message, not retried, nothing
	// committed, its log kept.
	st = newSlurmTest(t, "boom")
	_, err = st.Run(context.Background(), st.plan(t), RunOptions{Executor: st.executor(t), KeepGoing: true})
	if err == nil || !strings.Contains(err.Error(), "boom: the data are bad (Slurm job") || st.fake.count("sbatch") != 5 {
		t.Errorf("err = %v; %d sbatch calls (want 1 + 4)", err, st.fake.count("sbatch"))
	}
	for _, task := range st.plan(t).StageTasks("b") {
		if st.Store.HasManifest(task.Key) {
			t.Errorf("%s committed", task.Label)
		}
		if _, err := os.Stat(filepath.Join(st.cacheDir, "jobs", "slurm", task.Key, "1", "slurm.out")); err != nil {
			t.Errorf("%s: log not kept: %v", task.Label, err)
		}
	}
}

// Jobs ended by Slurm for a reason of the task's own fail it, saying which
// setting to change; none is resubmitted.
func TestSlurmJobStates(t *testing.T) {
	for _, c := range []struct{ state, want string }{
		{"TIMEOUT", "ran out of time (--time not set: the partition's default): raise executor.slurm.stages.a.time in pipeline.yaml"},
		{"OUT_OF_MEMORY", "ran out of memory (--mem not set: the partition's default): raise executor.slurm.stages.a.mem"},
		{"CANCELLED", "was cancelled outside nmdyn (scancel or an administrator); nothing of it was committed"},
		{"FAILED 97:0", "could not write into"},
		{"DEADLINE", "ended (DEADLINE, exit 0:0) but its exit file never appeared"},
	} {
		st := newSlurmTest(t, "b")
		st.fake.failNext = []string{c.state}
		_, err := st.Run(context.Background(), st.plan(t), RunOptions{Executor: st.executor(t)})
		if err == nil || !strings.Contains(err.Error(), c.want) || st.fake.count("sbatch") != 1 {
			t.Errorf("%s: %d sbatch calls, err = %v", c.state, st.fake.count("sbatch"), err)
		}
	}
}

// A job killed by a signal whose script survived to record the code (143 after
// SIGTERM): the task's fate is Slurm's job state, not "exited with 143": a
// cancelled job is reported as cancelled, a preempted one resubmitted, and a job
// Slurm calls FAILED keeps the exit-code message.
func TestSlurmSignalledJob(t *testing.T) {
	for _, c := range []struct {
		state, want string
		sbatch      int
	}{
		{"CANCELLED", "was cancelled outside nmdyn", 1},
		{"TIMEOUT", "ran out of time", 1},
		{"FAILED 15:0", "run exec exited with code 143 in Slurm job", 1},
		{"PREEMPTED", "", -1}, // resubmitted: one sbatch more than a clean run
	} {
		if c.sbatch < 0 {
			clean := newSlurmTest(t, "b")
			if _, err := clean.Run(context.Background(), clean.plan(t), RunOptions{Executor: clean.executor(t)}); err != nil {
				t.Fatal(err)
			}
			c.sbatch = clean.fake.count("sbatch") + 1
		}
		st := newSlurmTest(t, "b")
		st.fake.failNext = []string{c.state}
		st.fake.failExit = "143"
		_, err := st.Run(context.Background(), st.plan(t), RunOptions{Executor: st.executor(t)})
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) || st.fake.count("sbatch") != c.sbatch {
			t.Errorf("%s: %d sbatch calls (want %d), err = %v", c.state, st.fake.count("sbatch"), c.sbatch, err)
		}
	}
}

// waitRunning waits until n jobs run in the fake cluster.
func waitRunning(t *testing.T, f *fakeSlurm, n int) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ids := f.inState("RUNNING")
		if len(ids) >= n {
			return ids
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d jobs running after 20 s, want %d; calls:\n%s", len(ids), n, strings.Join(f.callsOf(""), "\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startedFile waits until a running job's start file shows it executes.
func waitStarted(t *testing.T, cacheDir string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		found, _ := filepath.Glob(filepath.Join(cacheDir, "jobs", "slurm", "*", "*", "started"))
		if len(found) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d start files, want %d", len(found), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type runOutcome struct {
	sum *Summary
	err error
}

func (st *slurmTest) runAsync(ctx context.Context, t *testing.T, ex Executor) chan runOutcome {
	ch := make(chan runOutcome, 1)
	e, p := st.Engine, st.plan(t)
	go func() {
		s, err := e.Run(ctx, p, RunOptions{Executor: ex, KeepGoing: true})
		ch <- runOutcome{s, err}
	}()
	return ch
}

// scancel of a running job from outside: its task fails with the reason and
// nothing of it is cached; Ctrl-C cancels every job with one scancel.
func TestSlurmCancel(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	st := newSlurmTest(t, "wait")
	done := st.runAsync(context.Background(), t, st.executor(t))
	ids := waitRunning(t, st.fake, 4) // the four b jobs (a finished)
	waitStarted(t, st.cacheDir, 4)
	st.fake.end(ids[len(ids)-1], "CANCELLED") // as scancel would
	os.WriteFile(filepath.Join(st.project, "release"), nil, 0o644)
	out := <-done
	var re *RunError
	if !errors.As(out.err, &re) || len(re.Failures) != 1 || !strings.Contains(out.err.Error(), "was cancelled outside nmdyn") {
		t.Fatalf("err = %v", out.err)
	}
	if failed := re.Failures[0].Task; st.Store.HasManifest(failed.Key) {
		t.Error("the cancelled task was committed")
	}
	if out.sum.Ran != 4 || out.sum.Skipped != 2 {
		t.Errorf("summary %+v", out.sum)
	}
	noTemps(t, st.cacheDir)

	// Ctrl-C: every job is cancelled at once; the run returns promptly.
	st = newSlurmTest(t, "wait")
	ctx, cancel := context.WithCancel(context.Background())
	done = st.runAsync(ctx, t, st.executor(t))
	ids = waitRunning(t, st.fake, 4)
	waitStarted(t, st.cacheDir, 4)
	start := time.Now()
	cancel()
	out = <-done
	if !errors.Is(out.err, context.Canceled) || time.Since(start) > 5*time.Second {
		t.Errorf("interrupted run: %v after %v", out.err, time.Since(start))
	}
	calls := st.fake.callsOf("scancel")
	if len(calls) != 1 || calls[0] != "scancel "+strings.Join(ids[len(ids)-4:], " ") {
		t.Errorf("scancel calls %q, want one for %v", calls, ids)
	}
	for _, task := range st.plan(t).StageTasks("b") {
		if st.Store.HasManifest(task.Key) {
			t.Errorf("%s committed after the interrupt", task.Label)
		}
	}
	noTemps(t, st.cacheDir)
}

// A controller killed outright (its jobs left running) and restarted adopts
// its running jobs instead of submitting them again: every task runs once.
func TestSlurmAdoptAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	st := newSlurmTest(t, "wait")
	first := st.executor(t)
	st.runAsync(context.Background(), t, first) // never returns: its controller dies
	ids := waitRunning(t, st.fake, 4)
	waitStarted(t, st.cacheDir, 4)
	first.kill()
	aKey := st.plan(t).StageTasks("a")[0].Key
	before, err := st.Store.ReadManifest(aKey)
	if err != nil {
		t.Fatal(err)
	}
	sbatches := st.fake.count("sbatch") // a and the four b

	// Jobs submitted from now on wait in the queue until released (c, after
	// the adopted b jobs finish).
	st.fake.mu.Lock()
	st.fake.hold = true
	st.fake.mu.Unlock()

	st.Engine = st.engine(t)
	second := st.executor(t)
	done := st.runAsync(context.Background(), t, second)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(st.logs(), "adopted Slurm job") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	os.WriteFile(filepath.Join(st.project, "release"), nil, 0o644)
	for st.fake.state(ids[len(ids)-1]) == "RUNNING" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	st.fake.release()
	out := <-done
	if out.err != nil {
		t.Fatalf("restarted run: %v\n%s", out.err, st.logs())
	}
	if out.sum.Cached != 1 || out.sum.Ran != 6 {
		t.Errorf("restarted run: %+v", out.sum)
	}
	if n := strings.Count(st.logs(), "adopted Slurm job"); n != 4 {
		t.Errorf("%d jobs adopted, want 4:\n%s", n, st.logs())
	}
	if got := st.fake.count("sbatch") - sbatches; got != 2 {
		t.Errorf("%d jobs submitted after the restart, want 2 (c and figs)", got)
	}
	if st.fake.ranScripts() != 7 {
		t.Errorf("%d job scripts ran, want 7 (each task once)", st.fake.ranScripts())
	}
	after, _ := st.Store.ReadManifest(aKey)
	if after.Provenance.JobID != before.Provenance.JobID || !after.Provenance.End.Equal(before.Provenance.End) {
		t.Errorf("a recommitted: %+v then %+v", before.Provenance, after.Provenance)
	}
	// Each b task's manifest comes from the job the first controller submitted.
	for _, task := range st.plan(t).StageTasks("b") {
		m, _ := st.Store.ReadManifest(task.Key)
		found := false
		for _, id := range ids {
			found = found || m.Provenance.JobID == id
		}
		if !found {
			t.Errorf("%s committed by job %s, not one of the adopted %v", task.Label, m.Provenance.JobID, ids)
		}
	}
}

// A restart after the jobs finished unwatched: their commits are reused, a
// failed attempt is submitted anew under the next attempt number.
func TestSlurmRestartAfterJobsEnded(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	st := newSlurmTest(t, "wait")
	first := st.executor(t)
	st.runAsync(context.Background(), t, first)
	ids := waitRunning(t, st.fake, 4)
	waitStarted(t, st.cacheDir, 4)
	first.kill()
	st.fake.end(ids[len(ids)-1], "NODE_FAIL")
	os.WriteFile(filepath.Join(st.project, "release"), nil, 0o644)
	for len(st.fake.inState("RUNNING")) > 0 {
		time.Sleep(10 * time.Millisecond)
	}
	st.Engine = st.engine(t)
	sum, err := st.Run(context.Background(), st.plan(t), RunOptions{Executor: st.executor(t)})
	if err != nil {
		t.Fatalf("%v\n%s", err, st.logs())
	}
	// a cached; three b committed unwatched (already in the cache at plan
	// time); the failed one resubmitted as attempt 2; c and figs.
	if sum.Cached != 4 || sum.Ran != 3 {
		t.Errorf("summary %+v", sum)
	}
	calls := st.fake.callsOf("sbatch")
	if !strings.Contains(strings.Join(calls, "\n"), "-2 --output=") {
		t.Errorf("no second attempt submitted:\n%s", strings.Join(calls, "\n"))
	}
}

// Polling is batched: one squeue listing per poll for all jobs, scontrol only
// for jobs gone without an exit file; with accounting, one sacct per poll
// with a start-time window; without it, sacct is tried once.
func TestSlurmPollingBatches(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	for _, accounting := range []bool{false, true} {
		st := newSlurmTest(t, "wait")
		st.fake.accounting = accounting
		ex := st.executor(t)
		ex.Poll = 50 * time.Millisecond
		var msgs []string
		ex.Log = func(s string) { msgs = append(msgs, s) }
		done := st.runAsync(context.Background(), t, ex)
		waitRunning(t, st.fake, 4)
		start := time.Now()
		before := map[string]int{}
		for _, c := range []string{"squeue", "sacct", "scontrol"} {
			before[c] = st.fake.count(c)
		}
		time.Sleep(500 * time.Millisecond)
		// The calls of these polls, while the four jobs wait.
		sq, sa := st.fake.count("squeue")-before["squeue"], st.fake.count("sacct")-before["sacct"]
		polls := int(time.Since(start)/ex.Poll) + 1
		os.WriteFile(filepath.Join(st.project, "release"), nil, 0o644)
		if out := <-done; out.err != nil {
			t.Fatal(out.err)
		}
		if st.fake.count("scontrol") != 0 {
			t.Errorf("accounting %v: scontrol called %d times for jobs that wrote exit files", accounting, st.fake.count("scontrol"))
		}
		if accounting {
			if sq > 1 || sa < polls/2 || sa > polls+1 {
				t.Errorf("accounting: %d squeue and %d sacct calls in %d polls", sq, sa, polls)
			}
			for _, c := range st.fake.callsOf("sacct") {
				if !strings.Contains(c, "--starttime=") || !strings.Contains(c, "--jobs=") {
					t.Errorf("sacct call %q", c)
				}
			}
		} else {
			if st.fake.count("sacct") != 1 || sq < polls/2 || sq > polls+1 {
				t.Errorf("no accounting: %d sacct calls (want 1), %d squeue calls in %d polls", st.fake.count("sacct"), sq, polls)
			}
			if !strings.Contains(strings.Join(msgs, "\n"), "sacct is not usable here (sacct: Slurm accounting storage is disabled): polling with squeue and scontrol") {
				t.Errorf("messages %q", msgs)
			}
		}
	}
}

// A node that does not see the cache: a job running without its start file
// appearing, or finished without its exit file, fails its task with a message
// saying so.
func TestSlurmCacheNotShared(t *testing.T) {
	st := newSlurmTest(t, "b")
	st.fake.noRun = true
	ex := st.executor(t)
	ex.StartGrace = 200 * time.Millisecond
	_, err := st.Run(context.Background(), st.plan(t), RunOptions{Executor: ex})
	if err == nil || !strings.Contains(err.Error(), "its start file never appeared") || !strings.Contains(err.Error(), "not on a filesystem that node sees") {
		t.Errorf("err = %v", err)
	}
	if st.fake.count("scancel") != 1 {
		t.Errorf("the hanging job was not cancelled")
	}

	st = newSlurmTest(t, "b")
	st.fake.skipScript = true
	ex = st.executor(t)
	_, err = st.Run(context.Background(), st.plan(t), RunOptions{Executor: ex})
	if err == nil || !strings.Contains(err.Error(), "ended (COMPLETED, exit 0:0) but its exit file never appeared") {
		t.Errorf("err = %v", err)
	}
	// A job purged from Slurm's memory without a trace is resubmitted, then
	// given up on.
	st = newSlurmTest(t, "b")
	st.fake.skipScript, st.fake.forget = true, true
	_, err = st.Run(context.Background(), st.plan(t), RunOptions{Executor: st.executor(t)})
	if err == nil || !strings.Contains(err.Error(), "vanished: Slurm has no record of it") || st.fake.count("sbatch") != 3 {
		t.Errorf("err = %v after %d sbatch calls (want 3)", err, st.fake.count("sbatch"))
	}
}

// sbatch refused for a while (a busy controller) is asked again; a request
// that reached Slurm despite the error is found by its name, not duplicated;
// a bad request fails at once.
func TestSlurmSbatchErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	st := newSlurmTest(t, "b")
	st.fake.sbatchErr = []error{&SlurmError{Cmd: "sbatch", Msg: "Batch job submission failed: Socket timed out on send/recv operation"}}
	if _, err := st.Run(context.Background(), st.plan(t), RunOptions{Executor: st.executor(t)}); err != nil {
		t.Fatalf("%v\n%s", err, st.logs())
	}
	if st.fake.count("sbatch") != 8 || !strings.Contains(st.logs(), "sbatch refused for now") {
		t.Errorf("%d sbatch calls (want 8)\n%s", st.fake.count("sbatch"), st.logs())
	}

	st = newSlurmTest(t, "b")
	st.fake.sbatchErr = []error{&SlurmError{Cmd: "sbatch", Msg: "Batch job submission failed: Invalid account or account/partition combination specified"}}
	_, err := st.Run(context.Background(), st.plan(t), RunOptions{Executor: st.executor(t)})
	if err == nil || !strings.Contains(err.Error(), "submitting to Slurm: sbatch: Batch job submission failed: Invalid account") || st.fake.count("sbatch") != 1 {
		t.Errorf("err = %v", err)
	}
}

// The cache and project on node-local paths are refused on a cluster of more
// than one node, and noted on one node.
func TestSlurmCheckShared(t *testing.T) {
	f := newFakeSlurm(t)
	ex := &SlurmExecutor{Run: f.runner, Config: &SlurmConfig{Defaults: SlurmResources{Partition: "debug"}}}
	f.nodes = []string{"n1", "n2", "n1"}
	_, err := ex.CheckShared(map[string]string{"cache": "/tmp/c", "project": "/home/u/p"})
	if err == nil || !strings.Contains(err.Error(), "the cache /tmp/c: it is under /tmp") || strings.Contains(err.Error(), "project") && strings.Contains(err.Error(), "/home/u/p:") ||
		!strings.Contains(err.Error(), "this cluster has 2 nodes") {
		t.Errorf("err = %v", err)
	}
	if c := f.callsOf("sinfo"); len(c) != 1 || !strings.Contains(c[0], "--partition=debug") {
		t.Errorf("sinfo calls %q", c)
	}
	f.nodes = []string{"n1"}
	res, err := ex.CheckShared(map[string]string{"cache": "/dev/shm/c"})
	if err != nil || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "fine on this one-node cluster (n1)") {
		t.Errorf("one node: %+v, %v", res, err)
	}
	if why := nodeLocal("/tmpx/c"); why != "" && !strings.Contains(why, "tmpfs") {
		t.Errorf("/tmpx counted as /tmp: %s", why)
	}
}

func TestStageBinary(t *testing.T) {
	store, err := cache.Open(afero.NewOsFs(), filepath.Join(t.TempDir(), "c"))
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(t.TempDir(), "run")
	os.WriteFile(exe, []byte("#!/bin/sh\necho hi\n"), 0o755)
	p, err := StageBinary(store, exe)
	if err != nil {
		t.Fatal(err)
	}
	// The name is the sha256 of the bytes (computed by cache.HashBytes).
	if filepath.Base(p) != cache.HashBytes([]byte("#!/bin/sh\necho hi\n")) || !filepath.IsAbs(p) {
		t.Errorf("staged as %s", p)
	}
	if out, err := exec.Command(p).Output(); err != nil || string(out) != "hi\n" {
		t.Errorf("staged binary: %q %v", out, err)
	}
	p2, err := StageBinary(store, exe)
	if err != nil || p2 != p {
		t.Errorf("second stage: %s %v", p2, err)
	}
	ents, _ := os.ReadDir(filepath.Dir(p))
	if len(ents) != 1 {
		t.Errorf("%d files in bin/", len(ents))
	}
}

// Parsers, on lines printed by Slurm 22.05 on this project's test cluster.
func TestSlurmParsers(t *testing.T) {
	sc := "JobId=1 JobName=j.sh UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901759 Nice=0 Account=(null) QOS=(null) JobState=COMPLETED Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:03 TimeLimit=UNLIMITED NodeList=vm BatchHost=vm Command=/tmp/a b/j.sh WorkDir=/tmp"
	j, ok := parseScontrol([]byte(sc))
	if !ok || j.ID != "1" || j.State != "COMPLETED" || j.Exit != "0:0" || j.Node != "vm" || j.Name != "j.sh" {
		t.Errorf("scontrol: %+v", j)
	}
	q := parseSqueue([]byte("2|nmdyn-0123abcd-0123456789abcdef-1|PENDING||Priority\n3|other|RUNNING|vm|None\n4|nmdyn-x|RUNNING|vm|None\n"), "nmdyn-0123abcd-")
	if len(q) != 1 || q[0].ID != "2" || q[0].State != "PENDING" || q[0].Reason != "Priority" {
		t.Errorf("squeue: %+v", q)
	}
	s := parseSacct([]byte("5|n|CANCELLED by 0|0:15|vm\n6|n|REQUEUED|0:0|vm\n6|n|NODE_FAIL|0:0|None assigned\n"))
	if s["5"].State != "CANCELLED" || s["6"].State != "NODE_FAIL" || s["6"].Node != "" {
		t.Errorf("sacct: %+v", s)
	}
	for out, want := range map[string]string{"12\n": "12", "13;cluster\n": "13", "warning: x\n14\n": "14"} {
		if id, err := parseSbatch([]byte(out)); err != nil || id != want {
			t.Errorf("sbatch %q: %q %v", out, id, err)
		}
	}
	if _, err := parseSbatch([]byte("Submitted batch job 12\n")); err == nil {
		t.Error("a non-parsable sbatch output was read")
	}
	ids := []string{"10", "9", "100"}
	sortIDs(ids)
	if fmt.Sprint(ids) != "[9 10 100]" {
		t.Errorf("sorted ids %v", ids)
	}
	if n, ok := attemptOfName("nmdyn-a-b-12", "nmdyn-a-b-"); !ok || n != 12 {
		t.Errorf("attempt %d %v", n, ok)
	}
	names := []string{}
	for _, a := range []string{"--job-name=x", "-Jx", "--out=f", "--chdir=/", "-a1-3", "--wrap=x", "--hold"} {
		if checkSbatchArg(a) == "" {
			names = append(names, a)
		}
	}
	for _, a := range []string{"--qos=normal", "--constraint=avx2", "-A", "--exclusive", "--requeue"} {
		if msg := checkSbatchArg(a); msg != "" {
			names = append(names, a+": "+msg)
		}
	}
	sort.Strings(names)
	if len(names) != 0 {
		t.Errorf("sbatch_args misjudged: %q", names)
	}
}
