// Package plotting holds the look shared by every figure of nmdyn (sizes readable on a
// poster, one colour per variant and per population everywhere) and renders a grid of
// gonum/plot panels to PNG and SVG bytes deterministically.
package plotting

import (
	"bytes"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Variant colours (Okabe-Ito, safe for colour-blind readers), in rnn.Variants order.
var variantColor = map[string]color.RGBA{
	"none":     {0x55, 0x55, 0x55, 0xff}, // grey: the control
	"additive": {0xe6, 0x9f, 0x00, 0xff}, // orange
	"pregain":  {0x56, 0xb4, 0xe9, 0xff}, // sky blue
	"postgain": {0xd5, 0x5e, 0x00, 0xff}, // vermillion
	"lowrank":  {0x00, 0x9e, 0x73, 0xff}, // bluish green
}

// VariantColor is the colour of a model variant in every figure.
func VariantColor(v string) color.Color {
	if c, ok := variantColor[v]; ok {
		return c
	}
	return color.Black
}

var popColors = []color.RGBA{
	{0x00, 0x72, 0xb2, 0xff}, // blue
	{0xcc, 0x79, 0xa7, 0xff}, // reddish purple
	{0xf0, 0xe4, 0x42, 0xff}, // yellow
	{0x00, 0x9e, 0x73, 0xff},
	{0xe6, 0x9f, 0x00, 0xff},
	{0x56, 0xb4, 0xe9, 0xff},
}

// PopulationColor is the colour of population or cluster p (0-based) in every figure.
func PopulationColor(p int) color.Color {
	if p < 0 {
		return color.Gray{0x99}
	}
	return popColors[p%len(popColors)]
}

// Stable and Unstable colour fixed points by stability.
var (
	Stable   color.Color = color.RGBA{0x00, 0x00, 0x00, 0xff}
	Unstable color.Color = color.RGBA{0xd5, 0x5e, 0x00, 0xff}
)

// Sequential is the palette of fractions and densities (white to dark blue).
func Sequential() palette.Palette { return seq{} }

type seq struct{}

func (seq) Colors() []color.Color {
	const n = 64
	out := make([]color.Color, n)
	for i := range out {
		f := float64(i) / (n - 1)
		out[i] = color.RGBA{uint8(255 - f*(255-0x08)), uint8(255 - f*(255-0x30)), uint8(255 - f*(255-0x6b)), 0xff}
	}
	return out
}

// NewPlot returns a panel with poster-sized fonts.
func NewPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Title.TextStyle.Font.Size = vg.Points(15)
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font.Size = vg.Points(13)
		ax.Tick.Label.Font.Size = vg.Points(11)
	}
	p.Legend.TextStyle.Font.Size = vg.Points(11)
	p.Legend.Top = true
	return p
}

// Figure is a grid of panels (rows x cols; nil panels stay empty) of a given size.
type Figure struct {
	Rows, Cols int
	Panels     [][]*plot.Plot
	Width      vg.Length
	Height     vg.Length
}

// NewFigure allocates a grid of the given size in centimetres.
func NewFigure(rows, cols int, widthCm, heightCm float64) *Figure {
	f := &Figure{Rows: rows, Cols: cols, Width: vg.Length(widthCm) * vg.Centimeter, Height: vg.Length(heightCm) * vg.Centimeter}
	f.Panels = make([][]*plot.Plot, rows)
	for r := range f.Panels {
		f.Panels[r] = make([]*plot.Plot, cols)
	}
	return f
}

func (f *Figure) draw(c draw.Canvas) {
	tiles := draw.Tiles{Rows: f.Rows, Cols: f.Cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 3}
	canvases := plot.Align(f.Panels, tiles, c)
	for r := range f.Panels {
		for col, p := range f.Panels[r] {
			if p != nil {
				p.Draw(canvases[r][col])
			}
		}
	}
}

// Render draws the figure as PNG (150 dpi) and SVG.
func (f *Figure) Render() (pngBytes, svgBytes []byte, err error) {
	for r := range f.Panels {
		for c := range f.Panels[r] {
			if f.Panels[r][c] == nil {
				f.Panels[r][c] = blank()
			}
		}
	}
	img := vgimg.NewWith(vgimg.UseWH(f.Width, f.Height), vgimg.UseDPI(150))
	f.draw(draw.New(img))
	var pb bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&pb); err != nil {
		return nil, nil, fmt.Errorf("png: %w", err)
	}
	sv := vgsvg.NewWith(vgsvg.UseWH(f.Width, f.Height))
	f.draw(draw.New(sv))
	var sb bytes.Buffer
	if _, err := sv.WriteTo(&sb); err != nil {
		return nil, nil, fmt.Errorf("svg: %w", err)
	}
	return pb.Bytes(), sb.Bytes(), nil
}

// blank is an empty panel (no axes) for unused grid cells.
func blank() *plot.Plot {
	p := plot.New()
	p.HideAxes()
	return p
}

// Ensure the default font is registered (gonum/plot's Liberation fonts).
var _ = font.DefaultCache
