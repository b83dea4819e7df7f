package dag

import (
	"context"
	"sync"
)

// ManualExecutor is an executor for tests: every task it is given waits on the
// Started channel until the test completes it by hand (Run or Fail), so tests of
// scheduling, caching and failure paths control the order of events exactly.
type ManualExecutor struct {
	N       int              // slots
	Started chan *ManualTask // one value per started task
}

// NewManualExecutor returns a manual executor with n slots.
func NewManualExecutor(n int) *ManualExecutor {
	return &ManualExecutor{N: n, Started: make(chan *ManualTask, 1024)}
}

func (m *ManualExecutor) Name() string { return "manual" }
func (m *ManualExecutor) Slots() int   { return m.N }

func (m *ManualExecutor) Start(ctx context.Context, job *Job, done func(error)) {
	m.Started <- &ManualTask{Job: job, ctx: ctx, done: done}
}

// ManualTask is a started task waiting for the test.
type ManualTask struct {
	Job  *Job
	ctx  context.Context
	done func(error)
	once sync.Once
}

// Label is the task's name, e.g. fit[seed=1,variant=none].
func (m *ManualTask) Label() string { return m.Job.Spec.Label }

// Run runs the stage in process (committing its outputs), reports the outcome to
// the scheduler and returns it.
func (m *ManualTask) Run() error {
	err := m.Job.RunInProcess(m.ctx)
	m.once.Do(func() { m.done(err) })
	return err
}

// Fail reports a failure without running the stage.
func (m *ManualTask) Fail(err error) {
	m.once.Do(func() { m.done(err) })
}
