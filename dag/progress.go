package dag

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// Reporter receives the events of a run (from several goroutines).
type Reporter interface {
	Event(ev Event)
}

// EventKind says what happened.
type EventKind int

const (
	EventPlan     EventKind = iota // Total, ToRun, Cached
	EventCached                    // Task comes from the cache
	EventStart                     // Task started
	EventProgress                  // Task reported Fraction and Note
	EventLog                       // Task logged Note
	EventDone                      // Task committed, after Elapsed
	EventFailed                    // Task failed with Err
	EventSkipped                   // Task not run (Note says why)
	EventWarn                      // Note: something the user should know (a damaged object)
	EventPublish                   // Task's outputs published (Note)
	EventFinish                    // Summary
)

// Event is one thing that happened during a run.
type Event struct {
	Kind                 EventKind
	Time                 time.Time
	Task                 *Task
	Fraction             float64
	Note                 string
	Err                  error
	Elapsed              time.Duration
	Total, ToRun, Cached int
	Summary              *Summary
}

// Console shows a run on a terminal (a bar per running task, redrawn in place)
// or, when the output is not a terminal, as plain lines (start, done, failed,
// cached per stage, with timings; progress notes at most every PlainEvery per
// task).
type Console struct {
	w          io.Writer
	tty        bool
	width      int
	PlainEvery time.Duration

	mu       sync.Mutex
	running  []*bar
	drawn    int // bar lines on screen
	cached   map[string]int
	cachedOr []string
	stop     chan struct{}
	stopped  chan struct{}
}

type bar struct {
	t        *Task
	start    time.Time
	fraction float64
	note     string
	lastLine time.Time
}

// NewConsole returns a console writing to w; tty selects the terminal display
// (width columns).
func NewConsole(w io.Writer, tty bool, width int) *Console {
	if width < 40 {
		width = 100
	}
	c := &Console{w: w, tty: tty, width: width, PlainEvery: 10 * time.Second, cached: map[string]int{}}
	if tty {
		c.stop, c.stopped = make(chan struct{}), make(chan struct{})
		go c.redrawLoop()
	}
	return c
}

// Close stops the redrawing (call when the run is over).
func (c *Console) Close() {
	if c.stop != nil {
		close(c.stop)
		<-c.stopped
		c.stop = nil
	}
}

func (c *Console) redrawLoop() {
	defer close(c.stopped)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.mu.Lock()
			c.clearBars()
			c.drawBars()
			c.mu.Unlock()
		}
	}
}

func (c *Console) Event(ev Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ev.Kind != EventCached {
		c.flushCached()
	}
	switch ev.Kind {
	case EventPlan:
		c.line(fmt.Sprintf("%d tasks: %d to run, %d cached", ev.Total, ev.ToRun, ev.Cached))
	case EventCached:
		name := ev.Task.Stage.Name
		if c.cached[name] == 0 {
			c.cachedOr = append(c.cachedOr, name)
		}
		c.cached[name]++
	case EventStart:
		c.running = append(c.running, &bar{t: ev.Task, start: ev.Time, lastLine: ev.Time})
		if !c.tty {
			c.line("start    " + ev.Task.Label)
		}
	case EventProgress:
		b := c.bar(ev.Task)
		if b == nil {
			return
		}
		b.fraction, b.note = ev.Fraction, ev.Note
		if !c.tty && ev.Time.Sub(b.lastLine) >= c.PlainEvery {
			b.lastLine = ev.Time
			c.line(fmt.Sprintf("         %s %3.0f%% %s (%s)", ev.Task.Label, 100*clamp01(ev.Fraction), ev.Note, formatDuration(ev.Time.Sub(b.start))))
		}
	case EventLog:
		c.line(fmt.Sprintf("         %s: %s", ev.Task.Label, ev.Note))
	case EventDone:
		c.drop(ev.Task)
		c.line(fmt.Sprintf("done     %s (%s)", ev.Task.Label, formatDuration(ev.Elapsed)))
	case EventFailed:
		c.drop(ev.Task)
		c.line(fmt.Sprintf("FAILED   %s (%s): %s", ev.Task.Label, formatDuration(ev.Elapsed), firstLineOf(ev.Err.Error())))
	case EventSkipped:
		c.line(fmt.Sprintf("skipped  %s: %s", ev.Task.Label, ev.Note))
	case EventWarn:
		c.line("warning: " + ev.Note)
	case EventPublish:
		c.line("publish  " + ev.Note)
	case EventFinish:
		s := ev.Summary
		msg := fmt.Sprintf("%d run, %d cached, %d failed", s.Ran, s.Cached, s.Failed)
		if s.Skipped > 0 {
			msg += fmt.Sprintf(", %d skipped", s.Skipped)
		}
		if s.Recovered > 0 {
			msg += fmt.Sprintf(", %d recomputed after damage", s.Recovered)
		}
		c.line(msg + " in " + formatDuration(s.Wall))
	}
}

// flushCached prints the cached tasks gathered so far, one line per stage.
func (c *Console) flushCached() {
	for _, name := range c.cachedOr {
		n := c.cached[name]
		if n == 1 {
			c.line("cached   " + name)
		} else {
			c.line(fmt.Sprintf("cached   %s (%d tasks)", name, n))
		}
		delete(c.cached, name)
	}
	c.cachedOr = c.cachedOr[:0]
}

func (c *Console) bar(t *Task) *bar {
	for _, b := range c.running {
		if b.t == t {
			return b
		}
	}
	return nil
}

func (c *Console) drop(t *Task) {
	for i, b := range c.running {
		if b.t == t {
			c.running = append(c.running[:i], c.running[i+1:]...)
			return
		}
	}
}

// line prints a permanent line (above the bars on a terminal).
func (c *Console) line(s string) {
	if c.tty {
		c.clearBars()
		fmt.Fprintln(c.w, truncate(s, c.width))
		c.drawBars()
		return
	}
	fmt.Fprintln(c.w, s)
}

func (c *Console) clearBars() {
	if c.drawn > 0 {
		// Up to the first bar line, then clear to the end of the screen.
		fmt.Fprintf(c.w, "\x1b[%dA\r\x1b[J", c.drawn)
		c.drawn = 0
	}
}

func (c *Console) drawBars() {
	sort.SliceStable(c.running, func(i, j int) bool { return c.running[i].t.index < c.running[j].t.index })
	now := time.Now()
	const maxBars = 20
	labelWidth := 8
	for _, b := range c.running {
		labelWidth = max(labelWidth, min(40, len([]rune(b.t.Label))))
	}
	for i, b := range c.running {
		if i == maxBars {
			fmt.Fprintf(c.w, "… and %d more running\n", len(c.running)-maxBars)
			c.drawn++
			break
		}
		const cells = 20
		f := clamp01(b.fraction)
		full := int(f * cells)
		bar := strings.Repeat("█", full) + strings.Repeat("░", cells-full)
		s := fmt.Sprintf("%-*s %s %3.0f%% %7s  %s", labelWidth, truncate(b.t.Label, labelWidth), bar, 100*f, formatDuration(now.Sub(b.start)), b.note)
		fmt.Fprintln(c.w, truncate(s, c.width-1))
		c.drawn++
	}
}

func clamp01(f float64) float64 {
	switch {
	case f < 0 || f != f:
		return 0
	case f > 1:
		return 1
	}
	return f
}

// truncate shortens s to n runes.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n <= 1 {
		return string(r[:n])
	}
	return string(r[:n-1]) + "…"
}

func firstLineOf(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

// formatDuration prints 0.35 s, 12.3 s, 4m05s, 2h03m.
func formatDuration(d time.Duration) string {
	switch {
	case d < 10*time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// Collector records events (for tests and tools).
type Collector struct {
	mu     sync.Mutex
	Events []Event
}

func (c *Collector) Event(ev Event) {
	c.mu.Lock()
	c.Events = append(c.Events, ev)
	c.mu.Unlock()
}

// Labels returns the labels of the tasks of events of a kind, in order.
func (c *Collector) Labels(kind EventKind) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, ev := range c.Events {
		if ev.Kind == kind && ev.Task != nil {
			out = append(out, ev.Task.Label)
		}
	}
	return out
}
