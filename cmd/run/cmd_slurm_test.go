package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"nmdyn/dag"
)

// The acceptance tests of the Slurm executor, through the command line, on a
// real cluster (scripts/slurm-cluster.sh start; NMDYN_SLURM_TESTS=1): the
// study of fake stages of engine_test.go, and the real default pipeline with
// small params. The jobs run this test binary as `run` through a wrapper
// script (testWorkerEnv) that can hold fit tasks before they start and logs
// every job's task key and exit code.

// testWorkerEnv names the wrapper the Slurm jobs run; a controller re-executed
// by a test (NMDYN_RUN_AS_MAIN) reads it too.
const testWorkerEnv = "NMDYN_TEST_SLURM_WORKER"

func init() {
	slurmWorker = func() (string, []string, error) {
		w := os.Getenv(testWorkerEnv)
		if w == "" {
			return "", nil, errors.New("test: " + testWorkerEnv + " names no worker for the Slurm jobs")
		}
		return w, nil, nil
	}
}

func needSlurm(t *testing.T) {
	t.Helper()
	if os.Getenv(dag.SlurmTestsEnv) != "1" {
		t.Skipf("no Slurm cluster: start one (scripts/slurm-cluster.sh start) and set %s=1 to run this test", dag.SlurmTestsEnv)
	}
	if _, err := exec.LookPath("sbatch"); err != nil {
		t.Fatalf("%s=1 but sbatch is not on PATH", dag.SlurmTestsEnv)
	}
}

// weird is a path element a shell line built by concatenation would break on.
const weird = `it's "q" $HOME ` + "`x`" + ` %j`

// slurmExecutorYAML is the executor section of the test study: small jobs,
// quick polls.
const slurmExecutorYAML = `executor:
  slurm:
    partition: debug
    time: "10"
    mem: 300M
    cpus: 1
    poll: 300ms
`

// slurmStudy writes the test study (newStudy's) with an executor section
// into a directory with a weird name, and returns it with a cache path beside.
func slurmStudy(t *testing.T) (dir, cacheDir string) {
	t.Helper()
	base := filepath.Join(t.TempDir(), "base "+weird)
	dir = filepath.Join(base, "study "+weird)
	if err := os.MkdirAll(filepath.Join(dir, "data", "s1"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "data", "s1", "spikes.csv"), []byte("unit,time\n1,0.5\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "pipeline.yaml"), []byte(testPipeline+slurmExecutorYAML), 0o644)
	return dir, filepath.Join(base, "cache "+weird)
}

func sq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// jobLog is the wrapper's record: one line "jobid key exitcode" per job run.
type jobLog string

func (l jobLog) lines(t *testing.T) []string {
	b, err := os.ReadFile(string(l))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return strings.Fields(strings.ReplaceAll(strings.TrimSpace(string(b)), " ", "_"))
}

// slurmWrapper writes the jobs' executable: this test binary as `run`,
// holding fit tasks while the file hold exists, logging each job.
func slurmWrapper(t *testing.T, hold string) jobLog {
	t.Helper()
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "jobs.log")
	script := `#!/bin/sh
for a; do spec=$a; done
if [ -e ` + sq(hold) + ` ] && grep -q '"stage": "fit"' "$spec"; then
	while [ -e ` + sq(hold) + ` ]; do sleep 0.1; done
fi
NMDYN_RUN_AS_MAIN=1 ` + sq(exe) + ` "$@"
code=$?
key=$(sed -n 's/^  "key": "\(.*\)",$/\1/p' "$spec")
printf '%s %s %s\n' "${SLURM_JOB_ID:-}" "$key" "$code" >>` + sq(log) + `
exit $code
`
	p := filepath.Join(dir, "worker")
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(testWorkerEnv, p)
	return jobLog(log)
}

// clusterJobs lists the queued jobs of a cache: id -> state.
func clusterJobs(t *testing.T, cacheDir string) map[string]string {
	t.Helper()
	out, err := dag.ExecSlurm(context.Background(), "squeue", "--noheader", "--format=%i|%j|%T")
	if err != nil {
		t.Fatal(err)
	}
	jobs := map[string]string{}
	prefix := dag.SlurmJobPrefix(cacheDir)
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(strings.TrimSpace(line), "|")
		if len(f) == 3 && strings.HasPrefix(f[1], prefix) {
			jobs[f[0]] = f[2]
		}
	}
	return jobs
}

// cancelJobs cancels a cache's jobs left by a failed test.
func cancelJobs(t *testing.T, cacheDir string) {
	t.Cleanup(func() {
		var ids []string
		for id := range clusterJobs(t, cacheDir) {
			ids = append(ids, id)
		}
		if len(ids) > 0 {
			dag.ExecSlurm(context.Background(), "scancel", ids...)
		}
	})
}

// waitJobs waits until the cache has n jobs queued, at least running of them
// running, and returns them.
func waitJobs(t *testing.T, cacheDir string, n, running int) map[string]string {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		jobs := clusterJobs(t, cacheDir)
		r := 0
		for _, st := range jobs {
			if st == "RUNNING" {
				r++
			}
		}
		if len(jobs) >= n && r >= running {
			return jobs
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 90 s: jobs %v, want %d queued, %d running", jobs, n, running)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// manifests reads every manifest of a cache: key -> manifest.
func manifests(t *testing.T, cacheDir string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	files, _ := filepath.Glob(filepath.Join(cacheDir, "manifests", "*", "*.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		out[m["key"].(string)] = m
	}
	return out
}

// objectsOf is a manifest's outputs as "name=hash" lines.
func objectsOf(m map[string]any) string {
	var parts []string
	for _, o := range m["outputs"].([]any) {
		o := o.(map[string]any)
		parts = append(parts, fmt.Sprintf("%v=%v", o["name"], o["object"]))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func provenance(m map[string]any) map[string]any { return m["provenance"].(map[string]any) }

// sameCommits compares the tasks of two caches: the same keys, and per key the
// same output objects (the bytes, by their sha256).
func sameCommits(t *testing.T, a, b string) int {
	t.Helper()
	ma, mb := manifests(t, a), manifests(t, b)
	if len(ma) != len(mb) {
		t.Errorf("%d tasks committed in %s, %d in %s", len(ma), a, len(mb), b)
	}
	for k, m := range ma {
		n, ok := mb[k]
		if !ok {
			t.Errorf("task %.12s committed in one cache only", k)
			continue
		}
		if objectsOf(m) != objectsOf(n) {
			t.Errorf("task %.12s: outputs differ:\n %s\n %s", k, objectsOf(m), objectsOf(n))
		}
	}
	return len(ma)
}

// sameTree compares two directories file by file.
func sameTree(t *testing.T, a, b string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		x, _ := os.ReadFile(p)
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs (%v)", rel, err)
		}
		n++
		return nil
	})
	return n
}

func noTempFiles(t *testing.T, cacheDir string) {
	t.Helper()
	filepath.WalkDir(filepath.Join(cacheDir, "objects"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".tmp-") {
			t.Errorf("partial write left in the cache: %s", p)
		}
		return nil
	})
}

// Acceptance 1: the study (fan-out, gather, publish) through Slurm commits the
// bytes a local run commits and publishes the same files; a second run
// submits nothing.
func TestSlurmClusterAll(t *testing.T) {
	needSlurm(t)
	dir, cacheDir := slurmStudy(t)
	cancelJobs(t, cacheDir)
	log := slurmWrapper(t, filepath.Join(t.TempDir(), "no-hold"))
	start := time.Now()
	code, out, errs := run(t, dir, "all", "--executor", "slurm", "--cache", cacheDir)
	if code != 0 || !strings.Contains(out, "8 run, 0 cached, 0 failed") {
		t.Fatalf("all --executor slurm: exit %d\n%s\n%s", code, out, errs)
	}
	t.Logf("8 tasks through Slurm in %v", time.Since(start).Round(time.Millisecond))
	if n := len(log.lines(t)); n != 8 {
		t.Errorf("%d jobs ran, want 8: %v", n, log.lines(t))
	}
	dir2, cache2 := slurmStudy(t)
	if code, out, errs := run(t, dir2, "all", "--executor", "local", "--cache", cache2); code != 0 {
		t.Fatalf("local: exit %d\n%s\n%s", code, out, errs)
	}
	if n := sameCommits(t, cacheDir, cache2); n != 8 {
		t.Errorf("%d tasks compared, want 8", n)
	}
	if n := sameTree(t, filepath.Join(dir, "figures"), filepath.Join(dir2, "figures")); n < 3 {
		t.Errorf("%d published files compared", n)
	}
	for _, m := range manifests(t, cacheDir) {
		if p := provenance(m); p["executor"] != "slurm" || p["job_id"] == "" || p["peak_rss_scope"] != "task" {
			t.Errorf("provenance %v", p)
		}
	}
	// Everything cached: nothing submitted.
	code, out, _ = run(t, dir, "all", "--executor", "slurm", "--cache", cacheDir)
	if code != 0 || !strings.Contains(out, "0 run, 8 cached") || len(log.lines(t)) != 8 {
		t.Errorf("second run: exit %d\n%s", code, out)
	}
	// slurm-check: the probe sees the cache.
	code, out, errs = run(t, dir, "slurm-check", "--cache", cacheDir)
	if code != 0 || !strings.Contains(out, "ok: this project can run with --executor slurm") || !strings.Contains(out, "sacct:   not usable") {
		t.Errorf("slurm-check: exit %d\n%s%s", code, out, errs)
	}
}

// Acceptance 2: scancel of a running job fails its task (with the reason),
// commits nothing of it, and the next run completes the study.
func TestSlurmClusterScancel(t *testing.T) {
	needSlurm(t)
	dir, cacheDir := slurmStudy(t)
	cancelJobs(t, cacheDir)
	hold := filepath.Join(t.TempDir(), "hold")
	os.WriteFile(hold, nil, 0o644)
	slurmWrapper(t, hold)
	type result struct {
		code      int
		out, errs string
	}
	done := make(chan result, 1)
	go func() {
		code, out, errs := run(t, dir, "all", "--executor", "slurm", "--cache", cacheDir, "--keep-going")
		done <- result{code, out, errs}
	}()
	jobs := waitJobs(t, cacheDir, 4, 2) // the four fit tasks, two running (two cores)
	var victim string
	for id, st := range jobs {
		if st == "RUNNING" {
			victim = id
			break
		}
	}
	if out, err := dag.ExecSlurm(context.Background(), "scancel", victim); err != nil {
		t.Fatalf("scancel: %v %s", err, out)
	}
	time.Sleep(time.Second)
	os.Remove(hold)
	r := <-done
	if r.code != 1 || !strings.Contains(r.errs, "was cancelled outside nmdyn") || !strings.Contains(r.out, "5 run, 0 cached, 1 failed, 2 skipped") {
		t.Fatalf("run with a cancelled job: exit %d\n%s\n%s", r.code, r.out, r.errs)
	}
	if n := len(manifests(t, cacheDir)); n != 5 {
		t.Errorf("%d tasks committed, want 5", n)
	}
	noTempFiles(t, cacheDir)
	code, out, errs := run(t, dir, "all", "--executor", "slurm", "--cache", cacheDir)
	if code != 0 || !strings.Contains(out, "3 run, 5 cached") {
		t.Errorf("rerun: exit %d\n%s\n%s", code, out, errs)
	}
}

// controller starts `run all --executor slurm` as a separate process.
func controller(t *testing.T, dir, cacheDir string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	exe, _ := os.Executable()
	cmd := exec.Command(exe, "all", "--executor", "slurm", "--pipeline", filepath.Join(dir, "pipeline.yaml"), "--cache", cacheDir)
	cmd.Env = append(os.Environ(), "NMDYN_RUN_AS_MAIN=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out
}

// Acceptance 3: the controller killed (SIGKILL) mid-run and restarted: the
// finished tasks are reused, the queued jobs adopted (no job submitted twice,
// none duplicated in the queue), every task committed once.
func TestSlurmClusterControllerKilled(t *testing.T) {
	needSlurm(t)
	dir, cacheDir := slurmStudy(t)
	cancelJobs(t, cacheDir)
	hold := filepath.Join(t.TempDir(), "hold")
	os.WriteFile(hold, nil, 0o644)
	log := slurmWrapper(t, hold)
	cmd, firstOut := controller(t, dir, cacheDir)
	jobs := waitJobs(t, cacheDir, 4, 2)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	before := manifests(t, cacheDir) // session and prep
	if len(before) != 2 {
		t.Fatalf("%d tasks committed before the kill, want 2\n%s", len(before), firstOut)
	}
	if got := clusterJobs(t, cacheDir); len(got) != 4 {
		t.Fatalf("jobs after the kill: %v, want the 4 of %v", got, jobs)
	}

	var mu sync.Mutex
	var out, errs bytes.Buffer
	done := make(chan int, 1)
	go func() {
		var o, e bytes.Buffer
		full := []string{"all", "--executor", "slurm", "--cache", cacheDir, "--pipeline", filepath.Join(dir, "pipeline.yaml")}
		code := executeIO(context.Background(), full, &o, &e)
		mu.Lock()
		out, errs = o, e
		mu.Unlock()
		done <- code
	}()
	// The restarted controller adopts; the queue keeps the same four jobs.
	time.Sleep(3 * time.Second)
	if got := clusterJobs(t, cacheDir); fmt.Sprint(keys(got)) != fmt.Sprint(keys(jobs)) {
		t.Errorf("jobs after the restart: %v, want %v", got, jobs)
	}
	os.Remove(hold)
	code := <-done
	mu.Lock()
	defer mu.Unlock()
	if code != 0 || !strings.Contains(out.String(), "6 run, 2 cached, 0 failed") || strings.Count(out.String(), "adopted Slurm job") != 4 {
		t.Fatalf("restarted controller: exit %d\n%s\n%s", code, out.String(), errs.String())
	}
	// Every task committed once: one job each, exit 0, and 8 distinct keys.
	lines := log.lines(t)
	seen := map[string]bool{}
	for _, l := range lines {
		f := strings.Split(l, "_")
		if len(f) != 3 || f[2] != "0" || seen[f[1]] {
			t.Errorf("job log line %q (seen: %v)", l, seen[f[1]])
		}
		seen[f[1]] = true
	}
	if len(lines) != 8 || len(manifests(t, cacheDir)) != 8 {
		t.Errorf("%d jobs ran, %d tasks committed; want 8 and 8: %v", len(lines), len(manifests(t, cacheDir)), lines)
	}
	after := manifests(t, cacheDir)
	for k, m := range before {
		if fmt.Sprint(provenance(after[k])) != fmt.Sprint(provenance(m)) {
			t.Errorf("task %.12s recommitted after the restart", k)
		}
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Ctrl-C (SIGINT) of the controller cancels its jobs and commits nothing of
// them; exit 130.
func TestSlurmClusterInterrupt(t *testing.T) {
	needSlurm(t)
	dir, cacheDir := slurmStudy(t)
	cancelJobs(t, cacheDir)
	hold := filepath.Join(t.TempDir(), "hold")
	os.WriteFile(hold, nil, 0o644)
	slurmWrapper(t, hold)
	cmd, out := controller(t, dir, cacheDir)
	waitJobs(t, cacheDir, 4, 2)
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 || !strings.Contains(out.String(), "cancelled Slurm job(s)") {
		t.Fatalf("interrupted controller: %v\n%s", err, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(clusterJobs(t, cacheDir)) > 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if left := clusterJobs(t, cacheDir); len(left) > 0 {
		t.Errorf("jobs left after Ctrl-C: %v", left)
	}
	if n := len(manifests(t, cacheDir)); n != 2 {
		t.Errorf("%d tasks committed, want 2 (session, prep)", n)
	}
	noTempFiles(t, cacheDir)
}

// moduleRoot is the directory holding go.mod, above the working directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Acceptance 1 on the study itself: the default pipeline (every real stage,
// fit reduced to 2 epochs and one seed) through Slurm and locally, built as
// the real binary: the same bytes in every task and every figure.
func TestSlurmClusterRealPipeline(t *testing.T) {
	needSlurm(t)
	root := moduleRoot(t)
	base := filepath.Join(t.TempDir(), "real "+weird)
	bin := filepath.Join(base, "run")
	build := exec.Command("go", "build", "-o", bin, "./cmd/run")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	project := func(name string) string {
		dir := filepath.Join(base, name)
		os.MkdirAll(dir, 0o755)
		cp := exec.Command("cp", "-r", filepath.Join(root, "pipeline.yaml"), filepath.Join(root, "data"), dir)
		if out, err := cp.CombinedOutput(); err != nil {
			t.Fatalf("cp: %v\n%s", err, out)
		}
		return dir
	}
	sets := []string{"--set", "fit.epochs=2", "--set", "fit.seeds=[1]"}
	runReal := func(dir, cacheDir string, args ...string) time.Duration {
		start := time.Now()
		full := append(append([]string{"all", "--pipeline", filepath.Join(dir, "pipeline.yaml"), "--cache", cacheDir}, sets...), args...)
		cmd := exec.Command(bin, full...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(full, " "), err, out)
		}
		return time.Since(start)
	}
	slurmDir, localDir := project("slurm"), project("local")
	slurmCache, localCache := filepath.Join(base, "cache slurm"), filepath.Join(base, "cache local")
	cancelJobs(t, slurmCache)
	ds := runReal(slurmDir, slurmCache, "--executor", "slurm")
	dl := runReal(localDir, localCache, "-j", "2")
	t.Logf("default pipeline (fit.epochs=2, fit.seeds=[1]): Slurm %v, local -j 2 %v", ds.Round(time.Millisecond), dl.Round(time.Millisecond))
	n := sameCommits(t, slurmCache, localCache)
	f := sameTree(t, filepath.Join(slurmDir, "figures"), filepath.Join(localDir, "figures"))
	t.Logf("%d tasks and %d published files identical", n, f)
	if n < 10 || f < 5 {
		t.Errorf("only %d tasks and %d files compared", n, f)
	}
}
