// Package meanfield is the pipeline stage that explains the selected network with a
// mean-field theory: it reduces the network to a few populations defined by how NE
// modulates each neuron (package mft), follows the populations' gains, effective
// couplings, fixed points and regime along the NE grid, and compares them with the
// full network's fixed-point analysis (stage fixedpoints).
//
// Inputs: select (tables winner_neurons, winner_globals: the selected model) and
// fixedpoints (tables levels and fixed_points). Params: meanfield.populations
// (default 2), meanfield.restarts (k-means restarts, default 20), meanfield.seed
// (default 1), fixedpoints.grid (number of NE levels on [0, 1], default 21),
// fixedpoints.thresholds.{speed_tol, slow_rate, min_slow_length} (the regime rule's
// thresholds, defaults 0.02, 1/8, 0.15 as in stage fixedpoints).
//
// Outputs (populations are numbered from 1 in every table):
//
//	populations      unit, population
//	pop_stats        population, stat, param_a, param_b, value   (tidy long format; stat
//	                 count and alpha (params empty), mean (param_a), cov (param_a,
//	                 param_b; upper triangle) over the parameters of mft.ParamNames)
//	gains            nu, population, gain, shift, effective_gain   (gain: mean NE gain
//	                 E_p[e^l] for pregain/postgain, else 1; shift: mean additive NE input,
//	                 else 0; effective_gain: E_p[g_pre g_post phi'] at kappa = 0)
//	couplings        nu, r, s, value, value_pop1..value_popP, value_stable_fp
//	                 (effective coupling J_rs at kappa = 0, its per-population parts, and
//	                 J_rs at the stable mean-field fixed point nearest the origin, NaN when
//	                 there is none)
//	mf_fixed_points  nu, fp, stable, kappa_1..kappa_D, speed, max_re
//	mf_levels        nu, regime, n_fixed, n_stable, tau1_s, tau2_s, score, slow_dim,
//	                 slow_length (the columns of fixedpoints' levels)
//	comparison       nu, rnn_regime, mf_regime, agree, rnn_tau1_s, mf_tau1_s,
//	                 rnn_n_stable, mf_n_stable, fp_distance (largest distance from a
//	                 stable fixed point of either to the nearest stable one of the other,
//	                 in latent coordinates; NaN when either has none)
//	summary.json     {"meanfield": {populations, grouped_by, population_sizes, ne_grid,
//	                 regime, slowest_tau_s, agreement_with_rnn (fraction of compared
//	                 levels with equal regimes), compared_levels, disagreements (their
//	                 nu), disagreements_off_boundary (those not next to a change of the
//	                 network's regime), max_fp_distance}}
//
// Regimes and time constants of the mean-field system come from the same analysis,
// with the same thresholds, as the full network's (dynamics.AnalyzeLatent; the
// mean-field System provides the large-N limit of the network's fixed-point box, so
// the relative tolerances mean the same), so the labels compare.
package meanfield

import (
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"sync"

	"nmdyn/stages/dynamics"
	"nmdyn/stages/mft"
	"nmdyn/stages/rnn"
	"nmdyn/stages/task"
)

// params are the stage's parameters with their defaults.
type params struct {
	Meanfield struct {
		Populations int    `yaml:"populations"`
		Restarts    int    `yaml:"restarts"`
		Seed        uint64 `yaml:"seed"`
	} `yaml:"meanfield"`
	Fixedpoints struct {
		Grid       int                 `yaml:"grid"`
		Thresholds dynamics.Thresholds `yaml:"thresholds"`
	} `yaml:"fixedpoints"`
}

func defaultParams() params {
	var p params
	p.Meanfield.Populations = 2
	p.Meanfield.Restarts = 20
	p.Meanfield.Seed = 1
	p.Fixedpoints.Grid = 21
	p.Fixedpoints.Thresholds = dynamics.DefaultThresholds()
	return p
}

// settings are the analysis settings: fixedpoints' regime thresholds, so that the
// mean-field and network labels follow one rule.
func (p *params) settings(tauSeconds float64, threads int) *dynamics.Settings {
	return p.Fixedpoints.Thresholds.Settings(tauSeconds, threads)
}

// Run is the meanfield stage.
func Run(ctx task.Context) error {
	p := defaultParams()
	if err := ctx.Decode(&p); err != nil {
		return fmt.Errorf("meanfield params: %w", err)
	}
	if p.Meanfield.Populations < 1 {
		return fmt.Errorf("meanfield.populations = %d, want >= 1", p.Meanfield.Populations)
	}
	if p.Fixedpoints.Grid < 2 {
		return fmt.Errorf("fixedpoints.grid = %d, want >= 2", p.Fixedpoints.Grid)
	}
	for _, c := range []struct {
		key string
		v   float64
	}{{"speed_tol", p.Fixedpoints.Thresholds.SpeedTol}, {"slow_rate", p.Fixedpoints.Thresholds.SlowRate},
		{"min_slow_length", p.Fixedpoints.Thresholds.MinSlowLength}} {
		if !(c.v > 0) || math.IsInf(c.v, 0) {
			return fmt.Errorf("fixedpoints.thresholds.%s = %v, want a positive number", c.key, c.v)
		}
	}
	model, err := readModel(ctx)
	if err != nil {
		return err
	}
	rnnLevels, err := readRNN(ctx)
	if err != nil {
		return err
	}
	grid := make([]float64, p.Fixedpoints.Grid)
	for i := range grid {
		grid[i] = float64(i) / float64(len(grid)-1)
	}
	red, err := mft.Reduce(model, p.Meanfield.Populations, &mft.ReduceSettings{
		Grid: grid, Restarts: p.Meanfield.Restarts, Seed: p.Meanfield.Seed})
	if err != nil {
		return fmt.Errorf("meanfield: reducing the %s network: %w", model.Variant, err)
	}
	ctx.Logf("meanfield: %d neurons of a %s network grouped by %s into populations of %v",
		model.N, model.Variant, red.Basis, populationSizes(red))

	sweep, err := Sweep(ctx, red.Mixture, grid, p.settings(model.TauSeconds, ctx.Threads()))
	if err != nil {
		return err
	}
	cmp := compare(sweep, rnnLevels)
	if len(cmp) == 0 {
		ctx.Logf("meanfield: no fixedpoints level matches the NE grid; comparison is empty")
	}
	writes := []struct {
		name string
		t    func() error
	}{
		{"populations", func() error { return ctx.WriteTable("populations", populationsTable(model, red)) }},
		{"pop_stats", func() error { return ctx.WriteTable("pop_stats", popStatsTable(red.Mixture, populationSizes(red))) }},
		{"gains", func() error { return ctx.WriteTable("gains", gainsTable(sweep, red.Mixture)) }},
		{"couplings", func() error { return ctx.WriteTable("couplings", couplingsTable(sweep, len(red.Mixture.Pops))) }},
		{"mf_fixed_points", func() error {
			return ctx.WriteTable("mf_fixed_points", fixedPointsTable(sweep, red.Mixture.LatentDim()))
		}},
		{"mf_levels", func() error { return ctx.WriteTable("mf_levels", levelsTable(sweep)) }},
		{"comparison", func() error { return ctx.WriteTable("comparison", comparisonTable(cmp)) }},
	}
	for _, w := range writes {
		if err := w.t(); err != nil {
			return fmt.Errorf("meanfield: writing %s: %w", w.name, err)
		}
	}
	js, err := summaryJSON(red, sweep, cmp)
	if err != nil {
		return err
	}
	return ctx.WriteFile("summary.json", js)
}

// readModel decodes the selected network.
func readModel(ctx task.Context) (*rnn.Model, error) {
	sel, err := ctx.Input("select")
	if err != nil {
		return nil, fmt.Errorf("meanfield: %w", err)
	}
	m, err := rnn.ReadModel(sel, "winner")
	if err != nil {
		return nil, fmt.Errorf("meanfield: select output %w", err)
	}
	return m, nil
}

// Level is the analysis of the mean-field system at one NE level.
type Level struct {
	Nu       float64
	Analysis Analysis
	// Couplings at kappa = 0 (D x D), per population (P of them), and at the stable
	// fixed point nearest the origin (nil when there is none).
	Couplings    []float64
	PopCouplings [][]float64
	CouplingsFP  []float64
	// Per population: mean NE gain, mean additive shift, effective gain at kappa = 0.
	Gain, Shift, EffectiveGain []float64
}

// Sweep analyses the mixture's latent dynamics at every NE level of grid with
// dynamics.AnalyzeLatent and settings set (nil: defaults), on set.Threads goroutines
// (levels are independent, so the result does not depend on the count). ctx may be
// nil (no cancellation, no progress).
func Sweep(ctx task.Context, mx *mft.Mixture, grid []float64, set *dynamics.Settings) ([]Level, error) {
	out := make([]Level, len(grid))
	errs := make([]error, len(grid))
	var one dynamics.Settings
	if set != nil {
		one = *set
	}
	threads := one.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	threads = max(1, min(threads, len(grid)))
	one.Threads = 1 // each level on one goroutine
	jobs := make(chan int)
	done := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < threads; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				out[i], errs[i] = sweepLevel(mx, grid[i], &one)
				done <- i
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i := range grid {
			if ctx != nil && ctx.Ctx().Err() != nil {
				return
			}
			jobs <- i
		}
	}()
	go func() { wg.Wait(); close(done) }()
	n := 0
	for range done {
		n++
		if ctx != nil {
			ctx.Progress(float64(n)/float64(len(grid)), fmt.Sprintf("%d/%d NE levels", n, len(grid)))
		}
	}
	if ctx != nil {
		if err := ctx.Ctx().Err(); err != nil {
			return nil, err
		}
	}
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("meanfield: analysing the mean-field system at nu = %v: %w", grid[i], err)
		}
	}
	return out, nil
}

// sweepLevel analyses one NE level.
func sweepLevel(mx *mft.Mixture, nu float64, set *dynamics.Settings) (Level, error) {
	d := mx.LatentDim()
	zero := make([]float64, d)
	sys := mx.At(nu, nil)
	an, err := analyze(sys, set)
	if err != nil {
		return Level{}, err
	}
	lv := Level{Nu: nu, Analysis: an, Couplings: make([]float64, d*d)}
	sys.Couplings(zero, -1, lv.Couplings)
	for p := range mx.Pops {
		c := make([]float64, d*d)
		sys.Couplings(zero, p, c)
		lv.PopCouplings = append(lv.PopCouplings, c)
		lv.Gain = append(lv.Gain, mx.MeanGain(nu, p))
		lv.Shift = append(lv.Shift, mx.MeanShift(nu, p))
		lv.EffectiveGain = append(lv.EffectiveGain, sys.EffectiveGain(zero, p))
	}
	if fp := nearestStable(an.FixedPoints); fp != nil {
		lv.CouplingsFP = make([]float64, d*d)
		sys.Couplings(fp, -1, lv.CouplingsFP)
	}
	return lv, nil
}

// nearestStable returns the stable fixed point nearest the origin (the first of
// equals), or nil.
func nearestStable(fps []FixedPoint) []float64 {
	var best []float64
	bd := math.Inf(1)
	for _, fp := range fps {
		if !fp.Stable {
			continue
		}
		if d := norm(fp.Kappa); d < bd {
			best, bd = fp.Kappa, d
		}
	}
	return best
}

func norm(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v * v
	}
	return math.Sqrt(s)
}

// offBoundary counts compared levels whose regimes differ while the network's regime
// at the neighbouring compared levels equals its regime there.
func offBoundary(cmp []comparison) int {
	n := 0
	for i, c := range cmp {
		if c.agree {
			continue
		}
		atBoundary := (i > 0 && cmp[i-1].rnnRegime != c.rnnRegime) ||
			(i+1 < len(cmp) && cmp[i+1].rnnRegime != c.rnnRegime)
		if !atBoundary {
			n++
		}
	}
	return n
}

func populationSizes(red *mft.Reduction) []int {
	sizes := make([]int, len(red.Mixture.Pops))
	for _, g := range red.Groups {
		sizes[g]++
	}
	return sizes
}

// summaryJSON is the stage's contribution to figures/summary.json.
func summaryJSON(red *mft.Reduction, sweep []Level, cmp []comparison) ([]byte, error) {
	regimes := make([]string, len(sweep))
	grid := make([]float64, len(sweep))
	taus := make([]*float64, len(sweep))
	for i, lv := range sweep {
		regimes[i] = lv.Analysis.Regime
		grid[i] = lv.Nu
		if t := lv.Analysis.Tau1S; !math.IsNaN(t) && !math.IsInf(t, 0) {
			taus[i] = &t
		}
	}
	agree := 0
	maxDist := math.NaN()
	disagree := []float64{}
	for _, c := range cmp {
		if c.agree {
			agree++
		} else {
			disagree = append(disagree, c.nu)
		}
		if !math.IsNaN(c.fpDistance) && !(c.fpDistance <= maxDist) {
			maxDist = c.fpDistance
		}
	}
	mf := map[string]any{
		"populations":      len(red.Mixture.Pops),
		"grouped_by":       red.Basis,
		"population_sizes": populationSizes(red),
		"ne_grid":          grid,
		"regime":           regimes,
		"slowest_tau_s":    taus,
		"compared_levels":  len(cmp),
		"disagreements":    disagree,
		// Levels where the regimes differ although the network's regime is the same
		// at both neighbouring levels: a disagreement not explained by a boundary
		// between regimes falling between grid points.
		"disagreements_off_boundary": offBoundary(cmp),
	}
	if len(cmp) > 0 {
		mf["agreement_with_rnn"] = float64(agree) / float64(len(cmp))
	} else {
		mf["agreement_with_rnn"] = nil
	}
	if math.IsNaN(maxDist) {
		mf["max_fp_distance"] = nil
	} else {
		mf["max_fp_distance"] = maxDist
	}
	b, err := json.MarshalIndent(map[string]any{"meanfield": mf}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("meanfield: summary: %w", err)
	}
	return append(b, '\n'), nil
}
