package figures

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"strings"
)

// pageTemplate is figures/index.html: one self-contained page (inline CSS, no
// script, no external resource), reproducible (no date: the same inputs give the
// same bytes).
var pageTemplate = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nmdyn: {{.Session}}</title>
<style>
body { font-family: "Liberation Sans", Arial, Helvetica, sans-serif; margin: 0 auto; max-width: 1280px; padding: 0 1.5em 3em; color: #222; line-height: 1.45; }
header { border-bottom: 2px solid #0072b2; margin-bottom: 1.5em; }
h1 { font-size: 1.7em; margin: 0.8em 0 0.2em; }
h2 { font-size: 1.3em; margin: 2em 0 0.4em; }
.sub { color: #555; margin: 0 0 1em; }
table.head { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.95em; }
table.head th, table.head td { text-align: left; padding: 0.3em 0.9em 0.3em 0; border-bottom: 1px solid #ddd; vertical-align: top; }
table.head th { font-weight: 600; white-space: nowrap; }
nav ol { columns: 2; padding-left: 1.4em; }
figure { margin: 0 0 2.5em; }
figure img { width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { margin-top: 0.5em; }
.links { font-size: 0.9em; color: #555; }
.note { background: #fff4e5; border-left: 4px solid #e69f00; padding: 0.4em 0.8em; margin: 0.5em 0; font-size: 0.92em; }
code { font-size: 0.92em; }
footer { border-top: 1px solid #ddd; margin-top: 2em; font-size: 0.9em; color: #444; }
</style>
</head>
<body>
<header>
<h1>{{.Study}}</h1>
<p class="sub">Session <strong>{{.Session}}</strong>{{if .Facts}} &middot; {{.Facts}}{{end}}</p>
</header>
<h2 id="headline">Headline numbers</h2>
<table class="head">
{{range .Headline}}<tr><th>{{.Name}}</th><td>{{.Value}}</td></tr>
{{end}}</table>
<p class="links">All numbers: <a href="summary.json">summary.json</a>.</p>
<nav><ol>
{{range .Figures}}<li><a href="#{{.Name}}">{{.Title}}</a></li>
{{end}}</ol></nav>
{{range $i, $f := .Figures}}<h2 id="{{$f.Name}}">{{$f.Number}}. {{$f.Title}}</h2>
<figure>
<a href="{{$f.Name}}.svg"><img src="{{$f.Name}}.png" alt="{{$f.Title}}"></a>
<figcaption>{{$f.Caption}}
{{range $f.Notes}}<div class="note">{{.}}</div>
{{end}}<div class="links">Vector version: <a href="{{$f.Name}}.svg">{{$f.Name}}.svg</a> &middot; plotted data: <a href="{{$f.Name}}.csv">{{$f.Name}}.csv</a> (one row per plotted point: panel, series, x, y, y_lo, y_hi, dx, dy, z and what x, y and z are, with units)</div>
</figcaption>
</figure>
{{end}}<footer>
<p>Reproducibility: <code>run verify</code> regenerates the study into a scratch cache and compares it with
<a href="MANIFEST">MANIFEST</a>, which lists the SHA-256 of every figure table (.csv, compared within a relative
tolerance), every SVG (compared byte for byte) and summary.json. The PNGs and this page are not listed: PNG
anti-aliasing may differ in the last bits between CPU architectures, and both are drawn from listed files.</p>
<p>Fonts: the figures use the Liberation fonts that gonum/plot ships (PNGs are rendered with them); the SVGs do not
embed them but name metric-compatible fallbacks (Arial, Helvetica), so text keeps its size and place in a browser
without the Liberation fonts.</p>
</footer>
</body>
</html>
`))

type pageFigure struct {
	Number               int
	Name, Title, Caption string
	Notes                []string
}

type headlineRow struct{ Name, Value string }

type page struct {
	Study, Session, Facts string
	Headline              []headlineRow
	Figures               []pageFigure
}

// renderIndex writes index.html from the figures and the summary.
func renderIndex(figs []*figure, sum map[string]any) ([]byte, error) {
	p := page{Study: "How norepinephrine reshapes population dynamics: low-rank RNNs, fixed points and mean-field theory",
		Session: str(sum, "session.id"), Facts: sessionFacts(sum), Headline: headline(sum)}
	if p.Session == "—" {
		p.Session = "(unknown)"
	}
	for i, f := range figs {
		p.Figures = append(p.Figures, pageFigure{Number: i + 1, Name: f.name, Title: f.title, Caption: f.caption, Notes: f.notes})
	}
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, p); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func sessionFacts(sum map[string]any) string {
	var parts []string
	if v, ok := num(sum, "session.duration_s"); ok {
		parts = append(parts, fmt.Sprintf("%.1f min recorded", v/60))
	}
	if v, ok := num(sum, "session.units_kept"); ok {
		tot, _ := num(sum, "session.units_total")
		parts = append(parts, fmt.Sprintf("%d of %d units kept", int(v), int(tot)))
	}
	if v, ok := num(sum, "session.events"); ok {
		parts = append(parts, fmt.Sprintf("%d events", int(v)))
	}
	if v, ok := num(sum, "session.bin_ms"); ok {
		parts = append(parts, fmt.Sprintf("%g ms bins", v))
	}
	return strings.Join(parts, ", ")
}

// headline picks the numbers a reader looks for first.
func headline(sum map[string]any) []headlineRow {
	rows := []headlineRow{
		{"Winning NE mechanism", str(sum, "selection.winner")},
		{"Tied with the winner (95 % bootstrap; winner included)", list(sum, "selection.indistinguishable")},
		{"NE effect significant (best NE model beats none)", yesNo(sum, "selection.ne_effect_significant")},
	}
	if v, ok := lookup(sum, "selection.winner"); ok {
		if w, ok := v.(string); ok {
			rows = append(rows, headlineRow{"Winner's test score", score(sum, w)})
		}
	}
	rows = append(rows,
		headlineRow{"Line-attractor NE range (network)", rangeOf(sum, "dynamics.line_attractor_ne_range")},
	)
	if _, ok := lookup(sum, "dynamics.truth.regime"); ok {
		rows = append(rows, headlineRow{"Line-attractor NE range of the simulator's generating network (truth)",
			rangeOf(sum, "dynamics.truth.line_attractor_ne_range")})
	}
	rows = append(rows,
		headlineRow{"Slowest time constant over NE", maxOf(sum, "dynamics.slowest_tau_s", "s")},
		headlineRow{"Mean-field populations; regime agreement with the network", fmt.Sprintf("%s; %s",
			str(sum, "meanfield.populations"), percent(sum, "meanfield.agreement_with_rnn"))},
		headlineRow{"Clusters (BIC); stability ARI; ARI with mean-field populations", fmt.Sprintf("%s; %s; %s",
			str(sum, "clustering.n_clusters"), fixed(sum, "clustering.stability_ari", 2), fixed(sum, "clustering.ari_with_meanfield", 2))},
	)
	if _, ok := lookup(sum, "clustering.truth_network.n_clusters"); ok {
		rows = append(rows, headlineRow{
			"Against the simulator's populations: ARI of the clusters; true labels learned back from the fitted features (leave-one-out); the generating network's own clusters (K; ARI)",
			fmt.Sprintf("%s; %s; %s; %s", fixed(sum, "clustering.ari_with_truth", 2), percent(sum, "clustering.truth_separability"),
				str(sum, "clustering.truth_network.n_clusters"), fixed(sum, "clustering.truth_network.ari_with_truth", 2))})
	}
	rows = append(rows,
		headlineRow{"Responsiveness: inverted U; peak NE; p", predictionRow(sum, "responsiveness")},
		headlineRow{"Variability: inverted U; peak NE; p", predictionRow(sum, "variability")},
		headlineRow{"Model's predicted peak NE", fixed(sum, "prediction.model_peak_ne", 2)},
		headlineRow{"Photometry control fit", controlFit(sum)},
	)
	return rows
}

func predictionRow(sum map[string]any, m string) string {
	p := "prediction." + m
	return fmt.Sprintf("%s; %s [95%% CI %s]; p = %s", yesNo(sum, p+".inverted_u"), fixed(sum, p+".peak_ne", 2),
		ci(sum, p+".ci95"), fixed(sum, p+".p_value", 3))
}

func controlFit(sum map[string]any) string {
	m := str(sum, "ne.control_fit.method")
	return fmt.Sprintf("%s: fitted control = %s × control + %s", m, sig(sum, "ne.control_fit.slope"), sig(sum, "ne.control_fit.intercept"))
}

func score(sum map[string]any, v string) string {
	p := "models." + v
	return fmt.Sprintf("%s bits/spike [95%% CI %s]", sig(sum, p+".test_bits_per_spike"), ciSig(sum, p+".ci95"))
}

// Formatting of summary values; "—" when absent or null.
const dash = "—"

func num(sum map[string]any, path string) (float64, bool) {
	v, ok := lookup(sum, path)
	if !ok {
		return 0, false
	}
	switch x := v.(type) {
	case float64:
		return x, !math.IsNaN(x)
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

func str(sum map[string]any, path string) string {
	v, ok := lookup(sum, path)
	if !ok || v == nil {
		return dash
	}
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return fmt.Sprint(x)
	}
	return fmt.Sprint(v)
}

func fixed(sum map[string]any, path string, digits int) string {
	if v, ok := num(sum, path); ok {
		return fmt.Sprintf("%.*f", digits, v)
	}
	return dash
}

func sig(sum map[string]any, path string) string {
	if v, ok := num(sum, path); ok {
		return fmt.Sprintf("%.4g", v)
	}
	return dash
}

func percent(sum map[string]any, path string) string {
	if v, ok := num(sum, path); ok {
		return fmt.Sprintf("%.0f %%", 100*v)
	}
	return dash
}

func yesNo(sum map[string]any, path string) string {
	v, ok := lookup(sum, path)
	if b, isB := v.(bool); ok && isB {
		if b {
			return "yes"
		}
		return "no"
	}
	return dash
}

func list(sum map[string]any, path string) string {
	v, ok := lookup(sum, path)
	a, isA := v.([]any)
	if !ok || !isA {
		return dash
	}
	parts := make([]string, len(a))
	for i, e := range a {
		parts[i] = fmt.Sprint(e)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func pair(sum map[string]any, path string, f func(float64) string) string {
	v, ok := lookup(sum, path)
	a, isA := v.([]any)
	if !ok || !isA || len(a) != 2 {
		return dash
	}
	out := make([]string, 2)
	for i, e := range a {
		x, isF := e.(float64)
		if !isF {
			return dash
		}
		out[i] = f(x)
	}
	return out[0] + " – " + out[1]
}

func ci(sum map[string]any, path string) string {
	return pair(sum, path, func(x float64) string { return fmt.Sprintf("%.2f", x) })
}

func ciSig(sum map[string]any, path string) string {
	return pair(sum, path, func(x float64) string { return fmt.Sprintf("%.4g", x) })
}

func rangeOf(sum map[string]any, path string) string {
	v, ok := lookup(sum, path)
	if ok && v == nil {
		return "none (no line attractor at any NE level)"
	}
	return pair(sum, path, func(x float64) string { return fmt.Sprintf("%.2f", x) })
}

// maxOf is the largest number of a list (or the number itself).
func maxOf(sum map[string]any, path, unit string) string {
	v, ok := lookup(sum, path)
	if !ok {
		return dash
	}
	best := math.Inf(-1)
	switch x := v.(type) {
	case float64:
		best = x
	case []any:
		for _, e := range x {
			if f, isF := e.(float64); isF && f > best {
				best = f
			}
		}
	}
	if math.IsInf(best, -1) {
		return dash
	}
	return fmt.Sprintf("%.3g %s", best, unit)
}
