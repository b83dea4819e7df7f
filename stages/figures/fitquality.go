package figures

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"

	"nmdyn/stages/plotting"
	"nmdyn/stages/rnn"
	"nmdyn/stages/task"
)

// Fit quality: do the fitted networks predict held-out activity, and did training
// converge?
//
//	neuron <id>      observed and predicted rate of an example neuron over a stretch
//	                 of a test block (winner and `none`, both smoothed alike)
//	validation       validation score per epoch, one line per variant x seed
//	training loss    training loss per epoch, same lines
//	seeds            validation vs test score of every fit; the selected seed of
//	                 each variant filled

const (
	fqValidation = "validation"
	fqLoss       = "training loss"
	fqSeeds      = "seeds"
)

func buildFitQuality(in *inputs, s Settings, emaS float64) *figure {
	f := &figure{name: "fit_quality", title: "Fit quality: held-out predictions and training curves", data: newPlotData()}
	d := f.data
	ex := exampleNeurons(in, d, s, emaS)
	whyCurves := trainingCurves(in, d)
	whySeeds := seedScores(in, d)

	f.caption = fmt.Sprintf("Top: observed firing rate (black) of %d example neurons over %g s of a test block "+
		"that no model was trained or stopped on, with the rate predicted by the selected network of the winning "+
		"variant and by the control variant `none` (colours as in every figure). The networks run free from an "+
		"initial state set by the activity before each %s window, so predictions jump at window starts. Both "+
		"rates are smoothed with the same Gaussian kernel (sd %g s). Neurons are those at the top, upper quartile "+
		"and median of the winner's held-out gain per neuron, so the panels show good, typical and median fits, "+
		"not only the best. Bottom: validation score (bits per spike above a constant rate per neuron) and "+
		"training loss per epoch for every variant (colour) and seed (dash); right: validation against test score "+
		"of every fit, with the seed selected by validation score filled.",
		s.ExampleNeurons, s.ExampleSpanS, ex.windowText, s.SmoothS)
	cols := max(3, s.ExampleNeurons)
	fig := plotting.NewFigure(2, cols, 12*float64(cols), 24)
	for k := 0; k < cols; k++ {
		switch {
		case ex.why != "" && k == 0:
			fig.Panels[0][0] = f.missing("Example neurons (test block)", ex.why)
		case k < len(ex.panels):
			fig.Panels[0][k] = drawExample(d, ex.panels[k], ex.variants)
		}
	}
	fig.Panels[1][0] = drawCurves(f, d, fqValidation, "Validation score", "validation (bits/spike)", whyCurves)
	fig.Panels[1][1] = drawCurves(f, d, fqLoss, "Training loss", "loss (nats per neuron-bin)", whyCurves)
	fig.Panels[1][2] = drawSeeds(f, d, whySeeds)
	f.fig = fig
	return f
}

// examples is what exampleNeurons put into the data.
type examples struct {
	panels     []string      // panel names, one per neuron
	variants   []rnn.Variant // predicted series, in drawing order
	why        string
	windowText string
}

// exampleNeurons runs the selected networks of the winner and of `none` over a
// stretch of a test block and records observed and predicted rates of the example
// neurons.
func exampleNeurons(in *inputs, d *plotData, s Settings, emaS float64) (ex examples) {
	ex.windowText = "free-running"
	winner, why := winnerVariant(in)
	if why != "" {
		ex.why = why
		return
	}
	ex.variants = []rnn.Variant{winner}
	if winner != rnn.None {
		ex.variants = append(ex.variants, rnn.None)
	}
	models := map[rnn.Variant]*rnn.Model{}
	for _, v := range ex.variants {
		m, why := selectedModel(in, v)
		if m == nil {
			if v == winner {
				ex.why = why
				return
			}
			continue
		}
		models[v] = m
	}
	var kept []rnn.Variant
	for _, v := range ex.variants {
		if models[v] != nil {
			kept = append(kept, v)
		}
	}
	ex.variants = kept
	counts, why := in.table("preprocess", "counts")
	if counts == nil {
		ex.why = why
		return
	}
	bins, why := in.table("preprocess", "bins")
	if bins == nil {
		ex.why = why
		return
	}
	data, err := rnn.LoadBinned(counts, bins, models[winner].K)
	if err != nil {
		ex.why = "preprocess outputs: " + err.Error()
		return
	}
	for _, v := range ex.variants {
		if err := models[v].Matches(data.Data); err != nil {
			ex.why = fmt.Sprintf("the %s model does not match the preprocessed data: %v", v, err)
			return
		}
	}
	wlen := windowBins(in, data.DtSeconds)
	ex.windowText = fmt.Sprintf("%g s", float64(wlen)*data.DtSeconds)
	span := testSpan(data, wlen, emaS, s.ExampleSpanS)
	if len(span) == 0 {
		ex.why = "no test window in the preprocessed data"
		return
	}
	neurons := pickNeurons(in, winner, data, s.ExampleNeurons)
	pred := map[rnn.Variant][]float64{}
	for _, v := range ex.variants {
		pred[v] = predictSpan(models[v], data, span)
	}
	nBins := len(pred[winner]) / data.N
	first := span[0].Start
	for _, i := range neurons {
		panel := fmt.Sprintf("unit %d", data.Units[i])
		ex.panels = append(ex.panels, panel)
		d.quantities(panel, "time (s)", "rate (Hz)", "")
		obs := make([]float64, nBins)
		for t := range obs {
			obs[t] = float64(data.Y[(first+t)*data.N+i]) / data.DtSeconds
		}
		obs = smooth(obs, s.SmoothS/data.DtSeconds)
		for t, y := range obs {
			d.add(panel, "observed", data.TimeS[first+t], y)
		}
		for _, v := range ex.variants {
			r := make([]float64, nBins)
			for t := range r {
				r[t] = pred[v][t*data.N+i]
			}
			r = smooth(r, s.SmoothS/data.DtSeconds)
			for t, y := range r {
				d.add(panel, string(v)+" (predicted)", data.TimeS[first+t], y)
			}
		}
	}
	return ex
}

// winnerVariant is select's winner.
func winnerVariant(in *inputs) (rnn.Variant, string) {
	t, why := in.table("select", "scores")
	if t == nil {
		return "", why
	}
	c := cols(t, "select output scores")
	names, win := c.s("variant"), c.b("winner")
	if c.err != "" {
		return "", c.err
	}
	for k := range names {
		if win[k] {
			v, err := rnn.ParseVariant(names[k])
			if err != nil {
				return "", "select output scores: " + err.Error()
			}
			return v, ""
		}
	}
	return "", "select output scores marks no winner"
}

// selectedModel is the network select kept for a variant.
func selectedModel(in *inputs, v rnn.Variant) (*rnn.Model, string) {
	n, why := in.table("select", "model_"+string(v)+"_neurons")
	if n == nil {
		return nil, why
	}
	g, why := in.table("select", "model_"+string(v)+"_globals")
	if g == nil {
		return nil, why
	}
	m, err := rnn.FromTables(n, g)
	if err != nil {
		return nil, fmt.Sprintf("select outputs model_%s_neurons/globals: %v", v, err)
	}
	return m, ""
}

// windowBins is the fits' window length (fit_summary window_bins), else 1 s.
func windowBins(in *inputs, dt float64) int {
	for _, t := range in.stages["fit"] {
		s, _ := readOptional(t, "fit", "fit_summary")
		if s == nil || s.Len() == 0 {
			continue
		}
		if w, err := s.Int("window_bins"); err == nil && w[0] >= 2 {
			return int(w[0])
		}
	}
	return max(2, int(math.Round(1/dt)))
}

// testSpan is the first run of consecutive test windows of one block, up to spanS
// seconds: the stretch the example neurons are shown over.
func testSpan(data *rnn.Binned, wlen int, emaS, spanS float64) []rnn.Window {
	wins := data.Windows("test", wlen, emaS)
	maxBins := int(math.Round(spanS / data.DtSeconds))
	var out []rnn.Window
	for _, w := range wins {
		if len(out) > 0 {
			last := out[len(out)-1]
			if w.Start != last.Start+last.Len || data.Block[w.Start] != data.Block[last.Start] {
				break
			}
		}
		if total := spanBins(out); total+w.Len > maxBins && len(out) > 0 {
			break
		}
		out = append(out, w)
	}
	return out
}

func spanBins(ws []rnn.Window) int {
	n := 0
	for _, w := range ws {
		n += w.Len
	}
	return n
}

// predictSpan runs the model over each window from its initial state (inputs and NE
// from the data) and returns the predicted rates in Hz, bins x neurons.
func predictSpan(m *rnn.Model, data *rnn.Binned, span []rnn.Window) []float64 {
	var out []float64
	var st *rnn.NEState
	r := make([]float64, m.N)
	lr := make([]float64, m.N)
	for _, w := range span {
		X := m.WindowStates(data.Data, w)
		for t := 0; t < w.Len; t++ {
			st = m.AtNE(data.Nu[w.Start+t], st)
			m.Rates(X[t*m.N:(t+1)*m.N], st, r)
			m.LogRates(r, lr)
			for i := range lr {
				out = append(out, math.Exp(lr[i]))
			}
		}
	}
	return out
}

// pickNeurons chooses n neurons at evenly spaced ranks from the top of the winner's
// held-out test gain per neuron (bits per spike; top, upper quartile, median for
// n = 3), among neurons with at least 20 test spikes; by mean rate when the gains
// are unavailable.
func pickNeurons(in *inputs, winner rnn.Variant, data *rnn.Binned, n int) []int {
	col := map[int64]int{}
	for i, u := range data.Units {
		col[u] = i
	}
	type cand struct {
		i     int
		score float64
	}
	var cands []cand
	if gain := heldoutGains(in, winner); gain != nil {
		units := make([]int64, 0, len(gain))
		for u := range gain {
			units = append(units, u)
		}
		sort.Slice(units, func(a, b int) bool { return units[a] < units[b] })
		for _, u := range units {
			if i, ok := col[u]; ok && gain[u][1] >= 20 {
				cands = append(cands, cand{i, gain[u][0] / (gain[u][1] * math.Ln2)})
			}
		}
	}
	if len(cands) < n {
		cands = cands[:0]
		for i := 0; i < data.N; i++ {
			var s float64
			for t := 0; t < data.T; t++ {
				s += float64(data.Y[t*data.N+i])
			}
			cands = append(cands, cand{i, s})
		}
	}
	sort.SliceStable(cands, func(a, b int) bool { return cands[a].score > cands[b].score })
	n = min(n, len(cands))
	var out []int
	used := map[int]bool{}
	for k := 0; k < n; k++ {
		// Ranks 0, 1/(2(n-1)), ..., 1/2 of the way down: top to median.
		pos := 0
		if n > 1 {
			pos = int(math.Round(float64(k) / float64(n-1) * 0.5 * float64(len(cands)-1)))
		}
		for used[pos] && pos+1 < len(cands) {
			pos++
		}
		used[pos] = true
		out = append(out, cands[pos].i)
	}
	return out
}

// heldoutGains sums, per unit, the winner's test log-likelihood gain over the
// constant rate (nats) and its test spikes, from the selected seed's heldout table.
func heldoutGains(in *inputs, winner rnn.Variant) map[int64][2]float64 {
	fit := selectedFit(in, winner)
	if fit == nil {
		return nil
	}
	h, _ := readOptional(fit, "fit", "heldout")
	if h == nil {
		return nil
	}
	c := cols(h, "fit output heldout")
	split, unit, ll, ll0, spk := c.s("split"), c.i("unit"), c.f("ll"), c.f("ll_null"), c.f("spikes")
	if c.err != "" {
		return nil
	}
	out := map[int64][2]float64{}
	for k := range split {
		if split[k] != "test" {
			continue
		}
		g := out[unit[k]]
		g[0] += ll[k] - ll0[k]
		g[1] += spk[k]
		out[unit[k]] = g
	}
	return out
}

// selectedFit is the fit task of a variant's selected seed (select's seeds table).
func selectedFit(in *inputs, v rnn.Variant) task.Input {
	seeds, _ := in.table("select", "seeds")
	if seeds == nil {
		return nil
	}
	c := cols(seeds, "select output seeds")
	names, seed, sel := c.s("variant"), c.i("seed"), c.b("selected")
	if c.err != "" {
		return nil
	}
	for k := range names {
		if names[k] != string(v) || !sel[k] {
			continue
		}
		for _, t := range in.stages["fit"] {
			if fmt.Sprint(t.Item()["variant"]) == string(v) && fmt.Sprint(t.Item()["seed"]) == strconv.FormatInt(seed[k], 10) {
				return t
			}
		}
	}
	return nil
}

// smooth convolves x with a Gaussian of sd sigma bins (truncated at 3 sd and
// renormalised at the ends); sigma 0 returns x.
func smooth(x []float64, sigma float64) []float64 {
	if !(sigma > 0) {
		return x
	}
	h := int(math.Ceil(3 * sigma))
	w := make([]float64, 2*h+1)
	for k := range w {
		z := float64(k-h) / sigma
		w[k] = math.Exp(-z * z / 2)
	}
	out := make([]float64, len(x))
	for t := range x {
		var s, ws float64
		for k := -h; k <= h; k++ {
			if j := t + k; j >= 0 && j < len(x) {
				s += w[k+h] * x[j]
				ws += w[k+h]
			}
		}
		out[t] = s / ws
	}
	return out
}

// fitRun is one fit task's identity.
type fitRun struct {
	variant rnn.Variant
	seed    int64
	in      task.Input
}

// fitRuns lists the fit tasks sorted by variant order then seed.
func fitRuns(in *inputs) []fitRun {
	var runs []fitRun
	for _, t := range in.stages["fit"] {
		v, err := rnn.ParseVariant(fmt.Sprint(t.Item()["variant"]))
		if err != nil {
			continue
		}
		seed, _ := strconv.ParseInt(fmt.Sprint(t.Item()["seed"]), 10, 64)
		runs = append(runs, fitRun{v, seed, t})
	}
	sort.SliceStable(runs, func(a, b int) bool {
		if ia, ib := variantRank(runs[a].variant), variantRank(runs[b].variant); ia != ib {
			return ia < ib
		}
		return runs[a].seed < runs[b].seed
	})
	return runs
}

func variantRank(v rnn.Variant) int {
	for i, w := range rnn.Variants {
		if w == v {
			return i
		}
	}
	return len(rnn.Variants)
}

// trainingCurves records every fit's curve.
func trainingCurves(in *inputs, d *plotData) string {
	runs := fitRuns(in)
	if len(runs) == 0 {
		if why, ok := in.why["fit"]; ok {
			return why
		}
		return "no fit task"
	}
	d.quantities(fqValidation, "epoch", "validation score (bits/spike)", "")
	d.quantities(fqLoss, "epoch", "training loss (nats per neuron-bin)", "")
	var problems []string
	for _, r := range runs {
		t, why := readOptional(r.in, "fit", "curve")
		if t == nil {
			problems = append(problems, why)
			continue
		}
		c := cols(t, "fit output curve")
		ep, val, loss := c.i("epoch"), c.f("val_bits_per_spike"), c.f("train_loss")
		if c.err != "" {
			problems = append(problems, c.err)
			continue
		}
		name := fmt.Sprintf("%s seed %d", r.variant, r.seed)
		for k := range ep {
			d.add(fqValidation, name, float64(ep[k]), val[k])
			d.add(fqLoss, name, float64(ep[k]), loss[k])
		}
	}
	if !d.has(fqValidation) {
		return problems[0]
	}
	return ""
}

// seedScores records validation and test score of every fit (select's seeds).
func seedScores(in *inputs, d *plotData) string {
	t, why := in.table("select", "seeds")
	if t == nil {
		return why
	}
	c := cols(t, "select output seeds")
	names, seed, val, test, sel := c.s("variant"), c.i("seed"), c.f("val_bits_per_spike"), c.f("test_bits_per_spike"), c.b("selected")
	if c.err != "" {
		return c.err
	}
	d.quantities(fqSeeds, "validation score (bits/spike)", "test score (bits/spike)", "seed")
	for _, v := range rnn.Variants {
		for k := range names {
			if names[k] != string(v) {
				continue
			}
			series := string(v)
			if sel[k] {
				series += " (selected)"
			}
			d.addZ(fqSeeds, series, val[k], test[k], float64(seed[k]))
		}
	}
	return ""
}

func drawExample(d *plotData, panel string, variants []rnn.Variant) *plot.Plot {
	p := newPanel(panel+" (test block)", "time (s)", "rate (Hz)")
	addLine(p, d.points(panel, "observed"), lineStyle(black, 1.6, nil), "observed")
	for k, v := range variants {
		addLine(p, d.points(panel, string(v)+" (predicted)"), lineStyle(plotting.VariantColor(string(v)), 2, plotting.Dash(k)), string(v))
	}
	p.Y.Min = 0
	padY(p, 0.3, 0)
	return p
}

func drawCurves(f *figure, d *plotData, panel, title, yLabel, why string) *plot.Plot {
	if why != "" {
		return f.missing(title, why)
	}
	p := newPanel(title, "epoch", yLabel)
	seedIndex := map[rnn.Variant]int{}
	legend := map[rnn.Variant]bool{}
	for _, s := range d.seriesOf(panel) {
		name, _, _ := strings.Cut(s, " seed ")
		v := rnn.Variant(name)
		label := ""
		if !legend[v] {
			label, legend[v] = string(v), true
		}
		addLine(p, d.points(panel, s), lineStyle(plotting.VariantColor(string(v)), 1.6, plotting.Dash(seedIndex[v])), label)
		seedIndex[v]++
	}
	// Seeds are told apart by dash, the same for every variant.
	for k := 0; maxSeeds(seedIndex) > 1 && k < maxSeeds(seedIndex); k++ {
		p.Legend.Add(fmt.Sprintf("seed #%d", k+1), plotting.LineSample{Style: lineStyle(midGrey, 1.6, plotting.Dash(k))})
	}
	padY(p, 0.6, 0)
	return p
}

func maxSeeds(m map[rnn.Variant]int) int {
	n := 0
	for _, v := range m {
		n = max(n, v)
	}
	return n
}

func drawSeeds(f *figure, d *plotData, why string) *plot.Plot {
	const title = "Every fit: validation vs test"
	if why != "" {
		return f.missing(title, why)
	}
	p := newPanel(title, "validation (bits/spike)", "test (bits/spike)")
	for _, s := range d.seriesOf(fqSeeds) {
		rs := d.points(fqSeeds, s)
		v, selected := strings.CutSuffix(s, " (selected)")
		shape := plotting.PopulationShape(-1) // ring: not selected
		label := ""
		if selected {
			shape, label = plotting.PopulationShape(0), v+" (selected seed)"
		}
		addPoints(p, rs, glyph(plotting.VariantColor(v), shape, 5), label)
	}
	for _, s := range d.seriesOf(fqSeeds) {
		if !strings.HasSuffix(s, " (selected)") {
			p.Legend.Add("other seed", plotting.Glyph{Style: glyph(midGrey, plotting.PopulationShape(-1), 5)})
			break
		}
	}
	padY(p, 0.7, 0.05)
	padX(p, 0.05, 0.05)
	p.Legend.Left = true
	return p
}
