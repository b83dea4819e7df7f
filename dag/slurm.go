package dag

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/afero"

	"nmdyn/cache"
)

// SlurmTestsEnv, set to 1, runs the tests that need a real Slurm cluster
// (scripts/slurm-cluster.sh starts one; .ci/run does). Without it they skip,
// so `go test ./...` passes on a machine without Slurm.
const SlurmTestsEnv = "NMDYN_SLURM_TESTS"

// SlurmExecutor runs each task as one Slurm batch job running `run exec` on a
// job file, on a cluster whose nodes see the cache directory at the same path.
// The controller (this process) keeps the DAG; Start only queues the task, and
// one goroutine submits, polls and reports:
//
//   - Submission: sbatch per task (never a shell line: sbatch gets argv, the
//     job script single-quotes every value), named
//     nmdyn-<cache tag>-<key prefix>-<attempt>.
//   - Truth: the job writes its exit code last and atomically into its
//     directory in the cache (see the layout in slurm_job.go); Slurm's states
//     are consulted only for jobs that left the queue without one.
//   - Polling in batches, at most once per poll interval: one sacct call for
//     every job (with a start-time window) where accounting exists, else one
//     squeue listing of this user's jobs, and scontrol only for a job that left
//     the queue without an exit code.
//   - Retries: NODE_FAIL, PREEMPTED and BOOT_FAIL (a node's fault, not the
//     task's) resubmit the task, at most Retries times; a job that vanished
//     without any record too. A job cancelled by someone else, out of time or
//     memory, or failing, fails its task with the reason.
//   - Cancellation (Ctrl-C): one scancel of every job of a cancelled run.
//   - Restart: a task whose job from an earlier controller is still queued or
//     running is adopted (found by its name in squeue), whose job finished is
//     read from its exit file, and is resubmitted only when neither holds, so a
//     restarted controller never runs a task twice at once.
//   - A shared cache: the job's first act is to write a start file into the
//     cache; a job running without one appearing (StartGrace), or finishing
//     without an exit code appearing (ExitGrace), fails its task with a message
//     saying the cache is not on a filesystem that node sees. CheckShared
//     refuses node-local paths up front.
type SlurmExecutor struct {
	Config *SlurmConfig // nil: defaults
	// Binary is the nmdyn executable the jobs run, at a path every node sees
	// (StageBinary copies one into the cache).
	Binary string
	// Env is extra NAME=value set in every job script.
	Env []string
	// Run runs Slurm's commands (nil: ExecSlurm).
	Run SlurmRunner
	// Jobs, when > 0, overrides Config's max_jobs: tasks in the queue at once.
	Jobs int
	// Log receives what concerns no single task (sacct unusable, squeue
	// failing, the scancel of an interrupted run); nil: discarded. What
	// concerns a task goes to its job's log (the progress display).
	Log func(string)
	// Poll overrides Config's poll interval when > 0.
	Poll time.Duration
	// ExitGrace is how long a job may be gone from the queue without its exit
	// file becoming visible (network filesystems show files late) before its
	// task fails (default 60 s); StartGrace is how long a running job may go
	// without its start file appearing (default 3 min).
	ExitGrace, StartGrace time.Duration
	// User is whose jobs squeue lists (default: this process's user).
	User string

	mu      sync.Mutex
	pending []*slurmTask
	looping bool
	wake    chan struct{}
	dead    chan struct{} // closed by tests to simulate a controller killed outright

	// Owned by the loop goroutine.
	active    []*slurmTask
	sacct     int // 0 not tried, 1 works, -1 unavailable
	snap      []slurmJob
	snapTime  time.Time
	snapValid bool
}

// slurmTask is a started task and its current job.
type slurmTask struct {
	job  *Job
	ctx  context.Context
	done func(error)
	res  SlurmResources

	fs      afero.Fs
	root    string // absolute cache root
	keyDir  string
	tag     string
	attempt int
	dir     string // the attempt's directory
	jobID   string
	name    string

	admitAt      time.Time // when the task is to be admitted (adopt or submit)
	submits      int       // sbatch calls that gave a job in this run
	nextSubmit   time.Time // when a temporarily refused sbatch is tried again
	sbatchTries  int
	node         string
	runningSince time.Time
	goneSince    time.Time
	heldWarned   bool
	finished     chan struct{}
}

func (e *SlurmExecutor) Name() string { return "slurm" }

// Slots is how many tasks may be in Slurm's queue at once.
func (e *SlurmExecutor) Slots() int {
	if e.Jobs > 0 {
		return e.Jobs
	}
	return e.Config.maxJobs()
}

func (e *SlurmExecutor) poll() time.Duration {
	if e.Poll > 0 {
		return e.Poll
	}
	return e.Config.poll()
}

// exitEvery is how often the exit files are looked at between polls of
// Slurm: every second, less often with many jobs (a stat each, on a network
// filesystem), never less often than the poll.
func (e *SlurmExecutor) exitEvery() time.Duration {
	return min(e.poll(), max(time.Second, time.Duration(len(e.active))*20*time.Millisecond))
}

func (e *SlurmExecutor) exitGrace() time.Duration {
	if e.ExitGrace > 0 {
		return e.ExitGrace
	}
	return 60 * time.Second
}

func (e *SlurmExecutor) startGrace() time.Duration {
	if e.StartGrace > 0 {
		return e.StartGrace
	}
	return 3 * time.Minute
}

func (e *SlurmExecutor) run(name string, args ...string) ([]byte, error) {
	r := e.Run
	if r == nil {
		r = ExecSlurm
	}
	// Not the run's context: a cancelled run still needs its scancel, and an
	// sbatch cut short might have queued a job nobody knows of.
	return r(context.Background(), name, args...)
}

func (e *SlurmExecutor) logf(format string, args ...any) {
	if e.Log != nil {
		e.Log(fmt.Sprintf(format, args...))
	}
}

func (t *slurmTask) logf(format string, args ...any) {
	if t.job.env.Log != nil {
		t.job.env.Log(fmt.Sprintf(format, args...))
	}
}

// Start queues a task; the executor's goroutine submits or adopts its job.
func (e *SlurmExecutor) Start(ctx context.Context, job *Job, done func(error)) {
	store := job.env.Store
	root, err := filepath.Abs(store.Root())
	if err != nil {
		done(err)
		return
	}
	t := &slurmTask{job: job, ctx: ctx, done: done, res: e.Config.Resources(job.Spec.Stage), fs: store.Fs(),
		root: root, tag: cacheTag(root), admitAt: time.Now(), finished: make(chan struct{})}
	t.keyDir = filepath.Join(slurmJobsDir(filepath.Join(root, filepath.Base(store.JobsDir()))), job.Spec.Key)
	e.mu.Lock()
	if e.wake == nil {
		e.wake = make(chan struct{}, 1)
		e.dead = make(chan struct{})
	}
	e.pending = append(e.pending, t)
	if !e.looping {
		e.looping = true
		go e.loop()
	}
	e.mu.Unlock()
	e.kick()
	go func() {
		select {
		case <-ctx.Done():
			e.kick()
		case <-t.finished:
		}
	}()
}

func (e *SlurmExecutor) kick() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// loop admits new tasks, cancels, and polls until no task is left.
func (e *SlurmExecutor) loop() {
	var lastPoll, lastExits time.Time
	for {
		select {
		case <-e.dead:
			return
		default:
		}
		e.mu.Lock()
		fresh := e.pending
		e.pending = nil
		if len(fresh) == 0 && len(e.active) == 0 {
			e.looping = false
			e.mu.Unlock()
			return
		}
		e.mu.Unlock()

		e.active = append(e.active, fresh...)
		e.cancelStopped()
		e.admitDue()
		e.submitDue()
		if time.Since(lastPoll) >= e.poll() {
			lastPoll, lastExits = time.Now(), time.Now()
			e.pollJobs()
		} else if time.Since(lastExits) >= e.exitEvery() {
			// Between polls of Slurm, the exit files alone (cheap, and the
			// truth): a short task is seen done well before the next poll.
			lastExits = time.Now()
			for _, t := range append([]*slurmTask(nil), e.active...) {
				if t.jobID != "" {
					e.checkExit(t, nil)
				}
			}
		}
		wait := min(e.poll()-time.Since(lastPoll), e.exitEvery()-time.Since(lastExits))
		for _, t := range e.active {
			if t.jobID == "" && !t.nextSubmit.IsZero() {
				wait = min(wait, time.Until(t.nextSubmit))
			}
			if !t.admitAt.IsZero() {
				wait = min(wait, time.Until(t.admitAt))
			}
		}
		timer := time.NewTimer(max(wait, time.Millisecond))
		select {
		case <-e.wake:
		case <-timer.C:
		case <-e.dead:
			timer.Stop()
			return
		}
		timer.Stop()
	}
}

// finish reports a task's outcome and forgets it.
func (e *SlurmExecutor) finish(t *slurmTask, err error) {
	for i, x := range e.active {
		if x == t {
			e.active = append(e.active[:i], e.active[i+1:]...)
			break
		}
	}
	if err == nil {
		// Committed: the attempts' files are of no further use.
		t.fs.RemoveAll(t.keyDir)
	}
	close(t.finished)
	t.done(err)
}

// cancelStopped cancels the jobs of tasks whose run was cancelled, with one
// scancel.
func (e *SlurmExecutor) cancelStopped() {
	var stopped []*slurmTask
	var ids []string
	for _, t := range e.active {
		if t.ctx.Err() != nil {
			stopped = append(stopped, t)
			if t.jobID != "" {
				ids = append(ids, t.jobID)
			}
		}
	}
	if len(stopped) == 0 {
		return
	}
	if len(ids) > 0 {
		sortIDs(ids)
		if _, err := e.run("scancel", ids...); err != nil {
			e.logf("warning: scancel %s: %v (cancel them by hand)", strings.Join(ids, " "), err)
		} else {
			e.logf("cancelled Slurm job(s) %s", strings.Join(ids, " "))
		}
	}
	for _, t := range stopped {
		if t.jobID != "" {
			afero.WriteFile(t.fs, filepath.Join(t.dir, "cancelled"), []byte(t.jobID+"\n"), 0o644)
		}
		e.finish(t, t.ctx.Err())
	}
}

// snapshot lists this user's nmdyn jobs in the queue, at most maxAge old.
func (e *SlurmExecutor) snapshot(maxAge time.Duration) ([]slurmJob, error) {
	if e.snapValid && time.Since(e.snapTime) <= maxAge {
		return e.snap, nil
	}
	args := []string{"--noheader", "--format=" + squeueFormat}
	if u := e.user(); u != "" {
		args = append(args, "--user="+u)
	} else {
		args = append(args, "--me")
	}
	out, err := e.run("squeue", args...)
	if err != nil {
		return nil, err
	}
	e.snap, e.snapTime, e.snapValid = parseSqueue(out, "nmdyn-"), time.Now(), true
	return e.snap, nil
}

func (e *SlurmExecutor) user() string {
	if e.User != "" {
		return e.User
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		e.User = u.Username
	} else {
		e.User = os.Getenv("USER")
	}
	return e.User
}

// admitDue decides, for tasks new to the executor, between reusing a commit,
// adopting a job of an earlier controller, and submitting.
func (e *SlurmExecutor) admitDue() {
	var due []*slurmTask
	now := time.Now()
	needQueue := false
	for _, t := range e.active {
		if t.admitAt.IsZero() || now.Before(t.admitAt) || t.ctx.Err() != nil {
			continue
		}
		due = append(due, t)
		if len(attempts(t.fs, t.keyDir)) > 0 {
			needQueue = true
		}
	}
	if len(due) == 0 {
		return
	}
	var queue []slurmJob
	var qerr error
	if needQueue {
		// A listing no older than a poll: a job of an earlier controller that
		// left the queue since has written its exit file or is found gone by
		// the next poll.
		queue, qerr = e.snapshot(e.poll())
	}
	for _, t := range due {
		store := t.job.env.Store
		if store.HasManifest(t.job.Spec.Key) {
			t.logf("committed meanwhile (by a job of an earlier run)")
			e.finish(t, nil)
			continue
		}
		prev := attempts(t.fs, t.keyDir)
		if len(prev) > 0 {
			t.attempt = prev[len(prev)-1]
			if qerr != nil {
				// Without a listing, adopting or resubmitting is a guess that
				// could run the task twice: ask again at the next poll.
				e.logf("warning: squeue: %v; will retry", qerr)
				t.admitAt = now.Add(e.poll())
				continue
			}
			if e.adopt(t, queue) {
				t.admitAt = time.Time{}
				continue
			}
		}
		t.admitAt = time.Time{}
		t.nextSubmit = now
	}
}

// adopt takes over a queued or running job of an earlier controller for task
// t (the newest if several; the others are cancelled as duplicates), or reads
// the exit file of its latest attempt.
func (e *SlurmExecutor) adopt(t *slurmTask, queue []slurmJob) bool {
	prefix := strings.TrimSuffix(slurmJobName(t.tag, t.job.Spec.Key, 1), "1")
	var best slurmJob
	bestN := 0
	var dups []string
	for _, j := range queue {
		n, ok := attemptOfName(j.Name, prefix)
		if !ok {
			continue
		}
		if exists(t.fs, filepath.Join(t.keyDir, strconv.Itoa(n), "cancelled")) {
			continue // cancelled by us, on its way out
		}
		if n > bestN {
			if best.ID != "" {
				dups = append(dups, best.ID)
			}
			best, bestN = j, n
		} else {
			dups = append(dups, j.ID)
		}
	}
	if bestN > 0 {
		if len(dups) > 0 {
			e.run("scancel", dups...)
			t.logf("cancelled duplicate Slurm job(s) %s of this task", strings.Join(dups, " "))
		}
		t.attempt, t.dir, t.jobID, t.name = bestN, filepath.Join(t.keyDir, strconv.Itoa(bestN)), best.ID, best.Name
		t.submits = 1
		t.logf("adopted Slurm job %s (%s), submitted by an earlier run", best.ID, strings.ToLower(best.State))
		return true
	}
	// Not queued: the latest attempt either failed (its exit file or Slurm
	// says why, but that was an earlier run) or committed and its manifest was
	// removed since (the caller found none). Either way: a new attempt.
	return false
}

// submitDue submits the tasks waiting for a submission whose time has come.
func (e *SlurmExecutor) submitDue() {
	for _, t := range append([]*slurmTask(nil), e.active...) {
		if t.jobID != "" || t.nextSubmit.IsZero() || time.Now().Before(t.nextSubmit) || t.ctx.Err() != nil {
			continue
		}
		e.submit(t)
	}
}

// submit writes a new attempt's files and sbatches it.
func (e *SlurmExecutor) submit(t *slurmTask) {
	t.nextSubmit = time.Time{}
	if t.sbatchTries == 0 {
		// A fresh attempt (a retried sbatch keeps its attempt and name).
		if prev := attempts(t.fs, t.keyDir); len(prev) > 0 {
			t.attempt = max(t.attempt, prev[len(prev)-1])
		}
		t.attempt++
		t.dir = filepath.Join(t.keyDir, strconv.Itoa(t.attempt))
		t.name = slurmJobName(t.tag, t.job.Spec.Key, t.attempt)
		if err := e.writeAttempt(t); err != nil {
			e.finish(t, fmt.Errorf("writing the Slurm job files into %s: %w", t.dir, err))
			return
		}
	}
	script := filepath.Join(t.dir, "job.sh")
	args := sbatchArgs(t.name, t.dir, script, t.res)
	out, err := e.run("sbatch", args...)
	var id string
	if err == nil {
		id, err = parseSbatch(out)
	}
	if err != nil {
		if !temporarySbatch(err) || t.sbatchTries >= 20 {
			e.finish(t, fmt.Errorf("submitting to Slurm: %w", err))
			return
		}
		// The request may have reached the controller all the same: look
		// for the job by its name before asking again.
		if q, qerr := e.snapshot(0); qerr == nil {
			for _, j := range q {
				if j.Name == t.name {
					id = j.ID
				}
			}
		}
		if id == "" {
			t.sbatchTries++
			delay := min(time.Minute, e.poll()*time.Duration(1<<min(t.sbatchTries, 6)))
			t.logf("sbatch refused for now (%v); trying again in %v", err, delay.Round(time.Second))
			t.nextSubmit = time.Now().Add(delay)
			return
		}
	}
	t.sbatchTries = 0
	t.jobID, t.submits = id, t.submits+1
	t.runningSince, t.goneSince, t.node = time.Time{}, time.Time{}, ""
	host, _ := os.Hostname()
	rec := submitRecord{JobID: id, Name: t.name, Attempt: t.attempt, Submitted: time.Now(), Host: host, PID: os.Getpid(), Sbatch: args}
	if err := WriteJSONAtomic(t.fs, filepath.Join(t.dir, "submitted.json"), rec); err != nil {
		t.logf("warning: could not record the submission: %v", err)
	}
	e.snapValid = false
	t.logf("submitted as Slurm job %s", id)
	if t.ctx.Err() != nil {
		e.cancelStopped()
	}
}

// writeAttempt writes the job description and the batch script.
func (e *SlurmExecutor) writeAttempt(t *slurmTask) error {
	if err := t.fs.MkdirAll(t.dir, 0o755); err != nil {
		return err
	}
	spec := *t.job.Spec
	spec.CacheRoot = t.root
	spec.Threads = max(1, t.res.CPUs)
	if err := WriteJSONAtomic(t.fs, filepath.Join(t.dir, "job.json"), &spec); err != nil {
		return err
	}
	threads := 0
	if t.res.CPUs > 0 {
		threads = t.res.CPUs
	}
	script, err := jobScript(e.Binary, t.root, t.dir, threads, e.Env)
	if err != nil {
		return err
	}
	return cache.WriteFileAtomic(t.fs, filepath.Join(t.dir, "job.sh"), []byte(script), 0o755)
}

// readExit reads an attempt's exit file.
func readExit(fs afero.Fs, dir string) (int, bool) {
	b, err := afero.ReadFile(fs, filepath.Join(dir, "exit"))
	if err != nil {
		return 0, false
	}
	code, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, false
	}
	return code, true
}

// pollJobs checks every submitted job: exit files first (the truth), then one
// batch query of Slurm for the others.
func (e *SlurmExecutor) pollJobs() {
	var waiting []*slurmTask
	for _, t := range append([]*slurmTask(nil), e.active...) {
		if t.jobID == "" {
			continue
		}
		if e.checkExit(t, nil) {
			continue
		}
		waiting = append(waiting, t)
	}
	if len(waiting) == 0 {
		return
	}
	states := e.query(waiting)
	now := time.Now()
	for _, t := range waiting {
		j, known := states[t.jobID]
		if known && slurmActive[j.State] {
			e.watchActive(t, j, now)
			continue
		}
		// Gone from the queue: the exit file may have been written since the
		// check above.
		if !known {
			j = slurmJob{}
		}
		if e.checkExit(t, &j) {
			continue
		}
		if t.goneSince.IsZero() {
			t.goneSince = now
		}
		e.gone(t, j, known, now)
	}
}

// checkExit finishes a task whose job wrote its exit file. state is Slurm's
// record of the job once it has left the queue (empty when Slurm no longer knows
// it), nil before the job has been looked up. A code above 128 without a result
// means `run exec` was killed by a signal: scancel, preemption, a time or memory
// limit all end a job that way (the job script survives to record 143 or 137),
// so the cause is Slurm's job state, and the decision waits for it: a preempted
// or node-failed job is retried, a cancelled one reported as such.
func (e *SlurmExecutor) checkExit(t *slurmTask, state *slurmJob) bool {
	code, ok := readExit(t.fs, t.dir)
	if !ok {
		return false
	}
	if code == 0 {
		e.finish(t, nil)
		return true
	}
	res, err := ReadJobResult(t.fs, filepath.Join(t.dir, "result.json"))
	if err == nil && !res.OK {
		e.finish(t, fmt.Errorf("%w (Slurm job %s; log %s)", res.Err(), t.jobID, filepath.Join(t.dir, "slurm.out")))
		return true
	}
	if code > 128 {
		if state == nil {
			return false
		}
		if slurmKilled[state.State] || slurmRetryable[state.State] {
			e.gone(t, *state, true, time.Now())
			return true
		}
	}
	msg := fmt.Sprintf("run exec exited with code %d in Slurm job %s without a result", code, t.jobID)
	if code == 126 || code == 127 {
		msg += fmt.Sprintf(" (the executable %s could not be run on the node)", e.Binary)
	}
	e.finish(t, errors.New(msg+logTail(t)))
	return true
}

func logTail(t *slurmTask) string {
	p := filepath.Join(t.dir, "slurm.out")
	if s := tail(t.fs, p, 8); s != "" {
		return fmt.Sprintf("; the end of %s:\n%s", p, s)
	}
	return fmt.Sprintf("; see %s", p)
}

// query asks Slurm about the given jobs: sacct in one call when accounting
// exists, else one squeue listing plus scontrol for each job not in it.
func (e *SlurmExecutor) query(ts []*slurmTask) map[string]slurmJob {
	states := map[string]slurmJob{}
	ids := make([]string, 0, len(ts))
	var oldest time.Time
	for _, t := range ts {
		ids = append(ids, t.jobID)
		if rec, err := readSubmit(t.fs, t.dir); err == nil && (oldest.IsZero() || rec.Submitted.Before(oldest)) {
			oldest = rec.Submitted
		}
	}
	sortIDs(ids)
	if e.sacct >= 0 {
		if oldest.IsZero() {
			oldest = time.Now().Add(-24 * time.Hour)
		}
		// The window starts before the oldest submission (clocks differ a
		// little between hosts); it spares the database a scan of all time.
		start := oldest.Add(-10 * time.Minute).Format("2006-01-02T15:04:05")
		out, err := e.run("sacct", "-X", "-n", "-P", "--format="+sacctFormat, "--starttime="+start, "--jobs="+strings.Join(ids, ","))
		switch {
		case err != nil && e.sacct == 0:
			e.sacct = -1
			e.logf("sacct is not usable here (%v): polling with squeue and scontrol", firstLine(err.Error()))
		case err != nil:
			e.logf("warning: sacct: %v (falling back to squeue this time)", err)
		default:
			e.sacct = 1
			for id, j := range parseSacct(out) {
				states[id] = j
			}
		}
	}
	var missing []*slurmTask
	for _, t := range ts {
		if _, ok := states[t.jobID]; !ok {
			missing = append(missing, t)
		}
	}
	if len(missing) == 0 {
		return states
	}
	queue, err := e.snapshot(0)
	if err != nil {
		// Nothing is known: every job counts as still there.
		e.logf("warning: squeue: %v; will retry", err)
		for _, t := range missing {
			states[t.jobID] = slurmJob{ID: t.jobID, State: "PENDING"}
		}
		return states
	}
	inQueue := map[string]slurmJob{}
	for _, j := range queue {
		inQueue[j.ID] = j
	}
	for _, t := range missing {
		if j, ok := inQueue[t.jobID]; ok {
			states[t.jobID] = j
			continue
		}
		if e.sacct == 1 {
			continue // accounting has no record: unknown
		}
		out, err := e.run("scontrol", "show", "job", "-o", t.jobID)
		if err != nil {
			continue // purged (MinJobAge) or not answered: unknown
		}
		if j, ok := parseScontrol(out); ok {
			states[t.jobID] = j
		}
	}
	return states
}

func readSubmit(fs afero.Fs, dir string) (*submitRecord, error) {
	var rec submitRecord
	b, err := afero.ReadFile(fs, filepath.Join(dir, "submitted.json"))
	if err != nil {
		return nil, err
	}
	return &rec, jsonUnmarshal(b, &rec)
}

// watchActive follows a queued or running job: held jobs are reported once,
// and a job running without its start file appearing means a node that does
// not see the cache.
func (e *SlurmExecutor) watchActive(t *slurmTask, j slurmJob, now time.Time) {
	t.goneSince = time.Time{}
	if j.Node != "" {
		t.node = j.Node
	}
	switch {
	case j.State == "RUNNING":
		if t.runningSince.IsZero() {
			t.runningSince = now
		}
		if now.Sub(t.runningSince) > e.startGrace() && !exists(t.fs, filepath.Join(t.dir, "started")) {
			e.run("scancel", t.jobID)
			e.finish(t, fmt.Errorf("Slurm job %s has run on node %s for %v, but its start file never appeared in %s: "+
				"the nmdyn cache is not on a filesystem that node sees (put the cache, --cache or NMDYN_CACHE, and the project on a shared filesystem mounted at the same path on every node); the job was cancelled",
				t.jobID, orUnknown(t.node), e.startGrace(), t.dir))
		}
	case (j.State == "PENDING" && strings.Contains(j.Reason, "Held")) || j.State == "REQUEUE_HOLD" || j.State == "SPECIAL_EXIT":
		if !t.heldWarned {
			t.heldWarned = true
			t.logf("Slurm job %s is held (%s %s): it waits for `scontrol release %s`", t.jobID, j.State, j.Reason, t.jobID)
		}
	}
}

func exists(fs afero.Fs, p string) bool {
	_, err := fs.Stat(p)
	return err == nil
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

// gone decides about a job that left the queue without an exit file.
func (e *SlurmExecutor) gone(t *slurmTask, j slurmJob, known bool, now time.Time) {
	if j.Node != "" {
		t.node = j.Node
	}
	waited := now.Sub(t.goneSince)
	where := fmt.Sprintf("Slurm job %s", t.jobID)
	if t.node != "" {
		where += " on node " + t.node
	}
	switch {
	case known && slurmRetryable[j.State]:
		e.retry(t, fmt.Sprintf("%s ended with %s", where, j.State))
	case known && j.State == "CANCELLED":
		e.finish(t, fmt.Errorf("%s was cancelled outside nmdyn (scancel or an administrator); nothing of it was committed%s", where, logTail(t)))
	case known && j.State == "TIMEOUT":
		e.finish(t, fmt.Errorf("%s ran out of time (--time %s): raise executor.slurm.stages.%s.time in pipeline.yaml%s",
			where, orDefault(t.res.Time), t.job.Spec.Stage, logTail(t)))
	case known && j.State == "OUT_OF_MEMORY":
		e.finish(t, fmt.Errorf("%s ran out of memory (--mem %s): raise executor.slurm.stages.%s.mem in pipeline.yaml%s",
			where, orDefault(t.res.Mem), t.job.Spec.Stage, logTail(t)))
	case known && exitCodeOf(j.Exit) == "97":
		e.finish(t, fmt.Errorf("%s could not write into %s: the nmdyn cache is not on a filesystem that node sees "+
			"(put the cache, --cache or NMDYN_CACHE, and the project on a shared filesystem mounted at the same path on every node)", where, t.dir))
	case waited < e.exitGrace():
		// A network filesystem may show the exit file a little later.
	case known:
		e.finish(t, fmt.Errorf("%s ended (%s, exit %s) but its exit file never appeared in %s within %v: "+
			"if the job ran, the nmdyn cache is not on a filesystem that node sees%s", where, j.State, j.Exit, t.dir, e.exitGrace(), logTail(t)))
	default:
		// Neither the queue nor Slurm's records know the job any more.
		e.retry(t, fmt.Sprintf("%s vanished: Slurm has no record of it and it wrote no exit file", where))
	}
}

func orDefault(s string) string {
	if s == "" {
		return "not set: the partition's default"
	}
	return s
}

// retry resubmits a task whose job died through no fault of its own, at most
// Retries times in this run.
func (e *SlurmExecutor) retry(t *slurmTask, why string) {
	if t.job.env.Store.HasManifest(t.job.Spec.Key) {
		// It committed before dying.
		e.finish(t, nil)
		return
	}
	n := e.Config.retries()
	if t.submits > n {
		e.finish(t, fmt.Errorf("%s; given up after %d submission(s) (executor.slurm.retries is %d)%s", why, t.submits, n, logTail(t)))
		return
	}
	t.logf("%s; resubmitting (retry %d of %d)", why, t.submits, n)
	t.jobID = ""
	t.nextSubmit = time.Now()
	e.submit(t)
}

// kill stops the executor dead, as SIGKILL stops its process: no scancel, no
// outcome reported, jobs left in Slurm. Tests use it to restart a controller.
func (e *SlurmExecutor) kill() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.dead != nil {
		close(e.dead)
	}
}
