package dag

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeSlurm is a Slurm cluster in the test process, behind the SlurmRunner
// the executor calls: sbatch queues a job (a copy of its script, as sbatch
// takes), which runs as a real /bin/sh process with SLURM_JOB_ID set, its
// output to --output and its directory --chdir; squeue, scontrol, sacct,
// scancel and sinfo answer in the formats the real ones use (the lines were
// checked against Slurm 22.05). Knobs make jobs wait, die as a node would, or
// run where the cache is not seen.
type fakeSlurm struct {
	t *testing.T

	mu     sync.Mutex
	nextID int
	jobs   map[string]*fakeJob
	calls  []string // "name arg arg...", in order

	accounting bool     // sacct answers; else "accounting storage is disabled"
	nodes      []string // sinfo's nodes (default: one, "node1")
	hold       bool     // new jobs stay PENDING until release()
	failNext   []string // the next submitted jobs end in these states ("TIMEOUT", "FAILED 97:0") without running
	failExit   string   // if set, those jobs leave this exit file (a job script that survived the signal)
	noRun      bool     // jobs run without executing their script (a node that cannot see it)
	skipScript bool     // jobs complete at once without executing their script
	forget     bool     // finished jobs are unknown to scontrol (purged)
	sbatchErr  []error  // the next sbatch calls fail with these
}

type fakeJob struct {
	id, name, state, exit, node string
	output, chdir, script       string
	args                        []string
	cmd                         *exec.Cmd
	ran                         bool // its script was started
	ended                       chan struct{}
}

func newFakeSlurm(t *testing.T) *fakeSlurm {
	f := &fakeSlurm{t: t, nextID: 100, jobs: map[string]*fakeJob{}}
	t.Cleanup(f.stopAll)
	return f
}

// runner is the SlurmRunner of this cluster.
func (f *fakeSlurm) runner(_ context.Context, name string, args ...string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, strings.Join(append([]string{name}, args...), " "))
	switch name {
	case "sbatch":
		return f.sbatch(args)
	case "squeue":
		return f.squeue(args)
	case "scontrol":
		return f.scontrol(args)
	case "sacct":
		return f.sacct(args)
	case "scancel":
		for _, id := range args {
			f.cancel(id, "CANCELLED")
		}
		return nil, nil
	case "sinfo":
		nodes := f.nodes
		if len(nodes) == 0 {
			nodes = []string{"node1"}
		}
		return []byte(strings.Join(nodes, "\n") + "\n"), nil
	}
	return nil, &SlurmError{Cmd: name, Msg: "fake: unknown command"}
}

func (f *fakeSlurm) sbatch(args []string) ([]byte, error) {
	if len(f.sbatchErr) > 0 {
		err := f.sbatchErr[0]
		f.sbatchErr = f.sbatchErr[1:]
		return nil, err
	}
	j := &fakeJob{args: args, ended: make(chan struct{}), node: "node1"}
	for _, a := range args[:len(args)-1] {
		switch {
		case strings.HasPrefix(a, "--job-name="):
			j.name = strings.TrimPrefix(a, "--job-name=")
		case strings.HasPrefix(a, "--output="):
			j.output = strings.ReplaceAll(strings.TrimPrefix(a, "--output="), "%%", "%")
		case strings.HasPrefix(a, "--chdir="):
			j.chdir = strings.TrimPrefix(a, "--chdir=")
		case a == "--parsable" || strings.HasPrefix(a, "--"):
		default:
			return nil, &SlurmError{Cmd: "sbatch", Msg: "fake: unexpected argument " + a}
		}
	}
	b, err := os.ReadFile(args[len(args)-1])
	if err != nil {
		return nil, &SlurmError{Cmd: "sbatch", Msg: "Unable to open file " + args[len(args)-1]}
	}
	j.script = string(b)
	f.nextID++
	j.id = fmt.Sprint(f.nextID)
	f.jobs[j.id] = j
	switch {
	case len(f.failNext) > 0:
		// "STATE" or "STATE code:signal"
		j.state, j.exit, _ = strings.Cut(f.failNext[0]+" 0:0", " ")
		j.exit = strings.Fields(j.exit)[0]
		f.failNext = f.failNext[1:]
		if f.failExit != "" {
			if err := os.WriteFile(filepath.Join(filepath.Dir(j.output), "exit"), []byte(f.failExit+"\n"), 0o644); err != nil {
				return nil, &SlurmError{Cmd: "sbatch", Msg: "fake: " + err.Error()}
			}
		}
		close(j.ended)
	case f.hold:
		j.state = "PENDING"
	default:
		f.start(j)
	}
	return []byte(j.id + "\n"), nil
}

// start runs a job's script (called with f.mu held).
func (f *fakeSlurm) start(j *fakeJob) {
	j.state = "RUNNING"
	if f.noRun {
		return
	}
	if f.skipScript {
		j.state, j.exit = "COMPLETED", "0:0"
		close(j.ended)
		return
	}
	file := filepath.Join(f.t.TempDir(), "script.sh")
	if err := os.WriteFile(file, []byte(j.script), 0o755); err != nil {
		f.t.Error(err)
		return
	}
	cmd := exec.Command("/bin/sh", file)
	cmd.Dir = j.chdir
	cmd.Env = append(os.Environ(), "SLURM_JOB_ID="+j.id)
	out, err := os.OpenFile(j.output, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		f.t.Errorf("fake sbatch: --output %s: %v", j.output, err)
		return
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.t.Error(err)
		out.Close()
		return
	}
	j.cmd, j.ran = cmd, true
	go func() {
		err := cmd.Wait()
		out.Close()
		f.mu.Lock()
		defer f.mu.Unlock()
		if j.state == "RUNNING" {
			j.state, j.exit = "COMPLETED", "0:0"
			if ee, ok := err.(*exec.ExitError); ok {
				j.state, j.exit = "FAILED", fmt.Sprintf("%d:0", ee.ExitCode())
			}
		}
		close(j.ended)
	}()
}

// cancel ends a job in the given state (scancel: CANCELLED; a node: NODE_FAIL).
func (f *fakeSlurm) cancel(id, state string) {
	j := f.jobs[id]
	if j == nil || !slurmActive[j.state] {
		return
	}
	j.state, j.exit = state, "0:15"
	if j.cmd != nil {
		syscall.Kill(-j.cmd.Process.Pid, syscall.SIGKILL)
	} else {
		close(j.ended)
	}
}

// end ends a job as Slurm would for a node failure or preemption.
func (f *fakeSlurm) end(id, state string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cancel(id, state)
}

func (f *fakeSlurm) release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hold = false
	for _, j := range f.sorted() {
		if j.state == "PENDING" {
			f.start(j)
		}
	}
}

func (f *fakeSlurm) sorted() []*fakeJob {
	var out []*fakeJob
	for _, j := range f.jobs {
		out = append(out, j)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].id < out[b].id })
	return out
}

func (f *fakeSlurm) squeue(args []string) ([]byte, error) {
	var ids map[string]bool
	for _, a := range args {
		if strings.HasPrefix(a, "--format=") && a != "--format="+squeueFormat {
			return nil, &SlurmError{Cmd: "squeue", Msg: "fake: unexpected format " + a}
		}
		if v, ok := strings.CutPrefix(a, "--jobs="); ok {
			ids = map[string]bool{}
			for _, id := range strings.Split(v, ",") {
				ids[id] = true
			}
		}
	}
	var b strings.Builder
	for _, j := range f.sorted() {
		if !slurmActive[j.state] || (ids != nil && !ids[j.id]) {
			continue
		}
		node, reason := j.node, "None"
		if j.state == "PENDING" {
			node, reason = "", "Priority"
		}
		fmt.Fprintf(&b, "%s|%s|%s|%s|%s\n", j.id, j.name, j.state, node, reason)
	}
	return []byte(b.String()), nil
}

func (f *fakeSlurm) scontrol(args []string) ([]byte, error) {
	if len(args) != 4 || args[0] != "show" || args[1] != "job" || args[2] != "-o" {
		return nil, &SlurmError{Cmd: "scontrol", Msg: "fake: unexpected arguments"}
	}
	j := f.jobs[args[3]]
	if j == nil || (f.forget && !slurmActive[j.state]) {
		return nil, &SlurmError{Cmd: "scontrol", Msg: "slurm_load_jobs error: Invalid job id specified"}
	}
	return []byte(fmt.Sprintf("JobId=%s JobName=%s UserId=root(0) JobState=%s Reason=None Dependency=(null) ExitCode=%s NodeList=%s Command=/x y/job.sh\n",
		j.id, j.name, j.state, j.exit, j.node)), nil
}

func (f *fakeSlurm) sacct(args []string) ([]byte, error) {
	if !f.accounting {
		return nil, &SlurmError{Cmd: "sacct", Msg: "Slurm accounting storage is disabled"}
	}
	var ids []string
	window := false
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--jobs="); ok {
			ids = strings.Split(v, ",")
		}
		if v, ok := strings.CutPrefix(a, "--starttime="); ok {
			if _, err := time.ParseInLocation("2006-01-02T15:04:05", v, time.Local); err != nil {
				return nil, &SlurmError{Cmd: "sacct", Msg: "fake: bad --starttime " + v}
			}
			window = true
		}
	}
	if !window {
		f.t.Error("sacct called without a start-time window")
	}
	var b strings.Builder
	for _, id := range ids {
		if j := f.jobs[id]; j != nil {
			exit := j.exit
			if exit == "" {
				exit = "0:0"
			}
			state := j.state
			if state == "CANCELLED" {
				state = "CANCELLED by 0"
			}
			fmt.Fprintf(&b, "%s|%s|%s|%s|%s\n", j.id, j.name, state, exit, j.node)
		}
	}
	return []byte(b.String()), nil
}

// count is how many calls of a command were made.
func (f *fakeSlurm) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c == name || strings.HasPrefix(c, name+" ") {
			n++
		}
	}
	return n
}

func (f *fakeSlurm) callsOf(name string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if name == "" || strings.HasPrefix(c, name+" ") || c == name {
			out = append(out, c)
		}
	}
	return out
}

// state is a job's state.
func (f *fakeSlurm) state(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if j := f.jobs[id]; j != nil {
		return j.state
	}
	return ""
}

// inState lists the jobs in a state, by id.
func (f *fakeSlurm) inState(state string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, j := range f.sorted() {
		if j.state == state {
			out = append(out, j.id)
		}
	}
	return out
}

// ranScripts is how many jobs ran their script.
func (f *fakeSlurm) ranScripts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, j := range f.jobs {
		if j.ran {
			n++
		}
	}
	return n
}

// stopAll kills what still runs at the end of a test and waits for it.
func (f *fakeSlurm) stopAll() {
	f.mu.Lock()
	var wait []*fakeJob
	for _, j := range f.jobs {
		if j.cmd != nil && slurmActive[j.state] {
			syscall.Kill(-j.cmd.Process.Pid, syscall.SIGKILL)
			wait = append(wait, j)
		}
	}
	f.mu.Unlock()
	for _, j := range wait {
		<-j.ended
	}
}
