package figures

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"nmdyn/stages/plotting"
)

// samplePanel is a panel with text, lines, markers and a legend.
func samplePanel() *plot.Plot {
	p := plotting.NewPlot("Sample", "NE level ν", "time constant τ (s)")
	xy := make(plotter.XYs, 50)
	for i := range xy {
		xy[i] = plotter.XY{X: float64(i) / 49, Y: math.Exp(-float64(i) / 7)}
	}
	l, _ := plotter.NewLine(xy)
	s, _ := plotter.NewScatter(xy)
	p.Add(l, s)
	p.Legend.Add("curve", l)
	plotting.UseSans(p)
	return p
}

// TestSVGDeterministic: gonum/plot's SVG output is a pure function of the drawing
// (fixed number formatting, no map iteration, no time stamp), so rendering the same
// figure twice, from freshly built panels, gives identical bytes. The MANIFEST's
// byte comparison of SVGs relies on this.
func TestSVGDeterministic(t *testing.T) {
	render := func() []byte {
		f := plotting.NewFigure(1, 2, 20, 10)
		f.Panels[0][0] = samplePanel()
		f.Panels[0][1] = samplePanel()
		_, svg, err := f.Render()
		if err != nil {
			t.Fatal(err)
		}
		return plotting.SVGFontFamilies(svg)
	}
	a, b := render(), render()
	if !bytes.Equal(a, b) {
		t.Fatal("the same figure rendered twice gives different SVG bytes")
	}
}

// TestSVGFonts documents the font decision. The SVGs do not embed fonts: embedding
// (vgsvg.EmbedFonts) writes each face as base64 TrueType into every SVG, measured
// here at about 550 kB for the one sans-serif face the figures use, against a few
// tens of kB for a whole figure without. Instead the font-family names the
// metric-compatible fallbacks (Liberation Sans has Arial's metrics), so a browser
// without the Liberation fonts keeps the text's size and place; the PNGs are
// rasterised with the embedded Liberation fonts gonum/plot ships and need nothing.
func TestSVGFonts(t *testing.T) {
	var plain, embedded bytes.Buffer
	for _, c := range []struct {
		buf   *bytes.Buffer
		embed bool
	}{{&plain, false}, {&embedded, true}} {
		cv := vgsvg.NewWith(vgsvg.UseWH(10*vg.Centimeter, 8*vg.Centimeter), vgsvg.EmbedFonts(c.embed))
		samplePanel().Draw(drawCanvas(cv))
		if _, err := cv.WriteTo(c.buf); err != nil {
			t.Fatal(err)
		}
	}
	extra := embedded.Len() - plain.Len()
	t.Logf("one panel: %d bytes without fonts, %d with the font embedded (+%d)", plain.Len(), embedded.Len(), extra)
	if extra < 300_000 {
		t.Errorf("embedding added only %d bytes; the font decision in the doc assumes several hundred kB", extra)
	}
	svg := string(plotting.SVGFontFamilies(plain.Bytes()))
	if strings.Contains(svg, "@font-face") {
		t.Error("the SVG embeds a font")
	}
	if !strings.Contains(svg, "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;") {
		t.Error("the SVG does not name the metric-compatible fallbacks of Liberation Sans")
	}
	if strings.Contains(svg, "font-family:Liberation Serif;") || strings.Contains(svg, "font-family:Liberation Sans;") {
		t.Error("a font-family without fallbacks is left")
	}
}

func drawCanvas(c vg.CanvasSizer) draw.Canvas { return draw.New(c) }
