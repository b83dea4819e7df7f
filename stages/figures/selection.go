package figures

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg/draw"

	"nmdyn/stages/plotting"
)

// Model selection: which NE mechanism explains held-out activity best, with honest
// uncertainty.
//
//	test score   per variant: test score with its 95 % bootstrap interval; z = 2 for
//	             the winner, 1 for a variant indistinguishable from it, 0 otherwise;
//	             series "truth" (the generating network's score on a simulated session)
//	difference   per other variant: its score minus the winner's, 95 % interval

const (
	selScore = "test score"
	selDiff  = "difference to winner"
)

func buildModelSelection(in *inputs, _ Settings, _ float64) *figure {
	f := &figure{name: "model_selection", title: "Model selection: which NE mechanism predicts held-out activity best",
		data: newPlotData()}
	d := f.data
	variants, why := selectionData(in, d)
	f.caption = "Left: held-out test score of the selected network of each variant, in bits per spike above a " +
		"constant rate per neuron, with 95 % intervals from a paired bootstrap over short test sub-blocks. The " +
		"winner has the highest score; filled markers are the variants statistically indistinguishable from it " +
		"(the interval of their difference to the winner contains 0; nested models tie honestly), open markers " +
		"are worse. On a simulated session, the dashed line is the score of the generating network itself, the " +
		"reference a fit is measured against. Right: each variant's score minus the winner's, with the 95 % " +
		"bootstrap interval of that difference; intervals that reach the zero line cannot be told apart from the winner."
	fig := plotting.NewFigure(1, 2, 30, 14)
	if why != "" {
		fig.Panels[0][0] = f.missing("Test score per variant", why)
		fig.Panels[0][1] = f.missing("Difference to the winner", why)
	} else {
		fig.Panels[0][0] = drawScores(d, variants)
		fig.Panels[0][1] = drawDiffs(f, d, variants)
	}
	f.fig = fig
	return f
}

// selectionData reads select's scores, pairwise differences and truth score.
func selectionData(in *inputs, d *plotData) ([]string, string) {
	t, why := in.table("select", "scores")
	if t == nil {
		return nil, why
	}
	c := cols(t, "select output scores")
	names, sc, lo, hi, win, ind := c.s("variant"), c.f("test_bits_per_spike"), c.f("ci95_lo"), c.f("ci95_hi"),
		c.b("winner"), c.b("indistinguishable")
	if c.err != "" {
		return nil, c.err
	}
	d.quantities(selScore, "variant (position)", "test score (bits/spike)",
		"2 = winner; 1 = indistinguishable from the winner; 0 = worse")
	winner := -1
	for k := range names {
		z := 0.0
		if ind[k] {
			z = 1
		}
		if win[k] {
			z, winner = 2, k
		}
		d.addFull(selScore, names[k], float64(k), sc[k], lo[k], hi[k], math.NaN(), math.NaN(), z)
	}
	if tr, _ := in.table("select", "truth_score"); tr != nil {
		tc := cols(tr, "select output truth_score")
		ts := tc.f("test_bits_per_spike")
		if tc.err == "" && finite(ts[0]) {
			d.add(selScore, "truth", -0.5, ts[0])
			d.add(selScore, "truth", float64(len(names))-0.5, ts[0])
		}
	}
	if winner < 0 {
		return names, ""
	}
	pairwiseDiffs(in, d, names, winner, zOf(d))
	return names, ""
}

// pairwiseDiffs records, for every variant but the winner, its score minus the
// winner's with the bootstrap interval (select's pairwise table holds a - b for
// a before b in variant order; the other order is negated).
func pairwiseDiffs(in *inputs, d *plotData, names []string, winner int, z map[string]float64) {
	t, _ := in.table("select", "pairwise")
	if t == nil {
		return
	}
	c := cols(t, "select output pairwise")
	a, b, diff, lo, hi := c.s("a"), c.s("b"), c.f("diff_bits_per_spike"), c.f("ci95_lo"), c.f("ci95_hi")
	if c.err != "" {
		return
	}
	d.quantities(selDiff, "variant (position)", "score − winner's (bits/spike)",
		"1 = indistinguishable from the winner; 0 = worse")
	w := names[winner]
	for k, v := range names {
		if k == winner {
			continue
		}
		for r := range a {
			switch {
			case a[r] == v && b[r] == w:
				d.addFull(selDiff, v, float64(k), diff[r], lo[r], hi[r], math.NaN(), math.NaN(), z[v])
			case a[r] == w && b[r] == v:
				d.addFull(selDiff, v, float64(k), -diff[r], -hi[r], -lo[r], math.NaN(), math.NaN(), z[v])
			}
		}
	}
}

func drawScores(d *plotData, names []string) *plot.Plot {
	p := newPanel("Test score per variant", "", "test score (bits/spike)")
	if tr := d.points(selScore, "truth"); len(tr) == 2 {
		addLine(p, tr, lineStyle(black, 1.5, plotting.Dash(1)), "generating network (truth)")
	}
	var winX, winY float64
	for _, v := range names {
		rs := d.points(selScore, v)
		if len(rs) == 0 {
			continue
		}
		c := plotting.VariantColor(v)
		addYErrors(p, rs, c, 2)
		addPoints(p, rs, selectionGlyph(c, rs[0].z), "")
		if rs[0].z == 2 {
			winX, winY = rs[0].x, rs[0].hi
		}
	}
	for _, z := range []float64{2, 1, 0} {
		p.Legend.Add(selectionLabel[z], plotting.Glyph{Style: selectionGlyph(darkGrey, z)})
	}
	p.X.Tick.Marker = categoryTicks(names)
	p.X.Min, p.X.Max = -0.5, float64(len(names))-0.5
	padY(p, 0.45, 0.05)
	if finite(winY) {
		p.Add(plotting.Text([]float64{winX}, []float64{winY}, []string{"winner"}, 12, black, draw.XCenter, draw.YBottom))
	}
	p.Legend.Left = true
	return p
}

// zOf maps each variant to its z in the score panel.
func zOf(d *plotData) map[string]float64 {
	out := map[string]float64{}
	for _, r := range d.rows {
		if r.panel == selScore {
			out[r.series] = r.z
		}
	}
	return out
}

// selectionLabel and selectionGlyph mark the winner (large filled), the variants
// indistinguishable from it (filled) and the worse ones (open).
var selectionLabel = map[float64]string{2: "winner", 1: "indistinguishable from it", 0: "worse than the winner"}

func selectionGlyph(c color.Color, z float64) draw.GlyphStyle {
	switch z {
	case 2:
		return glyph(c, draw.CircleGlyph{}, 8)
	case 1:
		return glyph(c, draw.CircleGlyph{}, 6)
	}
	return glyph(c, draw.RingGlyph{}, 6)
}

func drawDiffs(f *figure, d *plotData, names []string) *plot.Plot {
	const title = "Difference to the winner"
	if !d.has(selDiff) {
		return f.missing(title, "select output pairwise is missing or names no winner")
	}
	p := newPanel(title, "", "score − winner's (bits/spike)")
	zero := plotting.HLine{Y: 0, Style: lineStyle(darkGrey, 1.2, plotting.Dash(1))}
	p.Add(zero)
	p.Legend.Add("no difference (the winner)", zero)
	for _, v := range names {
		rs := d.points(selDiff, v)
		if len(rs) == 0 {
			continue
		}
		c := plotting.VariantColor(v)
		addYErrors(p, rs, c, 2)
		addPoints(p, rs, selectionGlyph(c, rs[0].z), "")
	}
	// The winner has no point here: say so on its tick.
	ticks := append([]string(nil), names...)
	for _, r := range d.rows {
		if r.panel == selScore && r.z == 2 {
			ticks[int(r.x)] = r.series + "\n(winner)"
		}
	}
	p.X.Tick.Marker = categoryTicks(ticks)
	p.X.Min, p.X.Max = -0.5, float64(len(names))-0.5
	padY(p, 0.2, 0.05)
	p.Title.Text = fmt.Sprintf("%s (95 %% bootstrap)", title)
	p.Legend.Left = true
	return p
}
