package figures

import (
	"fmt"
	"image/color"
	"math"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"nmdyn/stages/plotting"
)

// Fixed points vs NE: the selected network as a dynamical system.
//
//	bifurcation      fixed points' kappa_1 vs nu; series stable / unstable
//	time constants   tau_1, tau_2 (s) vs nu
//	score            line-attractor score log2(tau_1 / tau_2) vs nu; series
//	                 "regime <label>": NE intervals of each regime as (start, end) rows
//	flow <i>         at the lowest, middle and highest NE of the flow table: the
//	                 latent velocity (dx, dy) and speed (z) on a grid in (kappa_1,
//	                 kappa_2), the fixed points, and the slow manifold curves

const (
	fpBif   = "bifurcation"
	fpTau   = "time constants"
	fpScore = "score"
)

func buildFixedPoints(in *inputs, _ Settings, _ float64) *figure {
	f := &figure{name: "fixed_points", title: "Fixed points, time constants and flow of the selected network vs NE",
		data: newPlotData()}
	d := f.data
	whyLevels := fpLevels(in, d)
	whyFP := fpBifurcation(in, d)
	flows, whyFlow := fpFlows(in, d)
	f.caption = "The selected network with inputs off, analysed at each NE level of a grid. Background colours are " +
		"the regime at each level (single fixed point, line attractor, multistable, other; rule in package " +
		"dynamics). Left: bifurcation diagram, the leading latent coordinate κ1 of every fixed point against the NE " +
		"level (filled black: stable; open orange: unstable). Middle: the two slowest time constants τ1 and τ2 " +
		"(seconds, log axis) of the slowest stable fixed point. Right: the line-attractor score log2(τ1/τ2); a " +
		"line attractor has one direction much slower than the others. Bottom: the latent flow at low, middle and " +
		"high NE in the plane of the two leading latent coordinates: arrows give the direction, the background " +
		"the speed |dκ/dt| in units of 1/τ (white: slow), with the fixed points and the slow manifold (purple) " +
		"traced from the stable points along their slowest direction."
	fig := plotting.NewFigure(2, 3, 36, 24)
	bands := d.seriesOf(fpScore)
	fig.Panels[0][0] = drawBifurcation(f, d, whyFP, bands)
	fig.Panels[0][1] = drawTaus(f, d, whyLevels, bands)
	fig.Panels[0][2] = drawScore(f, d, whyLevels, bands)
	classes := speedClasses(d, flows)
	for k := 0; k < 3; k++ {
		switch {
		case whyFlow != "":
			if k == 0 {
				fig.Panels[1][0] = f.missing("Flow fields", whyFlow)
			}
		case k < len(flows):
			fig.Panels[1][k] = drawFlow(d, flows[k], classes, k == len(flows)-1)
		}
	}
	noNEEffect(in, f)
	f.fig = fig
	return f
}

// fpLevels records time constants, scores and regime intervals from levels.
func fpLevels(in *inputs, d *plotData) string {
	t, why := in.table("fixedpoints", "levels")
	if t == nil {
		return why
	}
	c := cols(t, "fixedpoints output levels")
	nu, regime, tau1, tau2, score := c.f("nu"), c.s("regime"), c.f("tau1_s"), c.f("tau2_s"), c.f("score")
	if c.err != "" {
		return c.err
	}
	order := sortedIndex(nu)
	d.quantities(fpScore, "NE level nu", "line-attractor score log2(τ1/τ2)", "")
	for _, run := range regimeRuns(nu, regime, order) {
		d.add(fpScore, "regime "+run.regime, run.lo, math.NaN())
		d.add(fpScore, "regime "+run.regime, run.hi, math.NaN())
	}
	for _, k := range order {
		d.add(fpScore, "score", nu[k], score[k])
	}
	d.quantities(fpTau, "NE level nu", "time constant (s)", "")
	for _, k := range order {
		d.add(fpTau, "τ1", nu[k], positive(tau1[k]))
	}
	for _, k := range order {
		d.add(fpTau, "τ2", nu[k], positive(tau2[k]))
	}
	return ""
}

// positive maps non-positive values to NaN (not drawable on a log axis).
func positive(v float64) float64 {
	if v > 0 {
		return v
	}
	return math.NaN()
}

// sortedIndex is the order of x, ascending (stable).
func sortedIndex(x []float64) []int {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	return idx
}

type regimeRun struct {
	regime string
	lo, hi float64
}

// regimeRuns cuts the NE axis into runs of levels with one regime; a run extends
// halfway to the neighbouring levels (to the grid's ends at the ends).
func regimeRuns(nu []float64, regime []string, order []int) []regimeRun {
	var runs []regimeRun
	for j, k := range order {
		lo := nu[k]
		if j > 0 {
			lo = (nu[order[j-1]] + nu[k]) / 2
		}
		hi := nu[k]
		if j+1 < len(order) {
			hi = (nu[k] + nu[order[j+1]]) / 2
		}
		if n := len(runs); n > 0 && runs[n-1].regime == regime[k] {
			runs[n-1].hi = hi
			continue
		}
		runs = append(runs, regimeRun{regime[k], lo, hi})
	}
	return runs
}

// fpBifurcation records every fixed point's kappa_1 by stability.
func fpBifurcation(in *inputs, d *plotData) string {
	t, why := in.table("fixedpoints", "fixed_points")
	if t == nil {
		return why + " (no fixed point found at any NE level)"
	}
	c := cols(t, "fixedpoints output fixed_points")
	nu, fp, stable, k1 := c.f("nu"), c.i("fp"), c.b("stable"), c.f("kappa_1")
	if c.err != "" {
		return c.err
	}
	d.quantities(fpBif, "NE level nu", "fixed point κ1 (latent)", "fixed point index within its level")
	for _, s := range []bool{true, false} {
		name := "unstable"
		if s {
			name = "stable"
		}
		for k := range nu {
			if stable[k] == s {
				d.addZ(fpBif, name, nu[k], k1[k], float64(fp[k]))
			}
		}
	}
	return ""
}

// fpFlows records the flow fields with their fixed points and slow manifolds; it
// returns the panel names in NE order.
func fpFlows(in *inputs, d *plotData) ([]string, string) {
	t, why := in.table("fixedpoints", "flow")
	if t == nil {
		return nil, why
	}
	c := cols(t, "fixedpoints output flow")
	nu, k1, k2, dk1, dk2, speed := c.f("nu"), c.f("k1"), c.f("k2"), c.f("dk1"), c.f("dk2"), c.f("speed")
	if c.err != "" {
		return nil, c.err
	}
	levels := uniqueSorted(nu)
	regimes := levelRegimes(in)
	fps, _ := in.table("fixedpoints", "fixed_points")
	slow, _ := in.table("fixedpoints", "slow_manifold")
	var panels []string
	for _, lv := range levels {
		panel := fmt.Sprintf("flow at NE %.2f", lv)
		if r, ok := regimes[lv]; ok {
			panel += " (" + r + ")"
		}
		panels = append(panels, panel)
		d.quantities(panel, "κ1 (latent)", "κ2 (latent)", "speed |dκ/dt| (1/τ)")
		for k := range nu {
			if nu[k] == lv {
				d.addFull(panel, "flow", k1[k], k2[k], math.NaN(), math.NaN(), dk1[k], dk2[k], speed[k])
			}
		}
		if fps != nil {
			fc := cols(fps, "fixedpoints output fixed_points")
			fnu, st, f1 := fc.f("nu"), fc.b("stable"), fc.f("kappa_1")
			f2 := make([]float64, len(fnu))
			if fps.Has("kappa_2") {
				f2 = fc.f("kappa_2")
			}
			if fc.err == "" {
				for k := range fnu {
					if fnu[k] != lv {
						continue
					}
					name := "unstable fixed point"
					if st[k] {
						name = "stable fixed point"
					}
					d.add(panel, name, f1[k], f2[k])
				}
			}
		}
		if slow != nil {
			sc := cols(slow, "fixedpoints output slow_manifold")
			snu, s1, s2, curve := sc.f("nu"), sc.f("kappa_1"), sc.f("kappa_2"), sc.i("curve")
			if sc.err == "" {
				for k := range snu {
					if snu[k] == lv {
						d.add(panel, "slow manifold curve "+strconv.FormatInt(curve[k], 10), s1[k], s2[k])
					}
				}
			}
		}
	}
	return panels, ""
}

// levelRegimes maps each NE level of the levels table to its regime.
func levelRegimes(in *inputs) map[float64]string {
	out := map[float64]string{}
	t, _ := in.table("fixedpoints", "levels")
	if t == nil {
		return out
	}
	c := cols(t, "fixedpoints output levels")
	nu, regime := c.f("nu"), c.s("regime")
	if c.err != "" {
		return out
	}
	for k := range nu {
		out[nu[k]] = regime[k]
	}
	return out
}

func uniqueSorted(x []float64) []float64 {
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	var out []float64
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// addRegimeBands shades the regime intervals (series "regime <label>" of the score
// panel); legend entries when legend is true.
func addRegimeBands(p *plot.Plot, d *plotData, bands []string, legend bool) {
	for _, reg := range plotting.Regimes {
		s := "regime " + reg
		found := false
		for _, b := range bands {
			found = found || b == s
		}
		if !found {
			continue
		}
		label := ""
		if legend {
			label = reg
		}
		addBands(p, d.points(fpScore, s), plotting.RegimeColor(reg), label)
	}
}

func drawBifurcation(f *figure, d *plotData, why string, bands []string) *plot.Plot {
	const title = "Fixed points vs NE"
	if why != "" {
		return f.missing(title, why)
	}
	p := newPanel(title, "NE level ν", "fixed point κ1 (latent)")
	addRegimeBands(p, d, bands, false)
	addPoints(p, d.points(fpBif, "stable"), glyph(plotting.Stable, draw.CircleGlyph{}, 4), "stable")
	addPoints(p, d.points(fpBif, "unstable"), glyph(plotting.Unstable, draw.RingGlyph{}, 4.5), "unstable")
	padY(p, 0.3, 0.05)
	p.X.Min, p.X.Max = 0, 1
	return p
}

func drawTaus(f *figure, d *plotData, why string, bands []string) *plot.Plot {
	const title = "Time constants vs NE"
	if why != "" {
		return f.missing(title, why)
	}
	p := newPanel(title, "NE level ν", "time constant (s)")
	addRegimeBands(p, d, bands, false)
	blue := color.RGBA{0x00, 0x72, 0xb2, 0xff}
	addLine(p, d.points(fpTau, "τ1"), lineStyle(blue, 2.2, nil), "τ1 (slowest)")
	addPoints(p, d.points(fpTau, "τ1"), glyph(blue, draw.CircleGlyph{}, 3), "")
	addLine(p, d.points(fpTau, "τ2"), lineStyle(darkGrey, 1.8, plotting.Dash(1)), "τ2")
	if len(xyOf(d.points(fpTau, "τ1"))) > 0 {
		logAxis(&p.Y)
		// Room for the legend on a log axis: a factor above the largest value.
		p.Y.Max *= 4
	}
	p.X.Min, p.X.Max = 0, 1
	p.Legend.Left = true
	return p
}

func drawScore(f *figure, d *plotData, why string, bands []string) *plot.Plot {
	const title = "Line-attractor score vs NE"
	if why != "" {
		return f.missing(title, why)
	}
	p := newPanel(title, "NE level ν", "score log2(τ1/τ2)")
	addRegimeBands(p, d, bands, true)
	addLine(p, d.points(fpScore, "score"), lineStyle(black, 2, nil), "")
	addPoints(p, d.points(fpScore, "score"), glyph(black, draw.CircleGlyph{}, 3), "")
	p.Y.Min = math.Min(p.Y.Min, 0)
	padY(p, 0.45, 0)
	p.X.Min, p.X.Max = 0, 1
	p.Legend.Left = true
	return p
}

// speedClass is a range of flow speeds drawn in one colour.
type speedClass struct {
	lo, hi float64
	color  color.Color
}

// speedClasses cuts the speeds of all flow panels into up to 5 classes at their
// pooled quintiles rounded to 1, 2 or 5 times a power of ten, so that each colour
// covers a similar area and every panel uses the same colours for the same speeds.
func speedClasses(d *plotData, panels []string) []speedClass {
	var v []float64
	for _, p := range panels {
		for _, r := range d.points(p, "flow") {
			if r.z > 0 && finite(r.z) {
				v = append(v, r.z)
			}
		}
	}
	if len(v) < 2 {
		return nil
	}
	sort.Float64s(v)
	const n = 5
	edges := []float64{0}
	for k := 1; k < n; k++ {
		e := roundNice(v[k*(len(v)-1)/n])
		if e > edges[len(edges)-1] {
			edges = append(edges, e)
		}
	}
	edges = append(edges, math.Inf(1))
	// The light 60 % of the palette: black arrows, points and text stay readable.
	pal := plotting.Sequential().Colors()
	m := len(edges) - 1
	var out []speedClass
	for k := 0; k < m; k++ {
		shade := 0
		if m > 1 {
			shade = (len(pal) - 1) * 6 * k / (10 * (m - 1))
		}
		out = append(out, speedClass{edges[k], edges[k+1], pal[shade]})
	}
	return out
}

// roundNice rounds to 1, 2 or 5 times a power of ten.
func roundNice(v float64) float64 {
	e := math.Floor(math.Log10(v))
	m := v / math.Pow(10, e)
	switch {
	case m < 1.5:
		m = 1
	case m < 3.5:
		m = 2
	case m < 7.5:
		m = 5
	default:
		m = 10
	}
	return m * math.Pow(10, e)
}

func (c speedClass) label() string {
	switch {
	case c.lo == 0:
		return fmt.Sprintf("< %g", c.hi)
	case math.IsInf(c.hi, 1):
		return fmt.Sprintf("≥ %g", c.lo)
	}
	return fmt.Sprintf("%g – %g", c.lo, c.hi)
}

func classOf(classes []speedClass, v float64) color.Color {
	for _, c := range classes {
		if v >= c.lo && v < c.hi {
			return c.color
		}
	}
	return color.White
}

// drawFlow draws one flow field: speed classes as cells, direction arrows, slow
// manifold and fixed points.
func drawFlow(d *plotData, panel string, classes []speedClass, legend bool) *plot.Plot {
	title := strings.ToUpper(panel[:1]) + panel[1:]
	p := newPanel(title, "κ1 (latent)", "κ2 (latent)")
	flow := d.points(panel, "flow")
	cells := flowCells(flow, classes)
	p.Add(cells)
	ar := &plotting.Arrows{Length: vg.Points(9), Style: lineStyle(color.Gray{0x33}, 0.9, nil)}
	for i, r := range flow {
		if i%2 == 0 && finite(r.dx) {
			ar.X, ar.Y, ar.DX, ar.DY = append(ar.X, r.x), append(ar.Y, r.y), append(ar.DX, r.dx), append(ar.DY, r.dy)
		}
	}
	p.Add(ar)
	purple := color.RGBA{0x8e, 0x24, 0xaa, 0xff}
	first := true
	for _, s := range d.seriesOf(panel) {
		if strings.HasPrefix(s, "slow manifold") {
			label := ""
			if first {
				label, first = "slow manifold", false
			}
			addLine(p, d.points(panel, s), lineStyle(purple, 3, nil), label)
		}
	}
	addPoints(p, d.points(panel, "stable fixed point"), glyph(plotting.Stable, draw.CircleGlyph{}, 5), "stable")
	addPoints(p, d.points(panel, "unstable fixed point"), glyph(plotting.Unstable, draw.RingGlyph{}, 5.5), "unstable")
	if legend {
		for i := len(classes) - 1; i >= 0; i-- {
			p.Legend.Add("speed "+classes[i].label(), plotting.Swatch{Color: classes[i].color})
		}
	}
	if x0, x1, y0, y1 := cells.DataRange(); finite(x0) && finite(y0) {
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = x0, x1, y0, y1
	}
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	return p
}

// flowCells turns grid samples into cells around them (edges halfway between
// neighbouring grid values), coloured by speed class.
func flowCells(flow []row, classes []speedClass) *plotting.Cells {
	xsU, ysU := uniqueSorted(xs(flow)), uniqueSorted(ys(flow))
	edges := func(v []float64) map[float64][2]float64 {
		out := map[float64][2]float64{}
		for i, x := range v {
			lo, hi := x, x
			if i > 0 {
				lo = (v[i-1] + x) / 2
			} else if len(v) > 1 {
				lo = x - (v[1]-x)/2
			}
			if i+1 < len(v) {
				hi = (x + v[i+1]) / 2
			} else if len(v) > 1 {
				hi = x + (x-v[i-1])/2
			}
			if hi == lo {
				lo, hi = x-0.5, x+0.5
			}
			out[x] = [2]float64{lo, hi}
		}
		return out
	}
	ex, ey := edges(xsU), edges(ysU)
	c := &plotting.Cells{}
	for _, r := range flow {
		c.X0, c.X1 = append(c.X0, ex[r.x][0]), append(c.X1, ex[r.x][1])
		c.Y0, c.Y1 = append(c.Y0, ey[r.y][0]), append(c.Y1, ey[r.y][1])
		c.Colors = append(c.Colors, classOf(classes, r.z))
	}
	return c
}
