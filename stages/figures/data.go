package figures

import (
	"bytes"
	"math"
	"strconv"

	"nmdyn/stages/table"
)

// plotData is the tidy table a figure is drawn from: one row per plotted point, in
// drawing order. Every figure first fills one and then draws only what it holds, so
// the CSV written next to the figure is exactly what the figure shows.
//
// Columns (written in this order):
//
//	panel       which panel of the figure (e.g. "raster")
//	series      which line, marker set or band within the panel (e.g. "postgain seed 1")
//	x, y        the point
//	y_lo, y_hi  an interval around y (error bar, band), NaN when none
//	dx, dy      a vector at (x, y) (flow fields), NaN when none
//	z           a third value shown as colour or size (e.g. speed), NaN when none
//	x_quantity, y_quantity, z_quantity   what x, y and z are, with units
//
// Numbers are rounded to tableDigits significant digits (roundTable).
type plotData struct {
	rows []row
	axes map[string][3]string // panel -> quantities of x, y, z
}

type row struct {
	panel, series        string
	x, y, lo, hi, dx, dy float64
	z                    float64
	xq, yq, zq           string
}

func newPlotData() *plotData { return &plotData{axes: map[string][3]string{}} }

// quantities declares what x, y (and z) of a panel are, with units; rows added to
// the panel carry them.
func (d *plotData) quantities(panel, x, y, z string) { d.axes[panel] = [3]string{x, y, z} }

func (d *plotData) add(panel, series string, x, y float64) {
	d.addFull(panel, series, x, y, math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN())
}

// addInterval adds a point with an interval [lo, hi] of y.
func (d *plotData) addInterval(panel, series string, x, y, lo, hi float64) {
	d.addFull(panel, series, x, y, lo, hi, math.NaN(), math.NaN(), math.NaN())
}

// addZ adds a point with a third value.
func (d *plotData) addZ(panel, series string, x, y, z float64) {
	d.addFull(panel, series, x, y, math.NaN(), math.NaN(), math.NaN(), math.NaN(), z)
}

func (d *plotData) addFull(panel, series string, x, y, lo, hi, dx, dy, z float64) {
	q := d.axes[panel]
	d.rows = append(d.rows, row{panel: panel, series: series, x: x, y: y, lo: lo, hi: hi, dx: dx, dy: dy, z: z,
		xq: q[0], yq: q[1], zq: q[2]})
}

// points returns the rows of one series of a panel, in the order they were added.
func (d *plotData) points(panel, series string) []row {
	var out []row
	for _, r := range d.rows {
		if r.panel == panel && r.series == series {
			out = append(out, r)
		}
	}
	return out
}

// seriesOf lists the series of a panel in order of first appearance.
func (d *plotData) seriesOf(panel string) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range d.rows {
		if r.panel == panel && !seen[r.series] {
			seen[r.series] = true
			out = append(out, r.series)
		}
	}
	return out
}

// has reports whether a panel holds any row.
func (d *plotData) has(panel string) bool {
	for _, r := range d.rows {
		if r.panel == panel {
			return true
		}
	}
	return false
}

// table is the tidy table (see plotData).
func (d *plotData) table() *table.Table {
	n := len(d.rows)
	panel, series, xq, yq, zq := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	x, y, lo, hi, dx, dy, z := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n),
		make([]float64, n), make([]float64, n), make([]float64, n)
	for i, r := range d.rows {
		panel[i], series[i], xq[i], yq[i], zq[i] = r.panel, r.series, r.xq, r.yq, r.zq
		x[i], y[i], lo[i], hi[i], dx[i], dy[i], z[i] = roundTable(r.x), roundTable(r.y), roundTable(r.lo), roundTable(r.hi),
			roundTable(r.dx), roundTable(r.dy), roundTable(r.z)
	}
	return table.New().AddString("panel", panel).AddString("series", series).
		AddFloat("x", x).AddFloat("y", y).AddFloat("y_lo", lo).AddFloat("y_hi", hi).
		AddFloat("dx", dx).AddFloat("dy", dy).AddFloat("z", z).
		AddString("x_quantity", xq).AddString("y_quantity", yq).AddString("z_quantity", zq)
}

// tableDigits is the number of significant digits the figure tables keep: far more
// than a figure shows, few enough to keep the tables small. `run verify` compares
// tables within a relative tolerance (dag.DefaultRelTol, 1e-9); rounding to 11
// digits moves a value by at most 5e-11 relative, so two runs whose values agree
// within about 9e-10 still agree after rounding.
const tableDigits = 11

// roundTable rounds to tableDigits significant digits.
func roundTable(v float64) float64 {
	if !finite(v) || v == 0 {
		return v
	}
	r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', tableDigits, 64), 64)
	if err != nil {
		return v
	}
	return r
}

// csv encodes the tidy table.
func (d *plotData) csv() ([]byte, error) {
	var b bytes.Buffer
	if err := table.WriteCSV(&b, d.table()); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// xs and ys extract coordinates.
func xs(rs []row) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = r.x
	}
	return out
}

func ys(rs []row) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = r.y
	}
	return out
}
