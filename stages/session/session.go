// Package session is the pipeline's first stage: it imports the session folder
// that data.session names (or, when the folder holds simulate.yaml, generates a
// ground-truth session from it) and writes what every later stage reads, as
// tables:
//
//	spikes      unit int64, time float64 (s): every spike of every unit, in time order
//	units       unit int64, label string, spikes int64
//	photometry  time, signal[, control] (float64; no control column when there is none)
//	events      time float64, label string
//	session     one row: id, start_s, end_s, notes ("; "-joined), block_s (NaN unless
//	            session.yaml sets it), keep (","-joined labels), n_units,
//	            photometry_rate_hz (NaN without photometry), signal_name, control_name
//
// plus, for a simulated session, the generator's truth tables and truth.json.
// Selection of units happens in preprocess: all units are written here.
package session

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"

	"nmdyn/stages/recording"
	"nmdyn/stages/table"
	"nmdyn/stages/task"
)

// Params are the params this stage reads (group data).
type Params struct {
	Data struct {
		// Session is the session folder, relative to the project root.
		Session string `yaml:"session"`
	} `yaml:"data"`
}

// SimulateFile marks a folder whose session is generated, not imported.
const SimulateFile = "simulate.yaml"

// spikeChunkRows is the size of the chunks the spikes are written in (the engine
// cuts row groups at a fixed size whatever the chunks).
const spikeChunkRows = 1 << 16

// Run is the session stage.
func Run(ctx task.Context) error {
	var p Params
	if err := ctx.Decode(&p); err != nil {
		return err
	}
	if p.Data.Session == "" {
		return errors.New("session: param data.session is not set (the session folder)")
	}
	dir := p.Data.Session
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(ctx.ProjectRoot(), dir)
	}
	var (
		s     *recording.Session
		truth *simulated
		err   error
	)
	if _, statErr := os.Stat(filepath.Join(dir, SimulateFile)); statErr == nil {
		ctx.Logf("generating the ground-truth session from %s", filepath.Join(p.Data.Session, SimulateFile))
		truth, err = generate(filepath.Join(dir, SimulateFile), ctx.Item())
		if err != nil {
			return err
		}
		s = truth.session
	} else {
		ctx.Logf("importing %s", p.Data.Session)
		if s, err = recording.Open(dir); err != nil {
			return err
		}
	}
	ctx.Progress(0.1, "session read")
	if err := Write(ctx, s); err != nil {
		return err
	}
	if truth != nil {
		if err := truth.write(ctx); err != nil {
			return err
		}
	}
	ctx.Progress(1, "done")
	return nil
}

// Write writes a session's tables (see the package comment).
func Write(ctx task.Context, s *recording.Session) error {
	if err := writeSpikes(ctx, s); err != nil {
		return err
	}
	n := len(s.Units)
	ids, spikes, labels := make([]int64, n), make([]int64, n), make([]string, n)
	for i, u := range s.Units {
		ids[i], labels[i], spikes[i] = u.ID, u.Label, u.Spikes
	}
	if err := ctx.WriteTable("units", table.New().AddInt("unit", ids).AddString("label", labels).AddInt("spikes", spikes)); err != nil {
		return err
	}

	ph := table.New()
	rate, sigName, ctlName := math.NaN(), "", ""
	if p := s.Photometry; p != nil {
		ph.AddFloat("time", p.Time).AddFloat("signal", p.Signal)
		if p.Control != nil {
			ph.AddFloat("control", p.Control)
		}
		rate, sigName, ctlName = p.RateHz, p.SignalName, p.ControlName
	} else {
		ph.AddFloat("time", nil).AddFloat("signal", nil)
	}
	if err := ctx.WriteTable("photometry", ph); err != nil {
		return err
	}

	et, el := make([]float64, len(s.Events)), make([]string, len(s.Events))
	for i, e := range s.Events {
		et[i], el[i] = e.Time, e.Label
	}
	if err := ctx.WriteTable("events", table.New().AddFloat("time", et).AddString("label", el)); err != nil {
		return err
	}

	block := math.NaN()
	if s.BlockSeconds > 0 {
		block = s.BlockSeconds
	}
	st := table.New().
		AddString("id", []string{s.ID}).
		AddFloat("start_s", []float64{s.StartSeconds}).
		AddFloat("end_s", []float64{s.EndSeconds}).
		AddString("notes", []string{strings.Join(s.Notes, "; ")}).
		AddFloat("block_s", []float64{block}).
		AddString("keep", []string{strings.Join(s.Keep, ",")}).
		AddInt("n_units", []int64{int64(n)}).
		AddFloat("photometry_rate_hz", []float64{rate}).
		AddString("signal_name", []string{sigName}).
		AddString("control_name", []string{ctlName})
	for _, note := range s.Notes {
		ctx.Logf("note: %s", note)
	}
	return ctx.WriteTable("session", st)
}

// writeSpikes streams every spike into the spikes output.
func writeSpikes(ctx task.Context, s *recording.Session) error {
	w, err := ctx.CreateTable("spikes")
	if err != nil {
		return err
	}
	var total int64
	for _, u := range s.Units {
		total += u.Spikes
	}
	var done int64
	units := make([]int64, 0, spikeChunkRows)
	times := make([]float64, 0, spikeChunkRows)
	flush := func() error {
		if len(times) == 0 {
			return nil
		}
		// The writer may keep the chunk until it fills a row group: hand it
		// slices of its own.
		c := table.New().AddInt("unit", append([]int64(nil), units...)).AddFloat("time", append([]float64(nil), times...))
		units, times = units[:0], times[:0]
		return w.Write(c)
	}
	err = s.Spikes.Scan(func(u []int64, t []float64) error {
		if err := ctx.Ctx().Err(); err != nil {
			return err
		}
		for i := range t {
			units = append(units, u[i])
			times = append(times, t[i])
			if len(times) == spikeChunkRows {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		done += int64(len(t))
		if total > 0 {
			ctx.Progress(0.1+0.8*float64(done)/float64(total), "writing spikes")
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		w.Close()
		return err
	}
	if done == 0 {
		// An empty output still needs its columns.
		if err := w.Write(table.New().AddInt("unit", nil).AddFloat("time", nil)); err != nil {
			w.Close()
			return err
		}
	}
	return w.Close()
}
