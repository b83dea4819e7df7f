package dag

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConsolePlain(t *testing.T) {
	var out bytes.Buffer
	c := NewConsole(&out, false, 100)
	c.PlainEvery = time.Second
	s := &Stage{Name: "fit"}
	t1 := &Task{Stage: s, Label: "fit[seed=1]"}
	t2 := &Task{Stage: s, Label: "fit[seed=2]"}
	pre := &Task{Stage: &Stage{Name: "prep"}, Label: "prep"}
	t0 := time.Unix(1000, 0)
	for _, ev := range []Event{
		{Kind: EventPlan, Total: 3, ToRun: 2, Cached: 1},
		{Kind: EventCached, Task: pre},
		{Kind: EventStart, Task: t1, Time: t0},
		{Kind: EventProgress, Task: t1, Time: t0.Add(500 * time.Millisecond), Fraction: 0.1, Note: "epoch 1"}, // rate limited
		{Kind: EventProgress, Task: t1, Time: t0.Add(1500 * time.Millisecond), Fraction: 0.42, Note: "epoch 42"},
		{Kind: EventStart, Task: t2, Time: t0},
		{Kind: EventDone, Task: t1, Elapsed: 2500 * time.Millisecond},
		{Kind: EventFailed, Task: t2, Err: errors.New("diverged\nstack"), Elapsed: 75 * time.Second},
		{Kind: EventFinish, Summary: &Summary{Ran: 1, Cached: 1, Failed: 1, Wall: 3 * time.Second}},
	} {
		c.Event(ev)
	}
	c.Close()
	want := `3 tasks: 2 to run, 1 cached
cached   prep
start    fit[seed=1]
         fit[seed=1]  42% epoch 42 (1.50 s)
start    fit[seed=2]
done     fit[seed=1] (2.50 s)
FAILED   fit[seed=2] (1m15s): diverged …
1 run, 1 cached, 1 failed in 3.00 s
`
	if out.String() != want {
		t.Errorf("plain output:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestConsoleTerminal(t *testing.T) {
	var out bytes.Buffer
	c := NewConsole(&out, true, 80)
	task := &Task{Stage: &Stage{Name: "fit"}, Label: "fit[seed=1]"}
	c.Event(Event{Kind: EventStart, Task: task, Time: time.Now()})
	c.Event(Event{Kind: EventProgress, Task: task, Time: time.Now(), Fraction: 0.5, Note: "epoch 100/200"})
	time.Sleep(300 * time.Millisecond) // one redraw
	c.Event(Event{Kind: EventDone, Task: task, Elapsed: time.Second})
	c.Close()
	s := out.String()
	// A bar (half full) redrawn in place (cursor up, clear), then the done line.
	for _, want := range []string{"██████████░░░░░░░░░░  50%", "epoch 100/200", "\x1b[1A\r\x1b[J", "done     fit[seed=1] (1.00 s)"} {
		if !strings.Contains(s, want) {
			t.Errorf("terminal output lacks %q:\n%q", want, s)
		}
	}
	for _, l := range strings.Split(s, "\n") {
		if len([]rune(l)) > 80+12 { // escape sequences aside, lines fit the width
			t.Errorf("line wider than the terminal: %q", l)
		}
	}
}
