package figures

// A synthetic study: upstream outputs with the names and columns the real stages
// write (session, preprocess, fit, select, fixedpoints, meanfield, cluster,
// predict; see each stage's package doc), small and consistent with one another
// (one set of unit ids, one NE grid, models that match the counts), so that the
// figures stage can be run and checked without running the pipeline.

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"nmdyn/stages/rnn"
	"nmdyn/stages/table"
	"nmdyn/stages/task"
	"nmdyn/stages/task/tasktest"
)

// fixtureOptions vary the synthetic study.
type fixtureOptions struct {
	noEvents  bool        // a recording without behavioural events
	noControl bool        // photometry without a control channel
	winner    rnn.Variant // default postgain
	skip      []string    // upstream stages left out entirely
	drop      [][2]string // (stage, output) pairs left out
	truth     bool        // select writes truth_score
}

const (
	fxUnits   = 12
	fxDt      = 0.05
	fxBins    = 4800 // 240 s
	fxBlock   = 400  // 20 s blocks
	fxSub     = 200  // 10 s bootstrap sub-blocks
	fxGrid    = 21
	fxEpochs  = 25
	fxPhotoHz = 20.0
)

var fxSplits = []string{"train", "train", "validation", "test", "train", "train", "test", "validation", "train", "train", "test", "train"}

// fixture builds the context the figures stage runs in.
func fixture(t testing.TB, opt fixtureOptions) *tasktest.Context {
	t.Helper()
	if opt.winner == "" {
		opt.winner = rnn.PostGain
	}
	ctx := tasktest.New(map[string]any{"figures": map[string]any{}})
	fx := &fx{opt: opt, rng: rand.New(rand.NewPCG(7, 11))}
	fx.build()
	skip := map[string]bool{}
	for _, s := range opt.skip {
		skip[s] = true
	}
	for _, s := range upstream {
		if skip[s] {
			continue
		}
		for _, o := range fx.outs[s] {
			for _, d := range opt.drop {
				if d[0] == s {
					delete(o.Tables, d[1])
					delete(o.Files, d[1])
				}
			}
			ctx.AddInput(s, o)
		}
	}
	return ctx
}

type fx struct {
	opt   fixtureOptions
	rng   *rand.Rand
	outs  map[string][]*tasktest.Outputs
	units []int64
	ne    []float64
	y     [][]int64 // unit x bin counts
	evBin []int     // bins with an event
	split []string  // per bin
}

func (f *fx) one(stage string) *tasktest.Outputs {
	o := tasktest.NewOutputs(task.Item{})
	f.outs[stage] = append(f.outs[stage], o)
	return o
}

func (f *fx) build() {
	f.outs = map[string][]*tasktest.Outputs{}
	for i := 0; i < fxUnits; i++ {
		f.units = append(f.units, int64(3+2*i))
	}
	f.ne = make([]float64, fxBins)
	for b := range f.ne {
		ts := float64(b) * fxDt
		f.ne[b] = 0.5 + 0.45*math.Sin(2*math.Pi*ts/97)*math.Cos(2*math.Pi*ts/31)
	}
	if !f.opt.noEvents {
		for b := 60; b < fxBins-60; b += 100 {
			f.evBin = append(f.evBin, b)
		}
	}
	f.y = make([][]int64, fxUnits)
	for i := range f.y {
		f.y[i] = make([]int64, fxBins)
		base := 2 + float64(i)
		for b := range f.y[i] {
			rate := base * (1 + 0.5*math.Sin(2*math.Pi*float64(b)*fxDt/(5+float64(i))) + 0.3*f.ne[b])
			f.y[i][b] = poisson(f.rng, rate*fxDt)
		}
	}
	f.split = make([]string, fxBins)
	for b := range f.split {
		f.split[b] = fxSplits[b/fxBlock]
	}
	f.session()
	f.preprocess()
	models := f.fits()
	f.selection(models)
	f.fixedpoints()
	f.meanfield()
	f.cluster()
	f.predict()
}

func poisson(r *rand.Rand, mean float64) int64 {
	l, k, p := math.Exp(-mean), int64(0), 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func seq(n int, f func(i int) float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func mustJSON(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

func (f *fx) session() {
	o := f.one("session")
	var su []int64
	var st []float64
	for b := 0; b < fxBins; b++ {
		for i, u := range f.units {
			for k := int64(0); k < f.y[i][b]; k++ {
				su = append(su, u)
				st = append(st, (float64(b)+(float64(k)+0.5)/float64(f.y[i][b]+1))*fxDt)
			}
		}
	}
	o.Tables["spikes"] = table.New().AddInt("unit", su).AddFloat("time", st)
	ids := append(append([]int64(nil), f.units...), 100, 101)
	labels, spikes := make([]string, len(ids)), make([]int64, len(ids))
	for i := range ids {
		labels[i] = "good"
		if i >= fxUnits {
			labels[i], spikes[i] = "mua", 50
			continue
		}
		for _, c := range f.y[i] {
			spikes[i] += c
		}
	}
	o.Tables["units"] = table.New().AddInt("unit", ids).AddString("label", labels).AddInt("spikes", spikes)
	n := int(float64(fxBins) * fxDt * fxPhotoHz)
	pt := seq(n, func(i int) float64 { return float64(i) / fxPhotoHz })
	motion := seq(n, func(i int) float64 { return 0.05 * math.Sin(float64(i)/37) })
	ph := table.New().AddFloat("time", pt).AddFloat("signal", seq(n, func(i int) float64 {
		return 2 + 0.2*f.ne[min(fxBins-1, int(pt[i]/fxDt))] + motion[i] - 0.1*pt[i]/240
	}))
	if !f.opt.noControl {
		ph.AddFloat("control", seq(n, func(i int) float64 { return 1 + 0.8*motion[i] - 0.05*pt[i]/240 }))
	}
	o.Tables["photometry"] = ph
	et, el := []float64{}, []string{}
	for k, b := range f.evBin {
		et = append(et, float64(b)*fxDt+0.01)
		el = append(el, []string{"tone", "reward"}[k%2])
	}
	o.Tables["events"] = table.New().AddFloat("time", et).AddString("label", el)
	o.Tables["session"] = table.New().AddString("id", []string{"synthetic-01"}).AddFloat("start_s", []float64{0}).
		AddFloat("end_s", []float64{fxBins * fxDt}).AddString("notes", []string{""}).AddFloat("block_s", []float64{math.NaN()}).
		AddString("keep", []string{"good"}).AddInt("n_units", []int64{int64(len(ids))}).
		AddFloat("photometry_rate_hz", []float64{fxPhotoHz}).AddString("signal_name", []string{"signal"}).
		AddString("control_name", []string{"control"})
}

func (f *fx) eventLabels() []string {
	if f.opt.noEvents {
		return nil
	}
	return []string{"reward", "tone"}
}

func (f *fx) preprocess() {
	o := f.one("preprocess")
	counts := table.New().AddInt("bin", seqInt(fxBins))
	for i, u := range f.units {
		counts.AddInt("u"+strconv.FormatInt(u, 10), f.y[i])
	}
	o.Tables["counts"] = counts
	block, sub := make([]int64, fxBins), make([]int64, fxBins)
	for b := range block {
		block[b], sub[b] = int64(b/fxBlock), int64(b/fxSub)
	}
	bins := table.New().AddInt("bin", seqInt(fxBins)).AddFloat("t_s", seq(fxBins, func(b int) float64 { return float64(b) * fxDt })).
		AddFloat("ne", f.ne).AddInt("block", block).AddString("split", f.split).AddInt("subblock", sub)
	for k, l := range f.eventLabels() {
		ev := make([]int64, fxBins)
		for j, b := range f.evBin {
			if j%2 == 1-k {
				ev[b] = 1
			}
		}
		bins.AddInt("ev_"+l, ev)
	}
	o.Tables["bins"] = bins
	ids := append(append([]int64(nil), f.units...), 100, 101)
	kept := make([]bool, len(ids))
	reasons := make([]string, len(ids))
	for i := range ids {
		kept[i] = i < fxUnits
		if !kept[i] {
			reasons[i] = "label mua not kept (keep: good)"
		}
	}
	o.Tables["units"] = table.New().AddInt("unit", ids).AddString("label", make([]string, len(ids))).
		AddInt("spikes", make([]int64, len(ids))).AddFloat("rate_hz", make([]float64, len(ids))).
		AddBool("kept", kept).AddString("reason", reasons)
	method := "irls"
	if f.opt.noControl {
		method = "none"
	}
	o.Tables["photometry_fit"] = table.New().AddString("method", []string{method}).AddFloat("slope", []float64{1.25}).
		AddFloat("intercept", []float64{0.75}).AddFloat("r", []float64{0.9}).AddInt("n", []int64{4800}).
		AddString("bleaching", []string{"dexp"}).AddString("notes", []string{""})
	n := int(float64(fxBins) * fxDt * fxPhotoHz)
	pt := seq(n, func(i int) float64 { return float64(i) / fxPhotoHz })
	trace := table.New().AddFloat("t_s", pt).AddFloat("signal", seq(n, func(i int) float64 { return 2 + 0.2*f.ne[min(fxBins-1, int(pt[i]/fxDt))] }))
	if !f.opt.noControl {
		trace.AddFloat("control", seq(n, func(i int) float64 { return 1 + 0.04*math.Sin(float64(i)/37) })).
			AddFloat("fitted_control", seq(n, func(i int) float64 { return 2 + 0.05*math.Sin(float64(i)/37) }))
	}
	trace.AddFloat("dff", seq(n, func(i int) float64 { return 0.1 * f.ne[min(fxBins-1, int(pt[i]/fxDt))] })).
		AddFloat("ne", seq(n, func(i int) float64 { return f.ne[min(fxBins-1, int(pt[i]/fxDt))] }))
	o.Tables["photometry"] = trace
	nb := fxBins / fxBlock
	bl := table.New().AddInt("block", seqInt(nb)).
		AddFloat("start_s", seq(nb, func(i int) float64 { return float64(i*fxBlock) * fxDt })).
		AddFloat("end_s", seq(nb, func(i int) float64 { return float64((i+1)*fxBlock) * fxDt })).
		AddString("split", fxSplits).AddFloat("ne_mean", make([]float64, nb)).AddInt("bins", make([]int64, nb))
	o.Tables["blocks"] = bl
	var ru []int64
	var rt []float64
	for b := 0; b < 1200; b++ {
		for i, u := range f.units[:8] {
			if f.y[i][b] > 0 {
				ru = append(ru, u)
				rt = append(rt, float64(b)*fxDt)
			}
		}
	}
	o.Tables["overview_raster"] = table.New().AddInt("unit", ru).AddFloat("time", rt).SetMeta("window_s", "0,60")
	ns := fxBins / 20
	o.Tables["overview_rate"] = table.New().AddFloat("t_s", seq(ns, func(i int) float64 { return float64(i) })).
		AddFloat("rate_hz", seq(ns, func(i int) float64 {
			s := 0.0
			for u := range f.y {
				for b := i * 20; b < (i+1)*20; b++ {
					s += float64(f.y[u][b])
				}
			}
			return s / fxUnits
		}))
}

func seqInt(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i)
	}
	return out
}

// model makes a random network of a variant on the fixture's units and events.
func (f *fx) model(v rnn.Variant, seed uint64) *rnn.Model {
	r := rand.New(rand.NewPCG(seed, uint64(len(v))))
	labels := f.eventLabels()
	m := rnn.New(v, fxUnits, 2, 2, len(labels), fxDt, 0.1)
	copy(m.Units, f.units)
	copy(m.Events, labels)
	fill := func(x []float64, sd float64) {
		for i := range x {
			x[i] = sd * r.NormFloat64()
		}
	}
	fill(m.M, 1)
	fill(m.Nv, 1)
	fill(m.H, 0.3)
	fill(m.B, 0.5)
	fill(m.Beta, 0.3)
	fill(m.Gamma, 0.3)
	fill(m.P, 0.5)
	fill(m.Q, 0.5)
	for i := range m.C {
		m.C[i] = 0.5 + 0.2*r.Float64()
		m.D[i] = math.Log(2 + float64(i))
	}
	return m
}

func (f *fx) fits() map[rnn.Variant]*rnn.Model {
	best := map[rnn.Variant]*rnn.Model{}
	for vi, v := range rnn.Variants {
		for _, seed := range []int64{1, 2} {
			o := tasktest.NewOutputs(task.Item{"variant": string(v), "seed": seed})
			f.outs["fit"] = append(f.outs["fit"], o)
			m := f.model(v, uint64(seed))
			if seed == 1 {
				best[v] = m
			}
			o.Tables["neurons"], o.Tables["globals"] = m.Tables()
			top := 0.02 + 0.002*float64(vi) - 0.001*float64(seed)
			o.Tables["curve"] = table.New().AddInt("epoch", seqInt(fxEpochs)).
				AddFloat("train_loss", seq(fxEpochs, func(e int) float64 { return 0.5 + 0.3*math.Exp(-float64(e)/5) })).
				AddFloat("val_bits_per_spike", seq(fxEpochs, func(e int) float64 { return top * (1 - math.Exp(-float64(e)/4)) })).
				AddFloat("learning_rate", seq(fxEpochs, func(int) float64 { return 0.005 })).
				AddInt("rejected_steps", make([]int64, fxEpochs))
			var split []string
			var start, nb, block, sub, unit []int64
			var ll, ll0, spk []float64
			for w := 0; w < fxBins; w += 20 {
				if f.split[w] == "train" {
					continue
				}
				for i, u := range f.units {
					split = append(split, f.split[w])
					start, nb, block, sub, unit = append(start, int64(w)), append(nb, 20), append(block, int64(w/fxBlock)), append(sub, int64(w/fxSub)), append(unit, u)
					ll0 = append(ll0, -10)
					ll = append(ll, -10+top*float64(i+1)/4)
					spk = append(spk, 5)
				}
			}
			o.Tables["heldout"] = table.New().AddString("split", split).AddInt("start_bin", start).AddInt("bins", nb).
				AddInt("block", block).AddInt("subblock", sub).AddInt("unit", unit).
				AddFloat("ll", ll).AddFloat("ll_null", ll0).AddFloat("spikes", spk)
			o.Tables["fit_summary"] = table.New().AddString("variant", []string{string(v)}).AddInt("seed", []int64{seed}).
				AddFloat("val_bits_per_spike", []float64{top}).AddFloat("test_bits_per_spike", []float64{top * 0.9}).
				AddInt("best_epoch", []int64{fxEpochs - 1}).AddInt("epochs_run", []int64{fxEpochs}).
				AddString("stop_reason", []string{"epochs"}).AddInt("params", []int64{100}).AddInt("window_bins", []int64{20})
		}
	}
	return best
}

func (f *fx) selection(models map[rnn.Variant]*rnn.Model) {
	o := f.one("select")
	var vs []string
	var seeds []int64
	var val, test []float64
	var sel []bool
	for vi, v := range rnn.Variants {
		for _, s := range []int64{1, 2} {
			top := 0.02 + 0.002*float64(vi) - 0.001*float64(s)
			vs, seeds, val, test, sel = append(vs, string(v)), append(seeds, s), append(val, top), append(test, 0.9*top), append(sel, s == 1)
		}
	}
	o.Tables["seeds"] = table.New().AddString("variant", vs).AddInt("seed", seeds).AddFloat("val_bits_per_spike", val).
		AddFloat("test_bits_per_spike", test).AddBool("selected", sel)
	score := map[rnn.Variant]float64{rnn.None: 0.028, rnn.Additive: 0.0295, rnn.PreGain: 0.0298, rnn.PostGain: 0.0305, rnn.LowRank: 0.0301}
	score[f.opt.winner] = 0.031
	n := len(rnn.Variants)
	names, sc, lo, hi := make([]string, n), make([]float64, n), make([]float64, n), make([]float64, n)
	win, ind := make([]bool, n), make([]bool, n)
	var indist []string
	for k, v := range rnn.Variants {
		names[k], sc[k], lo[k], hi[k] = string(v), score[v], score[v]-0.0008, score[v]+0.0008
		win[k] = v == f.opt.winner
		ind[k] = win[k] || score[f.opt.winner]-score[v] < 0.001
		if ind[k] {
			indist = append(indist, string(v))
		}
	}
	o.Tables["scores"] = table.New().AddString("variant", names).AddFloat("test_bits_per_spike", sc).AddFloat("ci95_lo", lo).
		AddFloat("ci95_hi", hi).AddBool("winner", win).AddBool("indistinguishable", ind)
	var a, b []string
	var dd, dlo, dhi, pp []float64
	for i := range rnn.Variants {
		for j := i + 1; j < n; j++ {
			diff := sc[i] - sc[j]
			a, b, dd, dlo, dhi, pp = append(a, names[i]), append(b, names[j]), append(dd, diff), append(dlo, diff-0.0006), append(dhi, diff+0.0006), append(pp, 0.5)
		}
	}
	o.Tables["pairwise"] = table.New().AddString("a", a).AddString("b", b).AddFloat("diff_bits_per_spike", dd).
		AddFloat("ci95_lo", dlo).AddFloat("ci95_hi", dhi).AddFloat("frac_resamples_a_not_better", pp)
	o.Tables["block_scores"] = table.New().AddString("variant", []string{"none"}).AddInt("subblock", []int64{3}).
		AddFloat("ll_gain_nats", []float64{1}).AddFloat("spikes", []float64{10})
	for _, v := range rnn.Variants {
		nt, gt := models[v].Tables()
		o.Tables["model_"+string(v)+"_neurons"], o.Tables["model_"+string(v)+"_globals"] = nt, gt
		if v == f.opt.winner {
			o.Tables["winner_neurons"], o.Tables["winner_globals"] = models[v].Tables()
		}
	}
	if f.opt.truth {
		o.Tables["truth_score"] = table.New().AddString("mechanism", []string{"postgain"}).
			AddFloat("test_bits_per_spike", []float64{0.0335}).AddString("note", []string{""})
	}
	models2 := map[string]any{}
	for k, v := range names {
		models2[v] = map[string]any{"test_bits_per_spike": sc[k], "ci95": []float64{lo[k], hi[k]}}
	}
	o.Files["summary.json"] = mustJSON(map[string]any{"models": models2, "selection": map[string]any{
		"winner": string(f.opt.winner), "indistinguishable": indist, "ne_effect_significant": f.opt.winner != rnn.None,
		"best_ne_variant": "postgain", "ne_effect_lower_bound": 0.001, "bootstrap_resamples": 2000, "bootstrap_test_subblocks": 9}})
}

// grid is the NE grid of the dynamics analyses.
func grid() []float64 { return seq(fxGrid, func(i int) float64 { return float64(i) / (fxGrid - 1) }) }

// regimeAt is the fixture's regime along NE: a line attractor in the middle.
func regimeAt(nu float64) string {
	if nu >= 0.3 && nu <= 0.7 {
		return "line attractor"
	}
	return "single fixed point"
}

// fixedPointsAt lists (kappa_1, kappa_2, stable) at a level: a pitchfork whose
// branches spread along a line in the line-attractor range.
func fixedPointsAt(nu float64) [][3]float64 {
	if regimeAt(nu) != "line attractor" {
		return [][3]float64{{0.1 * (nu - 0.5), 0, 1}}
	}
	a := 0.8 * math.Sqrt(0.04-(nu-0.5)*(nu-0.5)) / 0.2
	return [][3]float64{{-a, 0.1 * a, 1}, {a, -0.1 * a, 1}, {0, 0, 0}}
}

func (f *fx) fixedpoints() {
	o := f.one("fixedpoints")
	g := grid()
	var regimes []string
	var nFixed, nStable, slowDim []int64
	var tau1, tau2, score, slowLen []float64
	var fnu, k1, k2, speed, maxRe []float64
	var fp []int64
	var stable []bool
	var laLo, laHi = math.NaN(), math.NaN()
	for _, nu := range g {
		reg := regimeAt(nu)
		regimes = append(regimes, reg)
		pts := fixedPointsAt(nu)
		ns := 0
		for i, p := range pts {
			fnu, fp, k1, k2 = append(fnu, nu), append(fp, int64(i)), append(k1, p[0]), append(k2, p[1])
			stable = append(stable, p[2] == 1)
			speed, maxRe = append(speed, 1e-12), append(maxRe, -0.1)
			if p[2] == 1 {
				ns++
			}
		}
		nFixed, nStable = append(nFixed, int64(len(pts))), append(nStable, int64(ns))
		t1 := 0.1 / (0.02 + 2*(nu-0.5)*(nu-0.5))
		tau1, tau2 = append(tau1, t1), append(tau2, 0.1)
		score = append(score, math.Log2(t1/0.1))
		if reg == "line attractor" {
			slowDim, slowLen = append(slowDim, 1), append(slowLen, 1.5)
			if math.IsNaN(laLo) {
				laLo = nu
			}
			laHi = nu
		} else {
			slowDim, slowLen = append(slowDim, 0), append(slowLen, 0)
		}
	}
	o.Tables["levels"] = table.New().AddFloat("nu", g).AddString("regime", regimes).AddInt("n_fixed", nFixed).
		AddInt("n_stable", nStable).AddFloat("tau1_s", tau1).AddFloat("tau2_s", tau2).AddFloat("score", score).
		AddInt("slow_dim", slowDim).AddFloat("slow_length", slowLen)
	o.Tables["fixed_points"] = table.New().AddFloat("nu", fnu).AddInt("fp", fp).AddBool("stable", stable).
		AddFloat("kappa_1", k1).AddFloat("kappa_2", k2).AddFloat("speed", speed).AddFloat("max_re", maxRe)
	o.Tables["eigs"] = table.New().AddFloat("nu", []float64{0}).AddInt("fp", []int64{0}).AddInt("idx", []int64{0}).
		AddFloat("re", []float64{-1}).AddFloat("im", []float64{0}).AddFloat("tau_s", []float64{0.1})
	var snu, s1, s2, ss []float64
	var spt, scv []int64
	for _, nu := range g {
		if regimeAt(nu) != "line attractor" {
			continue
		}
		for k := 0; k <= 20; k++ {
			x := -1 + 0.1*float64(k)
			snu, spt, s1, s2, ss, scv = append(snu, nu), append(spt, int64(k)), append(s1, x), append(s2, -0.1*x), append(ss, 0.001), append(scv, 0)
		}
	}
	o.Tables["slow_manifold"] = table.New().AddFloat("nu", snu).AddInt("point", spt).AddFloat("kappa_1", s1).
		AddFloat("kappa_2", s2).AddFloat("speed", ss).AddInt("curve", scv)
	var wnu, w1, w2, wd1, wd2, wsp []float64
	for _, nu := range []float64{0, 0.5, 1} {
		gain := 1 - 2*math.Abs(nu-0.5)
		for j := 0; j < 15; j++ {
			for i := 0; i < 15; i++ {
				x, y := -1.5+3*float64(i)/14, -1.5+3*float64(j)/14
				dx := -x + (1+0.2*gain)*math.Tanh(x)*gain + (1-gain)*0
				dy := -y - 0.1*x
				wnu, w1, w2, wd1, wd2 = append(wnu, nu), append(w1, x), append(w2, y), append(wd1, dx), append(wd2, dy)
				wsp = append(wsp, math.Hypot(dx, dy))
			}
		}
	}
	o.Tables["flow"] = table.New().AddFloat("nu", wnu).AddFloat("k1", w1).AddFloat("k2", w2).AddFloat("dk1", wd1).
		AddFloat("dk2", wd2).AddFloat("speed", wsp)
	o.Tables["fullspace"] = table.New().AddFloat("nu", []float64{0.5}).AddInt("fp", []int64{0}).AddFloat("q", []float64{1e-14}).
		AddFloat("dist_to_latent", []float64{1e-8}).AddBool("stable", []bool{true})
	o.Files["summary.json"] = mustJSON(map[string]any{"dynamics": map[string]any{
		"ne_grid": g, "regime": regimes, "line_attractor_score": score, "slowest_tau_s": tau1,
		"line_attractor_ne_range": []float64{laLo, laHi}, "variant": string(f.opt.winner)}})
}

func (f *fx) meanfield() {
	o := f.one("meanfield")
	pops := make([]int64, fxUnits)
	for i := range pops {
		pops[i] = int64(1 + i%2)
	}
	o.Tables["populations"] = table.New().AddInt("unit", append([]int64(nil), f.units...)).AddInt("population", pops)
	o.Tables["pop_stats"] = table.New().AddInt("population", []int64{1}).AddString("stat", []string{"count"}).
		AddString("param_a", []string{""}).AddString("param_b", []string{""}).AddFloat("value", []float64{6})
	g := grid()
	var gnu, gain, shift, eff []float64
	var gpop []int64
	for _, nu := range g {
		for p := 1; p <= 2; p++ {
			gv := math.Exp(float64(3-2*p) * 0.4 * (2*nu - 1))
			gnu, gpop, gain, shift, eff = append(gnu, nu), append(gpop, int64(p)), append(gain, gv), append(shift, 0), append(eff, 0.8*gv)
		}
	}
	o.Tables["gains"] = table.New().AddFloat("nu", gnu).AddInt("population", gpop).AddFloat("gain", gain).
		AddFloat("shift", shift).AddFloat("effective_gain", eff)
	var cnu, val, v1, v2, vfp []float64
	var cr, cs []int64
	for _, nu := range g {
		for r := 1; r <= 2; r++ {
			for s := 1; s <= 2; s++ {
				v := 0.0
				if r == s {
					v = 1.05 - 2*(nu-0.5)*(nu-0.5)
					if r == 2 {
						v = 0.3
					}
				}
				cnu, cr, cs, val, v1, v2, vfp = append(cnu, nu), append(cr, int64(r)), append(cs, int64(s)), append(val, v), append(v1, 0.6*v), append(v2, 0.4*v), append(vfp, v)
			}
		}
	}
	o.Tables["couplings"] = table.New().AddFloat("nu", cnu).AddInt("r", cr).AddInt("s", cs).AddFloat("value", val).
		AddFloat("value_pop1", v1).AddFloat("value_pop2", v2).AddFloat("value_stable_fp", vfp)
	var mnu, m1, m2, msp, mre []float64
	var mfp []int64
	var mst []bool
	for _, nu := range g {
		for i, p := range fixedPointsAt(nu) {
			mnu, mfp, m1, m2 = append(mnu, nu), append(mfp, int64(i)), append(m1, 1.05*p[0]), append(m2, p[1])
			mst, msp, mre = append(mst, p[2] == 1), append(msp, 0), append(mre, -0.1)
		}
	}
	o.Tables["mf_fixed_points"] = table.New().AddFloat("nu", mnu).AddInt("fp", mfp).AddBool("stable", mst).
		AddFloat("kappa_1", m1).AddFloat("kappa_2", m2).AddFloat("speed", msp).AddFloat("max_re", mre)
	regimes := make([]string, len(g))
	mfReg := make([]string, len(g))
	agree := make([]bool, len(g))
	n := 0
	for k, nu := range g {
		regimes[k] = regimeAt(nu)
		mfReg[k] = regimes[k]
		if k == 6 {
			mfReg[k] = "single fixed point"
		}
		agree[k] = mfReg[k] == regimes[k]
		if agree[k] {
			n++
		}
	}
	o.Tables["mf_levels"] = table.New().AddFloat("nu", g).AddString("regime", mfReg).AddInt("n_fixed", make([]int64, len(g))).
		AddInt("n_stable", make([]int64, len(g))).AddFloat("tau1_s", make([]float64, len(g))).
		AddFloat("tau2_s", make([]float64, len(g))).AddFloat("score", make([]float64, len(g)))
	o.Tables["comparison"] = table.New().AddFloat("nu", g).AddString("rnn_regime", regimes).AddString("mf_regime", mfReg).
		AddBool("agree", agree).AddFloat("rnn_tau1_s", make([]float64, len(g))).AddFloat("mf_tau1_s", make([]float64, len(g))).
		AddInt("rnn_n_stable", make([]int64, len(g))).AddInt("mf_n_stable", make([]int64, len(g))).
		AddFloat("fp_distance", make([]float64, len(g)))
	o.Files["summary.json"] = mustJSON(map[string]any{"meanfield": map[string]any{
		"populations": 2, "grouped_by": "gamma", "population_sizes": []int{6, 6}, "ne_grid": g, "regime": mfReg,
		"agreement_with_rnn": float64(n) / float64(len(g)), "compared_levels": len(g)}})
}

func (f *fx) cluster() {
	o := f.one("cluster")
	m := f.model(f.opt.winner, 1)
	cl := make([]int64, fxUnits)
	prob := make([]float64, fxUnits)
	cols := map[string][]float64{}
	names := []string{"m_1", "m_2", "n_1", "n_2", "h", "gamma_1", "gamma_2"}
	for i := 0; i < fxUnits; i++ {
		cl[i], prob[i] = int64(1+i%2), 0.9
		cols["m_1"] = append(cols["m_1"], m.M[2*i])
		cols["m_2"] = append(cols["m_2"], m.M[2*i+1])
		cols["n_1"] = append(cols["n_1"], m.Nv[2*i])
		cols["n_2"] = append(cols["n_2"], m.Nv[2*i+1])
		cols["h"] = append(cols["h"], m.H[i])
		sign := float64(3 - 2*cl[i])
		cols["gamma_1"] = append(cols["gamma_1"], sign*0.5+0.1*m.M[2*i])
		cols["gamma_2"] = append(cols["gamma_2"], 0.2*m.Nv[2*i])
	}
	t := table.New().AddInt("unit", append([]int64(nil), f.units...)).AddInt("cluster", cl).AddFloat("probability", prob)
	for _, n := range names {
		t.AddFloat(n, cols[n])
	}
	o.Tables["clusters"] = t
	var k []int64
	var cov []string
	var bic []float64
	var chosen []bool
	for _, c := range []string{"full", "tied"} {
		for kk := 1; kk <= 4; kk++ {
			k, cov = append(k, int64(kk)), append(cov, c)
			b := 300 + 20*math.Abs(float64(kk)-2)
			if c == "full" {
				b += 15 * float64(kk)
			}
			bic, chosen = append(bic, b), append(chosen, c == "tied" && kk == 2)
		}
	}
	o.Tables["bic"] = table.New().AddInt("k", k).AddString("covariance", cov).AddFloat("bic", bic).
		AddFloat("loglik", make([]float64, len(k))).AddInt("params", make([]int64, len(k))).
		AddBool("converged", make([]bool, len(k))).AddBool("chosen", chosen)
	nb := 50
	o.Tables["stability"] = table.New().AddInt("resample", seqInt(nb)).
		AddFloat("ari", seq(nb, func(i int) float64 { return 0.7 + 0.25*f.rng.Float64() })).
		AddFloat("null_ari", seq(nb, func(i int) float64 { return 0.3 * f.rng.Float64() }))
	o.Tables["resampled_regimes"] = table.New().AddInt("network", nil).AddFloat("nu", nil).AddString("regime", nil).
		AddString("fitted_regime", nil).AddBool("matches", nil)
	o.Tables["cluster_means"] = table.New().AddInt("cluster", []int64{1}).AddFloat("weight", []float64{0.5}).
		AddString("feature", []string{"m_1"}).AddFloat("mean", []float64{0}).AddFloat("sd", []float64{1})
	o.Files["summary.json"] = mustJSON(map[string]any{"clustering": map[string]any{
		"n_clusters": 2, "covariance": "tied", "bic": bic[4:], "stability_ari": 0.82, "stability_null_ari": 0.15,
		"ari_with_meanfield": 1.0, "ari_with_truth": nil, "features": names, "neurons": fxUnits}})
}

func (f *fx) predict() {
	o := f.one("predict")
	const nb = 5
	mid := []float64{0.1, 0.3, 0.5, 0.7, 0.9}
	resp := make([]float64, nb)
	fano := make([]float64, nb)
	slow := make([]float64, nb)
	for j, x := range mid {
		resp[j] = 1 - 4*(x-0.5)*(x-0.5) + 0.05*math.Sin(float64(j))
		fano[j] = 1.1 + 0.3*(1-4*(x-0.5)*(x-0.5))
		slow[j] = 0.5 + 0.2*x
		if f.opt.noEvents {
			resp[j] = math.NaN()
		}
	}
	sem := seq(nb, func(int) float64 { return 0.05 })
	o.Tables["ne_bins"] = table.New().AddInt("bin", seqInt(nb)).
		AddFloat("ne_lo", seq(nb, func(j int) float64 { return 0.2 * float64(j) })).
		AddFloat("ne_hi", seq(nb, func(j int) float64 { return 0.2 * float64(j+1) })).
		AddFloat("ne_mid", mid).AddInt("samples", make([]int64, nb)).AddInt("events", make([]int64, nb)).
		AddInt("windows", make([]int64, nb)).
		AddFloat("responsiveness", resp).AddFloat("resp_sem", sem).AddFloat("fano_mm", fano).AddFloat("fano_sem", sem).
		AddFloat("slow_var", slow).AddFloat("slow_var_sem", sem).AddFloat("slow_shared", slow).AddFloat("slow_shared_sem", sem).
		AddFloat("fano_raw", fano).AddInt("matched_neurons", make([]int64, nb))
	type fit struct {
		m                 string
		a, b, c, peak, p  float64
		inv               bool
		lo, hi, statistic float64
	}
	fits := []fit{
		{"responsiveness", 0, 4, -4, 0.5, 0.004, !f.opt.noEvents, 0.42, 0.58, 0.6},
		{"fano_mm", 1.1, 1.2, -1.2, 0.5, 0.01, true, 0.4, 0.6, 0.2},
		{"slow_var", 0.5, 0.2, 0, 0.9, 0.6, false, 0.8, 0.9, 0},
		{"slow_shared", 0.5, 0.2, 0, 0.9, 0.6, false, 0.8, 0.9, 0},
	}
	if f.opt.noEvents {
		fits[0].a, fits[0].b, fits[0].c, fits[0].peak, fits[0].p = math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()
	}
	n := len(fits)
	t := table.New()
	get := func(g func(fit) float64) []float64 {
		out := make([]float64, n)
		for i, x := range fits {
			out[i] = g(x)
		}
		return out
	}
	names := make([]string, n)
	inv := make([]bool, n)
	for i, x := range fits {
		names[i], inv[i] = x.m, x.inv
	}
	t.AddString("measure", names).AddFloat("a", get(func(x fit) float64 { return x.a })).
		AddFloat("b", get(func(x fit) float64 { return x.b })).AddFloat("c", get(func(x fit) float64 { return x.c })).
		AddFloat("vertex", get(func(x fit) float64 { return x.peak })).AddFloat("peak_ne", get(func(x fit) float64 { return x.peak })).
		AddFloat("vertex_ci_lo", get(func(x fit) float64 { return x.lo })).AddFloat("vertex_ci_hi", get(func(x fit) float64 { return x.hi })).
		AddFloat("statistic", get(func(x fit) float64 { return x.statistic })).AddFloat("p_value", get(func(x fit) float64 { return x.p })).
		AddBool("inverted_u", inv).AddFloat("boot_inverted_u", get(func(fit) float64 { return 0.9 })).
		AddBool("weighted", make([]bool, n)).AddFloat("range_lo", get(func(fit) float64 { return 0.1 })).
		AddFloat("range_hi", get(func(fit) float64 { return 0.9 }))
	o.Tables["fits"] = t
	var nm []string
	var sh, st []float64
	for _, x := range fits {
		for k := 0; k < 100; k++ {
			nm, sh, st = append(nm, x.m), append(sh, float64(10+k)), append(st, 0.3*f.rng.Float64()-0.1)
		}
	}
	o.Tables["null"] = table.New().AddString("measure", nm).AddFloat("shift_s", sh).AddFloat("statistic", st)
	g := grid()
	o.Tables["model_curve"] = table.New().AddFloat("nu", g).AddBool("stable", make([]bool, len(g))).
		AddFloat("tau1_s", make([]float64, len(g))).
		AddFloat("pulse_response", seq(len(g), func(i int) float64 { return 1 / (0.05 + (g[i]-0.5)*(g[i]-0.5)) })).
		AddFloat("stationary_variance", seq(len(g), func(i int) float64 { return 2 / (0.1 + (g[i]-0.45)*(g[i]-0.45)) }))
	o.Tables["slow_direction"] = table.New().AddInt("unit", append([]int64(nil), f.units...)).AddFloat("weight", make([]float64, fxUnits))
	summ := func(x fit) map[string]any {
		num := func(v float64) any {
			if math.IsNaN(v) {
				return nil
			}
			return v
		}
		return map[string]any{"measure": x.m, "inverted_u": x.inv, "peak_ne": num(x.peak), "p_value": num(x.p),
			"ci95": []any{x.lo, x.hi}, "c": num(x.c)}
	}
	notes := []string{}
	if f.opt.noEvents {
		notes = append(notes, "no events with full pre and post windows: responsiveness is undefined")
	}
	o.Files["summary.json"] = mustJSON(map[string]any{"prediction": map[string]any{
		"responsiveness": summ(fits[0]), "variability": summ(fits[1]), "model_peak_ne": 0.475,
		"ne_bins": nb, "shifts": 100, "notes": notes}})
}

var _ = fmt.Sprint
