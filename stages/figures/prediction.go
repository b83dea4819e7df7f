package figures

import (
	"encoding/json"
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg/draw"

	"nmdyn/stages/plotting"
)

// The prediction check: are responsiveness and variability largest at intermediate
// NE, as a line attractor there predicts?
//
//	<measure>          per NE bin: mean (y) +- SEM (y_lo, y_hi) at the bin's mean NE;
//	                   "quadratic fit" over the bins' range; "peak" at the fit's
//	                   peak; "peak 95 % CI" its bootstrap interval as two rows
//	null <measure>     histogram of the circular-shift null statistic (x = bin
//	                   centre, y = count, dx = bin width); "observed" at the statistic
//	model vs data      data means and model curves, each rescaled to [0, 1]; "model
//	                   peak" and "line attractor" (NE range, two rows)

const predCompare = "model vs data"

// measureInfo names a measure's columns and axis.
type measureInfo struct {
	name, value, sem, title, unit string
}

var predMeasures = map[string]measureInfo{
	"responsiveness": {"responsiveness", "responsiveness", "resp_sem", "Responsiveness", "evoked response (normalised)"},
	"fano_mm":        {"fano_mm", "fano_mm", "fano_sem", "Fano factor", "mean-matched Fano factor"},
	"slow_var":       {"slow_var", "slow_var", "slow_var_sem", "Slow-mode variance", "variance along slow mode (z²)"},
	"slow_shared":    {"slow_shared", "slow_shared", "slow_shared_sem", "Shared slow variance", "shared variance (z²)"},
}

func buildPrediction(in *inputs, _ Settings, _ float64) *figure {
	f := &figure{name: "prediction", title: "Prediction check: responsiveness and variability peak at intermediate NE", data: newPlotData()}
	d := f.data
	variability := headlineVariability(in)
	other := "slow_var"
	if variability == "slow_var" {
		other = "fano_mm"
	}
	measures := []string{"responsiveness", variability, other}
	stats := map[string]fitStats{}
	whys := map[string]string{}
	for _, m := range measures {
		stats[m], whys[m] = measureData(in, d, predMeasures[m])
	}
	whyNull := map[string]string{}
	for _, m := range measures[:2] {
		if whys[m] != "" {
			whyNull[m] = whys[m] // no observed statistic to set against the null
			continue
		}
		whyNull[m] = nullData(in, d, m, stats[m])
	}
	whyCmp := compareData(in, d, measures[:2])
	f.caption = "Time binned by NE level into quantile bins (equal time per bin). Top left and middle: per bin, " +
		"mean ± SEM (bootstrap over time chunks) of the evoked population response to events and of the " +
		"headline variability measure, with the weighted quadratic fit over the bins' range; the triangle is the " +
		"fit's peak with the 95 % bootstrap interval of its location. An inverted U needs a negative curvature, " +
		"a vertex inside the range and p < 0.05 against a null of circular shifts of the NE trace against the " +
		"spikes (bottom left and middle: the null distribution of the peak-height statistic, the observed value " +
		"as a red line). Top right: the data means and the fitted network's own predictions (its integrated " +
		"response to an event pulse and its stationary variance under noise at each NE level), each rescaled " +
		"to [0, 1] to compare shapes; the vertical line is the model's predicted peak and the green band the NE " +
		"range where the network is a line attractor. Bottom right: the other variability measure."
	fig := plotting.NewFigure(2, 3, 36, 24)
	fig.Panels[0][0] = drawMeasure(f, d, predMeasures[measures[0]], stats[measures[0]], whys[measures[0]])
	fig.Panels[0][1] = drawMeasure(f, d, predMeasures[measures[1]], stats[measures[1]], whys[measures[1]])
	fig.Panels[0][2] = drawCompare(f, d, whyCmp)
	fig.Panels[1][0] = drawNull(f, d, predMeasures[measures[0]], stats[measures[0]], whyNull[measures[0]])
	fig.Panels[1][1] = drawNull(f, d, predMeasures[measures[1]], stats[measures[1]], whyNull[measures[1]])
	fig.Panels[1][2] = drawMeasure(f, d, predMeasures[measures[2]], stats[measures[2]], whys[measures[2]])
	noNEEffect(in, f)
	f.fig = fig
	return f
}

// headlineVariability is predict's headline variability measure (summary.json
// prediction.variability.measure), fano_mm by default.
func headlineVariability(in *inputs) string {
	b, _ := in.file("predict", "summary.json")
	var s struct {
		Prediction struct {
			Variability struct {
				Measure string `json:"measure"`
			} `json:"variability"`
		} `json:"prediction"`
	}
	if b != nil && json.Unmarshal(b, &s) == nil {
		if _, ok := predMeasures[s.Prediction.Variability.Measure]; ok && s.Prediction.Variability.Measure != "responsiveness" {
			return s.Prediction.Variability.Measure
		}
	}
	return "fano_mm"
}

// fitStats are a measure's fit results from predict's fits table.
type fitStats struct {
	a, b, c, peak, lo, hi, stat, p, rangeLo, rangeHi float64
	invertedU                                        bool
	ok                                               bool
}

func (s fitStats) at(nu float64) float64 { return s.a + s.b*nu + s.c*nu*nu }

// measureData records a measure's bins, fit curve and peak.
func measureData(in *inputs, d *plotData, m measureInfo) (fitStats, string) {
	var st fitStats
	t, why := in.table("predict", "ne_bins")
	if t == nil {
		return st, why
	}
	c := cols(t, "predict output ne_bins")
	mid, v, sem := c.f("ne_mid"), c.f(m.value), c.f(m.sem)
	if c.err != "" {
		return st, c.err
	}
	any := false
	for _, x := range v {
		any = any || finite(x)
	}
	if !any {
		return st, unavailableMeasure(in, m.name)
	}
	d.quantities(m.name, "NE level nu (bin mean)", m.unit, "")
	for k := range mid {
		d.addInterval(m.name, "data", mid[k], v[k], v[k]-sem[k], v[k]+sem[k])
	}
	st = readFit(in, m.name)
	if !st.ok {
		return st, ""
	}
	const n = 60
	for k := 0; k <= n; k++ {
		nu := st.rangeLo + (st.rangeHi-st.rangeLo)*float64(k)/n
		d.add(m.name, "quadratic fit", nu, st.at(nu))
	}
	if finite(st.peak) {
		y := st.at(st.peak)
		d.add(m.name, "peak", st.peak, y)
		if finite(st.lo) && finite(st.hi) {
			d.add(m.name, "peak 95 % CI", st.lo, y)
			d.add(m.name, "peak 95 % CI", st.hi, y)
		}
	}
	return st, ""
}

// unavailableMeasure explains an all-NaN measure with predict's notes.
func unavailableMeasure(in *inputs, name string) string {
	b, _ := in.file("predict", "summary.json")
	var s struct {
		Prediction struct {
			Notes []string `json:"notes"`
		} `json:"prediction"`
	}
	if b != nil && json.Unmarshal(b, &s) == nil {
		var rel []string
		for _, n := range s.Prediction.Notes {
			if (name == "responsiveness") == strings.Contains(n, "responsiveness") {
				rel = append(rel, n)
			}
		}
		if len(rel) > 0 {
			return strings.Join(rel, "; ")
		}
	}
	if name == "responsiveness" {
		return "responsiveness is undefined (the recording has no usable events)"
	}
	return name + " is undefined in every NE bin"
}

func readFit(in *inputs, measure string) fitStats {
	var st fitStats
	t, _ := in.table("predict", "fits")
	if t == nil {
		return st
	}
	c := cols(t, "predict output fits")
	names := c.s("measure")
	a, b, cc, peak, lo, hi, stat, p := c.f("a"), c.f("b"), c.f("c"), c.f("peak_ne"), c.f("vertex_ci_lo"), c.f("vertex_ci_hi"), c.f("statistic"), c.f("p_value")
	inv, rlo, rhi := c.b("inverted_u"), c.f("range_lo"), c.f("range_hi")
	if c.err != "" {
		return st
	}
	for k := range names {
		if names[k] == measure {
			st = fitStats{a[k], b[k], cc[k], peak[k], lo[k], hi[k], stat[k], p[k], rlo[k], rhi[k], inv[k], true}
			st.ok = finite(st.a) && finite(st.b) && finite(st.c) && finite(st.rangeLo) && finite(st.rangeHi)
		}
	}
	return st
}

// nullData records the histogram of the circular-shift null of a measure.
func nullData(in *inputs, d *plotData, measure string, st fitStats) string {
	t, why := in.table("predict", "null")
	if t == nil {
		return why
	}
	c := cols(t, "predict output null")
	names, stat := c.s("measure"), c.f("statistic")
	if c.err != "" {
		return c.err
	}
	var v []float64
	for k := range names {
		if names[k] == measure && finite(stat[k]) {
			v = append(v, stat[k])
		}
	}
	if len(v) == 0 {
		return "no circular shift of the NE trace gave a statistic for " + measure
	}
	panel := "null " + measure
	d.quantities(panel, "peak-height statistic S (units of the measure)", "number of shifts", "")
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range append(v, st.stat) {
		if finite(x) {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
	}
	const nb = 30
	width := (hi - lo) / nb
	if !(width > 0) {
		width, lo = 1, lo-0.5
	}
	counts := make([]int, nb)
	for _, x := range v {
		counts[min(nb-1, int((x-lo)/width))]++
	}
	for k, n := range counts {
		d.addFull(panel, "null (circular shifts)", lo+(float64(k)+0.5)*width, float64(n), math.NaN(), math.NaN(), width, math.NaN(), math.NaN())
	}
	if finite(st.stat) {
		d.add(panel, "observed", st.stat, math.NaN())
	}
	return ""
}

// compareData records the data means and the model curves rescaled to [0, 1].
func compareData(in *inputs, d *plotData, measures []string) string {
	d.quantities(predCompare, "NE level nu", "rescaled to 0-1 (min to max)", "")
	if t, _ := in.table("predict", "ne_bins"); t != nil {
		c := cols(t, "predict output ne_bins")
		mid := c.f("ne_mid")
		for _, m := range measures {
			v := c.f(predMeasures[m].value)
			if c.err != "" {
				break
			}
			r := rescale(v)
			for k := range mid {
				if finite(r[k]) {
					d.add(predCompare, "data: "+predMeasures[m].title, mid[k], r[k])
				}
			}
		}
	}
	t, why := in.table("predict", "model_curve")
	if t == nil {
		return why
	}
	c := cols(t, "predict output model_curve")
	nu, pulse, vari := c.f("nu"), c.f("pulse_response"), c.f("stationary_variance")
	if c.err != "" {
		return c.err
	}
	order := sortedIndex(nu)
	for _, q := range []struct {
		name string
		v    []float64
	}{{"model: pulse response", rescale(pulse)}, {"model: stationary variance", rescale(vari)}} {
		for _, k := range order {
			d.add(predCompare, q.name, nu[k], q.v[k])
		}
	}
	if v, ok := summaryNumber(in, "predict", "prediction.model_peak_ne"); ok {
		d.add(predCompare, "model peak", v, math.NaN())
	}
	if lo, hi, ok := lineAttractorRange(in); ok {
		d.add(predCompare, "line attractor", lo, math.NaN())
		d.add(predCompare, "line attractor", hi, math.NaN())
	}
	return ""
}

// rescale maps the finite values of x linearly onto [0, 1] (NaN stays NaN; a
// constant series becomes 0.5).
func rescale(x []float64) []float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range x {
		if finite(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	out := make([]float64, len(x))
	for i, v := range x {
		switch {
		case !finite(v):
			out[i] = math.NaN()
		case hi > lo:
			out[i] = (v - lo) / (hi - lo)
		default:
			out[i] = 0.5
		}
	}
	return out
}

// summaryNumber reads a number from an upstream summary.json.
func summaryNumber(in *inputs, stage, path string) (float64, bool) {
	b, _ := in.file(stage, "summary.json")
	var m map[string]any
	if b == nil || json.Unmarshal(b, &m) != nil {
		return 0, false
	}
	return num(m, path)
}

// lineAttractorRange is the NE range of fixedpoints' line-attractor levels, widened
// by half a grid step on each side (as the regime bands of the fixed-points figure).
func lineAttractorRange(in *inputs) (lo, hi float64, ok bool) {
	t, _ := in.table("fixedpoints", "levels")
	if t == nil {
		return 0, 0, false
	}
	c := cols(t, "fixedpoints output levels")
	nu, regime := c.f("nu"), c.s("regime")
	if c.err != "" {
		return 0, 0, false
	}
	for _, r := range regimeRuns(nu, regime, sortedIndex(nu)) {
		if r.regime == "line attractor" && (!ok || r.hi-r.lo > hi-lo) {
			lo, hi, ok = r.lo, r.hi, true
		}
	}
	return lo, hi, ok
}

var (
	predData  = color.RGBA{0x00, 0x72, 0xb2, 0xff}
	predFit   = color.RGBA{0xd5, 0x5e, 0x00, 0xff}
	predModel = color.RGBA{0x55, 0x55, 0x55, 0xff}
)

func drawMeasure(f *figure, d *plotData, m measureInfo, st fitStats, why string) *plot.Plot {
	if why != "" {
		return f.missing(m.title+" vs NE", why)
	}
	title := m.title
	switch {
	case !st.ok:
	case st.invertedU:
		title += fmt.Sprintf(": inverted U (p = %.3g)", st.p)
	default:
		title += fmt.Sprintf(": no inverted U (p = %.3g)", st.p)
	}
	p := newPanel(title, "NE level ν (bin mean)", m.unit)
	rs := d.points(m.name, "data")
	addYErrors(p, rs, predData, 2)
	addPoints(p, rs, glyph(predData, draw.CircleGlyph{}, 5), "data (mean ± SEM)")
	addLine(p, d.points(m.name, "quadratic fit"), lineStyle(predFit, 2.2, nil), "quadratic fit")
	if ci := d.points(m.name, "peak 95 % CI"); len(ci) == 2 {
		addLine(p, ci, lineStyle(predFit, 3, nil), "")
		for _, r := range ci {
			p.Add(plotting.Text([]float64{r.x}, []float64{r.y}, []string{"|"}, 16, predFit, draw.XCenter, draw.YCenter))
		}
	}
	if pk := d.points(m.name, "peak"); len(pk) > 0 {
		addPoints(p, pk, glyph(predFit, draw.PyramidGlyph{}, 7), fmt.Sprintf("peak ν = %.2f, 95 %% CI", pk[0].x))
	}
	padY(p, 0.55, 0.05)
	p.Legend.Left = true
	return p
}

func drawNull(f *figure, d *plotData, m measureInfo, st fitStats, why string) *plot.Plot {
	title := "Null: " + m.title
	if why != "" {
		return f.missing(title, why)
	}
	panel := "null " + m.name
	p := newPanel(title, "peak-height statistic S", "number of shifts")
	cells := &plotting.Cells{}
	for _, r := range d.points(panel, "null (circular shifts)") {
		cells.X0, cells.X1 = append(cells.X0, r.x-r.dx/2), append(cells.X1, r.x+r.dx/2)
		cells.Y0, cells.Y1 = append(cells.Y0, 0), append(cells.Y1, r.y)
		cells.Colors = append(cells.Colors, lightGrey)
	}
	p.Add(cells)
	p.Legend.Add("circular shifts of NE", plotting.Swatch{Color: lightGrey})
	if obs := d.points(panel, "observed"); len(obs) > 0 {
		l := plotting.VLine{X: obs[0].x, Style: lineStyle(color.RGBA{0xcc, 0x00, 0x00, 0xff}, 2.5, nil)}
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("observed (p = %.3g)", st.p), l)
	}
	p.Y.Min = 0
	padY(p, 0.35, 0)
	padX(p, 0.05, 0.08)
	return p
}

func drawCompare(f *figure, d *plotData, why string) *plot.Plot {
	const title = "Model prediction vs data"
	if why != "" {
		return f.missing(title, why)
	}
	p := newPanel(title, "NE level ν", "rescaled to [0, 1]")
	if la := d.points(predCompare, "line attractor"); len(la) == 2 {
		addBands(p, la, plotting.RegimeColor("line attractor"), "line attractor (network)")
	}
	for _, s := range d.seriesOf(predCompare) {
		rs := d.points(predCompare, s)
		switch {
		case strings.HasPrefix(s, "data: "):
			c := predData
			if s != "data: "+predMeasures["responsiveness"].title {
				c = color.RGBA{0xcc, 0x79, 0xa7, 0xff}
			}
			addLine(p, rs, lineStyle(c, 1.5, nil), "")
			addPoints(p, rs, glyph(c, draw.CircleGlyph{}, 4.5), s)
		case strings.HasPrefix(s, "model: "):
			dash := plotting.Dash(1)
			if strings.Contains(s, "variance") {
				dash = plotting.Dash(2)
			}
			addLine(p, rs, lineStyle(predModel, 2.4, dash), s)
		case s == "model peak":
			l := plotting.VLine{X: rs[0].x, Style: lineStyle(black, 2, nil)}
			p.Add(l)
			p.Legend.Add(fmt.Sprintf("model peak ν = %.2f", rs[0].x), l)
		}
	}
	p.Y.Min, p.Y.Max = -0.05, 2
	p.Y.Tick.Marker = plot.ConstantTicks{{Value: 0, Label: "0"}, {Value: 0.5, Label: "0.5"}, {Value: 1, Label: "1"}}
	p.X.Min, p.X.Max = 0, 1
	p.Legend.Left = true
	return p
}
