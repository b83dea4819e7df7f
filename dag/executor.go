package dag

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// An Executor runs tasks. The scheduler keeps the DAG: it calls Start for a task
// whose inputs are all committed, never with more than Slots tasks running, and
// learns the outcome through done (called exactly once, from any goroutine). On
// success the scheduler reads the task's manifest from the cache: that, not the
// executor's word, is the truth, so an executor running tasks elsewhere (a Slurm
// job running `run exec`) needs only a shared cache directory.
//
// Cancelling ctx asks the executor to stop the task (in-process: the stage's
// Ctx() is cancelled; out of process: kill the job); done must still be called.
//
// A cluster executor (Slurm) fits as follows. Slots is the number of jobs it
// lets queue at once. Start, for each task, may adjust job.Spec (Threads to the
// cpus it requests, JobID once known), writes it with WriteJSONAtomic into a job
// directory on the shared filesystem and submits a script running
//
//	run exec --cache CACHE --result DIR/result.json DIR/job.json
//
// (exporting NMDYN_JOB_ID for the provenance); it may hold Start calls for a
// moment to submit one job array per fan-out. One goroutine polls the scheduler
// in batches; when a job ends, ReadJobResult(...).Err() (or, if the job died
// before writing it, an error naming the job and its exit-code file) goes to
// done. A *CorruptInputError survives the round trip, so damaged inputs are
// recomputed as in process. The scheduler then reads the task's manifest from
// the shared cache: nothing else needs to come back.
type Executor interface {
	// Name is recorded in provenance ("local", "slurm", ...).
	Name() string
	// Slots is how many tasks may run at once.
	Slots() int
	Start(ctx context.Context, job *Job, done func(error))
}

// Job is a task handed to an executor: its self-contained description (Spec, what
// an out-of-process worker reads) and the means to run it in this process.
type Job struct {
	Spec *JobSpec
	Task *Task
	env  JobEnv
}

// Env is the job environment of this process (store, registry, progress hooks):
// what RunInProcess uses.
func (j *Job) Env() JobEnv { return j.env }

// RunInProcess runs the job in this process and commits it (RunJob).
func (j *Job) RunInProcess(ctx context.Context) error {
	_, err := RunJob(ctx, j.env, j.Spec)
	return err
}

// LocalExecutor runs tasks on this machine: in process by default (a goroutine
// per running task), or, with Command set, each in a child process running
// `run exec` on a job file (isolation: a crashing or memory-hungry stage cannot
// take the controller down, and peak RSS is the task's own).
type LocalExecutor struct {
	Jobs int // slots (at least 1)
	// Command, when set, builds the child process for a job file and the
	// result file it must write.
	Command func(specPath, resultPath string) *exec.Cmd
}

func (l *LocalExecutor) Name() string { return "local" }
func (l *LocalExecutor) Slots() int   { return max(1, l.Jobs) }

func (l *LocalExecutor) Start(ctx context.Context, job *Job, done func(error)) {
	if l.Command == nil {
		go func() { done(job.RunInProcess(ctx)) }()
		return
	}
	go func() { done(l.runChild(ctx, job)) }()
}

// runChild runs a job out of process through a job file.
func (l *LocalExecutor) runChild(ctx context.Context, job *Job) error {
	store := job.env.Store
	var rnd [6]byte
	rand.Read(rnd[:])
	base := filepath.Join(store.JobsDir(), job.Spec.Key[:16]+"-"+hex.EncodeToString(rnd[:]))
	specPath, resultPath := base+".json", base+".result.json"
	if err := WriteJSONAtomic(store.Fs(), specPath, job.Spec); err != nil {
		return err
	}
	defer store.Fs().Remove(specPath)
	defer store.Fs().Remove(resultPath)
	cmd := l.Command(specPath, resultPath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	var werr error
	select {
	case werr = <-waited:
	case <-ctx.Done():
		cmd.Process.Kill()
		<-waited
		return ctx.Err()
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if line != "" && job.env.Log != nil {
			job.env.Log(line)
		}
	}
	res, err := ReadJobResult(store.Fs(), resultPath)
	if err != nil {
		if werr != nil {
			return fmt.Errorf("%s: %v (no result file)", job.Spec.Label, werr)
		}
		return fmt.Errorf("%s: the worker wrote no result: %w", job.Spec.Label, err)
	}
	return res.Err()
}
