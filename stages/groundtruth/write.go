package groundtruth

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"nmdyn/stages/table"
)

// WriteSession writes g as a session folder that the importer reads back
// (DESIGN.md section 4): spikes.parquet (unit, time), photometry.parquet (time,
// signal, control), events.parquet (time, label), session.yaml (id, keep, the
// span as window_s), and the
// truth next to it: truth.json and one <name>.parquet per truth table. It does
// not write simulate.yaml (a folder holding one is generated, not imported).
// Each file is written to a temporary name and renamed, so a folder never holds
// a half-written file under a final name.
func WriteSession(dir string, g *Generated) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	s := g.Session
	var units []int64
	var times []float64
	if err := s.Spikes.Scan(func(u []int64, t []float64) error {
		units = append(units, u...)
		times = append(times, t...)
		return nil
	}); err != nil {
		return err
	}
	tables := map[string]*table.Table{
		"spikes": table.New().AddInt("unit", units).AddFloat("time", times),
	}
	if p := s.Photometry; p != nil {
		pt := table.New().AddFloat("time", p.Time).AddFloat("signal", p.Signal)
		if p.Control != nil {
			pt.AddFloat("control", p.Control)
		}
		tables["photometry"] = pt
	}
	et, el := make([]float64, len(s.Events)), make([]string, len(s.Events))
	for i, e := range s.Events {
		et[i], el[i] = e.Time, e.Label
	}
	tables["events"] = table.New().AddFloat("time", et).AddString("label", el)
	for name, t := range g.Tables {
		if _, clash := tables[name]; clash {
			return fmt.Errorf("simulate: truth table %q would overwrite the session file of the same name", name)
		}
		tables[name] = t
	}
	names := make([]string, 0, len(tables))
	for name := range tables {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t := tables[name]
		if err := writeFile(filepath.Join(dir, name+".parquet"), func(w *bufio.Writer) error { return table.WriteParquet(w, t) }); err != nil {
			return err
		}
	}
	// window_s pins the recording's span: without it the importer would end the
	// recording at the last spike, a fraction of a bin before the simulated end.
	yaml := fmt.Sprintf("# Written by `run simulate` (package stages/groundtruth); the truth is in truth.json.\n"+
		"id: %s\nkeep: [good]\nwindow_s: [%s, %s]\n", s.ID,
		strconv.FormatFloat(s.StartSeconds, 'g', -1, 64), strconv.FormatFloat(s.EndSeconds, 'g', -1, 64))
	if err := writeFile(filepath.Join(dir, "session.yaml"), func(w *bufio.Writer) error { _, err := w.WriteString(yaml); return err }); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, "truth.json"), func(w *bufio.Writer) error { _, err := w.Write(g.TruthJSON); return err })
}

// writeFile writes path through a temporary file in the same folder, synced and
// renamed into place.
func writeFile(path string, fill func(w *bufio.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	if err = fill(w); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err = w.Flush(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err = os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
