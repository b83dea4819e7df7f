package fixedpoints

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"nmdyn/stages/rnn"
	"nmdyn/stages/table"
	"nmdyn/stages/task/tasktest"
)

// The test network: rank two, postgain with every neuron's log-gain -u^2
// (u = 2 nu - 1, basis f_2 = u^2), h = 0, and loadings whose sample overlaps are
// exactly sigma_{n1 m1} = slowOverlap, sigma_{n2 m2} = -0.5 and no cross terms
// (centred, orthogonalised columns). Its only fixed point is kappa = 0, where the
// latent Jacobian is diag(-1 + 0.98 g, -1 - 0.5 g) with g = e^{-u^2}: the slowest
// time constant is tau / (1 - 0.98 g), at least 8 tau (the line-attractor rule) for
// |u| <= 0.336, that is for the grid levels 0.35 ... 0.65.
const slowOverlap = 0.98

func testModel(n int, seed uint64) *rnn.Model {
	rng := rand.New(rand.NewPCG(seed, 1))
	cols := make([][]float64, 4)
	for c := range cols {
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		for pass := 0; pass < 2; pass++ {
			mu := 0.0
			for _, x := range v {
				mu += x / float64(n)
			}
			for i := range v {
				v[i] -= mu
			}
			for _, u := range cols[:c] {
				f := 0.0
				for i := range v {
					f += u[i] * v[i] / float64(n)
				}
				for i := range v {
					v[i] -= f * u[i]
				}
			}
		}
		ms := 0.0
		for _, x := range v {
			ms += x * x / float64(n)
		}
		for i := range v {
			v[i] /= math.Sqrt(ms)
		}
		cols[c] = v
	}
	m := rnn.New(rnn.PostGain, n, 2, 2, 1, 0.05, 0.1)
	for i := 0; i < n; i++ {
		m.Units[i] = int64(1000 + 7*i) // ids unrelated to row order
		m.M[i*2], m.M[i*2+1] = cols[0][i], cols[1][i]
		m.Nv[i*2] = slowOverlap*cols[0][i] + cols[2][i]
		m.Nv[i*2+1] = -0.5*cols[1][i] + cols[3][i]
		m.Gamma[i*2+1] = -1 // log-gain -u^2
		m.B[i] = cols[0][i]
		m.C[i], m.D[i] = 1, 1
	}
	return m
}

// simulatedStates simulates the model with NE sweeping [0, 1] and private noise and
// returns every 5th state as the select stage's winner_states table (the unit
// columns in reverse order, to check that they are found by name).
func simulatedStates(m *rnn.Model) *table.Table {
	const T = 1500
	rng := rand.New(rand.NewPCG(9, 2))
	in := rnn.Inputs{Nu: make([]float64, T)}
	for t := range in.Nu {
		in.Nu[t] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(t)/T)
	}
	x0 := make([]float64, m.N)
	X, _ := m.Trajectory(x0, in, func(_ int, x []float64) {
		for i := range x {
			x[i] += 0.1 * rng.NormFloat64()
		}
	})
	var sample []int64
	var nu []float64
	cols := make([][]float64, m.N)
	for t := 0; t < T; t += 5 {
		sample = append(sample, int64(len(sample)))
		nu = append(nu, in.Nu[t])
		for i := range cols {
			cols[i] = append(cols[i], X[t*m.N+i])
		}
	}
	tb := table.New().AddInt("sample", sample).AddFloat("nu", nu)
	for i := m.N - 1; i >= 0; i-- {
		tb.AddFloat("x_u"+strconv.FormatInt(m.Units[i], 10), cols[i])
	}
	return tb
}

func selectOutputs(m *rnn.Model) *tasktest.Outputs {
	o := tasktest.NewOutputs(nil)
	o.Tables["winner_neurons"], o.Tables["winner_globals"] = m.Tables()
	o.Tables["winner_states"] = simulatedStates(m)
	return o
}

func runStage(t *testing.T, params map[string]any, sel *tasktest.Outputs, threads int) *tasktest.Context {
	t.Helper()
	ctx := tasktest.New(params)
	ctx.NThreads = threads
	if sel != nil {
		ctx.AddInput("select", sel)
	}
	if err := Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return ctx
}

func TestRun(t *testing.T) {
	m := testModel(200, 1)
	sel := selectOutputs(m)
	ctx := runStage(t, map[string]any{"fixedpoints": map[string]any{"grid": 21}}, sel, 2)
	out := ctx.Out

	for name, cols := range map[string][]string{
		"levels":        {"nu", "regime", "n_fixed", "n_stable", "tau1_s", "tau2_s", "score", "slow_dim", "slow_length"},
		"fixed_points":  {"nu", "fp", "stable", "kappa_1", "kappa_2", "speed", "max_re"},
		"eigs":          {"nu", "fp", "idx", "re", "im", "tau_s"},
		"slow_manifold": {"nu", "point", "kappa_1", "kappa_2", "speed", "curve"},
		"flow":          {"nu", "k1", "k2", "dk1", "dk2", "speed"},
		"fullspace":     {"nu", "fp", "q", "dist_to_latent", "stable"},
	} {
		tb, ok := out.Tables[name]
		if !ok {
			t.Errorf("no output %s", name)
			continue
		}
		if !slices.Equal(tb.Names(), cols) {
			t.Errorf("%s has columns %v, want %v", name, tb.Names(), cols)
		}
	}

	lv := out.Tables["levels"]
	nus, _ := lv.Float("nu")
	regimes, _ := lv.String("regime")
	tau1, _ := lv.Float("tau1_s")
	nFixed, _ := lv.Int("n_fixed")
	if len(nus) != 21 {
		t.Fatalf("levels has %d rows, want 21", len(nus))
	}
	for j, nu := range nus {
		u := 2*nu - 1
		want := m.TauSeconds / (1 - slowOverlap*math.Exp(-u*u)) // see testModel
		if math.Abs(tau1[j]-want) > 1e-9*want {
			t.Errorf("nu %v: tau1 %v s, want %v s", nu, tau1[j], want)
		}
		wantRegime := "single fixed point"
		if nu > 0.33 && nu < 0.67 {
			wantRegime = "line attractor"
		}
		if regimes[j] != wantRegime || nFixed[j] != 1 {
			t.Errorf("nu %v: %s with %d fixed points, want %s with 1", nu, regimes[j], nFixed[j], wantRegime)
		}
	}

	fs := out.Tables["fullspace"]
	dist, _ := fs.Float("dist_to_latent")
	fnu, _ := fs.Float("nu")
	for r, d := range dist {
		if !(d < 1e-6) {
			t.Errorf("full-space fixed point at nu %v is %v from the latent one", fnu[r], d)
		}
	}
	for _, nu := range nus {
		if !slices.Contains(fnu, nu) {
			t.Errorf("no full-space fixed point at nu %v", nu)
		}
	}
	if n := out.Tables["flow"].Len(); n != 3*25*25 {
		t.Errorf("flow has %d rows, want 3 x 25 x 25", n)
	}

	var sum struct {
		Dynamics struct {
			NEGrid               []float64  `json:"ne_grid"`
			Regime               []string   `json:"regime"`
			LineAttractorScore   []*float64 `json:"line_attractor_score"`
			SlowestTauS          []*float64 `json:"slowest_tau_s"`
			LineAttractorNERange []float64  `json:"line_attractor_ne_range"`
			FullspaceMaxDistance *float64   `json:"fullspace_max_distance"`
			Variant              string     `json:"variant"`
		} `json:"dynamics"`
	}
	if err := json.Unmarshal(out.Files["summary.json"], &sum); err != nil {
		t.Fatalf("summary.json: %v", err)
	}
	d := sum.Dynamics
	if len(d.NEGrid) != 21 || len(d.Regime) != 21 || len(d.LineAttractorScore) != 21 || len(d.SlowestTauS) != 21 {
		t.Errorf("summary lists have lengths %d %d %d %d, want 21", len(d.NEGrid), len(d.Regime), len(d.LineAttractorScore), len(d.SlowestTauS))
	}
	if !slices.Equal(d.LineAttractorNERange, []float64{0.35, 0.65}) {
		t.Errorf("line_attractor_ne_range %v, want [0.35 0.65] (see testModel)", d.LineAttractorNERange)
	}
	if d.FullspaceMaxDistance == nil || !(*d.FullspaceMaxDistance < 1e-6) || d.Variant != "postgain" {
		t.Errorf("summary: fullspace_max_distance %v, variant %q", d.FullspaceMaxDistance, d.Variant)
	}

	// Same outputs on one thread.
	ctx1 := runStage(t, map[string]any{"fixedpoints": map[string]any{"grid": 21}}, sel, 1)
	for name, tb := range out.Tables {
		if !table.Equal(tb, ctx1.Out.Tables[name]) {
			t.Errorf("output %s differs between 1 and 2 threads", name)
		}
	}
	if string(ctx1.Out.Files["summary.json"]) != string(out.Files["summary.json"]) {
		t.Error("summary.json differs between 1 and 2 threads")
	}
}

func TestRunAllVariants(t *testing.T) {
	m := testModel(120, 2)
	sel := selectOutputs(m)
	none := rnn.New(rnn.None, m.N, 2, 0, 1, m.DtSeconds, m.TauSeconds)
	copy(none.Units, m.Units)
	copy(none.M, m.M)
	copy(none.Nv, m.Nv)
	sel.Tables["model_none_neurons"], sel.Tables["model_none_globals"] = none.Tables()
	sel.Tables["model_postgain_neurons"], sel.Tables["model_postgain_globals"] = m.Tables()
	ctx := runStage(t, map[string]any{"fixedpoints": map[string]any{"grid": 5, "variants": "all"}}, sel, 2)
	for _, name := range []string{"model_none_levels", "model_none_fixed_points", "model_none_eigs", "model_none_slow_manifold", "model_postgain_levels"} {
		if _, ok := ctx.Out.Tables[name]; !ok {
			t.Errorf("no output %s", name)
		}
	}
	// Without NE, g = 1 at every level: the slow time constant is tau / 0.02 and
	// every level is a line attractor.
	regimes, _ := ctx.Out.Tables["model_none_levels"].String("regime")
	for _, r := range regimes {
		if r != "line attractor" {
			t.Errorf("variant none: regime %q, want line attractor", r)
		}
	}
	var sum map[string]map[string]any
	if err := json.Unmarshal(ctx.Out.Files["summary.json"], &sum); err != nil {
		t.Fatal(err)
	}
	vs, ok := sum["dynamics"]["variants"].(map[string]any)
	if !ok || vs["none"] == nil || vs["postgain"] == nil {
		t.Errorf("summary variants: %v", sum["dynamics"]["variants"])
	}
}

func TestRunErrors(t *testing.T) {
	m := testModel(60, 3)
	good := selectOutputs(m)
	noStates := selectOutputs(m)
	delete(noStates.Tables, "winner_states")
	badStates := selectOutputs(m)
	st := badStates.Tables["winner_states"]
	st.Cols = st.Cols[:len(st.Cols)-1] // drops the first unit's column
	for _, c := range []struct {
		name   string
		params map[string]any
		sel    *tasktest.Outputs
		want   string
	}{
		{"grid", map[string]any{"fixedpoints": map[string]any{"grid": 1}}, good, "fixedpoints.grid"},
		{"variants", map[string]any{"fixedpoints": map[string]any{"variants": "some"}}, good, "fixedpoints.variants"},
		{"threshold", map[string]any{"fixedpoints": map[string]any{"thresholds": map[string]any{"slow_rate": -1}}}, good, "thresholds.slow_rate"},
		{"no select", nil, nil, "select"},
		{"no states", nil, noStates, "winner_states"},
		{"missing unit column", nil, badStates, "x_u1000"},
	} {
		ctx := tasktest.New(c.params)
		if c.sel != nil {
			ctx.AddInput("select", c.sel)
		}
		err := Run(ctx)
		t.Logf("%s: %v", c.name, err)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming %q", c.name, err, c.want)
		}
	}
}

// TestRunTruth: with a simulated session as input, the generating network is
// analysed like the fitted one. Given the fitted network itself as the truth, the
// two analyses must agree exactly; a recorded session (no truth tables) adds
// nothing.
func TestRunTruth(t *testing.T) {
	m := testModel(200, 1)
	params := map[string]any{"fixedpoints": map[string]any{"grid": 11}}
	run := func(fitted *rnn.Model, sess *tasktest.Outputs) *tasktest.Context {
		ctx := tasktest.New(params)
		ctx.NThreads = 2
		ctx.AddInput("select", selectOutputs(fitted))
		ctx.AddInput("session", sess)
		if err := Run(ctx); err != nil {
			t.Fatalf("Run: %v", err)
		}
		return ctx
	}
	sim := tasktest.NewOutputs(nil)
	sim.Tables["truth_neurons"], sim.Tables["truth_globals"] = m.Tables()
	out := run(m, sim).Out
	truth, ok := out.Tables["truth_levels"]
	if !ok {
		t.Fatal("no truth_levels table")
	}
	fitted := out.Tables["levels"]
	for _, col := range []string{"nu", "tau1_s", "score"} {
		a, err := fitted.Float(col)
		if err != nil {
			t.Fatal(err)
		}
		b, err := truth.Float(col)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != 11 || len(b) != 11 {
			t.Fatalf("%s: %d fitted and %d truth levels, want 11", col, len(a), len(b))
		}
		for i := range a {
			if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
				t.Errorf("%s row %d: fitted %v, truth %v", col, i, a[i], b[i])
			}
		}
	}
	var s struct {
		Dynamics struct {
			Range []float64 `json:"line_attractor_ne_range"`
			Truth struct {
				Regime []string  `json:"regime"`
				Range  []float64 `json:"line_attractor_ne_range"`
			} `json:"truth"`
			Overlaps *bool `json:"line_attractor_overlaps_truth"`
		} `json:"dynamics"`
	}
	if err := json.Unmarshal(out.Files["summary.json"], &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Dynamics.Truth.Regime) != 11 || fmt.Sprint(s.Dynamics.Truth.Range) != fmt.Sprint(s.Dynamics.Range) {
		t.Errorf("truth summary %+v, fitted range %v", s.Dynamics.Truth, s.Dynamics.Range)
	}
	if s.Dynamics.Overlaps == nil || *s.Dynamics.Overlaps != (len(s.Dynamics.Range) == 2) {
		t.Errorf("line_attractor_overlaps_truth = %v with ranges %v", s.Dynamics.Overlaps, s.Dynamics.Range)
	}

	if len(s.Dynamics.Range) != 2 {
		t.Fatalf("the test network has no line attractor (range %v): the cases below need one", s.Dynamics.Range)
	}

	// A truth without line attractor (its feedback scaled down to 0.3: every
	// level a single fast fixed point): no overlap; and when the fitted network
	// has none either, nothing to overlap (null).
	weak := m.Clone()
	for i := range weak.Nv {
		weak.Nv[i] *= 0.3
	}
	overlap := func(fitted, truth *rnn.Model) (any, []float64) {
		sess := tasktest.NewOutputs(nil)
		sess.Tables["truth_neurons"], sess.Tables["truth_globals"] = truth.Tables()
		ctx := run(fitted, sess)
		var v struct {
			Dynamics struct {
				Truth struct {
					Range []float64 `json:"line_attractor_ne_range"`
				} `json:"truth"`
				Overlaps any `json:"line_attractor_overlaps_truth"`
			} `json:"dynamics"`
		}
		if err := json.Unmarshal(ctx.Out.Files["summary.json"], &v); err != nil {
			t.Fatal(err)
		}
		return v.Dynamics.Overlaps, v.Dynamics.Truth.Range
	}
	if o, r := overlap(m, weak); o != false || r != nil {
		t.Errorf("truth without line attractor: overlaps %v, truth range %v; want false, null", o, r)
	}
	if o, r := overlap(weak, weak); o != nil || r != nil {
		t.Errorf("neither has a line attractor: overlaps %v, truth range %v; want null, null", o, r)
	}

	rec := run(m, tasktest.NewOutputs(nil)).Out
	if _, ok := rec.Tables["truth_levels"]; ok {
		t.Error("truth_levels written for a session without truth")
	}
	if strings.Contains(string(rec.Files["summary.json"]), "truth") {
		t.Error("summary mentions a truth for a session without one")
	}
}
