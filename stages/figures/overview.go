package figures

import (
	"image/color"
	"math"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"nmdyn/stages/plotting"
)

// The data overview: what was recorded and what the models see.
//
//	raster      spikes of up to 40 kept units in a 60 s window (preprocess overview_raster)
//	rate        mean rate per kept unit in 1 s windows over the recording (overview_rate)
//	signal      raw photometry signal and the control fitted to it (preprocess photometry)
//	control     raw control channel
//	ne          NE level nu(t) on the spike bins (preprocess bins), validation and test
//	            blocks shaded (preprocess blocks)

const (
	ovRaster  = "raster"
	ovRate    = "population rate"
	ovSignal  = "photometry signal"
	ovControl = "photometry control"
	ovNE      = "NE level"
)

// rasterS is the longest stretch of the raster shown (s).
const rasterS = 20.0

func buildOverview(in *inputs, s Settings, _ float64) *figure {
	f := &figure{name: "overview", title: "Data overview: spikes, population rate, photometry and the NE level",
		data: newPlotData()}
	f.caption = "Top: spike raster of a subset of the kept units (one row per unit, sorted by unit id) in a " +
		"window of the recording, with behavioural events as vertical lines. Second: mean firing rate per " +
		"kept unit over the whole recording (1 s windows); the raster's window is shaded. Third: the raw " +
		"photometry signal with the control channel fitted to it (robust regression), whose difference is the " +
		"motion- and bleaching-corrected signal. Fourth: the raw control channel. Bottom: the NE level nu(t) in " +
		"[0, 1] on the spike bins, as the models see it, with the validation and test blocks shaded: they are " +
		"interleaved with the training blocks so that every split spans the whole NE range."
	d := f.data
	whyRaster := overviewRaster(in, d)
	window := d.points(ovRaster, "raster window")
	whyRate := overviewRate(in, d, s.MaxTracePoints, window)
	whySignal, whyControl := overviewPhotometry(in, d, s.MaxTracePoints)
	whyNE := overviewNE(in, d, s.MaxTracePoints)

	fig := plotting.NewFigure(5, 1, 30, 36)
	fig.Panels[0][0] = drawRaster(f, d, whyRaster)
	fig.Panels[1][0] = drawTrace(f, d, ovRate, whyRate, []traceSeries{{"mean rate per unit", "", darkGrey, 1.2}})
	fig.Panels[2][0] = drawTrace(f, d, ovSignal, whySignal, []traceSeries{
		{"signal", "signal", color.RGBA{0x00, 0x72, 0xb2, 0xff}, 1},
		{"fitted control", "control fitted to the signal", plotting.Unstable, 1.2}})
	fig.Panels[3][0] = drawTrace(f, d, ovControl, whyControl, []traceSeries{{"control", "control (raw)", color.RGBA{0x6a, 0x3d, 0x9a, 0xff}, 1}})
	fig.Panels[4][0] = drawNE(f, d, whyNE)
	// The recording-long panels share one time axis.
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range d.rows {
		if r.panel != ovRaster && finite(r.x) && finite(r.y) {
			lo, hi = math.Min(lo, r.x), math.Max(hi, r.x)
		}
	}
	for _, row := range fig.Panels[1:] {
		if p := row[0]; p != nil && hi > lo && p.X.Label.Text == "time (s)" {
			p.X.Min, p.X.Max = lo, hi
		}
	}
	f.fig = fig
	return f
}

// overviewRaster fills the raster panel; returns why it is unavailable ("" when fine).
func overviewRaster(in *inputs, d *plotData) string {
	t, why := in.table("preprocess", "overview_raster")
	if t == nil {
		return why
	}
	c := cols(t, "preprocess output overview_raster")
	units, times := c.i("unit"), c.f("time")
	if c.err != "" {
		return c.err
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range times {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	if w, ok := t.Meta["window_s"]; ok {
		a, b, found := strings.Cut(w, ",")
		l, e1 := strconv.ParseFloat(a, 64)
		h, e2 := strconv.ParseFloat(b, 64)
		if found && e1 == nil && e2 == nil && h > l {
			lo, hi = l, h
		}
	}
	// A raster reads at a few spikes per row per centimetre: show the start of
	// the window when it is longer than rasterS.
	hi = math.Min(hi, lo+rasterS)
	ids := append([]int64(nil), units...)
	sort.Slice(ids, func(a, b int) bool { return ids[a] < ids[b] })
	rowOf := map[int64]int{}
	for _, u := range ids {
		if _, ok := rowOf[u]; !ok {
			rowOf[u] = len(rowOf) + 1
		}
	}
	d.quantities(ovRaster, "time (s)", "unit (row; sorted by unit id)", "unit id")
	for k := range times {
		if times[k] >= lo && times[k] <= hi {
			d.addZ(ovRaster, "spikes", times[k], float64(rowOf[units[k]]), float64(units[k]))
		}
	}
	d.add(ovRaster, "raster window", lo, math.NaN())
	d.add(ovRaster, "raster window", hi, math.NaN())
	if ev, _ := in.tableMaybeEmpty("session", "events"); ev != nil {
		ec := cols(ev, "session output events")
		et, el := ec.f("time"), ec.s("label")
		if ec.err == "" {
			for k, x := range et {
				if x >= lo && x <= hi {
					d.add(ovRaster, "event "+el[k], x, math.NaN())
				}
			}
		}
	}
	return ""
}

// overviewRate fills the rate panel (block means down to maxPoints) and the raster
// window band.
func overviewRate(in *inputs, d *plotData, maxPoints int, window []row) string {
	t, why := in.table("preprocess", "overview_rate")
	if t == nil {
		return why
	}
	c := cols(t, "preprocess output overview_rate")
	ts, rate := c.f("t_s"), c.f("rate_hz")
	if c.err != "" {
		return c.err
	}
	d.quantities(ovRate, "time (s)", "rate per unit (Hz)", "")
	tx, ry := decimate(ts, rate, maxPoints)
	for k := range tx {
		d.add(ovRate, "mean rate per unit", tx[k], ry[k])
	}
	for _, w := range window {
		d.add(ovRate, "raster window", w.x, math.NaN())
	}
	return ""
}

// overviewPhotometry fills the signal and control panels.
func overviewPhotometry(in *inputs, d *plotData, maxPoints int) (whySignal, whyControl string) {
	t, why := in.table("preprocess", "photometry")
	if t == nil {
		return why, why
	}
	c := cols(t, "preprocess output photometry")
	ts, sig := c.f("t_s"), c.f("signal")
	if c.err != "" {
		return c.err, c.err
	}
	d.quantities(ovSignal, "time (s)", "fluorescence (a.u.)", "")
	x, y := decimate(ts, sig, maxPoints)
	for k := range x {
		d.add(ovSignal, "signal", x[k], y[k])
	}
	if !t.Has("control") || !t.Has("fitted_control") {
		return "", "the recording has no control channel: the signal was corrected for bleaching only"
	}
	ctl, fit := c.f("control"), c.f("fitted_control")
	if c.err != "" {
		return "", c.err
	}
	x, y = decimate(ts, fit, maxPoints)
	for k := range x {
		d.add(ovSignal, "fitted control", x[k], y[k])
	}
	d.quantities(ovControl, "time (s)", "fluorescence (a.u.)", "")
	x, y = decimate(ts, ctl, maxPoints)
	for k := range x {
		d.add(ovControl, "control", x[k], y[k])
	}
	return "", ""
}

// overviewNE fills the NE panel from the bins (what the models see) and the blocks.
func overviewNE(in *inputs, d *plotData, maxPoints int) string {
	t, why := in.table("preprocess", "bins")
	if t == nil {
		return why
	}
	c := cols(t, "preprocess output bins")
	ts, ne := c.f("t_s"), c.f("ne")
	if c.err != "" {
		return c.err
	}
	d.quantities(ovNE, "time (s)", "NE level nu (0-1)", "")
	if bl, _ := in.table("preprocess", "blocks"); bl != nil {
		bc := cols(bl, "preprocess output blocks")
		start, end, split := bc.f("start_s"), bc.f("end_s"), bc.s("split")
		if bc.err == "" {
			for _, sp := range []string{"validation", "test"} {
				for k := range start {
					if split[k] == sp {
						d.add(ovNE, sp+" blocks", start[k], math.NaN())
						d.add(ovNE, sp+" blocks", end[k], math.NaN())
					}
				}
			}
		}
	}
	x, y := decimate(ts, ne, maxPoints)
	for k := range x {
		d.add(ovNE, "NE level", x[k], y[k])
	}
	return ""
}

// decimate averages consecutive points in blocks so that at most maxPoints remain
// (x and y alike); a short series is returned as it is.
func decimate(x, y []float64, maxPoints int) ([]float64, []float64) {
	n := len(x)
	if n <= maxPoints {
		return x, y
	}
	k := (n + maxPoints - 1) / maxPoints
	var ox, oy []float64
	for i := 0; i < n; i += k {
		j := min(i+k, n)
		var sx, sy float64
		for m := i; m < j; m++ {
			sx += x[m]
			sy += y[m]
		}
		ox = append(ox, sx/float64(j-i))
		oy = append(oy, sy/float64(j-i))
	}
	return ox, oy
}

func drawRaster(f *figure, d *plotData, why string) *plot.Plot {
	const title = "Spike raster"
	if why != "" {
		return f.missing(title, why)
	}
	p := newPanel(title, "time (s)", "unit (row)")
	spikes := d.points(ovRaster, "spikes")
	p.Add(&plotting.Ticks{X: xs(spikes), Y: ys(spikes), Half: vg.Points(2.4), Style: lineStyle(black, 0.7, nil)})
	evColors := []color.Color{plotting.VariantColor("postgain"), plotting.VariantColor("pregain"), plotting.VariantColor("lowrank"), plotting.VariantColor("additive")}
	k := 0
	for _, s := range d.seriesOf(ovRaster) {
		if !strings.HasPrefix(s, "event ") {
			continue
		}
		sty := lineStyle(evColors[k%len(evColors)], 1.4, nil)
		for i, r := range d.points(ovRaster, s) {
			l := plotting.VLine{X: r.x, Style: sty}
			p.Add(l)
			if i == 0 {
				p.Legend.Add(s, l)
			}
		}
		k++
	}
	if w := d.points(ovRaster, "raster window"); len(w) == 2 {
		p.X.Min, p.X.Max = w[0].x, w[1].x
	}
	maxRow := 0.0
	for _, r := range spikes {
		maxRow = math.Max(maxRow, r.y)
	}
	p.Y.Min, p.Y.Max = 0, maxRow+1
	p.Y.Tick.Marker = rowTicks{last: maxRow}
	if k > 0 {
		padY(p, 0.25, 0)
	}
	return p
}

// rowTicks labels raster row 1 and then every 1, 5 or 10 rows (by how many there
// are), with unlabelled minor ticks between labels, up to the last row (the space
// above it holds the legend).
type rowTicks struct{ last float64 }

func (rt rowTicks) Ticks(lo, hi float64) []plot.Tick {
	if rt.last > 0 {
		hi = math.Min(hi, rt.last)
	}
	step := 10
	switch {
	case hi <= 11:
		step = 1
	case hi <= 31:
		step = 5
	}
	var t []plot.Tick
	for v := math.Max(1, math.Ceil(lo)); v <= hi; v++ {
		switch {
		case v == 1 || int(v)%step == 0:
			t = append(t, plot.Tick{Value: v, Label: strconv.Itoa(int(v))})
		case step == 10 && int(v)%5 == 0:
			t = append(t, plot.Tick{Value: v})
		}
	}
	return t
}

type traceSeries struct {
	series, label string
	color         color.Color
	widthPt       float64
}

// drawTrace draws time series of one panel, with the raster window shaded when the
// panel has it.
func drawTrace(f *figure, d *plotData, panel, why string, series []traceSeries) *plot.Plot {
	title := strings.ToUpper(panel[:1]) + panel[1:]
	if why != "" {
		return f.missing(title, why)
	}
	q := d.axes[panel]
	p := newPanel(title, q[0], q[1])
	if w := d.points(panel, "raster window"); len(w) == 2 {
		addBands(p, w, color.Gray{0xe0}, "raster window")
	}
	labelled := 0
	for _, s := range series {
		addLine(p, d.points(panel, s.series), lineStyle(s.color, s.widthPt, nil), s.label)
		if s.label != "" {
			labelled++
		}
	}
	if labelled > 0 || d.points(panel, "raster window") != nil {
		padY(p, 0.25, 0)
	}
	return p
}

func drawNE(f *figure, d *plotData, why string) *plot.Plot {
	const title = "NE level"
	if why != "" {
		return f.missing(title, why)
	}
	p := newPanel(title, "time (s)", "NE level nu (0-1)")
	addBands(p, d.points(ovNE, "validation blocks"), plotting.Translucent(color.RGBA{0xf0, 0xe4, 0x42, 0xff}, 0.35), "validation blocks")
	addBands(p, d.points(ovNE, "test blocks"), plotting.Translucent(color.RGBA{0x56, 0xb4, 0xe9, 0xff}, 0.3), "test blocks")
	addLine(p, d.points(ovNE, "NE level"), lineStyle(color.RGBA{0x00, 0x72, 0xb2, 0xff}, 1.2, nil), "")
	p.Y.Min, p.Y.Max = 0, 1.35
	p.Y.Tick.Marker = plot.ConstantTicks{{Value: 0, Label: "0"}, {Value: 0.5, Label: "0.5"}, {Value: 1, Label: "1"}}
	p.Legend.Left = true
	return p
}
