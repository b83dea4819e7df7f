package recording

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// PhotometryToleranceSeconds is how far the photometry trace may fall short of
// each end of the recording: the first bins then take the first photometry value
// (a sensor with 1-3 s kinetics changes little in a second), and acquisition
// systems rarely start within the same second.
const PhotometryToleranceSeconds = 1.0

// UnlistedLabeler is implemented by spike sources that give a label to units the
// format's Open did not list (default "unsorted"), e.g. plain spike tables whose
// units are all curated.
type UnlistedLabeler interface {
	UnlistedLabel() string
}

// SpikeNoter is implemented by spike sources with facts for the user (e.g. where
// the labels came from); Open adds them to Session.Notes.
type SpikeNoter interface {
	Notes() []string
}

// Open imports the session folder dir: it reads session.yaml (when present),
// finds the spikes, photometry and events through the registered formats, puts
// photometry and events on the spike clock (clock_offset_s), cuts everything to
// window_s when set, and checks the data. It reads every spike once to check it
// (times finite, non-negative and sorted) and to count each unit's spikes, so the
// returned Session's Units carry their counts.
func Open(dir string) (*Session, error) {
	cfg := &Config{}
	cfgPath := filepath.Join(dir, ConfigFile)
	if _, err := os.Stat(cfgPath); err == nil {
		if cfg, err = LoadConfig(cfgPath); err != nil {
			return nil, err
		}
	}
	return OpenWithConfig(dir, cfg)
}

// OpenWithConfig is Open with the session.yaml settings given.
func OpenWithConfig(dir string, cfg *Config) (*Session, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("session %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("session %s: not a folder", dir)
	}
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Join(dir, ConfigFile), err)
	}
	s := &Session{ID: cfg.ID, Dir: dir, Keep: slices.Clone(cfg.KeepLabels()), BlockSeconds: cfg.BlockSeconds}
	if s.ID == "" {
		s.ID = filepath.Base(filepath.Clean(dir))
	}

	// Spikes.
	sf, ok := detectSpikes(dir)
	if !ok {
		var names []string
		for _, f := range sortedSpikeFormats() {
			names = append(names, f.Name)
		}
		return nil, fmt.Errorf("session %s: no spikes found (looked for: %s)", dir, strings.Join(names, "; "))
	}
	units, src, start, end, err := sf.Open(dir, cfg)
	if err != nil {
		return nil, err
	}
	if n, ok := src.(SpikeNoter); ok {
		s.Notes = append(s.Notes, n.Notes()...)
	}
	if w := cfg.WindowSeconds; w != nil {
		start, end = w[0], w[1]
		src = &windowSpikes{src: src, lo: w[0], hi: w[1]}
		s.Notes = append(s.Notes, fmt.Sprintf("window_s: only %g-%g s analysed", w[0], w[1]))
	}
	s.Spikes = src
	if err := s.checkSpikes(units, start, end, cfg.WindowSeconds != nil, windowNote(cfg)); err != nil {
		return nil, err
	}

	// Photometry.
	if err := s.openPhotometry(dir, cfg); err != nil {
		return nil, err
	}
	// Events from their own file (photometry formats may have added some).
	ev, err := openEvents(dir, cfg)
	if err != nil {
		return nil, err
	}
	for i := range ev {
		ev[i].Time += cfg.ClockOffsetSeconds
	}
	s.Events = append(s.Events, ev...)
	if err := checkEventLabels(s.Events, dir); err != nil {
		return nil, err
	}
	s.finishEvents()
	return s, nil
}

// checkEventLabels refuses labels the later stages cannot carry: every label becomes
// a column name (ev_<label>, b_<label>) and the model lists its event labels joined by
// commas, so a label must be non-empty and hold no comma or control character.
func checkEventLabels(events []Event, where string) error {
	for _, e := range events {
		if e.Label == "" || strings.ContainsAny(e.Label, ",\n\r\t") {
			return fmt.Errorf("%s: event label %q at %.6g s: labels must be non-empty and contain no comma, tab or line break", where, e.Label, e.Time)
		}
	}
	return nil
}

// checkSpikes counts and checks the spikes (countSpikes), sets the span (start;
// end extended to the last spike unless fixed) and checks every kept unit spikes.
func (s *Session) checkSpikes(units []Unit, start, end float64, fixedEnd bool, where string) error {
	if err := s.countSpikes(units); err != nil {
		return err
	}
	if s.EndSeconds < end || fixedEnd {
		s.EndSeconds = end
	}
	s.StartSeconds = start
	src := s.Spikes
	if !(s.EndSeconds > s.StartSeconds) {
		return fmt.Errorf("%s: the recording spans %g-%g s: no duration", src.Describe(), s.StartSeconds, s.EndSeconds)
	}
	keep := map[string]bool{}
	for _, l := range s.Keep {
		keep[l] = true
	}
	nKept := 0
	for _, u := range s.Units {
		if keep[u.Label] {
			nKept++
			if u.Spikes == 0 {
				return fmt.Errorf("%s: unit %d (label %s, which session.yaml keeps) has no spikes%s",
					src.Describe(), u.ID, u.Label, where)
			}
		}
	}
	if nKept == 0 {
		return fmt.Errorf("%s: no unit has a label to keep (%s); labels found: %s",
			src.Describe(), strings.Join(s.Keep, ", "), strings.Join(labelsOf(s.Units), ", "))
	}
	return nil
}

// Check applies Open's checks to a session built in memory (e.g. by the
// ground-truth generator): it recounts every unit's spikes (keeping the labels of
// s.Units), checks spike times, the photometry trace and its coverage of
// [StartSeconds, EndSeconds] (EndSeconds is extended to the last spike), and
// sorts the events, dropping those outside the recording. Keep defaults to
// ["good"].
func Check(s *Session) error {
	if s.Spikes == nil {
		return fmt.Errorf("session %s: no spike source", s.ID)
	}
	if len(s.Keep) == 0 {
		s.Keep = []string{"good"}
	}
	units := s.Units
	s.Units = nil
	if err := s.checkSpikes(units, s.StartSeconds, s.EndSeconds, false, ""); err != nil {
		return err
	}
	if p := s.Photometry; p != nil {
		if err := checkPhotometry(p); err != nil {
			return err
		}
		if err := s.checkCoverage(p, 0); err != nil {
			return err
		}
		if p.RateHz == 0 {
			p.RateHz = nominalRate(p.Time)
		}
	}
	if err := checkEventLabels(s.Events, "session "+s.ID); err != nil {
		return err
	}
	s.finishEvents()
	return nil
}

func windowNote(cfg *Config) string {
	if cfg.WindowSeconds != nil {
		return fmt.Sprintf(" within window_s %v", cfg.WindowSeconds)
	}
	return ""
}

func labelsOf(units []Unit) []string {
	seen := map[string]bool{}
	var out []string
	for _, u := range units {
		if !seen[u.Label] {
			seen[u.Label] = true
			out = append(out, u.Label)
		}
	}
	sort.Strings(out)
	return out
}

func sortedSpikeFormats() []SpikeFormat {
	f := slices.Clone(spikeFormats)
	sort.SliceStable(f, func(i, j int) bool { return f[i].Priority < f[j].Priority })
	return f
}

func sortedPhotometryFormats() []PhotometryFormat {
	f := slices.Clone(photometryFormats)
	sort.SliceStable(f, func(i, j int) bool { return f[i].Priority < f[j].Priority })
	return f
}

func detectSpikes(dir string) (SpikeFormat, bool) {
	for _, f := range sortedSpikeFormats() {
		if f.Detect(dir) {
			return f, true
		}
	}
	return SpikeFormat{}, false
}

// countSpikes reads every spike once: it checks times are finite, non-negative
// and sorted, counts the spikes of each unit, and extends the recording's end to
// the last spike. Units that spike but are missing from units get the label
// "unsorted" (or the source's UnlistedLabel).
func (s *Session) countSpikes(units []Unit) error {
	counts := map[int64]int64{}
	var idx int64
	prev := math.Inf(-1)
	err := s.Spikes.Scan(func(u []int64, t []float64) error {
		if len(u) != len(t) {
			return fmt.Errorf("%s: chunk with %d units and %d times", s.Spikes.Describe(), len(u), len(t))
		}
		for i, v := range t {
			switch {
			case math.IsNaN(v) || math.IsInf(v, 0):
				return fmt.Errorf("%s: spike %d (unit %d): time %v is not a finite number", s.Spikes.Describe(), idx+int64(i), u[i], v)
			case v < 0:
				return fmt.Errorf("%s: spike %d (unit %d): time %v s is negative (times are seconds from the start of the recording)", s.Spikes.Describe(), idx+int64(i), u[i], v)
			case v < prev:
				return fmt.Errorf("%s: spike %d (unit %d) at %v s comes after a spike at %v s: spikes must be sorted by time", s.Spikes.Describe(), idx+int64(i), u[i], v, prev)
			}
			prev = v
			counts[u[i]]++
		}
		idx += int64(len(t))
		return nil
	})
	if err != nil {
		return err
	}
	if idx == 0 {
		return fmt.Errorf("%s: no spikes", s.Spikes.Describe())
	}
	s.EndSeconds = prev
	seen := map[int64]bool{}
	for _, u := range units {
		if seen[u.ID] {
			return fmt.Errorf("%s: unit %d listed twice", s.Spikes.Describe(), u.ID)
		}
		seen[u.ID] = true
		u.Spikes = counts[u.ID]
		s.Units = append(s.Units, u)
	}
	var extra []int64
	for id := range counts {
		if !seen[id] {
			extra = append(extra, id)
		}
	}
	slices.Sort(extra)
	label := "unsorted"
	if l, ok := s.Spikes.(UnlistedLabeler); ok {
		label = l.UnlistedLabel()
	}
	for _, id := range extra {
		s.Units = append(s.Units, Unit{ID: id, Label: label, Spikes: counts[id]})
	}
	if len(extra) > 0 && label == "unsorted" && len(units) > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d units have no label in the cluster tables: unsorted", len(extra)))
	}
	sort.Slice(s.Units, func(i, j int) bool { return s.Units[i].ID < s.Units[j].ID })
	return nil
}

// openPhotometry finds, reads and checks the photometry (none is fine: a note).
func (s *Session) openPhotometry(dir string, cfg *Config) error {
	var pf *PhotometryFormat
	for _, f := range sortedPhotometryFormats() {
		if f.Detect(dir, cfg) {
			pf = &f
			break
		}
	}
	if pf == nil {
		if cfg.Photometry.File != "" {
			return fmt.Errorf("%s: photometry file %s: no photometry format reads it", filepath.Join(dir, ConfigFile), cfg.Photometry.File)
		}
		s.Notes = append(s.Notes, "no photometry found: no NE level")
		return nil
	}
	p, ev, err := pf.Open(dir, cfg)
	if err != nil {
		return err
	}
	if err := checkPhotometry(p); err != nil {
		return err
	}
	off := cfg.ClockOffsetSeconds
	if off != 0 {
		for i := range p.Time {
			p.Time[i] += off
		}
		for i := range ev {
			ev[i].Time += off
		}
	}
	if cfg.WindowSeconds != nil {
		// Keep a margin of samples around the window: the filters and the
		// bleaching fit behave better with the trace beyond the bins' edges.
		lo := sort.SearchFloat64s(p.Time, s.StartSeconds-10)
		hi := sort.SearchFloat64s(p.Time, s.EndSeconds+10)
		p.Time, p.Signal = p.Time[lo:hi], p.Signal[lo:hi]
		if p.Control != nil {
			p.Control = p.Control[lo:hi]
		}
	}
	if err := s.checkCoverage(p, off); err != nil {
		return err
	}
	if p.RateHz == 0 {
		p.RateHz = nominalRate(p.Time)
	}
	if p.Control == nil {
		s.Notes = append(s.Notes, fmt.Sprintf("%s: no control channel: bleaching correction only", filepath.Base(p.Source)))
	}
	s.Notes = append(s.Notes, p.Notes...)
	s.Photometry = p
	s.Events = append(s.Events, ev...)
	return nil
}

// checkCoverage checks the trace covers the recording to within
// PhotometryToleranceSeconds at each end.
func (s *Session) checkCoverage(p *Photometry, off float64) error {
	n := len(p.Time)
	if n < 2 || p.Time[0] > s.StartSeconds+PhotometryToleranceSeconds || p.Time[n-1] < s.EndSeconds-PhotometryToleranceSeconds {
		span := "no samples"
		if n > 0 {
			span = fmt.Sprintf("%.3f-%.3f s", p.Time[0], p.Time[n-1])
		}
		return fmt.Errorf("%s: the photometry spans %s on the spike clock (clock_offset_s %g) but the recording spans %.3f-%.3f s: "+
			"the trace must cover it to within %g s at each end (set window_s in session.yaml to analyse only the covered part)",
			p.Source, span, off, s.StartSeconds, s.EndSeconds, PhotometryToleranceSeconds)
	}
	return nil
}

// checkPhotometry checks a trace as its format returned it.
func checkPhotometry(p *Photometry) error {
	n := len(p.Time)
	if len(p.Signal) != n || (p.Control != nil && len(p.Control) != n) {
		return fmt.Errorf("%s: %d times, %d signal and %d control samples", p.Source, n, len(p.Signal), len(p.Control))
	}
	for i := 0; i < n; i++ {
		if !isFinite(p.Time[i]) {
			return fmt.Errorf("%s: sample %d: time %v is not a finite number", p.Source, i, p.Time[i])
		}
		if i > 0 && !(p.Time[i] > p.Time[i-1]) {
			return fmt.Errorf("%s: sample %d: time %v s does not come after %v s: photometry times must increase", p.Source, i, p.Time[i], p.Time[i-1])
		}
		if !isFinite(p.Signal[i]) {
			return fmt.Errorf("%s: sample %d (%.3f s): signal %v is not a finite number", p.Source, i, p.Time[i], p.Signal[i])
		}
		if p.Control != nil && !isFinite(p.Control[i]) {
			return fmt.Errorf("%s: sample %d (%.3f s): control %v is not a finite number", p.Source, i, p.Time[i], p.Control[i])
		}
	}
	return nil
}

// nominalRate is 1 / the median sampling interval.
func nominalRate(t []float64) float64 {
	if len(t) < 2 {
		return 0
	}
	d := make([]float64, len(t)-1)
	for i := range d {
		d[i] = t[i+1] - t[i]
	}
	sort.Float64s(d)
	return 1 / d[len(d)/2]
}

// finishEvents sorts the events (by time, then label, so ties are ordered the
// same way every run) and drops those outside the recording.
func (s *Session) finishEvents() {
	sort.SliceStable(s.Events, func(i, j int) bool {
		a, b := s.Events[i], s.Events[j]
		if a.Time != b.Time {
			return a.Time < b.Time
		}
		return a.Label < b.Label
	})
	kept := s.Events[:0]
	dropped := 0
	for _, e := range s.Events {
		if e.Time >= s.StartSeconds && e.Time <= s.EndSeconds {
			kept = append(kept, e)
		} else {
			dropped++
		}
	}
	s.Events = kept
	if dropped > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d events outside the recording (%.3f-%.3f s) dropped", dropped, s.StartSeconds, s.EndSeconds))
	}
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// windowSpikes keeps the spikes in [lo, hi].
type windowSpikes struct {
	src    SpikeSource
	lo, hi float64
}

func (w *windowSpikes) Describe() string { return w.src.Describe() }

func (w *windowSpikes) Scan(fn func([]int64, []float64) error) error {
	var u []int64
	var t []float64
	errStop := errors.New("past the window")
	err := w.src.Scan(func(units []int64, times []float64) error {
		u, t = u[:0], t[:0]
		for i, v := range times {
			if v >= w.lo && v <= w.hi {
				u = append(u, units[i])
				t = append(t, v)
			}
		}
		if len(t) > 0 {
			if err := fn(u, t); err != nil {
				return err
			}
		}
		// Sorted input: once past the window nothing more can fall in it (an
		// unsorted file is reported by Open's first full scan, which reads
		// everything up to the window's end).
		if n := len(times); n > 0 && times[n-1] > w.hi {
			return errStop
		}
		return nil
	})
	if err == errStop {
		return nil
	}
	return err
}

func (w *windowSpikes) UnlistedLabel() string {
	if l, ok := w.src.(UnlistedLabeler); ok {
		return l.UnlistedLabel()
	}
	return "unsorted"
}

func (w *windowSpikes) Notes() []string {
	if n, ok := w.src.(SpikeNoter); ok {
		return n.Notes()
	}
	return nil
}

// MemorySpikes is a SpikeSource over spikes held in memory (small sessions, the
// ground-truth generator, tests), sorted by time.
type MemorySpikes struct {
	Units []int64
	Times []float64
	Name  string // what Describe returns
	// ChunkSize is how many spikes each Scan call gets (default 65536).
	ChunkSize int
}

// Describe names the source.
func (m *MemorySpikes) Describe() string {
	if m.Name == "" {
		return "spikes in memory"
	}
	return m.Name
}

// Scan calls fn with consecutive chunks of the spikes.
func (m *MemorySpikes) Scan(fn func(units []int64, times []float64) error) error {
	if len(m.Units) != len(m.Times) {
		return fmt.Errorf("%s: %d units and %d times", m.Describe(), len(m.Units), len(m.Times))
	}
	c := m.ChunkSize
	if c <= 0 {
		c = 1 << 16
	}
	for i := 0; i < len(m.Times); i += c {
		j := min(i+c, len(m.Times))
		if err := fn(m.Units[i:j], m.Times[i:j]); err != nil {
			return err
		}
	}
	return nil
}
