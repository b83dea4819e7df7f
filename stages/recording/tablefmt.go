package recording

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"nmdyn/stages/table"
)

// The table formats: spikes, photometry and events as Parquet or CSV tables with
// named columns. Parquet spike files are streamed row group by row group; CSV
// files are read whole (CSV is for small sessions: a 9-million-spike session
// belongs in Parquet).

func init() {
	RegisterSpikeFormat(SpikeFormat{
		Name:     "spikes.parquet or spikes.csv (columns unit, time)",
		Priority: 10,
		Detect:   func(dir string) bool { return firstExisting(dir, "spikes.parquet", "spikes.csv") != "" },
		Open:     openTableSpikes,
	})
	RegisterPhotometryFormat(PhotometryFormat{
		Name:     "photometry.parquet or photometry.csv (columns time, signal, optional control)",
		Priority: 10,
		Detect: func(dir string, cfg *Config) bool {
			if f := cfg.Photometry.File; f != "" {
				return isTableFile(f)
			}
			return firstExisting(dir, "photometry.parquet", "photometry.csv") != ""
		},
		Open: openTablePhotometry,
	})
}

func isTableFile(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".parquet" || ext == ".pqt" || ext == ".csv"
}

// firstExisting returns the path of the first of names present in dir, or "".
func firstExisting(dir string, names ...string) string {
	for _, n := range names {
		p := filepath.Join(dir, n)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

// readTable reads a whole .parquet/.pqt or .csv file; errors name the file.
func readTable(path string) (*table.Table, error) {
	if strings.EqualFold(filepath.Ext(path), ".csv") {
		return table.ReadCSVFile(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	t, err := table.ReadParquet(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// columnErr names the file, the column and the columns there are.
func columnErr(path string, t *table.Table, what, col string, err error) error {
	if !t.Has(col) {
		return fmt.Errorf("%s: missing column %q (%s); columns are: %s", path, col, what, strings.Join(t.Names(), ", "))
	}
	return fmt.Errorf("%s: column %q (%s): %v", path, col, what, err)
}

// tableSpikes streams spikes from a table file.
type tableSpikes struct {
	path string
	mem  *MemorySpikes // CSV: read whole at Open
}

func (s *tableSpikes) Describe() string { return s.path }

func (s *tableSpikes) Notes() []string {
	return []string{filepath.Base(s.path) + " has no unit labels: every unit is labelled good"}
}

// UnlistedLabel: a plain spike table carries no curation labels; its units are
// taken as curated (good).
func (s *tableSpikes) UnlistedLabel() string { return "good" }

func (s *tableSpikes) Scan(fn func([]int64, []float64) error) error {
	if s.mem != nil {
		return s.mem.Scan(fn)
	}
	f, err := os.Open(s.path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	var row int64
	err = table.ScanParquet(f, st.Size(), []string{"unit", "time"}, func(c *table.Table) error {
		u, err := c.Int("unit")
		if err != nil {
			return fmt.Errorf("%s: column \"unit\" near row %d: %v", s.path, row, err)
		}
		t, err := c.Float("time")
		if err != nil {
			return fmt.Errorf("%s: column \"time\": %v", s.path, err)
		}
		row += int64(len(t))
		return fn(u, t)
	})
	if err != nil && !strings.HasPrefix(err.Error(), s.path) {
		err = fmt.Errorf("%s: %w", s.path, err)
	}
	return err
}

// openTableSpikes opens spikes.parquet (streamed) or spikes.csv (read whole).
// Every unit is labelled good: a plain table carries no curation labels. A
// missing column in a Parquet file is reported by the first scan (Open's check).
func openTableSpikes(dir string, cfg *Config) ([]Unit, SpikeSource, float64, float64, error) {
	path := firstExisting(dir, "spikes.parquet", "spikes.csv")
	src := &tableSpikes{path: path}
	if strings.HasSuffix(path, ".csv") {
		t, err := table.ReadCSVFile(path)
		if err != nil {
			return nil, nil, 0, 0, err
		}
		u, err := t.Int("unit")
		if err != nil {
			return nil, nil, 0, 0, columnErr(path, t, "integer unit ids", "unit", err)
		}
		tm, err := t.Float("time")
		if err != nil {
			return nil, nil, 0, 0, columnErr(path, t, "spike times in seconds", "time", err)
		}
		src.mem = &MemorySpikes{Units: u, Times: tm, Name: path}
	}
	// Units are found by Open's counting pass (UnlistedLabel labels them).
	return nil, src, 0, 0, nil
}

// openTablePhotometry reads photometry.parquet/.csv or the file session.yaml
// names, with the column names it gives (time, signal, control by default).
func openTablePhotometry(dir string, cfg *Config) (*Photometry, []Event, error) {
	pc := cfg.Photometry
	path := firstExisting(dir, "photometry.parquet", "photometry.csv")
	if pc.File != "" {
		path = filepath.Join(dir, pc.File)
	}
	t, err := readTable(path)
	if err != nil {
		return nil, nil, err
	}
	timeCol, sigCol, ctlCol := or(pc.TimeCol, "time"), or(pc.SignalCol, "signal"), pc.ControlCol
	p := &Photometry{Source: path, SignalName: sigCol}
	if p.Time, err = t.Float(timeCol); err != nil {
		return nil, nil, columnErr(path, t, "time in seconds", timeCol, err)
	}
	if p.Signal, err = t.Float(sigCol); err != nil {
		return nil, nil, columnErr(path, t, "the sensor channel", sigCol, err)
	}
	switch {
	case pc.NoControl:
	case ctlCol != "":
		if p.Control, err = t.Float(ctlCol); err != nil {
			return nil, nil, columnErr(path, t, "the control channel named in session.yaml", ctlCol, err)
		}
	case t.Has("control"):
		ctlCol = "control"
		if p.Control, err = t.Float(ctlCol); err != nil {
			return nil, nil, columnErr(path, t, "the control channel", ctlCol, err)
		}
	}
	if p.Control != nil {
		p.ControlName = ctlCol
	}
	// The table's slices may be shared with the table; copy the time so the clock
	// offset added by Open does not write through to anything else.
	p.Time = append([]float64(nil), p.Time...)
	return p, nil, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// openEvents reads behavioural events: the file session.yaml names (a table with
// time and label columns, a table with only time and events.label, or a .npy of
// times with events.label), else events.parquet / events.csv; none is fine.
func openEvents(dir string, cfg *Config) ([]Event, error) {
	ec := cfg.Events
	path := firstExisting(dir, "events.parquet", "events.csv")
	if ec.File != "" {
		path = filepath.Join(dir, ec.File)
	}
	if path == "" {
		return nil, nil
	}
	var times []float64
	var labels []string
	if strings.EqualFold(filepath.Ext(path), ".npy") {
		var err error
		if times, err = readNPYFloats(path); err != nil {
			return nil, err
		}
	} else {
		t, err := readTable(path)
		if err != nil {
			return nil, err
		}
		if times, err = t.Float("time"); err != nil {
			return nil, columnErr(path, t, "event times in seconds", "time", err)
		}
		if t.Has("label") {
			if labels, err = t.String("label"); err != nil {
				// CSV infers kinds: labels such as 1, 2 read as numbers.
				c := t.Col("label")
				labels = make([]string, len(times))
				for i := range labels {
					switch c.Kind {
					case table.Int:
						labels[i] = fmt.Sprint(c.I64[i])
					case table.Float:
						labels[i] = fmt.Sprint(c.F64[i])
					case table.Bool:
						labels[i] = fmt.Sprint(c.Bools[i])
					}
				}
			}
		} else if ec.Label == "" {
			return nil, columnErr(path, t, "event labels (or set events.label in session.yaml)", "label", nil)
		}
	}
	if labels == nil && ec.Label == "" && strings.EqualFold(filepath.Ext(path), ".npy") {
		return nil, fmt.Errorf("%s: a file of bare event times needs events.label in session.yaml", path)
	}
	ev := make([]Event, len(times))
	for i, t := range times {
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return nil, fmt.Errorf("%s: event %d: time %v is not a finite number", path, i, t)
		}
		ev[i].Time = t
		if labels != nil {
			ev[i].Label = labels[i]
			if ev[i].Label == "" {
				return nil, fmt.Errorf("%s: event %d at %v s has an empty label", path, i, t)
			}
		} else {
			ev[i].Label = ec.Label
		}
	}
	return ev, nil
}
