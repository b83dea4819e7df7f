package dag

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"

	"nmdyn/cache"
)

func needSlurm(t *testing.T) {
	t.Helper()
	if os.Getenv(SlurmTestsEnv) != "1" {
		t.Skipf("no Slurm cluster: start one (scripts/slurm-cluster.sh start) and set %s=1 to run this test", SlurmTestsEnv)
	}
	if _, err := exec.LookPath("sbatch"); err != nil {
		t.Fatalf("%s=1 but sbatch is not on PATH", SlurmTestsEnv)
	}
}

// clusterExecutor is the executor on the real cluster: jobs of 1 core and
// 300 MB, quick polls.
func (st *slurmTest) clusterExecutor(t *testing.T) *SlurmExecutor {
	t.Helper()
	ex := st.executor(t)
	ex.Run, ex.User = nil, ""
	ex.Config.Defaults = SlurmResources{Partition: "debug", Time: "10", Mem: "300M", CPUs: 1}
	ex.Poll = 300 * time.Millisecond
	ex.ExitGrace = 10 * time.Second
	root, _ := filepath.Abs(st.cacheDir)
	t.Cleanup(func() { cancelCacheJobs(root) })
	return ex
}

// cancelCacheJobs cancels whatever jobs of a test's cache are still queued.
func cancelCacheJobs(root string) {
	out, err := ExecSlurm(context.Background(), "squeue", "--noheader", "--format="+squeueFormat)
	if err != nil {
		return
	}
	var ids []string
	for _, j := range parseSqueue(out, "nmdyn-"+cacheTag(root)+"-") {
		ids = append(ids, j.ID)
	}
	if len(ids) > 0 {
		ExecSlurm(context.Background(), "scancel", ids...)
	}
}

// A pipeline with every stage kind gives, through a real Slurm, the bytes a
// local run gives; paths full of shell metacharacters.
func TestSlurmClusterMatchesLocal(t *testing.T) {
	needSlurm(t)
	st := newSlurmTest(t, "b")
	start := time.Now()
	sum, err := st.Run(context.Background(), st.plan(t), RunOptions{Executor: st.clusterExecutor(t)})
	if err != nil {
		t.Fatalf("%v\n%s", err, st.logs())
	}
	t.Logf("7 tasks through Slurm in %v", time.Since(start).Round(time.Millisecond))
	if sum.Ran != 7 {
		t.Fatalf("summary %+v", sum)
	}
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
	host, _ := os.Hostname()
	m, _ := st.Store.ReadManifest(st.plan(t).StageTasks("figs")[0].Key)
	if m.Provenance.Executor != "slurm" || m.Provenance.JobID == "" || m.Provenance.Host != host {
		t.Errorf("provenance %+v", m.Provenance)
	}
}

// A job requeued by Slurm while running (as after a node failure with
// JobRequeue) keeps its id and runs again; its task is committed once.
func TestSlurmClusterRequeue(t *testing.T) {
	needSlurm(t)
	st := newSlurmTest(t, "wait")
	ex := st.clusterExecutor(t)
	done := st.runAsync(context.Background(), t, ex)
	root, _ := filepath.Abs(st.cacheDir)
	var victim string
	deadline := time.Now().Add(60 * time.Second)
	for victim == "" && time.Now().Before(deadline) {
		out, _ := ExecSlurm(context.Background(), "squeue", "--noheader", "--format="+squeueFormat)
		for _, j := range parseSqueue(out, "nmdyn-"+cacheTag(root)+"-") {
			started, _ := filepath.Glob(filepath.Join(root, "jobs", "slurm", "*", "*", "started"))
			if j.State == "RUNNING" && len(started) > 1 {
				victim = j.ID
				break
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if victim == "" {
		t.Fatal("no b job running within 60 s")
	}
	if out, err := ExecSlurm(context.Background(), "scontrol", "requeue", victim); err != nil {
		t.Fatalf("scontrol requeue %s: %v %s", victim, err, out)
	}
	// Slurm delays a requeued job by two minutes (BeginTime), once it has
	// left the node: not in a test.
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		out, _ := ExecSlurm(context.Background(), "scontrol", "show", "job", "-o", victim)
		if j, _ := parseScontrol(out); j.State == "PENDING" && j.Reason == "BeginTime" {
			break
		}
	}
	if out, err := ExecSlurm(context.Background(), "scontrol", "update", "jobid="+victim, "starttime=now"); err != nil {
		t.Fatalf("scontrol update %s starttime=now: %v %s", victim, err, out)
	}
	time.Sleep(time.Second)
	os.WriteFile(filepath.Join(st.project, "release"), nil, 0o644)
	out := <-done
	if out.err != nil {
		t.Fatalf("%v\n%s", out.err, st.logs())
	}
	if out.sum.Ran != 7 || strings.Contains(st.logs(), "resubmitting") {
		t.Errorf("summary %+v\n%s", out.sum, st.logs())
	}
	found := false
	for _, task := range st.plan(t).StageTasks("b") {
		m, _ := st.Store.ReadManifest(task.Key)
		found = found || m.Provenance.JobID == victim
	}
	if !found {
		t.Errorf("no b task committed by the requeued job %s", victim)
	}
}

// The probe job sees the cache from the node and runs the binary; the
// one-node cluster allows a cache under /tmp, with a note.
func TestSlurmClusterProbe(t *testing.T) {
	needSlurm(t)
	st := newSlurmTest(t, "b")
	ex := st.clusterExecutor(t)
	check, err := ex.CheckShared(map[string]string{"cache": "/tmp/some-cache"})
	if err != nil || len(check.Nodes) != 1 || len(check.Notes) != 1 {
		t.Fatalf("check %+v, %v", check, err)
	}
	bin, err := StageBinary(st.Store, "/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	ex.Binary = bin
	res, err := ex.Probe(st.Store, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if res.Node != check.Nodes[0] && !strings.HasPrefix(res.Node, check.Nodes[0]) {
		t.Errorf("probe ran on %q, the node is %q", res.Node, check.Nodes[0])
	}
	t.Logf("probe: job %s on %s in %v", res.JobID, res.Node, res.Elapsed.Round(time.Millisecond))
	// A binary the node cannot run.
	ex.Binary = filepath.Join(st.cacheDir, "bin", "missing")
	if _, err := ex.Probe(st.Store, time.Minute); err == nil || !strings.Contains(err.Error(), "sees the cache but cannot run") {
		t.Errorf("missing binary: %v", err)
	}
}
