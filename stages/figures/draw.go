package figures

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"nmdyn/stages/plotting"
)

// Drawing helpers: each takes rows of a plotData series and adds them to a panel,
// skipping non-finite points (a NaN breaks a line into pieces instead).

// xyOf converts rows to gonum points, dropping non-finite ones.
func xyOf(rs []row) plotter.XYs {
	out := make(plotter.XYs, 0, len(rs))
	for _, r := range rs {
		if finite(r.x) && finite(r.y) {
			out = append(out, plotter.XY{X: r.x, Y: r.y})
		}
	}
	return out
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// lineStyle is a solid or dashed line.
func lineStyle(c color.Color, widthPt float64, dash []vg.Length) draw.LineStyle {
	return draw.LineStyle{Color: c, Width: vg.Points(widthPt), Dashes: dash}
}

// addLine draws rows as a line, broken where a point is not finite; legend entry
// when label is not empty.
func addLine(p *plot.Plot, rs []row, sty draw.LineStyle, label string) {
	var piece plotter.XYs
	first := true
	flush := func() {
		if len(piece) == 0 {
			return
		}
		l, err := plotter.NewLine(piece)
		if err == nil {
			l.LineStyle = sty
			p.Add(l)
			if first && label != "" {
				p.Legend.Add(label, l)
				first = false
			}
		}
		piece = nil
	}
	for _, r := range rs {
		if finite(r.x) && finite(r.y) {
			piece = append(piece, plotter.XY{X: r.x, Y: r.y})
		} else {
			flush()
		}
	}
	flush()
}

// addPoints draws rows as markers.
func addPoints(p *plot.Plot, rs []row, g draw.GlyphStyle, label string) {
	xy := xyOf(rs)
	if len(xy) == 0 {
		return
	}
	s, err := plotter.NewScatter(xy)
	if err != nil {
		return
	}
	s.GlyphStyle = g
	p.Add(s)
	if label != "" {
		p.Legend.Add(label, s)
	}
}

func glyph(c color.Color, shape draw.GlyphDrawer, radiusPt float64) draw.GlyphStyle {
	return draw.GlyphStyle{Color: c, Shape: shape, Radius: vg.Points(radiusPt)}
}

// errValues are y intervals for gonum's error bars: rows with y, y_lo, y_hi.
type errValues struct{ rs []row }

func (e errValues) Len() int                    { return len(e.rs) }
func (e errValues) XY(i int) (float64, float64) { return e.rs[i].x, e.rs[i].y }
func (e errValues) YError(i int) (float64, float64) {
	return e.rs[i].y - e.rs[i].lo, e.rs[i].hi - e.rs[i].y
}
func (e errValues) XError(i int) (float64, float64) {
	return e.rs[i].x - e.rs[i].lo, e.rs[i].hi - e.rs[i].x
}
func intervalRows(rs []row) []row {
	var out []row
	for _, r := range rs {
		if finite(r.x) && finite(r.y) && finite(r.lo) && finite(r.hi) {
			out = append(out, r)
		}
	}
	return out
}

// addYErrors draws the rows' [y_lo, y_hi] intervals as vertical bars with caps.
func addYErrors(p *plot.Plot, rs []row, c color.Color, widthPt float64) {
	rs = intervalRows(rs)
	if len(rs) == 0 {
		return
	}
	e, err := plotter.NewYErrorBars(errValues{rs})
	if err != nil {
		return
	}
	e.LineStyle = lineStyle(c, widthPt, nil)
	e.CapWidth = vg.Points(8)
	p.Add(e)
}

// addXErrors draws horizontal bars from y_lo to y_hi (interpreted on the x axis) at
// height y: used for intervals of an x position (e.g. a peak's location).
func addXErrors(p *plot.Plot, rs []row, c color.Color, widthPt float64) {
	rs = intervalRows(rs)
	if len(rs) == 0 {
		return
	}
	e, err := plotter.NewXErrorBars(errValues{rs})
	if err != nil {
		return
	}
	e.LineStyle = lineStyle(c, widthPt, nil)
	e.CapWidth = vg.Points(8)
	p.Add(e)
}

// categoryTicks labels integer positions 0..len-1 of an axis with names.
func categoryTicks(names []string) plot.ConstantTicks {
	t := make(plot.ConstantTicks, len(names))
	for i, n := range names {
		t[i] = plot.Tick{Value: float64(i), Label: n}
	}
	return t
}

// padY widens the y range of a panel by a fraction of it at the top (room for a
// legend) and at the bottom.
func padY(p *plot.Plot, top, bottom float64) {
	span := p.Y.Max - p.Y.Min
	if !(span > 0) {
		span = math.Max(1, math.Abs(p.Y.Max))
	}
	p.Y.Max += top * span
	p.Y.Min -= bottom * span
}

// padX is padY for x.
func padX(p *plot.Plot, left, right float64) {
	span := p.X.Max - p.X.Min
	if !(span > 0) {
		span = math.Max(1, math.Abs(p.X.Max))
	}
	p.X.Max += right * span
	p.X.Min -= left * span
}

// bands adds x intervals given as consecutive (start, end) rows as full-height
// bands of one colour; legend entry when label is not empty.
func addBands(p *plot.Plot, rs []row, c color.Color, label string) {
	for i := 0; i+1 < len(rs); i += 2 {
		b := plotting.VBand{X0: rs[i].x, X1: rs[i+1].x, Color: c}
		p.Add(b)
		if i == 0 && label != "" {
			p.Legend.Add(label, b)
		}
	}
}

var (
	black     = color.Black
	darkGrey  = color.Gray{0x44}
	midGrey   = color.Gray{0x88}
	lightGrey = color.Gray{0xcc}
)

// newPanel is plotting.NewPlot (poster fonts).
func newPanel(title, x, y string) *plot.Plot { return plotting.NewPlot(title, x, y) }

// logTicks puts a log scale with readable ticks on an axis.
func logAxis(a *plot.Axis) {
	a.Scale = plot.LogScale{}
	a.Tick.Marker = plot.LogTicks{Prec: -1}
}
