package predict

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"nmdyn/stages/table"
	"nmdyn/stages/task/tasktest"
)

// preprocessTables writes a recording as the preprocess stage's counts and bins
// tables (units 101, 102, ...; 60 s blocks, 10 s sub-blocks).
func preprocessTables(rec *Recording) (counts, bins *table.Table) {
	T, n := rec.T(), rec.N
	idx := make([]int64, T)
	ts := make([]float64, T)
	block, sub := make([]int64, T), make([]int64, T)
	split := make([]string, T)
	ev := make([]int64, T)
	for t := range idx {
		idx[t] = int64(t)
		ts[t] = float64(t) * rec.DtSeconds
		block[t] = int64(ts[t] / 60)
		sub[t] = int64(ts[t] / 10)
		split[t] = []string{"train", "validation", "test"}[block[t]%3]
	}
	for _, b := range rec.Events[0] {
		ev[b] = 1
	}
	counts = table.New().AddInt("bin", idx)
	for i := 0; i < n; i++ {
		c := make([]int64, T)
		for t := range c {
			c[t] = int64(rec.Y[t*n+i])
		}
		counts.AddInt(fmt.Sprintf("u%d", 101+i), c)
	}
	bins = table.New().AddInt("bin", idx).AddFloat("t_s", ts).AddFloat("ne", rec.Nu).
		AddInt("block", block).AddString("split", split).AddInt("subblock", sub).AddInt("ev_stim", ev)
	return counts, bins
}

// stageContext is a task context with preprocess outputs from a synthetic
// recording with an inverted U, the rank-one postgain network as the winner (its
// units listed in reverse order, so the stage must match them by id), and a
// fixedpoints levels table of 21 levels, line attractor on [0.4, 0.6].
func stageContext(t *testing.T, params map[string]any) *tasktest.Context {
	t.Helper()
	rec := synthRecording(synthConfig{seed: 2, minutes: 10, neurons: 20,
		kick:   func(nu float64) float64 { return 0.2 + 1.2*bump(nu) },
		slowSD: func(nu float64) float64 { return 0.05 + 0.6*bump(nu) }})
	counts, bins := preprocessTables(rec)
	ctx := tasktest.New(params)
	pre := tasktest.NewOutputs(nil)
	pre.Tables["counts"], pre.Tables["bins"] = counts, bins
	ctx.AddInput("preprocess", pre)

	m := rankOnePostgain(rec.N, 0.9)
	for i := range m.Units {
		m.Units[i] = int64(101 + rec.N - 1 - i)
	}
	neurons, globals := m.Tables()
	sel := tasktest.NewOutputs(nil)
	sel.Tables["winner_neurons"], sel.Tables["winner_globals"] = neurons, globals
	ctx.AddInput("select", sel)

	// tau1_s is the rank-one network's analytic tau / (1 - 0.9 g(nu)), except at
	// nu = 0, where it is doubled: the stage must log that one disagreement.
	nu := make([]float64, 21)
	regime := make([]string, 21)
	tau1 := make([]float64, 21)
	for i := range nu {
		nu[i] = float64(i) / 20
		regime[i] = "single fixed point"
		if i >= 8 && i <= 12 {
			regime[i] = "line attractor"
		}
		g := math.Exp(-(2*nu[i] - 1) * (2*nu[i] - 1))
		tau1[i] = m.TauSeconds / (1 - 0.9*g)
	}
	tau1[0] *= 2
	fp := tasktest.NewOutputs(nil)
	fp.Tables["levels"] = table.New().AddFloat("nu", nu).AddString("regime", regime).AddFloat("tau1_s", tau1)
	ctx.AddInput("fixedpoints", fp)
	return ctx
}

type measureJSON struct {
	InvertedU *bool     `json:"inverted_u"`
	PeakNE    *float64  `json:"peak_ne"`
	PValue    *float64  `json:"p_value"`
	CI95      []float64 `json:"ci95"`
}

type summaryJSON struct {
	Prediction struct {
		Responsiveness measureJSON `json:"responsiveness"`
		Variability    measureJSON `json:"variability"`
		ModelPeakNE    *float64    `json:"model_peak_ne"`
		LineAttractor  []float64   `json:"model_line_attractor_ne"`
	} `json:"prediction"`
}

func TestStage(t *testing.T) {
	ctx := stageContext(t, map[string]any{"predict": map[string]any{"ne_bins": 5, "shifts": 500, "seed": 1}})
	ctx.NThreads = 2
	if err := Run(ctx); err != nil {
		t.Fatal(err)
	}
	out := ctx.Out
	want := map[string]struct {
		rows int
		cols []string
	}{
		"ne_bins":        {5, []string{"bin", "ne_lo", "ne_hi", "ne_mid", "events", "responsiveness", "resp_sem", "fano_mm", "fano_sem", "slow_var"}},
		"fits":           {4, []string{"measure", "a", "b", "c", "vertex", "vertex_ci_lo", "vertex_ci_hi", "p_value", "inverted_u"}},
		"null":           {4 * 500, []string{"measure", "shift_s", "statistic"}},
		"model_curve":    {21, []string{"nu", "pulse_response", "stationary_variance", "tau1_s", "fixedpoints_tau1_s"}},
		"slow_direction": {20, []string{"unit", "weight"}},
	}
	for name, w := range want {
		tb, ok := out.Tables[name]
		if !ok {
			t.Fatalf("no output %s", name)
		}
		if tb.Len() != w.rows {
			t.Errorf("%s: %d rows, want %d", name, tb.Len(), w.rows)
		}
		for _, c := range w.cols {
			if !tb.Has(c) {
				t.Errorf("%s: no column %s", name, c)
			}
		}
	}
	var s summaryJSON
	if err := json.Unmarshal(out.Files["summary.json"], &s); err != nil {
		t.Fatal(err)
	}
	p := s.Prediction
	for name, m := range map[string]measureJSON{"responsiveness": p.Responsiveness, "variability": p.Variability} {
		if m.InvertedU == nil || m.PeakNE == nil || m.PValue == nil || len(m.CI95) != 2 {
			t.Fatalf("summary %s = %+v: missing keys", name, m)
		}
		// The recording has an inverted U at 1/2 in both.
		if !*m.InvertedU || math.Abs(*m.PeakNE-0.5) > 0.1 {
			t.Errorf("summary %s: inverted_u %v peak %v, want true near 0.5", name, *m.InvertedU, *m.PeakNE)
		}
	}
	// The rank-one network's curves are symmetric about 1/2 (TestModelCurveRankOne).
	if p.ModelPeakNE == nil || math.Abs(*p.ModelPeakNE-0.5) > 1e-9 {
		t.Errorf("model_peak_ne %v, want 0.5", p.ModelPeakNE)
	}
	if len(p.LineAttractor) != 2 || p.LineAttractor[0] != 0.4 || p.LineAttractor[1] != 0.6 {
		t.Errorf("model_line_attractor_ne %v, want [0.4, 0.6] from the levels table", p.LineAttractor)
	}
	// Slow direction: units matched by id, every weight +-1/sqrt(20) and the unit
	// with the model's first row (id 120) at +1/sqrt(20).
	sd := out.Tables["slow_direction"]
	units, _ := sd.Int("unit")
	w, _ := sd.Float("weight")
	if units[0] != 120 || math.Abs(w[0]-1/math.Sqrt(20)) > 1e-12 {
		t.Errorf("slow direction row 0: unit %d weight %v, want 120 and %v", units[0], w[0], 1/math.Sqrt(20))
	}

	var mismatches []string
	for _, l := range ctx.Log {
		if strings.Contains(l, "in the fixedpoints stage") {
			mismatches = append(mismatches, l)
		}
	}
	if len(mismatches) != 1 || !strings.Contains(mismatches[0], "nu = 0:") {
		t.Errorf("time-constant disagreements logged: %q, want one at nu = 0", mismatches)
	}

	// The same inputs on one goroutine give the same bytes.
	ctx1 := stageContext(t, map[string]any{"predict": map[string]any{"ne_bins": 5, "shifts": 500, "seed": 1}})
	ctx1.NThreads = 1
	if err := Run(ctx1); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ctx1.Out.Files["summary.json"], out.Files["summary.json"]) {
		t.Error("summary.json differs between 1 and 2 goroutines")
	}
	for _, name := range []string{"ne_bins", "fits", "null", "model_curve"} {
		var a, b bytes.Buffer
		if err := table.WriteParquet(&a, out.Tables[name]); err != nil {
			t.Fatal(err)
		}
		if err := table.WriteParquet(&b, ctx1.Out.Tables[name]); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("%s differs between 1 and 2 goroutines", name)
		}
	}
}

func TestStageErrors(t *testing.T) {
	cases := []struct {
		name   string
		params map[string]any
		edit   func(ctx *tasktest.Context)
		want   string
	}{
		{"too few shifts", map[string]any{"predict": map[string]any{"shifts": 100}}, nil, "predict.shifts"},
		{"two NE bins", map[string]any{"predict": map[string]any{"ne_bins": 2}}, nil, "predict.ne_bins"},
		{"unknown variability", map[string]any{"predict": map[string]any{"variability": "entropy"}}, nil, "predict.variability"},
		{"no winner", nil, func(ctx *tasktest.Context) { delete(ctx.Upstream["select"][0].Tables, "winner_neurons") }, "winner_neurons"},
		{"no levels", nil, func(ctx *tasktest.Context) { delete(ctx.Upstream["fixedpoints"][0].Tables, "levels") }, "levels"},
		{"foreign units", nil, func(ctx *tasktest.Context) {
			m := rankOnePostgain(20, 0.9)
			for i := range m.Units {
				m.Units[i] = int64(900 + i)
			}
			n, g := m.Tables()
			ctx.Upstream["select"][0].Tables["winner_neurons"], ctx.Upstream["select"][0].Tables["winner_globals"] = n, g
		}, "none of the winner's 20 units"},
	}
	for _, c := range cases {
		ctx := stageContext(t, c.params)
		if c.edit != nil {
			c.edit(ctx)
		}
		err := Run(ctx)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming %q", c.name, err, c.want)
		}
	}
}
