package fixedpoints

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sync"

	"nmdyn/stages/dynamics"
	"nmdyn/stages/rnn"
	"nmdyn/stages/table"
	"nmdyn/stages/task"
)

// Run is the stage (see the package comment).
func Run(ctx task.Context) error {
	p := defaultParams()
	if err := ctx.Decode(&p); err != nil {
		return fmt.Errorf("fixedpoints: params: %w", err)
	}
	if err := p.check(); err != nil {
		return fmt.Errorf("fixedpoints: %w", err)
	}
	in, err := ctx.Input("select")
	if err != nil {
		return fmt.Errorf("fixedpoints: %w", err)
	}
	model, err := readModel(in, "winner")
	if err != nil {
		return err
	}
	grid := dynamics.DefaultGrid(p.Fixedpoints.Grid)
	set := p.settings(ctx.Threads())
	ctx.Logf("fixedpoints: %s model, N = %d, latent dimension %d, %d NE levels", model.Variant, model.N, dynamics.LatentOf(model, 0).Dim(), len(grid))
	ctx.Progress(0, "latent sweep")
	levels, err := dynamics.Sweep(model, grid, set)
	if err != nil {
		return fmt.Errorf("fixedpoints: %s model: %w", model.Variant, err)
	}
	if err := ctx.Ctx().Err(); err != nil {
		return err
	}

	starts, err := readStarts(in, model, grid, p.Fixedpoints.FullStarts)
	if err != nil {
		return err
	}
	full, err := checkFullSpace(ctx, model, grid, starts, set)
	if err != nil {
		return err
	}
	for j := range levels {
		dynamics.MatchFullSpace(model, &levels[j], full[j])
	}

	// Flow fields at the lowest, middle and highest level.
	var flows []flowField
	for _, j := range []int{0, len(grid) / 2, len(grid) - 1} {
		flows = append(flows, flowField{nu: grid[j], ff: dynamics.Flow(dynamics.LatentOf(model, grid[j]), &levels[j], set)})
	}

	dim := dynamics.LatentOf(model, 0).Dim()
	outputs := []struct {
		name string
		t    *table.Table
	}{
		{"levels", levelsTable(levels)},
		{"fixed_points", fixedPointsTable(levels, dim)},
		{"eigs", eigsTable(levels, model.TauSeconds)},
		{"slow_manifold", slowManifoldTable(levels)},
		{"flow", flowTable(flows)},
		{"fullspace", fullspaceTable(grid, full)},
	}
	for _, o := range outputs {
		o.t.SetMeta("variant", string(model.Variant))
		if err := ctx.WriteTable(o.name, o.t); err != nil {
			return err
		}
	}
	sum := summary(model, levels, full)

	if err := sweepTruth(ctx, grid, set, levels, sum); err != nil {
		return err
	}

	if p.Fixedpoints.Variants == "all" {
		perVariant := map[string]any{}
		names := in.Names()
		for _, v := range rnn.Variants {
			prefix := "model_" + string(v)
			if !slices.Contains(names, prefix+"_neurons.parquet") {
				continue
			}
			if err := ctx.Ctx().Err(); err != nil {
				return err
			}
			m, err := readModel(in, prefix)
			if err != nil {
				return err
			}
			lv, err := dynamics.Sweep(m, grid, set)
			if err != nil {
				return fmt.Errorf("fixedpoints: %s model: %w", v, err)
			}
			for _, o := range []struct {
				name string
				t    *table.Table
			}{
				{"levels", levelsTable(lv)},
				{"fixed_points", fixedPointsTable(lv, dynamics.LatentOf(m, 0).Dim())},
				{"eigs", eigsTable(lv, m.TauSeconds)},
				{"slow_manifold", slowManifoldTable(lv)},
			} {
				o.t.SetMeta("variant", string(v))
				if err := ctx.WriteTable(prefix+"_"+o.name, o.t); err != nil {
					return err
				}
			}
			perVariant[string(v)] = regimeSummary(lv)
			ctx.Logf("fixedpoints: variant %s analysed", v)
		}
		sum["variants"] = perVariant
	}
	js, err := json.MarshalIndent(map[string]any{"dynamics": sum}, "", "  ")
	if err != nil {
		return fmt.Errorf("fixedpoints: summary: %w", err)
	}
	ctx.Progress(1, "done")
	return ctx.WriteFile("summary.json", append(js, '\n'))
}

// sweepTruth analyses the generating network of a simulated session (the
// session's truth_neurons and truth_globals, when session is an input and has
// them) with the same grid and settings as the fitted one: table truth_levels and
// the summary keys truth (the regime summary of the truth) and
// line_attractor_overlaps_truth. A recorded session has no truth: nothing is done.
func sweepTruth(ctx task.Context, grid []float64, set *dynamics.Settings, fitted []dynamics.Level, sum map[string]any) error {
	in, err := ctx.Input("session")
	if err != nil || !slices.Contains(in.Names(), "truth_neurons.parquet") {
		return nil
	}
	truth, err := modelFrom(in, "session", "truth")
	if err != nil {
		return err
	}
	levels, err := dynamics.Sweep(truth, grid, set)
	if err != nil {
		return fmt.Errorf("fixedpoints: generating (%s) network: %w", truth.Variant, err)
	}
	t := levelsTable(levels)
	t.SetMeta("variant", string(truth.Variant))
	if err := ctx.WriteTable("truth_levels", t); err != nil {
		return err
	}
	ts := regimeSummary(levels)
	ts["variant"] = string(truth.Variant)
	sum["truth"] = ts
	flo, fhi, fok := dynamics.LineAttractorRange(fitted)
	tlo, thi, tok := dynamics.LineAttractorRange(levels)
	switch {
	case fok && tok:
		sum["line_attractor_overlaps_truth"] = flo <= thi && tlo <= fhi
	case fok || tok:
		sum["line_attractor_overlaps_truth"] = false
	default:
		sum["line_attractor_overlaps_truth"] = nil // neither has a line attractor: nothing to overlap
	}
	ctx.Logf("fixedpoints: generating network (%s): line attractor over %v; fitted: %v", truth.Variant, ts["line_attractor_ne_range"], sum["line_attractor_ne_range"])
	return nil
}

// checkFullSpace runs the full-space check at every level on ctx.Threads()
// goroutines (levels are independent; results are in grid order whatever the count).
func checkFullSpace(ctx task.Context, m *rnn.Model, grid []float64, starts [][][]float64, set *dynamics.Settings) ([][]dynamics.FullSpacePoint, error) {
	out := make([][]dynamics.FullSpacePoint, len(grid))
	errs := make([]error, len(grid))
	jobs := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for w := 0; w < min(set.Threads, len(grid)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if err := ctx.Ctx().Err(); err != nil {
					errs[j] = err
					continue
				}
				out[j], errs[j] = dynamics.CheckFullSpace(m, grid[j], starts[j], set)
				mu.Lock()
				done++
				ctx.Progress(0.2+0.7*float64(done)/float64(len(grid)), fmt.Sprintf("full-space check %d/%d", done, len(grid)))
				mu.Unlock()
			}
		}()
	}
	for j := range grid {
		jobs <- j
	}
	close(jobs)
	wg.Wait()
	for j, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("fixedpoints: full-space check at NE level %v: %w", grid[j], err)
		}
	}
	return out, nil
}

// regimeSummary holds the per-level headline numbers of a sweep.
func regimeSummary(levels []dynamics.Level) map[string]any {
	grid := make([]float64, len(levels))
	regime := make([]string, len(levels))
	score := make([]float64, len(levels))
	tau1 := make([]float64, len(levels))
	for j, lv := range levels {
		grid[j], regime[j], score[j] = lv.Nu, lv.Regime, lv.Score
		tau1[j] = math.NaN()
		if len(lv.Tau) > 0 {
			tau1[j] = lv.Tau[0]
		}
	}
	var rng any
	if lo, hi, ok := dynamics.LineAttractorRange(levels); ok {
		rng = []float64{lo, hi}
	}
	return map[string]any{
		"ne_grid":                 grid,
		"regime":                  regime,
		"line_attractor_score":    jsonFloats(score),
		"slowest_tau_s":           jsonFloats(tau1),
		"line_attractor_ne_range": rng,
	}
}

// summary is the stage's part of figures/summary.json.
func summary(m *rnn.Model, levels []dynamics.Level, full [][]dynamics.FullSpacePoint) map[string]any {
	s := regimeSummary(levels)
	nStable := make([]int, len(levels))
	slowDim := make([]int, len(levels))
	slowLen := make([]float64, len(levels))
	for j, lv := range levels {
		nStable[j], slowDim[j], slowLen[j] = lv.NStable, lv.SlowManifold.Dim, lv.SlowManifold.Length
	}
	s["n_stable"] = nStable
	s["slow_dim"] = slowDim
	s["slow_length"] = jsonFloats(slowLen)
	s["variant"] = string(m.Variant)
	points, unmatched := 0, 0
	worst := math.NaN()
	for _, ps := range full {
		for _, p := range ps {
			points++
			switch {
			case p.Match < 0:
				unmatched++
			case math.IsNaN(worst) || p.Dist > worst:
				worst = p.Dist
			}
		}
	}
	// Agreement of the two solvers: how many full-space fixed points were found, the
	// largest distance of one to its latent counterpart (units of x), and how many
	// had no latent counterpart at all.
	s["fullspace_points"] = points
	s["fullspace_max_distance"] = jsonFloat(worst)
	s["fullspace_unmatched"] = unmatched
	return s
}
