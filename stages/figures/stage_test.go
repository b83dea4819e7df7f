package figures

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"nmdyn/stages/table"
	"nmdyn/stages/task/tasktest"
)

var figureNames = []string{"overview", "fit_quality", "model_selection", "fixed_points", "meanfield", "clustering", "prediction"}

// run runs the stage on a fixture and returns its files; with NMDYN_FIGURES_OUT
// set they are also written there for a person to look at.
func run(t *testing.T, opt fixtureOptions, threads int) (map[string][]byte, *tasktest.Context) {
	t.Helper()
	ctx := fixture(t, opt)
	ctx.NThreads = threads
	if err := Run(ctx); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("NMDYN_FIGURES_OUT"); dir != "" {
		sub := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_"))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range ctx.Out.Files {
			if err := os.WriteFile(filepath.Join(sub, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(ctx.Out.Tables) != 0 {
		t.Errorf("the stage wrote Parquet tables %v; its outputs are files (figures/ holds CSV, PNG, SVG)", ctx.Out.Tables)
	}
	return ctx.Out.Files, ctx
}

func TestEveryFigureAndTable(t *testing.T) {
	files, ctx := run(t, fixtureOptions{truth: true}, 1)
	for _, n := range figureNames {
		for _, ext := range []string{".csv", ".png", ".svg"} {
			if b := files[n+ext]; len(b) == 0 {
				t.Errorf("missing or empty output %s%s", n, ext)
			}
		}
		if !bytes.HasPrefix(files[n+".png"], []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("%s.png is not a PNG", n)
		}
		if !bytes.Contains(files[n+".svg"], []byte("<svg")) || !bytes.HasSuffix(files[n+".svg"], []byte("</svg>\n")) {
			t.Errorf("%s.svg is not a complete SVG", n)
		}
		tab, err := table.ReadCSV(bytes.NewReader(files[n+".csv"]))
		if err != nil {
			t.Fatalf("%s.csv: %v", n, err)
		}
		want := []string{"panel", "series", "x", "y", "y_lo", "y_hi", "dx", "dy", "z", "x_quantity", "y_quantity", "z_quantity"}
		if !slices.Equal(tab.Names(), want) {
			t.Errorf("%s.csv columns %v, want %v", n, tab.Names(), want)
		}
		if tab.Len() == 0 {
			t.Errorf("%s.csv has no rows", n)
		}
	}
	want := len(figureNames)*3 + 3 // + summary.json, index.html, MANIFEST
	if len(files) != want {
		var names []string
		for n := range files {
			names = append(names, n)
		}
		slices.Sort(names)
		t.Errorf("%d outputs %v, want %d", len(files), names, want)
	}
	for _, l := range ctx.Log {
		if strings.Contains(l, "not available") || strings.Contains(l, "failed") || strings.Contains(l, "missing") {
			t.Errorf("complete synthetic inputs, yet: %s", l)
		}
	}
}

// TestFigureTablesHoldThePlottedData checks a few tables against the fixture's
// upstream numbers (fixture_test.go), so that a table would catch a figure that
// plots something else.
func TestFigureTablesHoldThePlottedData(t *testing.T) {
	files, _ := run(t, fixtureOptions{truth: true}, 1)
	read := func(name string) *table.Table {
		tab, err := table.ReadCSV(bytes.NewReader(files[name]))
		if err != nil {
			t.Fatal(err)
		}
		return tab
	}
	rows := func(tab *table.Table, panel, series string) [][2]float64 {
		p, _ := tab.String("panel")
		s, _ := tab.String("series")
		x, _ := tab.Float("x")
		y, _ := tab.Float("y")
		var out [][2]float64
		for i := range p {
			if p[i] == panel && s[i] == series {
				out = append(out, [2]float64{x[i], y[i]})
			}
		}
		return out
	}
	// Model selection: the fixture's winner postgain scores 0.031 at position 3
	// (rnn.Variants order), the truth 0.0335 spans the axis.
	sel := read("model_selection.csv")
	if got := rows(sel, selScore, "postgain"); len(got) != 1 || got[0] != [2]float64{3, 0.031} {
		t.Errorf("model_selection postgain score rows %v, want [[3 0.031]]", got)
	}
	if got := rows(sel, selScore, "truth"); len(got) != 2 || got[0][1] != 0.0335 {
		t.Errorf("truth rows %v, want two at 0.0335", got)
	}
	// Differences to the winner: none scores 0.028, 0.003 below the winner.
	if got := rows(sel, selDiff, "none"); len(got) != 1 || !near(got[0][1], -0.003, 1e-12) {
		t.Errorf("difference of none %v, want -0.003", got)
	}
	// Fixed points: the 9 levels 0.3, 0.35, ..., 0.7 hold three fixed points (two
	// stable), the other 12 levels one stable point: 12 + 9*2 stable, 9 unstable.
	fp := read("fixed_points.csv")
	if got := len(rows(fp, fpBif, "stable")); got != 12+9*2 {
		t.Errorf("%d stable fixed points plotted, want 30", got)
	}
	if got := len(rows(fp, fpBif, "unstable")); got != 9 {
		t.Errorf("%d unstable fixed points plotted, want 9", got)
	}
	// The line-attractor band runs from halfway between 0.25 and 0.3 to halfway
	// between 0.7 and 0.75.
	if got := rows(fp, fpScore, "regime line attractor"); len(got) != 2 || !near(got[0][0], 0.275, 1e-9) || !near(got[1][0], 0.725, 1e-9) {
		t.Errorf("line-attractor band %v, want x = 0.275 and 0.725", got)
	}
	// Three flow panels of 15 x 15 samples.
	for _, nu := range []string{"0.00", "0.50", "1.00"} {
		var panel string
		p, _ := fp.String("panel")
		for _, x := range p {
			if strings.HasPrefix(x, "flow at NE "+nu) {
				panel = x
				break
			}
		}
		if got := len(rows(fp, panel, "flow")); got != 225 {
			t.Errorf("flow at NE %s: %d samples, want 225", nu, got)
		}
	}
	// Prediction: five NE bins; the quadratic fit y = 4 nu - 4 nu^2 peaks at 1.
	pr := read("prediction.csv")
	if got := len(rows(pr, "responsiveness", "data")); got != 5 {
		t.Errorf("%d responsiveness bins, want 5", got)
	}
	if got := rows(pr, "responsiveness", "peak"); len(got) != 1 || got[0] != [2]float64{0.5, 1} {
		t.Errorf("responsiveness peak %v, want (0.5, 1)", got)
	}
	// Fit quality: 25 epochs per fit, 10 fits.
	fq := read("fit_quality.csv")
	if got := len(rows(fq, fqValidation, "lowrank seed 2")); got != fxEpochs {
		t.Errorf("validation curve of lowrank seed 2 has %d points, want %d", got, fxEpochs)
	}
	// Clustering: every neuron once in each scatter.
	cl := read("clustering.csv")
	n := 0
	for _, s := range []string{"cluster 1 population 1", "cluster 2 population 2"} {
		n += len(rows(cl, clLoad, s))
	}
	if n != fxUnits {
		t.Errorf("%d neurons in loading space, want %d", n, fxUnits)
	}
}

func near(a, b, tol float64) bool { return a-b <= tol && b-a <= tol }

// TestSummaryKeys asserts every key DESIGN.md section 6 lists.
func TestSummaryKeys(t *testing.T) {
	files, _ := run(t, fixtureOptions{}, 1)
	var sum map[string]any
	if err := json.Unmarshal(files["summary.json"], &sum); err != nil {
		t.Fatal(err)
	}
	keys := append([]string(nil), requiredKeys...)
	for _, v := range []string{"none", "additive", "pregain", "postgain", "lowrank"} {
		keys = append(keys, "models."+v+".test_bits_per_spike", "models."+v+".ci95")
	}
	for _, k := range keys {
		v, ok := lookup(sum, k)
		if !ok {
			t.Errorf("summary.json lacks %s", k)
			continue
		}
		if v == nil && k != "dynamics.line_attractor_ne_range" {
			t.Errorf("summary.json %s is null on complete inputs", k)
		}
	}
	// Values from the fixture (fixture_test.go): the IRLS control fit, the winner.
	for k, want := range map[string]any{
		"ne.control_fit.method": "irls", "ne.control_fit.slope": 1.25, "ne.control_fit.intercept": 0.75,
		"selection.winner": "postgain", "session.id": "synthetic-01", "session.units_kept": float64(fxUnits),
		"session.duration_s": float64(fxBins) * fxDt, "prediction.model_peak_ne": 0.475,
	} {
		if got, _ := lookup(sum, k); got != want {
			t.Errorf("%s = %v, want %v", k, got, want)
		}
	}
}

func TestSummaryKeysWithoutUpstream(t *testing.T) {
	// Every stage but session missing: the keys still exist, as null.
	files, ctx := run(t, fixtureOptions{skip: []string{"preprocess", "fit", "select", "fixedpoints", "meanfield", "cluster", "predict"}}, 1)
	var sum map[string]any
	if err := json.Unmarshal(files["summary.json"], &sum); err != nil {
		t.Fatal(err)
	}
	for _, k := range append(append([]string(nil), requiredKeys...), requiredModelKeys(sum)...) {
		if _, ok := lookup(sum, k); !ok {
			t.Errorf("summary.json lacks %s", k)
		}
	}
	if !slices.ContainsFunc(ctx.Log, func(l string) bool { return strings.Contains(l, "selection.winner missing upstream") }) {
		t.Errorf("no log line says selection.winner is missing: %q", ctx.Log)
	}
	for _, n := range figureNames {
		if len(files[n+".svg"]) == 0 || len(files[n+".png"]) == 0 || files[n+".csv"] == nil {
			t.Errorf("figure %s not rendered without upstream stages", n)
		}
	}
}

func TestIndexReferencesEveryFigure(t *testing.T) {
	files, _ := run(t, fixtureOptions{}, 1)
	page := string(files["index.html"])
	for _, n := range figureNames {
		for _, ref := range []string{`src="` + n + `.png"`, `href="` + n + `.svg"`, `href="` + n + `.csv"`, `id="` + n + `"`} {
			if !strings.Contains(page, ref) {
				t.Errorf("index.html lacks %s", ref)
			}
		}
	}
	for _, bad := range []string{"<script", "http://", "https://", "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("index.html is not self-contained: it holds %q", bad)
		}
	}
	for _, want := range []string{"synthetic-01", "postgain", "MANIFEST", "summary.json", "<table"} {
		if !strings.Contains(page, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
}

func TestManifestMatchesFiles(t *testing.T) {
	files, _ := run(t, fixtureOptions{}, 1)
	entries, err := ParseManifest(files[ManifestName])
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, e := range entries {
		listed = append(listed, e.Name)
		b, ok := files[e.Name]
		if !ok {
			t.Errorf("MANIFEST lists %s, which the stage did not write", e.Name)
			continue
		}
		h := sha256.Sum256(b)
		if hex.EncodeToString(h[:]) != e.SHA256 {
			t.Errorf("MANIFEST hash of %s does not match the file", e.Name)
		}
	}
	if !slices.IsSorted(listed) {
		t.Errorf("MANIFEST not sorted by name: %v", listed)
	}
	var want []string
	for n := range files {
		if strings.HasSuffix(n, ".csv") || strings.HasSuffix(n, ".svg") || n == "summary.json" {
			want = append(want, n)
		}
	}
	slices.Sort(want)
	if !slices.Equal(listed, want) {
		t.Errorf("MANIFEST lists %v, want every .csv, .svg and summary.json: %v", listed, want)
	}
	// The format sha256sum -c reads: "<64 hex>  <name>\n".
	for _, line := range strings.Split(strings.TrimSuffix(string(files[ManifestName]), "\n"), "\n") {
		if len(line) < 67 || line[64:66] != "  " {
			t.Errorf("MANIFEST line %q is not in sha256sum format", line)
		}
	}
}

func TestParseManifestErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"abc  x.csv\n", "line 1"},
		{strings.Repeat("0", 64) + " x.csv\n", "line 1"},
		{strings.Repeat("0", 64) + "  a.csv\n" + strings.Repeat("g", 64) + "  b.csv\n", "line 2"},
		{strings.Repeat("0", 64) + "  \n", "line 1"},
	} {
		if _, err := ParseManifest([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseManifest(%q) = %v, want an error naming %s", tc.in, err, tc.want)
		}
	}
}

// TestDeterministic: the same inputs give the same bytes for every output, run
// twice and with a different number of threads.
func TestDeterministic(t *testing.T) {
	a, _ := run(t, fixtureOptions{truth: true}, 1)
	b, _ := run(t, fixtureOptions{truth: true}, 2)
	if len(a) != len(b) {
		t.Fatalf("%d vs %d outputs", len(a), len(b))
	}
	for name, x := range a {
		if !bytes.Equal(x, b[name]) {
			t.Errorf("%s differs between two runs", name)
		}
	}
}

// TestMissingOptionalInputs: a recording without events, without a photometry
// control, and without some analyses still gives every figure, each gap shown as a
// "not available" note that says why (in the figure, the page and the log).
func TestMissingOptionalInputs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opt   fixtureOptions
		notes map[string]string // figure -> text its note must hold
	}{
		{"no events, no control", fixtureOptions{noEvents: true, noControl: true}, map[string]string{
			"prediction": "responsiveness is undefined", "overview": "no control channel"}},
		{"no predict", fixtureOptions{skip: []string{"predict"}}, map[string]string{
			"prediction": "stage predict is not an input"}},
		{"no flow, no stability", fixtureOptions{drop: [][2]string{{"fixedpoints", "flow"}, {"cluster", "stability"}}}, map[string]string{
			"fixed_points": "fixedpoints has no output flow", "clustering": "cluster has no output stability"}},
		{"winner none", fixtureOptions{winner: "none"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files, ctx := run(t, tc.opt, 1)
			for _, n := range figureNames {
				if len(files[n+".png"]) == 0 || len(files[n+".svg"]) == 0 {
					t.Errorf("figure %s missing", n)
				}
			}
			page := string(files["index.html"])
			for fig, want := range tc.notes {
				svg := string(files[fig+".svg"])
				if !strings.Contains(svg, "not available") {
					t.Errorf("%s.svg has no \"not available\" note", fig)
				}
				if !strings.Contains(page, want) {
					t.Errorf("index.html does not say %q", want)
				}
				if !slices.ContainsFunc(ctx.Log, func(l string) bool { return strings.Contains(l, want) }) {
					t.Errorf("log does not say %q: %q", want, ctx.Log)
				}
			}
			if tc.opt.winner == "none" && strings.Count(page, "The selected model is") != 3 {
				t.Errorf("with none selected, the fixed-point, mean-field and prediction figures should each say the model has no NE effect")
			}
			if tc.notes == nil {
				for _, l := range ctx.Log {
					if strings.Contains(l, "not available") || strings.Contains(l, "failed") {
						t.Errorf("unexpected: %s", l)
					}
				}
			}
		})
	}
}

// TestFailedFigureKeepsTheOthers: a builder that panics is replaced by a figure
// saying so; the stage goes on.
func TestFailedFigureKeepsTheOthers(t *testing.T) {
	in := loadInputs(fixture(t, fixtureOptions{}))
	b := builder{"broken", func(*inputs, Settings, float64) *figure { panic("index out of range") }}
	f, files, err := renderFigure(b, in, Defaults(), 0.25)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 || !strings.Contains(strings.Join(f.notes, " "), "figure failed: index out of range") {
		t.Errorf("files %d, notes %q", len(files), f.notes)
	}
	if !bytes.Contains(files[2].data, []byte("figure failed")) {
		t.Errorf("the SVG does not say the figure failed")
	}
}

func TestSettingsChecked(t *testing.T) {
	for _, bad := range []map[string]any{
		{"example_neurons": 0}, {"example_span_s": -1}, {"smooth_s": -0.1}, {"max_trace_points": 2},
	} {
		ctx := fixture(t, fixtureOptions{})
		ctx.Params = map[string]any{"figures": bad}
		err := Run(ctx)
		if err == nil || !strings.Contains(err.Error(), "figures.") {
			t.Errorf("settings %v: error %v, want one naming the param", bad, err)
		}
	}
}

func TestEncodeJSON(t *testing.T) {
	b, err := encodeJSON(map[string]any{"b": []any{1.0, nil, 0.1}, "a": map[string]any{"z": 1e21, "y": 1e-7, "x": "<&>"},
		"c": []float64{nanValue(), 2.5}, "d": true, "e": []string{}})
	if err != nil {
		t.Fatal(err)
	}
	// encoding/json's number forms (1e+21, 1e-7); keys sorted; NaN as null.
	want := `{
  "a": {
    "x": "\u003c\u0026\u003e",
    "y": 1e-7,
    "z": 1e+21
  },
  "b": [
    1,
    null,
    0.1
  ],
  "c": [
    null,
    2.5
  ],
  "d": true,
  "e": []
}
`
	if string(b) != want {
		t.Errorf("encodeJSON gave\n%s\nwant\n%s", b, want)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Errorf("not valid JSON: %v", err)
	}
	if _, err := encodeJSON(map[string]any{"x": struct{}{}}); err == nil {
		t.Error("an unsupported type was encoded")
	}
}

func nanValue() float64 { var z float64; return z / z }

var _ = fmt.Sprint
