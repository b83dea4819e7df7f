package dag

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/spf13/afero"

	"nmdyn/cache"
)

// RunOptions select what a run does.
type RunOptions struct {
	// Targets are stage names to bring up to date, with whatever they need
	// upstream; none means every stage.
	Targets []string
	// Downstream adds every task depending on the targets.
	Downstream bool
	// Force reruns the targets (and with Downstream their dependents) even if
	// cached; upstream tasks still come from the cache when fresh.
	Force bool
	// KeepGoing lets independent tasks run after a failure; without it no new
	// task starts after the first failure (running ones finish and are kept).
	KeepGoing bool
	// Executor runs the tasks (nil: a LocalExecutor with runtime.NumCPU() slots).
	Executor Executor
	// NoPublish skips copying outputs into `publish:` directories.
	NoPublish bool
	// Hold, when set, is asked before each task starts and before publishing; an
	// error stops the run there (running tasks finish) and is returned. The CLI
	// uses it to stop when the cache lock was lost to another run.
	Hold func() error
}

// Summary is what a run did.
type Summary struct {
	Ran, Cached, Failed, Skipped int
	Recovered                    int // tasks recomputed because their cached outputs were damaged
	Wall                         time.Duration
	Failures                     []TaskFailure
	Published                    []PublishStats
	// RanTasks lists the labels of the tasks run, in completion order.
	RanTasks []string
}

// TaskFailure is one failed task.
type TaskFailure struct {
	Task *Task
	Err  error
}

// RunError is the error of a run in which tasks failed.
type RunError struct{ Failures []TaskFailure }

func (e *RunError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d task(s) failed:", len(e.Failures))
	for _, f := range e.Failures {
		fmt.Fprintf(&b, "\n  %s: %v", f.Task.Label, f.Err)
	}
	return b.String()
}

// UsageError is a bad request (an unknown stage name): the command line's fault.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Select returns the tasks a run with these targets considers, in plan order:
// the targets' tasks (plus, with downstream, every task depending on them) and
// everything upstream of those. targets lists the selected tasks themselves.
func (p *Plan) Select(stages []string, downstream bool) (targets, closure []*Task, err error) {
	sel := make([]bool, len(p.Tasks))
	if len(stages) == 0 {
		for i := range sel {
			sel[i] = true
		}
	}
	for _, name := range stages {
		if p.e.Pipeline.Stage(name) == nil {
			msg := fmt.Sprintf("no stage %q in %s", name, p.e.Pipeline.File)
			if s := suggest(name, p.e.Pipeline.StageNames()); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			return nil, nil, &UsageError{errors.New(msg + "; stages: " + strings.Join(p.e.Pipeline.StageNames(), ", "))}
		}
		for _, t := range p.byStage[name] {
			sel[t.index] = true
		}
	}
	if downstream {
		for _, t := range p.Tasks { // topological: a task's upstream comes first
			if !sel[t.index] {
				continue
			}
			for _, d := range t.downstream {
				sel[d.index] = true
			}
		}
	}
	in := append([]bool(nil), sel...)
	for i := len(p.Tasks) - 1; i >= 0; i-- {
		if !in[i] {
			continue
		}
		for _, g := range p.Tasks[i].Inputs {
			for _, u := range g.Tasks {
				in[u.index] = true
			}
		}
	}
	for i, t := range p.Tasks {
		if sel[i] {
			targets = append(targets, t)
		}
		if in[i] {
			closure = append(closure, t)
		}
	}
	return targets, closure, nil
}

type nodeState int

const (
	statePending nodeState = iota
	stateReady
	stateRunning
	stateDone
	stateCached
	stateFailed
	stateSkipped
)

type node struct {
	t         *Task
	st        nodeState
	waiting   int // inputs not yet committed
	recovered bool
	retries   int // times this task ran again after finding an input damaged
	start     time.Time
}

type result struct {
	n   *node
	err error
}

// run is the state of one Run.
type run struct {
	e        *Engine
	p        *Plan
	opt      RunOptions
	exec     Executor
	nodes    map[*Task]*node
	byKey    map[string]*node
	order    []*node // plan order
	ready    []*node
	running  int
	stopping bool
	held     error // why Hold stopped the run
	events   chan result
	sum      *Summary
}

// Run brings the selected tasks up to date: tasks whose key has a manifest come
// from the cache, the others run on the executor as soon as their inputs are
// committed, then `publish:` stages are copied out. Failed tasks are never
// cached; their dependents are skipped. A task whose cached input turns out to be
// damaged triggers a recomputation of that input (reported, once per task).
func (e *Engine) Run(ctx context.Context, p *Plan, opt RunOptions) (*Summary, error) {
	start := time.Now()
	targets, closure, err := p.Select(opt.Targets, opt.Downstream)
	if err != nil {
		return nil, err
	}
	r := &run{e: e, p: p, opt: opt, exec: opt.Executor, nodes: map[*Task]*node{}, byKey: map[string]*node{},
		events: make(chan result), sum: &Summary{}}
	if r.exec == nil {
		r.exec = &LocalExecutor{Jobs: runtime.NumCPU()}
	}
	forced := map[*Task]bool{}
	if opt.Force {
		for _, t := range targets {
			forced[t] = true
		}
	}
	for _, t := range closure {
		n := &node{t: t}
		if !forced[t] && e.Store.HasManifest(t.Key) {
			n.st = stateCached
			r.sum.Cached++
		}
		r.nodes[t] = n
		r.byKey[t.Key] = n
		r.order = append(r.order, n)
	}
	toRun := len(closure) - r.sum.Cached
	r.report(Event{Kind: EventPlan, Total: len(closure), ToRun: toRun, Cached: r.sum.Cached})
	for _, n := range r.order {
		if n.st == stateCached {
			r.report(Event{Kind: EventCached, Task: n.t})
		}
	}
	for _, n := range r.order {
		if n.st == statePending {
			r.recount(n)
		}
	}
	// Publishing may find a damaged object and send its task back (once per
	// task), hence the loop.
	for {
		r.loop(ctx)
		if r.stopping || ctx.Err() != nil || opt.NoPublish || r.hold() {
			break
		}
		again, err := r.publish()
		if err != nil {
			r.sum.Failures = append(r.sum.Failures, TaskFailure{Task: publishTask(err), Err: err})
			break
		}
		if !again {
			break
		}
	}
	for _, n := range r.order {
		if n.st == statePending || n.st == stateReady {
			n.st = stateSkipped
			r.sum.Skipped++
			r.report(Event{Kind: EventSkipped, Task: n.t, Note: "not started (run stopped)"})
		}
	}
	r.sum.Wall = time.Since(start)
	r.report(Event{Kind: EventFinish, Summary: r.sum})
	if err := ctx.Err(); err != nil {
		return r.sum, err
	}
	if r.held != nil {
		return r.sum, r.held
	}
	if len(r.sum.Failures) > 0 {
		return r.sum, &RunError{Failures: r.sum.Failures}
	}
	return r.sum, nil
}

// hold asks opt.Hold whether the run may go on; once it says no, the run stops.
func (r *run) hold() bool {
	if r.held == nil && r.opt.Hold != nil {
		if err := r.opt.Hold(); err != nil {
			r.held = err
			r.stopping = true
		}
	}
	return r.held != nil
}

func (r *run) report(ev Event) {
	if r.e.Report != nil {
		ev.Time = time.Now()
		r.e.Report.Event(ev)
	}
}

// recount sets a pending node's count of uncommitted inputs, and makes it ready
// when there are none.
func (r *run) recount(n *node) {
	n.waiting = 0
	for _, g := range n.t.Inputs {
		for _, u := range g.Tasks {
			if st := r.nodes[u].st; st != stateDone && st != stateCached {
				n.waiting++
			}
		}
	}
	if n.waiting == 0 {
		n.st = stateReady
		r.ready = append(r.ready, n)
	}
}

// loop starts ready tasks and handles outcomes until nothing runs.
func (r *run) loop(ctx context.Context) {
	ctxDone := ctx.Done()
	for {
		for !r.stopping && ctx.Err() == nil && r.running < r.exec.Slots() && len(r.ready) > 0 && !r.hold() {
			r.startNext(ctx)
		}
		if r.running == 0 {
			return
		}
		select {
		case res := <-r.events:
			r.running--
			r.finish(res)
		case <-ctxDone:
			// Running tasks see the cancellation; wait for them.
			r.stopping = true
			ctxDone = nil
		}
	}
}

// startNext starts the ready task that comes first in plan order.
func (r *run) startNext(ctx context.Context) {
	sort.Slice(r.ready, func(i, j int) bool { return r.ready[i].t.index < r.ready[j].t.index })
	n := r.ready[0]
	r.ready = r.ready[1:]
	// A fair share of the cores among the tasks that can run now.
	cores := runtime.NumCPU()
	threads := max(1, cores/max(1, min(r.exec.Slots(), r.running+1+len(r.ready))))
	spec := r.p.jobSpec(n.t, threads, r.exec.Name())
	t := n.t
	env := JobEnv{Store: r.e.Store, Registry: r.e.Registry, RSSScope: "process", Version: r.e.Version,
		Progress: func(f float64, note string) { r.report(Event{Kind: EventProgress, Task: t, Fraction: f, Note: note}) },
		Log:      func(line string) { r.report(Event{Kind: EventLog, Task: t, Note: line}) },
	}
	n.st = stateRunning
	n.start = time.Now()
	r.running++
	r.report(Event{Kind: EventStart, Task: t})
	r.exec.Start(ctx, &Job{Spec: spec, Task: t, env: env}, func(err error) { r.events <- result{n, err} })
}

// finish handles a task's outcome.
func (r *run) finish(res result) {
	n := res.n
	elapsed := time.Since(n.start)
	err := res.err
	if err == nil {
		// The manifest in the cache is the truth, whatever the executor said.
		if _, merr := r.e.Store.ReadManifest(n.t.Key); merr != nil {
			err = fmt.Errorf("the executor reported success but the task's manifest is not readable: %w", merr)
		}
	}
	if err == nil {
		n.st = stateDone
		r.sum.Ran++
		r.sum.RanTasks = append(r.sum.RanTasks, n.t.Label)
		r.report(Event{Kind: EventDone, Task: n.t, Elapsed: elapsed})
		for _, d := range n.t.downstream {
			if dn := r.nodes[d]; dn != nil && dn.st == statePending {
				if dn.waiting--; dn.waiting == 0 {
					dn.st = stateReady
					r.ready = append(r.ready, dn)
				}
			}
		}
		return
	}
	var ce *CorruptInputError
	if errors.As(err, &ce) && r.recover(n, ce) {
		return
	}
	n.st = stateFailed
	r.sum.Failed++
	r.sum.Failures = append(r.sum.Failures, TaskFailure{Task: n.t, Err: err})
	r.report(Event{Kind: EventFailed, Task: n.t, Err: err, Elapsed: elapsed})
	r.skipDownstream(n.t)
	if !r.opt.KeepGoing {
		r.stopping = true
	}
}

// recover handles a task that could not read an upstream task's outputs intact:
// the upstream task is uncommitted and recomputed, then this task runs again.
// Each upstream task is recomputed at most once per run; a task that found it
// damaged while (or before) another reader triggered the recomputation waits for it
// and runs again, at most twice.
func (r *run) recover(n *node, ce *CorruptInputError) bool {
	u := r.byKey[ce.Key]
	if u == nil || n.retries >= 2 {
		return false
	}
	if u.recovered {
		if u.st == stateFailed || u.st == stateSkipped {
			return false
		}
		// Being recomputed (or already recomputed): wait for it, then run again.
		n.retries++
		n.st = statePending
		r.recount(n)
		return true
	}
	if u.st != stateCached && u.st != stateDone {
		return false
	}
	n.retries++
	r.report(Event{Kind: EventWarn, Task: n.t, Note: fmt.Sprintf("%v; recomputing %s", ce, u.t.Label)})
	if err := r.e.Store.DeleteManifest(u.t.Key); err != nil {
		return false
	}
	u.recovered = true
	r.sum.Recovered++
	if u.st == stateCached {
		r.sum.Cached--
	} else {
		r.sum.Ran--
		for i, l := range r.sum.RanTasks {
			if l == u.t.Label {
				r.sum.RanTasks = append(r.sum.RanTasks[:i], r.sum.RanTasks[i+1:]...)
				break
			}
		}
	}
	u.st = statePending
	// Whoever waits on u waits again.
	for _, d := range u.t.downstream {
		dn := r.nodes[d]
		if dn == nil {
			continue
		}
		switch dn.st {
		case stateReady:
			dn.st = statePending
			dn.waiting = 1
			r.removeReady(dn)
		case statePending:
			dn.waiting++
		}
	}
	n.st = statePending
	r.recount(n)
	r.recount(u)
	return true
}

func (r *run) removeReady(n *node) {
	for i, x := range r.ready {
		if x == n {
			r.ready = append(r.ready[:i], r.ready[i+1:]...)
			return
		}
	}
}

// skipDownstream marks every task depending on a failed one as skipped.
func (r *run) skipDownstream(t *Task) {
	for _, d := range t.downstream {
		dn := r.nodes[d]
		if dn == nil || (dn.st != statePending && dn.st != stateReady) {
			continue
		}
		if dn.st == stateReady {
			r.removeReady(dn)
		}
		dn.st = stateSkipped
		r.sum.Skipped++
		r.report(Event{Kind: EventSkipped, Task: d, Note: "an upstream task failed: " + t.Label})
		r.skipDownstream(d)
	}
}

// publish copies the outputs of `publish:` stages in the selection. A damaged
// (or vanished) object found while copying sends its task back to be recomputed
// (again=true).
func (r *run) publish() (again bool, err error) {
	fsys := r.e.PublishFS
	if fsys == nil {
		fsys = afero.NewOsFs()
	}
	root := r.e.PublishRoot
	if root == "" {
		root = r.e.Pipeline.Dir
	}
	for _, n := range r.order {
		s := n.t.Stage
		if s.Publish.Name == "" || (n.st != stateDone && n.st != stateCached) {
			continue
		}
		m, err := r.e.Store.ReadManifest(n.t.Key)
		if err == nil {
			var st PublishStats
			st, err = Publish(fsys, root, s.Publish.Name, r.e.Store, m)
			if err == nil {
				r.sum.Published = append(r.sum.Published, st)
				r.report(Event{Kind: EventPublish, Task: n.t, Note: st.String()})
				continue
			}
		}
		if (errors.Is(err, cache.ErrIntegrity) || errors.Is(err, fs.ErrNotExist)) && !n.recovered {
			r.report(Event{Kind: EventWarn, Task: n.t, Note: fmt.Sprintf("publishing %s: %v; recomputing it", n.t.Label, err)})
			r.e.Store.DeleteManifest(n.t.Key)
			n.recovered = true
			r.sum.Recovered++
			if n.st == stateCached {
				r.sum.Cached--
			} else {
				r.sum.Ran--
			}
			n.st = statePending
			r.recount(n)
			return true, nil
		}
		return false, &publishError{t: n.t, err: err}
	}
	return false, nil
}

type publishError struct {
	t   *Task
	err error
}

func (e *publishError) Error() string { return fmt.Sprintf("publishing %s: %v", e.t.Label, e.err) }
func (e *publishError) Unwrap() error { return e.err }

func publishTask(err error) *Task {
	var pe *publishError
	if errors.As(err, &pe) {
		return pe.t
	}
	return nil
}

// jobSpec describes a task for an executor.
func (p *Plan) jobSpec(t *Task, threads int, executor string) *JobSpec {
	s := &JobSpec{Schema: JobSchema, Stage: t.Stage.Name, Run: t.Stage.Run.Name, Label: t.Label,
		Item: encodeItem(t.Item), Key: t.Key, Components: t.Components, Params: yamlText(p.jobSpecDecode(t)),
		ParamValues: t.ParamValues, ProjectRoot: p.e.Pipeline.Dir, CacheRoot: p.e.Store.Root(),
		Threads: threads, Executor: executor}
	for _, g := range t.Inputs {
		in := JobInput{Stage: g.Stage.Name}
		for _, u := range g.Tasks {
			in.Tasks = append(in.Tasks, JobUpstream{Label: u.Label, Item: encodeItem(u.Item), Key: u.Key})
		}
		s.Inputs = append(s.Inputs, in)
	}
	return s
}

// jobSpecDecode is what a task's Decode reads: its params plus its item under
// "item".
func (p *Plan) jobSpecDecode(t *Task) map[string]any {
	decode := make(map[string]any, len(t.Params)+1)
	for k, v := range t.Params {
		decode[k] = v
	}
	decode["item"] = map[string]any(t.Item)
	return decode
}

// JobSpec describes a task as an executor receives it (for tools and tests).
func (p *Plan) JobSpec(t *Task, threads int, executor string) *JobSpec {
	return p.jobSpec(t, threads, executor)
}
