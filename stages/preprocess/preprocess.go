// Package preprocess is the stage that turns an imported session into what the
// models fit: spike counts in time bins for the kept units, the NE level nu(t) in
// [0, 1] on the same bins (from the corrected photometry), behavioural event counts,
// and the assignment of time blocks to train, validation and test.
//
// Outputs (the fit, select and predict stages rely on these names and columns):
//
//	counts          bin int64, then u<id> int64 per kept unit in ascending id
//	bins            bin, t_s (bin start, s), ne, block, split, subblock, ev_<label>...
//	units           unit, label, spikes, rate_hz, kept, reason
//	photometry_fit  one row: method, slope, intercept, r, n, bleaching, notes, and QC numbers
//	photometry      the corrected trace on the recording, at <= 20 Hz: t_s, signal,
//	                control, fitted_control, dff, ne (no control columns without a control)
//	blocks          block, start_s, end_s, split, ne_mean, bins
//	overview_raster unit, time: the spikes of up to 40 kept units in a 60 s window
//	overview_rate   t_s, rate_hz: mean rate per kept unit in 1 s windows
//
// Spikes are streamed from the session's spikes table: memory grows with units x
// bins, not with the number of spikes.
package preprocess

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"nmdyn/stages/photometry"
	"nmdyn/stages/table"
	"nmdyn/stages/task"
)

// Params are the stage's params (group preprocess); see Defaults.
type Params struct {
	Preprocess Settings `yaml:"preprocess"`
}

// Settings of the preprocessing.
type Settings struct {
	BinMs     float64 `yaml:"bin_ms"`      // bin width, ms
	MinRateHz float64 `yaml:"min_rate_hz"` // units below this mean rate are dropped
	// BlockS is the length of the train/validation/test blocks (s); a session's
	// block_s overrides it.
	BlockS float64 `yaml:"block_s"`
	// Split is how many blocks of each 10 (or any total) go to train, validation
	// and test.
	Split []int `yaml:"split"`
	// BootstrapBlockS is the length of the short blocks (within the split blocks)
	// that bootstrap resampling draws.
	BootstrapBlockS float64            `yaml:"bootstrap_block_s"`
	Photometry      PhotometrySettings `yaml:"photometry"`
	// OverviewUnits and OverviewWindowS size the data-overview raster.
	OverviewUnits   int     `yaml:"overview_units"`
	OverviewWindowS float64 `yaml:"overview_window_s"`
}

// PhotometrySettings mirror photometry.Settings.
type PhotometrySettings struct {
	Method      string    `yaml:"method"`      // irls | ols
	Bleaching   string    `yaml:"bleaching"`   // dexp | highpass
	HighpassHz  float64   `yaml:"highpass_hz"` // for bleaching: highpass
	LowpassHz   float64   `yaml:"lowpass_hz"`  // zero-phase low-pass; negative disables
	Percentiles []float64 `yaml:"percentiles"` // dF/F percentiles mapped to NE 0 and 1
}

// Defaults are the settings when pipeline.yaml says nothing.
func Defaults() Settings {
	return Settings{
		BinMs:           50,
		MinRateHz:       0.5,
		BlockS:          60,
		Split:           []int{6, 2, 2},
		BootstrapBlockS: 10,
		Photometry: PhotometrySettings{
			Method:      photometry.MethodIRLS,
			Bleaching:   photometry.BleachDoubleExp,
			HighpassHz:  photometry.DefaultHighpassHz,
			LowpassHz:   photometry.DefaultLowpassHz,
			Percentiles: []float64{photometry.DefaultPctLow, photometry.DefaultPctHigh},
		},
		OverviewUnits:   40,
		OverviewWindowS: 60,
	}
}

func (s *Settings) check() error {
	switch {
	case !(s.BinMs > 0):
		return fmt.Errorf("preprocess.bin_ms %v: want > 0", s.BinMs)
	case !(s.MinRateHz >= 0):
		return fmt.Errorf("preprocess.min_rate_hz %v: want >= 0", s.MinRateHz)
	case !(s.BlockS > 0):
		return fmt.Errorf("preprocess.block_s %v: want > 0", s.BlockS)
	case len(s.Split) != 3:
		return fmt.Errorf("preprocess.split %v: want [train, validation, test] block counts", s.Split)
	case !(s.BootstrapBlockS > 0):
		return fmt.Errorf("preprocess.bootstrap_block_s %v: want > 0", s.BootstrapBlockS)
	case len(s.Photometry.Percentiles) != 2:
		return fmt.Errorf("preprocess.photometry.percentiles %v: want [low, high]", s.Photometry.Percentiles)
	case s.OverviewUnits < 0 || !(s.OverviewWindowS > 0):
		return fmt.Errorf("preprocess.overview_units %d / overview_window_s %v: want >= 0 and > 0", s.OverviewUnits, s.OverviewWindowS)
	}
	return nil
}

func (s *Settings) photometrySettings() *photometry.Settings {
	p := s.Photometry
	return &photometry.Settings{Method: p.Method, Bleaching: p.Bleaching, HighpassHz: p.HighpassHz,
		LowpassHz: p.LowpassHz, PercentileLow: p.Percentiles[0], PercentileHigh: p.Percentiles[1]}
}

// sessionInfo is the one row of the session stage's session table.
type sessionInfo struct {
	id         string
	start, end float64
	blockS     float64 // NaN unless session.yaml sets it
	keep       []string
	notes      string
}

func readSessionInfo(in task.Input) (sessionInfo, error) {
	var si sessionInfo
	t, err := in.Table("session")
	if err != nil {
		return si, err
	}
	if t.Len() != 1 {
		return si, fmt.Errorf("session table has %d rows, want 1", t.Len())
	}
	get := func(name string) float64 {
		v, e := t.Float(name)
		if e != nil {
			err = fmt.Errorf("session table: %v", e)
			return math.NaN()
		}
		return v[0]
	}
	si.start, si.end, si.blockS = get("start_s"), get("end_s"), get("block_s")
	ids, e1 := t.String("id")
	keep, e2 := t.String("keep")
	notes, e3 := t.String("notes")
	for _, e := range []error{e1, e2, e3} {
		if e != nil && err == nil {
			err = fmt.Errorf("session table: %v", e)
		}
	}
	if err != nil {
		return si, err
	}
	si.id, si.notes = ids[0], notes[0]
	for _, k := range strings.Split(keep[0], ",") {
		if k = strings.TrimSpace(k); k != "" {
			si.keep = append(si.keep, k)
		}
	}
	if len(si.keep) == 0 {
		si.keep = []string{"good"}
	}
	return si, nil
}

// Run is the preprocess stage.
func Run(ctx task.Context) error {
	p := Params{Preprocess: Defaults()}
	if err := ctx.Decode(&p); err != nil {
		return err
	}
	set := p.Preprocess
	if err := set.check(); err != nil {
		return err
	}
	in, err := ctx.Input("session")
	if err != nil {
		return err
	}
	si, err := readSessionInfo(in)
	if err != nil {
		return err
	}
	binS := set.BinMs / 1000
	nBins := int(math.Floor((si.end-si.start)/binS + 1e-9))
	if nBins < 1 {
		return fmt.Errorf("session %s spans %g s: shorter than one %g ms bin", si.id, si.end-si.start, set.BinMs)
	}
	grid := binGrid{start: si.start, binS: binS, n: nBins}

	// Units.
	ut, err := in.Table("units")
	if err != nil {
		return err
	}
	units, err := selectUnits(ut, si, set.MinRateHz)
	if err != nil {
		return err
	}
	var kept []int64
	for _, u := range units {
		if u.kept {
			kept = append(kept, u.id)
		}
	}
	if len(kept) == 0 {
		return fmt.Errorf("session %s: no unit kept (labels %s, min_rate_hz %g): see the reasons in the units table",
			si.id, strings.Join(si.keep, ","), set.MinRateHz)
	}
	ctx.Logf("%d of %d units kept, %d bins of %g ms", len(kept), len(units), nBins, set.BinMs)

	// Spikes -> counts (and the overview raster).
	ov := newOverview(kept, grid, set.OverviewUnits, set.OverviewWindowS)
	for _, u := range units {
		ov.totalSpikes += u.spikes
	}
	counts, err := binSpikes(ctx, in, kept, grid, ov)
	if err != nil {
		return err
	}
	ctx.Progress(0.5, "spikes binned")

	// Photometry -> NE level per bin.
	ph, err := in.Table("photometry")
	if err != nil {
		return err
	}
	ne, corr, level, err := neLevel(ph, grid, set.photometrySettings())
	if err != nil {
		return fmt.Errorf("session %s photometry: %w", si.id, err)
	}
	ctx.Progress(0.6, "photometry corrected")

	// Blocks and splits.
	blockS := set.BlockS
	if si.blockS > 0 {
		blockS = si.blockS
	}
	blocks, err := makeBlocks(grid, ne, blockS, set.BootstrapBlockS, [3]int(set.Split))
	if err != nil {
		return err
	}

	// Events.
	et, err := in.Table("events")
	if err != nil {
		return err
	}
	evLabels, evCounts, err := binEvents(et, grid)
	if err != nil {
		return err
	}

	// Outputs.
	if err := writeCounts(ctx, kept, counts, grid.n); err != nil {
		return err
	}
	ctx.Progress(0.85, "counts written")
	bt := table.New()
	bins := make([]int64, grid.n)
	ts := make([]float64, grid.n)
	for b := range bins {
		bins[b] = int64(b)
		ts[b] = grid.edge(b)
	}
	bt.AddInt("bin", bins).AddFloat("t_s", ts).AddFloat("ne", ne).
		AddInt("block", blocks.binBlock).AddString("split", blocks.binSplit).AddInt("subblock", blocks.binSub)
	for i, l := range evLabels {
		bt.AddInt("ev_"+l, evCounts[i])
	}
	if err := ctx.WriteTable("bins", bt); err != nil {
		return err
	}
	if err := ctx.WriteTable("units", unitsTable(units)); err != nil {
		return err
	}
	if err := ctx.WriteTable("blocks", blocks.table()); err != nil {
		return err
	}
	if err := ctx.WriteTable("photometry_fit", fitTable(corr, level)); err != nil {
		return err
	}
	if err := ctx.WriteTable("photometry", traceTable(corr, level, grid)); err != nil {
		return err
	}
	if err := ctx.WriteTable("overview_raster", ov.rasterTable()); err != nil {
		return err
	}
	if err := ctx.WriteTable("overview_rate", rateTable(counts, len(kept), grid)); err != nil {
		return err
	}
	for _, note := range corr.Notes {
		ctx.Logf("photometry: %s", note)
	}
	ctx.Logf("control fit: %s slope %.4g intercept %.4g r %.3f", corr.Fit.Method, corr.Fit.Slope, corr.Fit.Intercept, corr.Fit.R)
	ctx.Progress(1, "done")
	return nil
}

// binGrid is the bins [start + b binS, start + (b+1) binS), b = 0..n-1.
type binGrid struct {
	start, binS float64
	n           int
}

func (g binGrid) edge(b int) float64 { return g.start + float64(b)*g.binS }

// index is the bin of time t, or -1 outside the grid.
func (g binGrid) index(t float64) int {
	b := int(math.Floor((t - g.start) / g.binS))
	if b < 0 || b >= g.n || t < g.start {
		return -1
	}
	return b
}

func (g binGrid) edges() []float64 {
	e := make([]float64, g.n+1)
	for b := range e {
		e[b] = g.edge(b)
	}
	return e
}

// unitRow is one row of the units output.
type unitRow struct {
	id     int64
	label  string
	spikes int64
	rateHz float64
	kept   bool
	reason string
}

// selectUnits keeps the units whose label is kept and whose mean rate over the
// recording reaches minRateHz.
func selectUnits(ut *table.Table, si sessionInfo, minRateHz float64) ([]unitRow, error) {
	ids, err := ut.Int("unit")
	if err != nil {
		return nil, fmt.Errorf("units table: %v", err)
	}
	labels, err := ut.String("label")
	if err != nil {
		return nil, fmt.Errorf("units table: %v", err)
	}
	spikes, err := ut.Int("spikes")
	if err != nil {
		return nil, fmt.Errorf("units table: %v", err)
	}
	keep := map[string]bool{}
	for _, k := range si.keep {
		keep[k] = true
	}
	dur := si.end - si.start
	rows := make([]unitRow, len(ids))
	for i := range ids {
		r := unitRow{id: ids[i], label: labels[i], spikes: spikes[i], rateHz: float64(spikes[i]) / dur}
		switch {
		case !keep[r.label]:
			r.reason = fmt.Sprintf("label %s not kept (keep: %s)", r.label, strings.Join(si.keep, ","))
		case r.rateHz < minRateHz:
			r.reason = fmt.Sprintf("rate %.3g Hz < min_rate_hz %g", r.rateHz, minRateHz)
		default:
			r.kept = true
		}
		rows[i] = r
	}
	sort.SliceStable(rows, func(a, b int) bool { return rows[a].id < rows[b].id })
	for i := 1; i < len(rows); i++ {
		if rows[i].id == rows[i-1].id {
			return nil, fmt.Errorf("units table: unit %d appears twice", rows[i].id)
		}
	}
	return rows, nil
}

func unitsTable(units []unitRow) *table.Table {
	n := len(units)
	ids, spikes := make([]int64, n), make([]int64, n)
	labels, reasons := make([]string, n), make([]string, n)
	rates := make([]float64, n)
	kept := make([]bool, n)
	for i, u := range units {
		ids[i], labels[i], spikes[i], rates[i], kept[i], reasons[i] = u.id, u.label, u.spikes, u.rateHz, u.kept, u.reason
	}
	return table.New().AddInt("unit", ids).AddString("label", labels).AddInt("spikes", spikes).
		AddFloat("rate_hz", rates).AddBool("kept", kept).AddString("reason", reasons)
}

// binEvents counts the events of each label in each bin; labels sorted.
func binEvents(et *table.Table, g binGrid) ([]string, [][]int64, error) {
	times, err := et.Float("time")
	if err != nil {
		return nil, nil, fmt.Errorf("events table: %v", err)
	}
	labels, err := et.String("label")
	if err != nil {
		return nil, nil, fmt.Errorf("events table: %v", err)
	}
	idx := map[string]int{}
	var names []string
	for _, l := range labels {
		if _, ok := idx[l]; !ok {
			idx[l] = 0
			names = append(names, l)
		}
	}
	sort.Strings(names)
	for i, l := range names {
		idx[l] = i
	}
	counts := make([][]int64, len(names))
	for i := range counts {
		counts[i] = make([]int64, g.n)
	}
	for i, t := range times {
		if b := g.index(t); b >= 0 {
			counts[idx[labels[i]]][b]++
		}
	}
	return names, counts, nil
}

// neLevel corrects the photometry, averages dF/F over each bin and maps it to
// [0, 1] with percentiles taken over the bins (the grid the models see).
func neLevel(ph *table.Table, g binGrid, set *photometry.Settings) ([]float64, *photometry.Result, photometry.Level, error) {
	var level photometry.Level
	if ph.Len() == 0 {
		return nil, nil, level, fmt.Errorf("the session has no photometry: preprocessing needs the NE signal")
	}
	t, err := ph.Float("time")
	if err != nil {
		return nil, nil, level, err
	}
	sig, err := ph.Float("signal")
	if err != nil {
		return nil, nil, level, err
	}
	var ctl []float64
	if ph.Has("control") {
		if ctl, err = ph.Float("control"); err != nil {
			return nil, nil, level, err
		}
	}
	corr, err := photometry.Correct(t, sig, ctl, set)
	if err != nil {
		return nil, nil, level, err
	}
	dff := photometry.Resample(t, corr.DFF, g.edges())
	level = photometry.NewLevel(dff, corr.Settings.PercentileLow, corr.Settings.PercentileHigh)
	return level.Apply(nil, dff), corr, level, nil
}

func fitTable(c *photometry.Result, level photometry.Level) *table.Table {
	f := c.Fit
	one := func(v float64) []float64 { return []float64{v} }
	return table.New().
		AddString("method", []string{f.Method}).
		AddFloat("slope", one(f.Slope)).
		AddFloat("intercept", one(f.Intercept)).
		AddFloat("r", one(f.R)).
		AddInt("n", []int64{int64(f.N)}).
		AddString("bleaching", []string{c.Settings.Bleaching}).
		AddString("notes", []string{strings.Join(c.Notes, "; ")}).
		AddFloat("scale", one(f.Scale)).
		AddFloat("outlier_fraction", one(f.OutlierFraction)).
		AddInt("iterations", []int64{int64(f.Iterations)}).
		AddFloat("lowpass_hz", one(c.Settings.LowpassHz)).
		AddFloat("rate_hz", one(c.QC.RateHz)).
		AddFloat("duration_s", one(c.QC.DurationS)).
		AddFloat("signal_bleach_pct", one(c.QC.SignalBleachPct)).
		AddFloat("control_bleach_pct", one(c.QC.ControlBleachPct)).
		AddFloat("dff_std", one(c.QC.DFFStd)).
		AddFloat("motion_r2", one(c.QC.MotionR2)).
		AddFloat("ne_pct_low", one(level.PLow)).
		AddFloat("ne_pct_high", one(level.PHigh)).
		AddFloat("ne_dff_low", one(level.Lo)).
		AddFloat("ne_dff_high", one(level.Hi))
}

// maxTraceHz bounds the rate of the photometry output (a figure needs no more).
const maxTraceHz = 20.0

// traceTable is the corrected trace over the recording, block-averaged down to at
// most 20 Hz, with the NE level of the bins' mapping.
func traceTable(c *photometry.Result, level photometry.Level, g binGrid) *table.Table {
	lo := sort.SearchFloat64s(c.Time, g.start)
	hi := sort.SearchFloat64s(c.Time, g.edge(g.n))
	k := max(1, int(math.Ceil(c.QC.RateHz/maxTraceHz-1e-9)))
	cols := [][]float64{c.Time, c.Signal, c.Control, c.FittedControl, c.DFF}
	out := make([][]float64, len(cols))
	for i := lo; i < hi; i += k {
		j := min(i+k, hi)
		for ci, col := range cols {
			if col == nil {
				continue
			}
			var s float64
			for m := i; m < j; m++ {
				s += col[m]
			}
			out[ci] = append(out[ci], s/float64(j-i))
		}
	}
	t := table.New().AddFloat("t_s", out[0]).AddFloat("signal", out[1])
	if c.Control != nil {
		t.AddFloat("control", out[2]).AddFloat("fitted_control", out[3])
	}
	return t.AddFloat("dff", out[4]).AddFloat("ne", level.Apply(nil, out[4]))
}

// rateTable is the mean rate per kept unit in 1 s windows (or per bin when bins
// are longer).
func rateTable(counts []int32, nUnits int, g binGrid) *table.Table {
	per := max(1, int(math.Round(1/g.binS)))
	var ts, rates []float64
	for b := 0; b < g.n; b += per {
		e := min(b+per, g.n)
		var s int64
		for u := 0; u < nUnits; u++ {
			for _, c := range counts[u*g.n+b : u*g.n+e] {
				s += int64(c)
			}
		}
		ts = append(ts, g.edge(b))
		rates = append(rates, float64(s)/(float64(nUnits)*float64(e-b)*g.binS))
	}
	return table.New().AddFloat("t_s", ts).AddFloat("rate_hz", rates)
}
