package integration

// Experiment harnesses for the ground-truth design (skipped unless NMDYN_SCRATCH is
// set; they take minutes). TestScratchRecovery is the model-recovery study run in
// memory: per simulated session, the session, preprocess, fit (every variant) and
// select stages, with diagnostics (the truth's score, the truth's score with its NE
// dependence frozen at nu = 1/2, each fit's test score) and, at the end, the
// recovery matrix. TestScratchStudy runs the whole study on one session (default:
// the default session) and prints the headline numbers of every stage.
//
//	NMDYN_SCRATCH=1 NMDYN_MECHS=none,additive,pregain,postgain,lowrank NMDYN_SEEDS=11,12,13 \
//	  NMDYN_SIMEXTRA="noise: {private: 0.05};events: {strength: 4}" \
//	  go test ./stages/integration/ -run ScratchRecovery -v -timeout 60m
//
// NMDYN_SIMEXTRA holds simulate.yaml lines separated by ';'; NMDYN_FIT holds fit
// params as YAML flow (e.g. "{epochs: 100}"); NMDYN_VARIANTS the variants to fit.

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"nmdyn/stages/dynamics"
	"nmdyn/stages/fit"
	"nmdyn/stages/preprocess"
	"nmdyn/stages/rnn"
	"nmdyn/stages/selection"
	"nmdyn/stages/session"
	"nmdyn/stages/task"
	"nmdyn/stages/task/tasktest"
)

func scratchEnv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func scratchParams(t *testing.T, dir string) map[string]any {
	params := map[string]any{"data": map[string]any{"session": dir}}
	if f := os.Getenv("NMDYN_FIT"); f != "" {
		var fp map[string]any
		if err := yaml.Unmarshal([]byte(f), &fp); err != nil {
			t.Fatalf("NMDYN_FIT: %v", err)
		}
		params["fit"] = fp
	}
	return params
}

// frozenTruthScore scores the generating network on the test windows with the
// NE input held at nu = 1/2 (its NE dependence removed), after fitting its
// initial-state map as the select stage does for the truth: how much of the
// truth's score the NE dependence carries.
var noP1, noLoop2, fromTruth bool

func frozenTruthScore(t *testing.T, pre, sess *tasktest.Outputs, freeze, trueNE bool, trainable ...string) float64 {
	counts, _ := pre.Table("counts")
	bins, _ := pre.Table("bins")
	d, err := rnn.LoadBinned(counts, bins, 2)
	if err != nil {
		t.Fatal(err)
	}
	tn, _ := sess.Table("truth_neurons")
	tg, _ := sess.Table("truth_globals")
	m, err := rnn.FromTables(tn, tg)
	if err != nil {
		t.Fatal(err)
	}
	if noLoop2 {
		for i := 0; i < m.N; i++ {
			m.Nv[i*m.R+1] = 0
		}
	}
	if noP1 && m.Variant == rnn.LowRank {
		for i := 0; i < m.N; i++ {
			m.P[i*m.K] = 0
		}
	}
	var trueNu []float64
	if trueNE {
		tne, _ := sess.Table("truth_ne")
		trueNu, _ = tne.Float("ne")
	}
	half := make([]float64, d.T)
	for i := range half {
		half[i] = 0.5
		if !freeze {
			half[i] = d.Nu[i]
			if trueNE {
				half[i] = trueNu[i]
			}
		}
	}
	dd, err := rnn.NewData(d.Y, d.N, half, d.U, d.E, m.K, d.DtSeconds)
	if err != nil {
		t.Fatal(err)
	}
	cp := *d
	cp.Data = dd
	wlen := 20
	train := cp.Windows("train", wlen, 0.25)
	test := cp.Windows("test", wlen, 0.25)
	null := rnn.NullRates(cp.Data, cp.IsTrain)
	tr, err := rnn.Train(t.Context(), m, cp.Data, train, nil, null, &rnn.TrainSettings{
		Epochs: 30, Trainable: append([]string{"x0_w", "x0_b"}, trainable...), Seed: 1, Threads: 2, L2: -1})
	if err != nil {
		t.Fatal(err)
	}
	if fromTruth && os.Getenv("NMDYN_ZERONE") != "" {
		// Start from the truth's base network with its NE parameters zeroed.
		for i := range tr.Model.Gamma {
			tr.Model.Gamma[i] = 0
		}
		for i := range tr.Model.Beta {
			tr.Model.Beta[i] = 0
		}
	}
	if fromTruth {
		// Then every parameter, as the fit stage trains (its defaults), from
		// the truth: does the fit's objective keep the truth?
		val := cp.Windows("validation", wlen, 0.25)
		fs := fit.Defaults()
		tr2, err := rnn.Train(t.Context(), tr.Model, cp.Data, train, val, null, &rnn.TrainSettings{Epochs: fs.Epochs,
			BatchWindows: fs.Batch, LearningRate: fs.LR, L2: fs.L2, Patience: fs.Patience, Seed: 1, Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		if tr2.Model.Gamma != nil {
			tu, _ := sess.Table("truth_units")
			pops, _ := tu.Int("population")
			var sum [2][2]float64
			var cnt [2]float64
			for i := 0; i < tr2.Model.N; i++ {
				cnt[pops[i]-1]++
				for k := 0; k < 2; k++ {
					sum[pops[i]-1][k] += tr2.Model.Gamma[i*tr2.Model.K+k]
				}
			}
			t.Logf("  from the truth: gamma by population 1: (%.2f, %.2f) 2: (%.2f, %.2f)", sum[0][0]/cnt[0], sum[0][1]/cnt[0], sum[1][0]/cnt[1], sum[1][1]/cnt[1])
		}
		t.Logf("  from the truth: best validation %.4f at epoch %d; test %.4f (before: validation %.4f, test %.4f)", tr2.BestBits, tr2.BestEpoch,
			rnn.BitsPerSpike(rnn.Score(tr2.Model, cp.Data, test, null, 2)),
			rnn.BitsPerSpike(rnn.Score(tr.Model, cp.Data, val, null, 2)), rnn.BitsPerSpike(rnn.Score(tr.Model, cp.Data, test, null, 2)))
	}
	return rnn.BitsPerSpike(rnn.Score(tr.Model, cp.Data, test, null, 2))
}

type recoveryRow struct {
	mech, seed, winner string
	indist             []string
	ne                 bool
	scores             map[string]float64
	truth, frozen      float64
	truthD, frozenD    float64
}

func TestScratchRecovery(t *testing.T) {
	if os.Getenv("NMDYN_SCRATCH") == "" {
		t.Skip("experiment harness: set NMDYN_SCRATCH=1")
	}
	mechs := strings.Split(scratchEnv("NMDYN_MECHS", "none,additive,pregain,postgain,lowrank"), ",")
	seeds := strings.Split(scratchEnv("NMDYN_SEEDS", "11,12,13"), ",")
	variants := strings.Split(scratchEnv("NMDYN_VARIANTS", "none,additive,pregain,postgain,lowrank"), ",")
	extra := os.Getenv("NMDYN_SIMEXTRA")
	var rows []recoveryRow
	for _, mech := range mechs {
		for _, seed := range seeds {
			start := time.Now()
			dir := t.TempDir()
			sim := fmt.Sprintf("mechanism: %s\nseed: %s\n%s", mech, seed, strings.ReplaceAll(extra, ";", "\n"))
			if err := os.WriteFile(filepath.Join(dir, "simulate.yaml"), []byte(sim), 0o644); err != nil {
				t.Fatal(err)
			}
			params := scratchParams(t, dir)
			outs := map[string][]*tasktest.Outputs{}
			var logs []string
			exec := func(name string, fn task.Func, item task.Item, inputs ...string) {
				ctx := tasktest.New(params)
				ctx.NThreads = 2
				ctx.ItemVal = item
				ctx.Out = tasktest.NewOutputs(item)
				for _, in := range inputs {
					for _, o := range outs[in] {
						ctx.AddInput(in, o)
					}
				}
				if err := fn(ctx); err != nil {
					t.Fatalf("stage %s %v: %v", name, item, err)
				}
				logs = append(logs, ctx.Log...)
				outs[name] = append(outs[name], ctx.Out)
			}
			exec("session", session.Run, nil)
			exec("preprocess", preprocess.Run, nil, "session")
			for _, v := range variants {
				for _, fs := range strings.Split(scratchEnv("NMDYN_FITSEEDS", "1"), ",") {
					var sd int64
					fmt.Sscan(fs, &sd)
					exec("fit", fit.Run, task.Item{"variant": v, "seed": sd}, "preprocess")
				}
			}
			exec("select", selection.Run, nil, "session", "preprocess", "fit")
			var s struct {
				Models    map[string]map[string]any `json:"models"`
				Selection struct {
					Winner string   `json:"winner"`
					Indist []string `json:"indistinguishable"`
					NE     bool     `json:"ne_effect_significant"`
				} `json:"selection"`
			}
			if err := json.Unmarshal(outs["select"][0].Files["summary.json"], &s); err != nil {
				t.Fatal(err)
			}
			row := recoveryRow{mech: mech, seed: seed, winner: s.Selection.Winner, indist: s.Selection.Indist,
				ne: s.Selection.NE, scores: map[string]float64{}, truth: math.NaN()}
			line := fmt.Sprintf("GEN %-8s seed %s -> winner %-8s indist %v ne %v |", mech, seed, row.winner, row.indist, row.ne)
			for _, v := range variants {
				f, _ := s.Models[v]["test_bits_per_spike"].(float64)
				row.scores[v] = f
				line += fmt.Sprintf(" %s %.4f", v[:3], f)
			}
			if ts, ok := outs["select"][0].Tables["truth_score"]; ok {
				f, _ := ts.Float("test_bits_per_spike")
				row.truth = f[0]
			}
			row.frozen = frozenTruthScore(t, outs["preprocess"][0], outs["session"][0], true, false)
			fromTruth = os.Getenv("NMDYN_FROMTRUTH") != ""
			row.truthD = frozenTruthScore(t, outs["preprocess"][0], outs["session"][0], false, false, "d", "c")
			fromTruth = false
			row.frozenD = frozenTruthScore(t, outs["preprocess"][0], outs["session"][0], true, false, "d", "c")
			trueD := frozenTruthScore(t, outs["preprocess"][0], outs["session"][0], false, true, "d", "c")
			noLoop2 = true
			line += fmt.Sprintf(" | truth without the second loop %.4f", frozenTruthScore(t, outs["preprocess"][0], outs["session"][0], false, false, "d", "c"))
			noLoop2 = false
			if mech == "lowrank" {
				noP1 = true
				line += fmt.Sprintf(" | lowrank truth without its u term %.4f", frozenTruthScore(t, outs["preprocess"][0], outs["session"][0], false, false, "d", "c"))
				noP1 = false
			}
			line += fmt.Sprintf(" | truth %.4f frozen-NE %.4f (+c,d: %.4f %.4f, true NE %.4f) | fit/truth %.3f | %.0f s", row.truth, row.frozen, row.truthD, row.frozenD, trueD,
				row.scores[mech]/row.truth, time.Since(start).Seconds())
			var tj struct {
				MeanRateHz float64   `json:"mean_rate_hz"`
				Range      []float64 `json:"line_attractor_ne_range"`
			}
			json.Unmarshal(outs["session"][0].Files["truth.json"], &tj)
			line += fmt.Sprintf(" | %.1f Hz, line %v", tj.MeanRateHz, tj.Range)
			if os.Getenv("NMDYN_PARAMS") != "" {
				tu, _ := outs["session"][0].Table("truth_units")
				pops, _ := tu.Int("population")
				for _, o := range outs["fit"] {
					nt, _ := o.Table("neurons")
					gt, _ := o.Table("globals")
					fm, err := rnn.FromTables(nt, gt)
					if err != nil {
						t.Fatal(err)
					}
					grid := []float64{0, 0.15, 0.3, 0.5, 0.7, 0.85, 1}
					if lv, err := dynamics.Sweep(fm, grid, nil); err == nil {
						line := fmt.Sprintf("  fitted %s: slowest tau (s) / fixed points at nu %v:", fm.Variant, grid)
						for _, l := range lv {
							tau := 0.0
							if len(l.Tau) > 0 {
								tau = l.Tau[0]
							}
							line += fmt.Sprintf(" %.2f/%d", tau, len(l.FixedPoints))
						}
						t.Log(line)
					}
					var ne []float64
					switch fm.Variant {
					case rnn.Additive:
						ne = fm.Beta
					case rnn.PreGain, rnn.PostGain:
						ne = fm.Gamma
					}
					if ne == nil {
						continue
					}
					var sum, ss [2][2]float64
					var cnt [2]float64
					for i := 0; i < fm.N; i++ {
						p := pops[i] - 1
						cnt[p]++
						for k := 0; k < 2; k++ {
							sum[p][k] += ne[i*fm.K+k]
							ss[p][k] += ne[i*fm.K+k] * ne[i*fm.K+k]
						}
					}
					sd := func(p, k int) float64 {
						m := sum[p][k] / cnt[p]
						return math.Sqrt(ss[p][k]/cnt[p] - m*m)
					}
					t.Logf("  fitted %s NE parameters, mean (sd) by true population: 1: (%.2f (%.2f), %.2f (%.2f))  2: (%.2f (%.2f), %.2f (%.2f))", fm.Variant,
						sum[0][0]/cnt[0], sd(0, 0), sum[0][1]/cnt[0], sd(0, 1), sum[1][0]/cnt[1], sd(1, 0), sum[1][1]/cnt[1], sd(1, 1))
				}
			}
			if os.Getenv("NMDYN_LOGS") != "" {
				for _, l := range logs {
					t.Log("  " + l)
				}
			}
			t.Log(line)
			rows = append(rows, row)
		}
	}
	// The recovery matrix: generating mechanism x winner, and how often each
	// variant is in the indistinguishable set.
	var b strings.Builder
	fmt.Fprintf(&b, "\nrecovery over seeds %v (rows: generating; columns: winner | in the indistinguishable set | NE effect | fit/truth of the generator)\n%-9s", seeds, "")
	for _, v := range variants {
		fmt.Fprintf(&b, " %8s", v)
	}
	b.WriteString(" |")
	for _, v := range variants {
		fmt.Fprintf(&b, " %4s", v[:3])
	}
	b.WriteString(" |  ne | fit/truth\n")
	for _, mech := range mechs {
		win, ind := map[string]int{}, map[string]int{}
		ne := 0
		var ratios []string
		for _, r := range rows {
			if r.mech != mech {
				continue
			}
			win[r.winner]++
			for _, v := range r.indist {
				ind[v]++
			}
			if r.ne {
				ne++
			}
			ratios = append(ratios, fmt.Sprintf("%.2f", r.scores[mech]/r.truth))
		}
		fmt.Fprintf(&b, "%-9s", mech)
		for _, v := range variants {
			fmt.Fprintf(&b, " %8d", win[v])
		}
		b.WriteString(" |")
		for _, v := range variants {
			fmt.Fprintf(&b, " %4d", ind[v])
		}
		sort.Strings(ratios)
		fmt.Fprintf(&b, " | %3d | %s\n", ne, strings.Join(ratios, " "))
	}
	t.Log(b.String())
}

// TestScratchStudy runs every stage of the study on one session folder
// (NMDYN_SESSION, default data/default: the default session) with the pipeline's
// default params (fit seeds 1 and 2, all five variants) and prints the headline
// numbers of every stage next to the truth.
func TestScratchStudy(t *testing.T) {
	if os.Getenv("NMDYN_SCRATCH") == "" {
		t.Skip("experiment harness: set NMDYN_SCRATCH=1")
	}
	dir, err := filepath.Abs(scratchEnv("NMDYN_SESSION", filepath.Join("..", "..", "data", "default")))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	params := scratchParams(t, dir)
	outs := runStudy(t, dir, params, []string{"none", "additive", "pregain", "postgain", "lowrank"}, []int64{1, 2})
	t.Logf("whole study: %.0f s", time.Since(start).Seconds())
	var tj map[string]any
	json.Unmarshal(outs["session"][0].Files["truth.json"], &tj)
	t.Logf("truth: mechanism %v, line-attractor range %v, regime %v", tj["mechanism"], tj["line_attractor_ne_range"], tj["regime"])
	if ts, ok := outs["select"][0].Tables["truth_score"]; ok {
		f, _ := ts.Float("test_bits_per_spike")
		t.Logf("truth score %.4f bits/spike", f[0])
	}
	// The mean-field populations and the clusters against the simulated ones.
	tu, _ := outs["session"][0].Table("truth_units")
	truthPop, _ := tu.Int("population")
	if mp, err := outs["meanfield"][0].Table("populations"); err == nil {
		p, _ := mp.Int("population")
		t.Logf("mean-field populations vs truth: ARI %.3f (%s)", adjustedRand(truthPop, p), crossTab(truthPop, p))
	}
	if cl, err := outs["cluster"][0].Table("clusters"); err == nil {
		for _, name := range cl.Names() {
			if c, err := cl.Int(name); err == nil && name != "unit" {
				t.Logf("cluster column %s vs truth: ARI %.3f (%s)", name, adjustedRand(truthPop, c), crossTab(truthPop, c))
			}
		}
	}
	for _, st := range []string{"select", "fixedpoints", "meanfield", "cluster", "predict"} {
		s := summary(t, outs[st][0])
		b, _ := json.Marshal(s)
		t.Logf("%s summary: %.1500s", st, b)
	}
}

// crossTab counts the pairs (a_i, b_i).
func crossTab(a, b []int64) string {
	n := map[[2]int64]int{}
	var keys [][2]int64
	for i := range a {
		k := [2]int64{a[i], b[i]}
		if n[k] == 0 {
			keys = append(keys, k)
		}
		n[k]++
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i][0] < keys[j][0] || keys[i][0] == keys[j][0] && keys[i][1] < keys[j][1]
	})
	out := ""
	for _, k := range keys {
		out += fmt.Sprintf(" %d->%d: %d", k[0], k[1], n[k])
	}
	return out
}

// adjustedRand is the adjusted Rand index of two labelings.
func adjustedRand(a, b []int64) float64 {
	c2 := func(n float64) float64 { return n * (n - 1) / 2 }
	nij := map[[2]int64]float64{}
	ai := map[int64]float64{}
	bj := map[int64]float64{}
	for i := range a {
		nij[[2]int64{a[i], b[i]}]++
		ai[a[i]]++
		bj[b[i]]++
	}
	var sij, sa, sb float64
	for _, v := range nij {
		sij += c2(v)
	}
	for _, v := range ai {
		sa += c2(v)
	}
	for _, v := range bj {
		sb += c2(v)
	}
	exp := sa * sb / c2(float64(len(a)))
	return (sij - exp) / ((sa+sb)/2 - exp)
}
