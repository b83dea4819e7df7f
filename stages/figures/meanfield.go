package figures

import (
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg/draw"

	"nmdyn/stages/plotting"
)

// Mean-field reduction vs the full network.
//
//	gains        per population: mean NE gain g_p(nu), effective gain at kappa = 0
//	             (and the mean additive NE input when it varies)
//	couplings    effective latent couplings J_rs(nu) at kappa = 0; per-population
//	             parts of the diagonal terms
//	fixed points kappa_1 of the network's and the mean field's fixed points vs nu
//	regimes      the regime of network (y = 1) and mean field (y = 0) at each nu,
//	             series "<network|mean field>: <regime>"; "disagree" at y = 0.5

const (
	mfGains   = "gains"
	mfCouple  = "couplings"
	mfFP      = "fixed points"
	mfRegimes = "regimes"
)

func buildMeanfield(in *inputs, _ Settings, _ float64) *figure {
	f := &figure{name: "meanfield", title: "Mean-field theory of the selected network vs the network itself", data: newPlotData()}
	d := f.data
	pops, whyGains := mfGainData(in, d)
	whyCouple := mfCouplingData(in, d, pops)
	whyFP := mfFixedPointData(in, d)
	agree, whyReg := mfRegimeData(in, d)
	f.caption = "The network reduced to populations defined by how NE modulates each neuron, with Gaussian loading " +
		"statistics (population colours as in every figure). Top left: each population's mean NE gain g_p(ν) " +
		"(solid) and its effective gain at the origin of the latent space, which includes the slope of the " +
		"transfer function (dashed). Top right: effective couplings J_rs(ν) between latent directions at the " +
		"origin (black) and each population's part of the diagonal couplings (colours); a latent direction " +
		"becomes marginal, the condition for a line attractor, where its coupling reaches 1 (dotted line). Bottom " +
		"left: fixed points of the mean-field equations (crosses and open squares) over those of the full network " +
		"(filled circles and open circles; stable vs unstable) in the leading latent coordinate. Bottom right: the " +
		"regime of the network and of the mean field at each NE level; x marks a level where they disagree."
	fig := plotting.NewFigure(2, 2, 30, 24)
	fig.Panels[0][0] = drawGains(f, d, pops, whyGains)
	fig.Panels[0][1] = drawCouplings(f, d, pops, whyCouple)
	fig.Panels[1][0] = drawMFFixedPoints(f, d, whyFP)
	fig.Panels[1][1] = drawRegimes(f, d, agree, whyReg)
	noNEEffect(in, f)
	f.fig = fig
	return f
}

// mfGainData records the populations' gains; returns the population numbers.
func mfGainData(in *inputs, d *plotData) ([]int64, string) {
	t, why := in.table("meanfield", "gains")
	if t == nil {
		return nil, why
	}
	c := cols(t, "meanfield output gains")
	nu, pop, gain, shift, eff := c.f("nu"), c.i("population"), c.f("gain"), c.f("shift"), c.f("effective_gain")
	if c.err != "" {
		return nil, c.err
	}
	pops := uniqueInts(pop)
	d.quantities(mfGains, "NE level nu", "gain (dimensionless) or NE input", "")
	shiftVaries := spread(shift) > 1e-9
	for _, p := range pops {
		for _, q := range []struct {
			name string
			v    []float64
			use  bool
		}{{"gain", gain, true}, {"effective gain", eff, true}, {"NE input", shift, shiftVaries}} {
			if !q.use {
				continue
			}
			for _, k := range sortedIndex(nu) {
				if pop[k] == p {
					d.add(mfGains, fmt.Sprintf("population %d %s", p, q.name), nu[k], q.v[k])
				}
			}
		}
	}
	return pops, ""
}

func spread(x []float64) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range x {
		if finite(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if hi < lo {
		return 0
	}
	return hi - lo
}

func uniqueInts(x []int64) []int64 {
	f := make([]float64, len(x))
	for i, v := range x {
		f[i] = float64(v)
	}
	var out []int64
	for _, v := range uniqueSorted(f) {
		out = append(out, int64(v))
	}
	return out
}

// mfCouplingData records J_rs and the per-population parts of J_rr.
func mfCouplingData(in *inputs, d *plotData, pops []int64) string {
	t, why := in.table("meanfield", "couplings")
	if t == nil {
		return why
	}
	c := cols(t, "meanfield output couplings")
	nu, r, s, v := c.f("nu"), c.i("r"), c.i("s"), c.f("value")
	if c.err != "" {
		return c.err
	}
	d.quantities(mfCouple, "NE level nu", "effective coupling J_rs", "")
	order := sortedIndex(nu)
	dims := uniqueInts(r)
	for _, a := range dims {
		for _, b := range dims {
			for _, k := range order {
				if r[k] == a && s[k] == b {
					d.add(mfCouple, fmt.Sprintf("J_%d%d", a, b), nu[k], v[k])
				}
			}
		}
	}
	for _, p := range pops {
		col := "value_pop" + strconv.FormatInt(p, 10)
		if !t.Has(col) {
			continue
		}
		pv := c.f(col)
		for _, a := range dims {
			for _, k := range order {
				if r[k] == a && s[k] == a {
					d.add(mfCouple, fmt.Sprintf("J_%d%d population %d", a, a, p), nu[k], pv[k])
				}
			}
		}
	}
	return c.err
}

// mfFixedPointData records kappa_1 of the network's and the mean field's fixed points.
func mfFixedPointData(in *inputs, d *plotData) string {
	mf, why := in.table("meanfield", "mf_fixed_points")
	if mf == nil {
		return why
	}
	d.quantities(mfFP, "NE level nu", "fixed point κ1 (latent)", "")
	for _, src := range []struct {
		stage, table, who string
	}{{"fixedpoints", "fixed_points", "network"}, {"meanfield", "mf_fixed_points", "mean field"}} {
		t, _ := in.table(src.stage, src.table)
		if t == nil {
			continue
		}
		c := cols(t, src.stage+" output "+src.table)
		nu, st, k1 := c.f("nu"), c.b("stable"), c.f("kappa_1")
		if c.err != "" {
			return c.err
		}
		for _, s := range []bool{true, false} {
			name := src.who + " unstable"
			if s {
				name = src.who + " stable"
			}
			for k := range nu {
				if st[k] == s {
					d.add(mfFP, name, nu[k], k1[k])
				}
			}
		}
	}
	return ""
}

// mfRegimeData records both regimes per NE level; returns the agreement fraction.
func mfRegimeData(in *inputs, d *plotData) (float64, string) {
	t, why := in.table("meanfield", "comparison")
	if t == nil {
		return math.NaN(), why + " (no NE level in common with the fixedpoints analysis)"
	}
	c := cols(t, "meanfield output comparison")
	nu, rr, mr, ag := c.f("nu"), c.s("rnn_regime"), c.s("mf_regime"), c.b("agree")
	if c.err != "" {
		return math.NaN(), c.err
	}
	d.quantities(mfRegimes, "NE level nu", "1 = network; 0 = mean field", "")
	order := sortedIndex(nu)
	n := 0
	for _, who := range []struct {
		name string
		reg  []string
		y    float64
	}{{"network", rr, 1}, {"mean field", mr, 0}} {
		for _, reg := range plotting.Regimes {
			for _, k := range order {
				if who.reg[k] == reg {
					d.add(mfRegimes, who.name+": "+reg, nu[k], who.y)
				}
			}
		}
		for _, k := range order {
			if !knownRegime(who.reg[k]) {
				d.add(mfRegimes, who.name+": "+who.reg[k], nu[k], who.y)
			}
		}
	}
	for _, k := range order {
		if ag[k] {
			n++
		} else {
			d.add(mfRegimes, "disagree", nu[k], 0.5)
		}
	}
	return float64(n) / float64(len(nu)), ""
}

func knownRegime(r string) bool {
	for _, k := range plotting.Regimes {
		if k == r {
			return true
		}
	}
	return false
}

func drawGains(f *figure, d *plotData, pops []int64, why string) *plot.Plot {
	const title = "Population gains vs NE"
	if why != "" {
		return f.missing(title, why)
	}
	p := newPanel(title, "NE level ν", "gain (dimensionless)")
	for _, pp := range pops {
		c := plotting.PopulationColor(int(pp) - 1)
		pre := fmt.Sprintf("population %d ", pp)
		addLine(p, d.points(mfGains, pre+"gain"), lineStyle(c, 2.4, nil), fmt.Sprintf("pop. %d: g_p(ν)", pp))
		addLine(p, d.points(mfGains, pre+"effective gain"), lineStyle(c, 2, plotting.Dash(1)), fmt.Sprintf("pop. %d: effective", pp))
		if rs := d.points(mfGains, pre+"NE input"); len(rs) > 0 {
			addLine(p, rs, lineStyle(c, 2, plotting.Dash(2)), fmt.Sprintf("pop. %d: NE input", pp))
			p.Y.Label.Text = "gain, or NE input"
		}
	}
	padY(p, 0.5, 0.05)
	p.X.Min, p.X.Max = 0, 1
	p.Legend.Left = true
	return p
}

func drawCouplings(f *figure, d *plotData, pops []int64, why string) *plot.Plot {
	const title = "Effective latent couplings vs NE"
	if why != "" {
		return f.missing(title, why)
	}
	p := newPanel(title, "NE level ν", "coupling J_rs (dimensionless)")
	marginal := plotting.HLine{Y: 1, Style: lineStyle(darkGrey, 1.2, plotting.Dash(2))}
	p.Add(marginal)
	p.Legend.Add("marginal: J = 1", marginal)
	k := 0
	var diag []string
	for _, s := range d.seriesOf(mfCouple) {
		if strings.Contains(s, "population") {
			continue
		}
		if len(s) == 4 && s[2] == s[3] {
			diag = append(diag, s)
		}
		addLine(p, d.points(mfCouple, s), lineStyle(black, 2.2, plotting.Dash(k)), strings.Replace(s, "J_", "J", 1))
		k++
	}
	for _, pp := range pops {
		for j, s := range diag {
			addLine(p, d.points(mfCouple, fmt.Sprintf("%s population %d", s, pp)),
				lineStyle(plotting.PopulationColor(int(pp)-1), 1.6, plotting.Dash(j)),
				fmt.Sprintf("%s, pop. %d part", strings.Replace(s, "J_", "J", 1), pp))
		}
	}
	padY(p, 0.75, 0.05)
	p.X.Min, p.X.Max = 0, 1
	p.Legend.Left = true
	return p
}

func drawMFFixedPoints(f *figure, d *plotData, why string) *plot.Plot {
	const title = "Fixed points: network vs mean field"
	if why != "" {
		return f.missing(title, why)
	}
	p := newPanel(title, "NE level ν", "fixed point κ1 (latent)")
	addPoints(p, d.points(mfFP, "network stable"), glyph(plotting.Stable, draw.CircleGlyph{}, 5), "network, stable")
	addPoints(p, d.points(mfFP, "network unstable"), glyph(plotting.Unstable, draw.RingGlyph{}, 5), "network, unstable")
	blue := color.RGBA{0x00, 0x72, 0xb2, 0xff}
	addPoints(p, d.points(mfFP, "mean field stable"), glyph(blue, draw.CrossGlyph{}, 5), "mean field, stable")
	addPoints(p, d.points(mfFP, "mean field unstable"), glyph(blue, draw.SquareGlyph{}, 4), "mean field, unstable")
	padY(p, 0.55, 0.05)
	p.X.Min, p.X.Max = 0, 1
	p.Legend.Left = true
	return p
}

func drawRegimes(f *figure, d *plotData, agree float64, why string) *plot.Plot {
	const title = "Regimes: network vs mean field"
	if why != "" {
		return f.missing(title, why)
	}
	p := newPanel(fmt.Sprintf("%s (agree at %.0f %% of levels)", title, 100*agree), "NE level ν", "")
	all := d.rows
	var nus []float64
	for _, r := range all {
		if r.panel == mfRegimes {
			nus = append(nus, r.x)
		}
	}
	grid := uniqueSorted(nus)
	half := 0.025
	if len(grid) > 1 {
		half = (grid[len(grid)-1] - grid[0]) / float64(len(grid)-1) / 2
	}
	cells := &plotting.Cells{}
	seen := map[string]bool{}
	for _, s := range d.seriesOf(mfRegimes) {
		_, reg, ok := strings.Cut(s, ": ")
		if !ok {
			continue
		}
		for _, r := range d.points(mfRegimes, s) {
			cells.X0, cells.X1 = append(cells.X0, r.x-half), append(cells.X1, r.x+half)
			cells.Y0, cells.Y1 = append(cells.Y0, r.y-0.35), append(cells.Y1, r.y+0.35)
			cells.Colors = append(cells.Colors, plotting.RegimeColor(reg))
		}
		if !seen[reg] {
			seen[reg] = true
		}
	}
	p.Add(cells)
	for _, reg := range plotting.Regimes {
		if seen[reg] {
			p.Legend.Add(reg, plotting.Swatch{Color: plotting.RegimeColor(reg)})
		}
	}
	addPoints(p, d.points(mfRegimes, "disagree"), glyph(plotting.Unstable, draw.CrossGlyph{}, 6), "disagree")
	p.Y.Tick.Marker = plot.ConstantTicks{{Value: 0, Label: "mean field"}, {Value: 1, Label: "network"}}
	p.Y.Min, p.Y.Max = -0.5, 2.6
	p.X.Min, p.X.Max = grid[0]-half, grid[len(grid)-1]+half
	p.Legend.Left = true
	return p
}
