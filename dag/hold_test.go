package dag

import (
	"context"
	"errors"
	"testing"
)

// Hold stops the run before the next task and before publishing, and its error is
// the run's (the CLI passes the cache lock's Lost).
func TestHoldStopsTheRun(t *testing.T) {
	var c counts
	te := newTestEngine(t, chainYAML, chainRegistry(&c))
	lost := errors.New("lock taken over")
	calls := 0
	s, err := te.Run(context.Background(), te.plan(t), RunOptions{Executor: &LocalExecutor{Jobs: 1},
		Hold: func() error {
			if calls++; calls > 1 {
				return lost
			}
			return nil
		}})
	if !errors.Is(err, lost) {
		t.Fatalf("err = %v, want the hold's error", err)
	}
	if s.Ran != 1 || s.Skipped == 0 {
		t.Fatalf("summary %+v: want one task run and the rest skipped", s)
	}
}
