package figures

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"nmdyn/stages/plotting"
)

// Clustering of the network's neurons by their parameters.
//
//	loadings     m_1 vs n_1 per neuron; series "cluster <k> population <p>" (p = 0 when
//	             the mean-field population is unknown), z = unit id
//	features     the neurons on the two leading principal components of the
//	             standardised clustering features, same series
//	bic          BIC vs number of clusters, one series per covariance model; "chosen"
//	stability    ARI of bootstrap resamples (x = 1) and of the no-structure null (x = 0)

const (
	clLoad = "loadings"
	clPCA  = "features"
	clBIC  = "bic"
	clStab = "stability"
)

func buildClustering(in *inputs, _ Settings, _ float64) *figure {
	f := &figure{name: "clustering", title: "Clusters of neurons in parameter space", data: newPlotData()}
	d := f.data
	pcaVar, whyPts := clusterPoints(in, d)
	whyBIC := clusterBIC(in, d)
	whyStab := clusterStability(in, d)
	f.caption = "Gaussian mixtures fitted to each neuron's parameter vector (loadings, inputs and NE parameters, " +
		"standardised). Top left: every neuron in loading space (input loading m1 vs output loading n1), " +
		"coloured by its cluster, with its mean-field population (defined by how NE modulates it) as the marker " +
		"shape; clusters that match populations sit on one shape each. Top right: the same neurons on the two " +
		"leading principal components of the standardised features. Bottom left: BIC against the number of " +
		"clusters for each covariance model (lower is better); the circled point is the chosen number. Bottom " +
		"right: stability, the adjusted Rand index between the clustering of bootstrap resamples of the neurons and " +
		"the full-data clustering, against the same procedure on data without structure (one Gaussian with the " +
		"data's covariance): clusters are real when the first is well above the second."
	fig := plotting.NewFigure(2, 2, 30, 26)
	if whyPts != "" {
		fig.Panels[0][0] = f.missing("Neurons in loading space", whyPts)
		fig.Panels[0][1] = f.missing("Neurons on the leading features", whyPts)
	} else {
		fig.Panels[0][0] = drawClusterScatter(d, clLoad, "Neurons in loading space", "input loading m1", "output loading n1")
		fig.Panels[0][1] = drawClusterScatter(d, clPCA, "Neurons on the leading features",
			fmt.Sprintf("PC 1 (%.0f %% of variance)", 100*pcaVar[0]), fmt.Sprintf("PC 2 (%.0f %% of variance)", 100*pcaVar[1]))
	}
	fig.Panels[1][0] = drawBIC(f, d, whyBIC)
	fig.Panels[1][1] = drawStability(f, d, whyStab)
	f.fig = fig
	return f
}

// clusterPoints records the neurons in loading space and on the leading principal
// components; returns the fraction of variance of PC 1 and 2.
func clusterPoints(in *inputs, d *plotData) ([2]float64, string) {
	var frac [2]float64
	t, why := in.table("cluster", "clusters")
	if t == nil {
		return frac, why
	}
	c := cols(t, "cluster output clusters")
	units, cl := c.i("unit"), c.i("cluster")
	if c.err != "" {
		return frac, c.err
	}
	feats := featureNames(t)
	if len(feats) == 0 {
		return frac, "cluster output clusters has no feature columns"
	}
	popOf := map[int64]int64{}
	if pt, _ := in.table("meanfield", "populations"); pt != nil {
		pc := cols(pt, "meanfield output populations")
		pu, pp := pc.i("unit"), pc.i("population")
		if pc.err == "" {
			for k := range pu {
				popOf[pu[k]] = pp[k]
			}
		}
	}
	series := make([]string, len(units))
	for k := range units {
		series[k] = fmt.Sprintf("cluster %d population %d", cl[k], popOf[units[k]])
	}
	order := seriesOrder(series)
	if t.Has("m_1") && t.Has("n_1") {
		m1, n1 := c.f("m_1"), c.f("n_1")
		d.quantities(clLoad, "input loading m_1", "output loading n_1", "unit id")
		for _, k := range order {
			d.addZ(clLoad, series[k], m1[k], n1[k], float64(units[k]))
		}
	}
	X := mat.NewDense(len(units), len(feats), nil)
	for j, name := range feats {
		v := standardised(c.f(name))
		for i := range v {
			X.Set(i, j, v[i])
		}
	}
	if c.err != "" {
		return frac, c.err
	}
	pcs, frac := principalComponents(X)
	d.quantities(clPCA, "principal component 1 of the standardised features",
		"principal component 2 of the standardised features", "unit id")
	for _, k := range order {
		d.addZ(clPCA, series[k], pcs[k][0], pcs[k][1], float64(units[k]))
	}
	return frac, ""
}

// featureNames are the clustered features: the table's meta "features" when
// present, else every float column but unit, cluster and probability.
func featureNames(t interface {
	Names() []string
	Has(string) bool
}) []string {
	var out []string
	for _, n := range t.Names() {
		switch n {
		case "unit", "cluster", "probability":
			continue
		}
		out = append(out, n)
	}
	return out
}

// seriesOrder lists row indices grouped by series in order of the series names.
func seriesOrder(series []string) []int {
	idx := sortedStrings(series)
	var out []int
	for _, s := range idx {
		for k := range series {
			if series[k] == s {
				out = append(out, k)
			}
		}
	}
	return out
}

func sortedStrings(x []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range x {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// standardised z-scores a column (population sd; a constant column becomes 0).
func standardised(v []float64) []float64 {
	var mean float64
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	var ss float64
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	sd := math.Sqrt(ss / float64(len(v)))
	out := make([]float64, len(v))
	for i, x := range v {
		if sd > 0 {
			out[i] = (x - mean) / sd
		}
	}
	return out
}

// principalComponents projects the (centred) rows of X on its two leading right
// singular vectors, each signed so that its largest-magnitude entry is positive (a
// deterministic orientation); returns the scores and each component's fraction of
// the total variance. With one feature the second score is 0.
func principalComponents(X *mat.Dense) ([][2]float64, [2]float64) {
	n, p := X.Dims()
	scores := make([][2]float64, n)
	var frac [2]float64
	var svd mat.SVD
	if n < 2 || !svd.Factorize(X, mat.SVDThin) {
		return scores, frac
	}
	var V mat.Dense
	svd.VTo(&V)
	sv := svd.Values(nil)
	var total float64
	for _, s := range sv {
		total += s * s
	}
	for c := 0; c < min(2, p, len(sv)); c++ {
		sign, best := 1.0, 0.0
		for j := 0; j < p; j++ {
			if v := V.At(j, c); math.Abs(v) > math.Abs(best) {
				best = v
			}
		}
		if best < 0 {
			sign = -1
		}
		for i := 0; i < n; i++ {
			var s float64
			for j := 0; j < p; j++ {
				s += X.At(i, j) * V.At(j, c)
			}
			scores[i][c] = sign * s
		}
		if total > 0 {
			frac[c] = sv[c] * sv[c] / total
		}
	}
	return scores, frac
}

// clusterBIC records BIC per number of clusters and covariance model.
func clusterBIC(in *inputs, d *plotData) string {
	t, why := in.table("cluster", "bic")
	if t == nil {
		return why
	}
	c := cols(t, "cluster output bic")
	k, cov, bic, chosen := c.i("k"), c.s("covariance"), c.f("bic"), c.b("chosen")
	if c.err != "" {
		return c.err
	}
	d.quantities(clBIC, "number of clusters K", "BIC", "")
	for _, model := range sortedStrings(cov) {
		for r := range k {
			if cov[r] == model {
				d.add(clBIC, model+" covariance", float64(k[r]), bic[r])
			}
		}
	}
	for r := range k {
		if chosen[r] {
			d.add(clBIC, "chosen", float64(k[r]), bic[r])
		}
	}
	return ""
}

// clusterStability records the resampled and null ARIs.
func clusterStability(in *inputs, d *plotData) string {
	t, why := in.table("cluster", "stability")
	if t == nil {
		return why + " (stability not computed: cluster.bootstrap = 0, or too few neurons)"
	}
	c := cols(t, "cluster output stability")
	ari, null := c.f("ari"), c.f("null_ari")
	if c.err != "" {
		return c.err
	}
	d.quantities(clStab, "0 = null (no structure); 1 = data", "adjusted Rand index", "")
	for _, v := range null {
		d.add(clStab, "null", 0, v)
	}
	for _, v := range ari {
		d.add(clStab, "resampled", 1, v)
	}
	return ""
}

func drawClusterScatter(d *plotData, panel, title, xl, yl string) *plot.Plot {
	p := newPanel(title, xl, yl)
	clusters, pops := map[int]bool{}, map[int]bool{}
	for _, s := range d.seriesOf(panel) {
		cl, pop := parseClusterSeries(s)
		clusters[cl], pops[pop] = true, true
		addPoints(p, d.points(panel, s), glyph(plotting.PopulationColor(cl-1), plotting.PopulationShape(pop-1), 4.5), "")
	}
	for _, cl := range sortedKeysInt(clusters) {
		p.Legend.Add(fmt.Sprintf("cluster %d", cl), plotting.Swatch{Color: plotting.PopulationColor(cl - 1)})
	}
	for _, pop := range sortedKeysInt(pops) {
		label := fmt.Sprintf("population %d", pop)
		if pop == 0 {
			label = "population unknown"
		}
		p.Legend.Add(label, plotting.Glyph{Style: glyph(darkGrey, plotting.PopulationShape(pop-1), 4.5)})
	}
	padY(p, 0.4, 0.05)
	padX(p, 0.05, 0.05)
	p.Legend.Left = true
	return p
}

func parseClusterSeries(s string) (cluster, pop int) {
	f := strings.Fields(s)
	if len(f) == 4 {
		cluster, _ = strconv.Atoi(f[1])
		pop, _ = strconv.Atoi(f[3])
	}
	return
}

func sortedKeysInt(m map[int]bool) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

func drawBIC(f *figure, d *plotData, why string) *plot.Plot {
	const title = "Number of clusters by BIC"
	if why != "" {
		return f.missing(title, why)
	}
	p := newPanel(title, "number of clusters K", "BIC (lower is better)")
	k := 0
	for _, s := range d.seriesOf(clBIC) {
		if s == "chosen" {
			continue
		}
		c := plotting.PopulationColor(k)
		addLine(p, d.points(clBIC, s), lineStyle(c, 2, plotting.Dash(k)), s)
		addPoints(p, d.points(clBIC, s), glyph(c, draw.CircleGlyph{}, 3.5), "")
		k++
	}
	if ch := d.points(clBIC, "chosen"); len(ch) > 0 {
		addPoints(p, ch, glyph(black, draw.RingGlyph{}, 9), fmt.Sprintf("chosen: K = %g", ch[0].x))
	}
	padY(p, 0.35, 0.05)
	padX(p, 0.05, 0.05)
	p.X.Tick.Marker = integerTicks{}
	return p
}

// integerTicks labels the integers of an axis range.
type integerTicks struct{}

func (integerTicks) Ticks(lo, hi float64) []plot.Tick {
	var t []plot.Tick
	for v := math.Ceil(lo); v <= hi; v++ {
		t = append(t, plot.Tick{Value: v, Label: strconv.Itoa(int(v))})
	}
	return t
}

func drawStability(f *figure, d *plotData, why string) *plot.Plot {
	const title = "Cluster stability (bootstrap)"
	if why != "" {
		return f.missing(title, why)
	}
	p := newPanel(title, "", "adjusted Rand index")
	for _, s := range []struct {
		series string
		c      int
	}{{"null", -1}, {"resampled", 0}} {
		rs := d.points(clStab, s.series)
		vals := plotter.Values(ys(rs))
		if len(vals) == 0 {
			continue
		}
		b, err := plotter.NewBoxPlot(vg.Points(50), rs[0].x, vals)
		if err != nil {
			continue
		}
		b.FillColor = plotting.PopulationColor(s.c)
		if s.c < 0 {
			b.FillColor = lightGrey
		}
		p.Add(b)
	}
	p.X.Tick.Marker = plot.ConstantTicks{{Value: 0, Label: "no structure (null)"}, {Value: 1, Label: "data"}}
	p.X.Min, p.X.Max = -0.6, 1.6
	p.Add(plotting.HLine{Y: 0, Style: lineStyle(midGrey, 1, plotting.Dash(2))})
	padY(p, 0.1, 0.05)
	return p
}
