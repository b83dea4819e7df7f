package predict

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"nmdyn/stages/rnn"
	"nmdyn/stages/table"
	"nmdyn/stages/task"
)

// slowModeNE is the NE level whose slow mode gives the direction of the slow-mode
// measures: the middle of the NE range, where the line attractor is expected.
const slowModeNE = 0.5

// Run is the stage.
func Run(ctx task.Context) error {
	p := struct {
		Predict Settings `yaml:"predict"`
	}{Predict: Defaults()}
	if err := ctx.Decode(&p); err != nil {
		return fmt.Errorf("predict params: %w", err)
	}
	set := p.Predict
	if err := set.Check(); err != nil {
		return err
	}

	pre, err := ctx.Input("preprocess")
	if err != nil {
		return err
	}
	counts, err := pre.Table("counts")
	if err != nil {
		return fmt.Errorf("predict: preprocess output counts: %w", err)
	}
	bins, err := pre.Table("bins")
	if err != nil {
		return fmt.Errorf("predict: preprocess output bins: %w", err)
	}
	data, err := rnn.LoadBinned(counts, bins, 0)
	if err != nil {
		return fmt.Errorf("predict: preprocess outputs: %w", err)
	}

	sel, err := ctx.Input("select")
	if err != nil {
		return err
	}
	neurons, err := sel.Table("winner_neurons")
	if err != nil {
		return fmt.Errorf("predict: select output winner_neurons: %w", err)
	}
	globals, err := sel.Table("winner_globals")
	if err != nil {
		return fmt.Errorf("predict: select output winner_globals: %w", err)
	}
	model, err := rnn.FromTables(neurons, globals)
	if err != nil {
		return fmt.Errorf("predict: winner model: %w", err)
	}

	levels, err := readLevels(ctx, set.ModelGrid)
	if err != nil {
		return err
	}
	grid := levels.grid

	// The model's prediction.
	ctx.Progress(0, "model curves")
	curve := ModelCurve(model, grid)
	pulse := make([]float64, len(curve))
	variance := make([]float64, len(curve))
	unstable := []float64{}
	for g, pt := range curve {
		pulse[g], variance[g] = pt.PulseResponse, pt.StationaryVariance
		if !pt.Stable {
			unstable = append(unstable, pt.Nu)
			ctx.Logf("predict: no stable fixed point of the winner at nu = %g; its curves are NaN there", pt.Nu)
		}
		// The fixed point here is the attractor reached from rest; the
		// fixedpoints stage may report another one where the network is
		// multistable, so a difference is logged, not an error.
		if fp := levels.tau1S[g]; pt.Stable && fp > 0 && math.Abs(pt.Tau1S/fp-1) > 0.01 {
			ctx.Logf("predict: nu = %g: slowest time constant %.4g s here, %.4g s in the fixedpoints stage", pt.Nu, pt.Tau1S, fp)
		}
	}
	pulsePeak, varPeak := PeakOf(grid, pulse), PeakOf(grid, variance)
	// The combined prediction is the mean of the two peaks (either one alone
	// when the other curve is undefined everywhere).
	modelPeak := (pulsePeak + varPeak) / 2
	if math.IsNaN(pulsePeak) {
		modelPeak = varPeak
	} else if math.IsNaN(varPeak) {
		modelPeak = pulsePeak
	}

	// The data.
	rec := &Recording{DtSeconds: data.DtSeconds, N: data.N, Y: data.Y, Nu: data.Nu, Labels: data.Events}
	rec.Events = make([][]int, data.E)
	for t := 0; t < data.T; t++ {
		for e := 0; e < data.E; e++ {
			if data.U[t*data.E+e] > 0 {
				rec.Events[e] = append(rec.Events[e], t)
			}
		}
	}
	rec.Chunk = make([]int, data.T)
	for t, c := range data.Subblock {
		rec.Chunk[t] = int(c)
	}
	slow := SlowDirection(model, slowModeNE, set.Windows.CountS)
	if slow != nil {
		col := map[int64]int{}
		for i, u := range data.Units {
			col[u] = i
		}
		rec.SlowDir = make([]float64, data.N)
		matched := 0
		for i, u := range model.Units {
			if c, ok := col[u]; ok {
				rec.SlowDir[c] = slow[i]
				matched++
			}
		}
		if matched == 0 {
			return fmt.Errorf("predict: none of the winner's %d units is among the %d units of the counts", model.N, data.N)
		}
	} else {
		ctx.Logf("predict: the winner has no stable fixed point at nu = %g: no slow direction", slowModeNE)
	}
	res, err := Analyze(ctx.Ctx(), rec, set, ctx.Threads(), func(f float64, note string) { ctx.Progress(0.05+0.9*f, note) })
	if err != nil {
		return err
	}
	for _, n := range res.Notes {
		ctx.Logf("predict: %s", n)
	}

	for _, o := range []struct {
		name string
		t    *table.Table
	}{
		{"ne_bins", binsTable(res)},
		{"fits", fitsTable(res)},
		{"null", nullTable(res)},
		{"model_curve", curveTable(curve, levels.tau1S)},
		{"slow_direction", slowTable(model, slow)},
	} {
		if err := ctx.WriteTable(o.name, o.t); err != nil {
			return err
		}
	}
	sum := summary(res, set, modelSummary{pulsePeak: pulsePeak, varPeak: varPeak, peak: modelPeak, laRange: levels.laRange, unstable: unstable})
	b, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return err
	}
	ctx.Progress(1, "done")
	return ctx.WriteFile("summary.json", append(b, '\n'))
}

// levelsInfo is what the predict stage takes from the fixedpoints stage's levels
// table.
type levelsInfo struct {
	grid    []float64 // NE levels, sorted
	laRange []float64 // [lo, hi] of the levels labelled line attractor, nil when none
	tau1S   []float64 // the stage's slowest time constant per grid level (NaN when absent)
}

// readLevels reads the fixedpoints stage's levels table (columns nu, and when
// present regime and tau1_s). Without at least 3 levels the grid is modelGrid
// levels on [0, 1].
func readLevels(ctx task.Context, modelGrid int) (levelsInfo, error) {
	var li levelsInfo
	in, err := ctx.Input("fixedpoints")
	if err != nil {
		return li, err
	}
	lv, err := in.Table("levels")
	if err != nil {
		return li, fmt.Errorf("predict: fixedpoints output levels: %w", err)
	}
	nus, err := lv.Float("nu")
	if err != nil {
		return li, fmt.Errorf("predict: fixedpoints output levels: %w", err)
	}
	type level struct {
		nu, tau1 float64
		regime   string
	}
	var levels []level
	regimes, rerr := lv.String("regime")
	taus, terr := lv.Float("tau1_s")
	for i, nu := range nus {
		if math.IsNaN(nu) || nu < 0 || nu > 1 {
			return li, fmt.Errorf("predict: fixedpoints output levels row %d: nu = %v is outside [0, 1]", i, nu)
		}
		l := level{nu: nu, tau1: math.NaN()}
		if rerr == nil {
			l.regime = regimes[i]
		}
		if terr == nil {
			l.tau1 = taus[i]
		}
		levels = append(levels, l)
	}
	sort.SliceStable(levels, func(a, b int) bool { return levels[a].nu < levels[b].nu })
	for i, l := range levels {
		if i > 0 && l.nu == levels[i-1].nu {
			continue
		}
		li.grid = append(li.grid, l.nu)
		li.tau1S = append(li.tau1S, l.tau1)
		if l.regime == "line attractor" {
			if li.laRange == nil {
				li.laRange = []float64{l.nu, l.nu}
			}
			li.laRange[1] = l.nu
		}
	}
	if len(li.grid) < 3 {
		li.grid = make([]float64, modelGrid)
		li.tau1S = make([]float64, modelGrid)
		for i := range li.grid {
			li.grid[i] = float64(i) / float64(modelGrid-1)
			li.tau1S[i] = math.NaN()
		}
	}
	return li, nil
}

func binsTable(res *Result) *table.Table {
	nb := len(res.Bins)
	t := table.New()
	idx := make([]int64, nb)
	col := func(f func(b BinResult) float64) []float64 {
		out := make([]float64, nb)
		for j, b := range res.Bins {
			out[j] = f(b)
		}
		return out
	}
	icol := func(f func(b BinResult) int) []int64 {
		out := make([]int64, nb)
		for j, b := range res.Bins {
			out[j] = int64(f(b))
		}
		return out
	}
	for j := range idx {
		idx[j] = int64(j)
	}
	t.AddInt("bin", idx).
		AddFloat("ne_lo", col(func(b BinResult) float64 { return b.Lo })).
		AddFloat("ne_hi", col(func(b BinResult) float64 { return b.Hi })).
		AddFloat("ne_mid", col(func(b BinResult) float64 { return b.Mid })).
		AddInt("samples", icol(func(b BinResult) int { return b.Samples })).
		AddInt("events", icol(func(b BinResult) int { return b.Events })).
		AddInt("windows", icol(func(b BinResult) int { return b.Windows }))
	for _, m := range []struct{ name, value, sem string }{
		{Responsiveness, "responsiveness", "resp_sem"},
		{FanoMM, "fano_mm", "fano_sem"},
		{SlowVar, "slow_var", "slow_var_sem"},
		{SlowShared, "slow_shared", "slow_shared_sem"},
	} {
		t.AddFloat(m.value, col(func(b BinResult) float64 { return b.Value[m.name] })).
			AddFloat(m.sem, col(func(b BinResult) float64 { return b.SEM[m.name] }))
	}
	t.AddFloat("fano_raw", col(func(b BinResult) float64 { return b.FanoRaw })).
		AddInt("matched_neurons", icol(func(b BinResult) int { return b.Matched }))
	return t
}

func fitsTable(res *Result) *table.Table {
	n := len(res.Fits)
	names := make([]string, n)
	a, b, c := make([]float64, n), make([]float64, n), make([]float64, n)
	vertex, peak, lo, hi := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	stat, pv, binv, rlo, rhi := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	inv, weighted := make([]bool, n), make([]bool, n)
	for i, f := range res.Fits {
		names[i] = f.Measure
		a[i], b[i], c[i], vertex[i], peak[i] = f.A, f.B, f.C, f.Vertex, f.Peak
		lo[i], hi[i], stat[i], pv[i], binv[i] = f.CILo, f.CIHi, f.Statistic, f.PValue, f.BootInvertedU
		rlo[i], rhi[i], inv[i], weighted[i] = f.Lo, f.Hi, f.InvertedU, f.Weighted
	}
	return table.New().AddString("measure", names).AddFloat("a", a).AddFloat("b", b).AddFloat("c", c).
		AddFloat("vertex", vertex).AddFloat("peak_ne", peak).AddFloat("vertex_ci_lo", lo).AddFloat("vertex_ci_hi", hi).
		AddFloat("statistic", stat).AddFloat("p_value", pv).AddBool("inverted_u", inv).
		AddFloat("boot_inverted_u", binv).AddBool("weighted", weighted).
		AddFloat("range_lo", rlo).AddFloat("range_hi", rhi)
}

func nullTable(res *Result) *table.Table {
	n := len(res.Null)
	names, shift, stat := make([]string, n), make([]float64, n), make([]float64, n)
	for i, r := range res.Null {
		names[i], shift[i], stat[i] = r.Measure, r.ShiftS, r.Statistic
	}
	return table.New().AddString("measure", names).AddFloat("shift_s", shift).AddFloat("statistic", stat)
}

// curveTable is the model curve, with the fixedpoints stage's slowest time
// constant beside this stage's for comparison.
func curveTable(curve []ModelPoint, fpTau1S []float64) *table.Table {
	n := len(curve)
	nu, tau, pr, sv := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	stable := make([]bool, n)
	for i, p := range curve {
		nu[i], stable[i], tau[i], pr[i], sv[i] = p.Nu, p.Stable, p.Tau1S, p.PulseResponse, p.StationaryVariance
	}
	return table.New().AddFloat("nu", nu).AddBool("stable", stable).AddFloat("tau1_s", tau).
		AddFloat("fixedpoints_tau1_s", append([]float64(nil), fpTau1S...)).
		AddFloat("pulse_response", pr).AddFloat("stationary_variance", sv)
}

func slowTable(m *rnn.Model, w []float64) *table.Table {
	units := append([]int64(nil), m.Units...)
	if w == nil {
		w = make([]float64, m.N)
		for i := range w {
			w[i] = math.NaN()
		}
	}
	return table.New().AddInt("unit", units).AddFloat("weight", append([]float64(nil), w...)).
		SetMeta("ne", fmt.Sprint(slowModeNE))
}

// num maps NaN and infinities to JSON null.
func num(x float64) any {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return x
}

func measureSummary(f Fit) map[string]any {
	return map[string]any{
		"measure":    f.Measure,
		"inverted_u": f.InvertedU,
		"peak_ne":    num(f.Peak),
		"vertex":     num(f.Vertex),
		"p_value":    num(f.PValue),
		"ci95":       []any{num(f.CILo), num(f.CIHi)},
		"c":          num(f.C),
	}
}

// modelSummary is the model side of summary.json.
type modelSummary struct {
	pulsePeak, varPeak, peak float64
	laRange                  []float64 // the fixedpoints stage's line-attractor NE range, nil when none
	unstable                 []float64 // NE levels without a stable fixed point
}

func summary(res *Result, set Settings, ms modelSummary) map[string]any {
	all := map[string]any{}
	for _, f := range res.Fits {
		all[f.Measure] = measureSummary(f)
	}
	resp, _ := res.FitOf(Responsiveness)
	vari, _ := res.FitOf(set.Variability)
	var la any
	if ms.laRange != nil {
		la = ms.laRange
	}
	return map[string]any{"prediction": map[string]any{
		"responsiveness":          measureSummary(resp),
		"variability":             measureSummary(vari),
		"measures":                all,
		"model_peak_ne":           num(ms.peak),
		"model_pulse_peak_ne":     num(ms.pulsePeak),
		"model_variance_peak_ne":  num(ms.varPeak),
		"model_line_attractor_ne": la,
		"model_unstable_ne":       ms.unstable,
		"ne_bins":                 set.NEBins,
		"shifts":                  set.Shifts,
		"bootstrap":               set.Bootstrap,
		"slow_direction_ne":       slowModeNE,
		"notes":                   append([]string{}, res.Notes...),
	}}
}
