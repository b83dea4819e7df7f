package plotting

// Helpers the figures stage draws with, beyond plotting.go: reference lines and
// bands that span a panel whatever its data range, arrows and filled cells for flow
// fields, legend swatches, marker shapes per population, line dashes per seed,
// colours per dynamical regime, and a panel that says why a plot is missing.

import (
	"bytes"
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Regime colours: light fills, so that data drawn over them stays readable.
var regimeColor = map[string]color.RGBA{
	"single fixed point": {0xe3, 0xe3, 0xe3, 0xff}, // light grey: nothing slow
	"line attractor":     {0xb8, 0xe6, 0xd0, 0xff}, // light bluish green
	"multistable":        {0xc6, 0xdb, 0xf0, 0xff}, // light blue
	"other":              {0xf6, 0xd0, 0xb8, 0xff}, // light vermillion: never settles
}

// Regimes lists the regime labels of package dynamics in the order legends use.
var Regimes = []string{"single fixed point", "line attractor", "multistable", "other"}

// RegimeColor is the fill colour of a dynamical regime in every figure (white for
// an unknown label).
func RegimeColor(regime string) color.Color {
	if c, ok := regimeColor[regime]; ok {
		return c
	}
	return color.White
}

// populationShapes are the marker shapes of populations 0, 1, ... (cycled): filled
// first, so that light colours (the palette's yellow) stay visible.
var populationShapes = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.PyramidGlyph{}, draw.BoxGlyph{},
	draw.CrossGlyph{}, draw.PlusGlyph{}, draw.TriangleGlyph{}}

// PopulationShape is the marker shape of population p (0-based) where colour
// already says something else (e.g. the cluster); a negative p gets a ring.
func PopulationShape(p int) draw.GlyphDrawer {
	if p < 0 {
		return draw.RingGlyph{}
	}
	return populationShapes[p%len(populationShapes)]
}

// Dash is the dash pattern of the i-th line of one colour (e.g. the i-th seed of a
// variant): solid, dashed, dotted, dash-dot, then again.
func Dash(i int) []vg.Length {
	switch i % 4 {
	case 1:
		return []vg.Length{vg.Points(6), vg.Points(3)}
	case 2:
		return []vg.Length{vg.Points(1.5), vg.Points(2.5)}
	case 3:
		return []vg.Length{vg.Points(6), vg.Points(2.5), vg.Points(1.5), vg.Points(2.5)}
	}
	return nil
}

// Swatch is a legend thumbnail: a filled box (no data of its own).
type Swatch struct{ Color color.Color }

// Thumbnail implements plot.Thumbnailer.
func (s Swatch) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}}
	c.FillPolygon(s.Color, pts)
	c.StrokeLines(draw.LineStyle{Color: color.Gray{0x80}, Width: vg.Points(0.5)}, append(pts, pts[0]))
}

// Glyph is a legend thumbnail showing one marker.
type Glyph struct{ Style draw.GlyphStyle }

// Thumbnail implements plot.Thumbnailer.
func (g Glyph) Thumbnail(c *draw.Canvas) { c.DrawGlyph(g.Style, c.Center()) }

// LineSample is a legend thumbnail showing a line style.
type LineSample struct{ Style draw.LineStyle }

// Thumbnail implements plot.Thumbnailer.
func (l LineSample) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(l.Style, c.Min.X, y, c.Max.X, y)
}

// HLine is a horizontal reference line at Y across the whole panel. It does not
// widen the x range; it widens the y range to include Y.
type HLine struct {
	Y     float64
	Style draw.LineStyle
}

// Plot implements plot.Plotter.
func (h HLine) Plot(c draw.Canvas, p *plot.Plot) {
	_, trY := p.Transforms(&c)
	y := trY(h.Y)
	if y < c.Min.Y || y > c.Max.Y {
		return
	}
	c.StrokeLine2(h.Style, c.Min.X, y, c.Max.X, y)
}

// DataRange implements plot.DataRanger.
func (h HLine) DataRange() (xmin, xmax, ymin, ymax float64) {
	return math.Inf(1), math.Inf(-1), h.Y, h.Y
}

// Thumbnail implements plot.Thumbnailer.
func (h HLine) Thumbnail(c *draw.Canvas) { LineSample{h.Style}.Thumbnail(c) }

// VLine is a vertical reference line at X across the whole panel.
type VLine struct {
	X     float64
	Style draw.LineStyle
}

// Plot implements plot.Plotter.
func (v VLine) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	x := trX(v.X)
	if x < c.Min.X || x > c.Max.X {
		return
	}
	c.StrokeLine2(v.Style, x, c.Min.Y, x, c.Max.Y)
}

// DataRange implements plot.DataRanger.
func (v VLine) DataRange() (xmin, xmax, ymin, ymax float64) {
	return v.X, v.X, math.Inf(1), math.Inf(-1)
}

// Thumbnail implements plot.Thumbnailer.
func (v VLine) Thumbnail(c *draw.Canvas) { LineSample{v.Style}.Thumbnail(c) }

// VBand fills the x interval [X0, X1] over the whole height of the panel (add it
// before the data so that the data is drawn over it).
type VBand struct {
	X0, X1 float64
	Color  color.Color
}

// Plot implements plot.Plotter.
func (b VBand) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	x0, x1 := max(trX(b.X0), c.Min.X), min(trX(b.X1), c.Max.X)
	if !(x1 > x0) {
		return
	}
	c.FillPolygon(b.Color, []vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}})
}

// DataRange implements plot.DataRanger.
func (b VBand) DataRange() (xmin, xmax, ymin, ymax float64) {
	return b.X0, b.X1, math.Inf(1), math.Inf(-1)
}

// Thumbnail implements plot.Thumbnailer.
func (b VBand) Thumbnail(c *draw.Canvas) { Swatch{b.Color}.Thumbnail(c) }

// Cells fills axis-aligned rectangles in data coordinates, one colour each (a
// heat map on any grid, e.g. speed classes of a flow field).
type Cells struct {
	X0, X1, Y0, Y1 []float64
	Colors         []color.Color
}

// Plot implements plot.Plotter.
func (cs *Cells) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for i := range cs.X0 {
		pts := []vg.Point{{X: trX(cs.X0[i]), Y: trY(cs.Y0[i])}, {X: trX(cs.X1[i]), Y: trY(cs.Y0[i])},
			{X: trX(cs.X1[i]), Y: trY(cs.Y1[i])}, {X: trX(cs.X0[i]), Y: trY(cs.Y1[i])}}
		c.FillPolygon(cs.Colors[i], c.ClipPolygonXY(pts))
	}
}

// DataRange implements plot.DataRanger.
func (cs *Cells) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin, xmax, ymax = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for i := range cs.X0 {
		xmin, xmax = math.Min(xmin, math.Min(cs.X0[i], cs.X1[i])), math.Max(xmax, math.Max(cs.X0[i], cs.X1[i]))
		ymin, ymax = math.Min(ymin, math.Min(cs.Y0[i], cs.Y1[i])), math.Max(ymax, math.Max(cs.Y0[i], cs.Y1[i]))
	}
	return
}

// Arrows draws the direction of a vector field at points (X, Y): arrows of a fixed
// length on the page (Length), pointing along (DX, DY) as drawn (the axes' scales
// are taken into account), so that direction reads everywhere and magnitude is left
// to another channel (a colour). Zero or non-finite vectors draw nothing.
type Arrows struct {
	X, Y, DX, DY []float64
	Length       vg.Length
	Style        draw.LineStyle
}

// Plot implements plot.Plotter.
func (a *Arrows) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for i := range a.X {
		x0, y0 := trX(a.X[i]), trY(a.Y[i])
		// Direction on the page: map a small step along the vector.
		const eps = 1e-3
		ux := float64(trX(a.X[i]+eps*a.DX[i]) - x0)
		uy := float64(trY(a.Y[i]+eps*a.DY[i]) - y0)
		n := math.Hypot(ux, uy)
		if !(n > 0) || math.IsInf(n, 0) {
			continue
		}
		ux, uy = ux/n, uy/n
		l := float64(a.Length)
		// Centre the arrow on the point.
		sx, sy := x0-vg.Length(ux*l/2), y0-vg.Length(uy*l/2)
		ex, ey := x0+vg.Length(ux*l/2), y0+vg.Length(uy*l/2)
		head := l * 0.35
		const spread = 0.45 // radians either side of the shaft
		hx1 := ex - vg.Length(head*(ux*math.Cos(spread)-uy*math.Sin(spread)))
		hy1 := ey - vg.Length(head*(uy*math.Cos(spread)+ux*math.Sin(spread)))
		hx2 := ex - vg.Length(head*(ux*math.Cos(spread)+uy*math.Sin(spread)))
		hy2 := ey - vg.Length(head*(uy*math.Cos(spread)-ux*math.Sin(spread)))
		lines := c.ClipLinesXY([]vg.Point{{X: sx, Y: sy}, {X: ex, Y: ey}},
			[]vg.Point{{X: hx1, Y: hy1}, {X: ex, Y: ey}, {X: hx2, Y: hy2}})
		c.StrokeLines(a.Style, lines...)
	}
}

// DataRange implements plot.DataRanger.
func (a *Arrows) DataRange() (xmin, xmax, ymin, ymax float64) {
	return plotter.XYRange(xyPairs{a.X, a.Y})
}

type xyPairs struct{ x, y []float64 }

func (p xyPairs) Len() int                    { return len(p.x) }
func (p xyPairs) XY(i int) (float64, float64) { return p.x[i], p.y[i] }

// Note returns a panel without axes that shows a title and a message in its middle,
// e.g. "not available: the session has no events". Lines are split at "\n".
func Note(title, message string) *plot.Plot {
	p := NewPlot(title, "", "")
	UseSans(p)
	p.HideAxes()
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	p.Add(Text([]float64{0.5}, []float64{0.5}, []string{message}, 13, color.Gray{0x44}, draw.XCenter, draw.YCenter))
	return p
}

// Text writes labels at data coordinates (x[i], y[i]) in the sans-serif face of the
// given size (points) and colour, aligned as given (draw.XLeft, draw.YCenter, ...).
func Text(x, y []float64, labels []string, sizePt float64, c color.Color, xAlign draw.XAlignment, yAlign draw.YAlignment) plot.Plotter {
	xys := make([]plotter.XY, len(x))
	for i := range x {
		xys[i] = plotter.XY{X: x[i], Y: y[i]}
	}
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		// Only non-finite coordinates fail; draw nothing rather than a wrong label.
		return nothing{}
	}
	for i := range l.TextStyle {
		l.TextStyle[i].Font.Typeface, l.TextStyle[i].Font.Variant = "Liberation", "Sans"
		l.TextStyle[i].Font.Size = vg.Points(sizePt)
		l.TextStyle[i].Color = c
		l.TextStyle[i].XAlign = xAlign
		l.TextStyle[i].YAlign = yAlign
	}
	return l
}

type nothing struct{}

func (nothing) Plot(draw.Canvas, *plot.Plot) {}

// Wrap breaks text into lines of at most width characters at spaces (a word
// longer than width gets its own line), joined by "\n", for Note panels.
func Wrap(text string, width int) string {
	var out, line []byte
	word := func(w []byte) {
		if len(w) == 0 {
			return
		}
		if len(line) > 0 && len(line)+1+len(w) > width {
			out = append(append(out, line...), '\n')
			line = line[:0]
		}
		if len(line) > 0 {
			line = append(line, ' ')
		}
		line = append(line, w...)
	}
	start := 0
	for i := 0; i <= len(text); i++ {
		if i == len(text) || text[i] == ' ' || text[i] == '\n' {
			word([]byte(text[start:i]))
			if i < len(text) && text[i] == '\n' {
				out = append(append(out, line...), '\n')
				line = line[:0]
			}
			start = i + 1
		}
	}
	return string(append(out, line...))
}

// SVGFontFamilies makes an SVG from vgsvg portable without embedding the fonts:
// gonum/plot names a Liberation font in font-family (the metrics its layout used);
// this appends the metric-compatible families (Liberation Serif: Times New Roman;
// Liberation Sans: Arial, Helvetica; Liberation Mono: Courier New) and the generic
// family, so a browser without Liberation fonts lays the text out with the same
// widths instead of its default font. A pure, deterministic byte rewrite.
func SVGFontFamilies(svg []byte) []byte {
	for _, r := range []struct{ from, to string }{
		{"font-family:Liberation Serif;", "font-family:'Liberation Serif','Times New Roman',Times,serif;"},
		{"font-family:Liberation Sans;", "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;"},
		{"font-family:Liberation Mono;", "font-family:'Liberation Mono','Courier New',Courier,monospace;"},
	} {
		svg = bytes.ReplaceAll(svg, []byte(r.from), []byte(r.to))
	}
	return svg
}

// UseSans switches every text of a panel (title, axis labels, ticks, legend) to
// the sans-serif Liberation face, which reads better on a poster.
func UseSans(p *plot.Plot) {
	set := func(f *font.Font) { f.Typeface, f.Variant = "Liberation", "Sans" }
	set(&p.Title.TextStyle.Font)
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		set(&ax.Label.TextStyle.Font)
		set(&ax.Tick.Label.Font)
	}
	set(&p.Legend.TextStyle.Font)
}

// LegendInside moves a panel's legend into its data area, drawn over a backdrop
// colour (e.g. translucent white) so that it reads over dense data such as heat maps
// or bands. gonum/plot draws a legend on the panel's canvas cropped by the axes but
// not by the data padding, where a backdrop cannot be placed reliably; drawn as the
// last plotter, the legend and its backdrop share the data canvas exactly. Call it
// once, after every plotter and legend entry of the panel is added.
func LegendInside(p *plot.Plot, backdrop color.Color) {
	l := p.Legend // a copy holding the entries
	fresh := plot.NewLegend()
	fresh.TextStyle, fresh.Top, fresh.Left = l.TextStyle, l.Top, l.Left
	p.Legend = fresh
	p.Add(insideLegend{l, backdrop})
}

type insideLegend struct {
	legend   plot.Legend
	backdrop color.Color
}

// Plot implements plot.Plotter: the backdrop where Legend.Draw puts the entries
// (top or bottom, left or right edge of c), then the legend.
func (il insideLegend) Plot(c draw.Canvas, _ *plot.Plot) {
	l := il.legend
	size := l.Rectangle(c).Size()
	if size.X <= 0 || size.Y <= 0 {
		return
	}
	margin := vg.Points(4)
	x0, x1 := c.Max.X-size.X, c.Max.X
	if l.Left {
		x0, x1 = c.Min.X, c.Min.X+size.X
	}
	y0, y1 := c.Max.Y-size.Y, c.Max.Y
	if !l.Top {
		y0, y1 = c.Min.Y, c.Min.Y+size.Y
	}
	x0, x1 = max(c.Min.X, x0+l.XOffs-margin), min(c.Max.X, x1+l.XOffs+margin)
	y0, y1 = max(c.Min.Y, y0+l.YOffs-margin), min(c.Max.Y, y1+l.YOffs+margin)
	if il.backdrop != nil {
		c.FillPolygon(il.backdrop, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
	}
	// Inset the legend by the margin from the edges it is aligned to.
	inner := c
	inner.Min.X += margin
	inner.Max.X -= margin
	inner.Max.Y -= margin / 2
	inner.Min.Y += margin / 2
	l.Draw(inner)
}

// Translucent is c with the given opacity (0-1), as a non-premultiplied colour.
func Translucent(c color.Color, opacity float64) color.Color {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	n.A = uint8(math.Round(255 * opacity))
	return n
}

// NiceTicks places major ticks at 1, 2 or 5 times a power of ten (3 to 7 of them
// over the axis range), labelled with just the decimals the step needs (gonum's
// default ticks can print "25.00"), and unlabelled minor ticks between them.
type NiceTicks struct{}

// Ticks implements plot.Ticker.
func (NiceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	mag := math.Pow(10, math.Floor(math.Log10((hi-lo)/5)))
	step, minor := mag, 5
	for _, m := range []struct {
		f     float64
		minor int
	}{{1, 5}, {2, 2}, {5, 5}, {10, 5}} {
		step, minor = m.f*mag, m.minor
		if (hi-lo)/step <= 7 {
			break
		}
	}
	decimals := max(0, int(-math.Floor(math.Log10(step)+1e-9)))
	format := func(v float64) string {
		if math.Abs(v) >= 1e6 || (v != 0 && decimals > 6) {
			return strconv.FormatFloat(v, 'g', 3, 64)
		}
		s := strconv.FormatFloat(v, 'f', decimals, 64)
		if s == "-0" || strings.Trim(s, "-0.") == "" {
			s = strings.TrimPrefix(s, "-")
		}
		return s
	}
	var ticks []plot.Tick
	sub := step / float64(minor)
	for k := math.Ceil(lo/sub - 1e-9); k*sub <= hi+1e-9*sub; k++ {
		v := k * sub
		if int64(k)%int64(minor) == 0 {
			// A multiple of step: snap away round-off so the label is exact.
			v = math.Round(k/float64(minor)) * step
			ticks = append(ticks, plot.Tick{Value: v, Label: format(v)})
		} else {
			ticks = append(ticks, plot.Tick{Value: v})
		}
	}
	return ticks
}

// Ticks draws short vertical lines of half-height Half (page units) centred on
// (X[i], Y[i]), e.g. the spikes of a raster, as one path: a raster of thousands of
// spikes stays a small SVG.
type Ticks struct {
	X, Y  []float64
	Half  vg.Length
	Style draw.LineStyle
}

// Plot implements plot.Plotter.
func (t *Ticks) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	var path vg.Path
	for i := range t.X {
		x, y := trX(t.X[i]), trY(t.Y[i])
		if x < c.Min.X || x > c.Max.X || y < c.Min.Y || y > c.Max.Y {
			continue
		}
		path.Move(vg.Point{X: x, Y: y - t.Half})
		path.Line(vg.Point{X: x, Y: y + t.Half})
	}
	if len(path) == 0 {
		return
	}
	c.SetLineStyle(t.Style)
	c.Stroke(path)
}

// DataRange implements plot.DataRanger.
func (t *Ticks) DataRange() (xmin, xmax, ymin, ymax float64) {
	return plotter.XYRange(xyPairs{t.X, t.Y})
}
