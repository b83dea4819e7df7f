// Package recovery is the `recovery` stage of the model-recovery study
// (pipelines/recovery.yaml): sessions simulated from each variant over several seeds,
// all five variants fitted to each, and the selection's verdicts gathered into
// confusion matrices: generating variant x winner, and generating variant x
// membership of the indistinguishable set. A session counts as recovered when the
// winner is the generating variant or a variant containing it as a special case
// (every variant contains `none`; a `none` session counts only when `none` wins, or
// ties with the winner while no NE effect is claimed).
package recovery

import (
	"encoding/json"
	"fmt"
	"image/color"
	"slices"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"nmdyn/stages/plotting"
	"nmdyn/stages/rnn"
	"nmdyn/stages/table"
	"nmdyn/stages/task"
)

type verdict struct {
	generating rnn.Variant
	simSeed    string
	winner     rnn.Variant
	indist     []rnn.Variant
	neEffect   bool
	// The prediction check's verdicts, when the study runs it (else nil).
	respU, varU *bool
}

// Run is the stage.
func Run(ctx task.Context) error {
	ins, err := ctx.Inputs("select")
	if err != nil {
		return err
	}
	var vs []verdict
	for _, in := range ins {
		mech, ok := in.Item()["mechanism"]
		if !ok {
			return fmt.Errorf("recovery: select task %v has no `mechanism` in its item: fan the study out over mechanism", in.Item())
		}
		gen, err := rnn.ParseVariant(fmt.Sprint(mech))
		if err != nil {
			return err
		}
		b, err := in.File("summary.json")
		if err != nil {
			return err
		}
		var s struct {
			Selection struct {
				Winner            string   `json:"winner"`
				Indistinguishable []string `json:"indistinguishable"`
				NE                bool     `json:"ne_effect_significant"`
			} `json:"selection"`
		}
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("recovery: select summary.json of %v: %w", in.Item(), err)
		}
		w, err := rnn.ParseVariant(s.Selection.Winner)
		if err != nil {
			return err
		}
		v := verdict{generating: gen, simSeed: fmt.Sprint(in.Item()["sim_seed"]), winner: w, neEffect: s.Selection.NE}
		for _, x := range s.Selection.Indistinguishable {
			iv, err := rnn.ParseVariant(x)
			if err != nil {
				return err
			}
			v.indist = append(v.indist, iv)
		}
		vs = append(vs, v)
	}
	if err := addPredictions(ctx, vs); err != nil {
		return err
	}
	sort.Slice(vs, func(i, j int) bool {
		if vs[i].generating != vs[j].generating {
			return index(vs[i].generating) < index(vs[j].generating)
		}
		return seedLess(vs[i].simSeed, vs[j].simSeed)
	})
	res := tally(vs)
	for _, o := range []struct {
		name string
		t    *table.Table
	}{{"verdicts", verdictTable(vs)}, {"confusion", res.table()}} {
		if err := ctx.WriteTable(o.name, o.t); err != nil {
			return err
		}
	}
	csv, err := res.csv()
	if err != nil {
		return err
	}
	png, svg, err := res.figure()
	if err != nil {
		return err
	}
	sum, err := json.MarshalIndent(map[string]any{"recovery": res.summary()}, "", "  ")
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"recovery_confusion.csv": csv,
		"recovery_confusion.png": png,
		"recovery_confusion.svg": svg,
		"summary.json":           append(sum, '\n'),
	}
	// MANIFEST: what `run verify --pipeline pipelines/recovery.yaml` compares.
	files[plotting.ManifestName] = plotting.Manifest(files)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := ctx.WriteFile(name, files[name]); err != nil {
			return err
		}
	}
	return nil
}

// seedLess orders seeds numerically when both are integers ("2" before "10").
func seedLess(a, b string) bool {
	x, errA := strconv.ParseInt(a, 10, 64)
	y, errB := strconv.ParseInt(b, 10, 64)
	if errA == nil && errB == nil {
		return x < y
	}
	return a < b
}

func index(v rnn.Variant) int {
	for i, w := range rnn.Variants {
		if w == v {
			return i
		}
	}
	return len(rnn.Variants)
}

type result struct {
	gens      []rnn.Variant
	sessions  map[rnn.Variant]int
	winners   map[[2]rnn.Variant]int // (generating, winner) -> sessions
	indist    map[[2]rnn.Variant]int // (generating, variant) -> sessions where variant is indistinguishable from the winner
	recovered map[rnn.Variant]int
	neEffect  map[rnn.Variant]int
	respU     map[rnn.Variant]int // sessions with an inverted U in responsiveness
	varU      map[rnn.Variant]int // ... in variability
	predicted bool                // whether the study ran the prediction check
}

// recovered says whether a session's verdict recovers its generating variant: the
// winner is that variant or contains it as a special case. Every variant contains
// `none`, which would make `none` trivially recovered; a `none` session therefore
// counts only when `none` wins, or ties with the winner while no NE effect is claimed.
func recovered(v verdict) bool {
	if v.generating != rnn.None {
		return rnn.Nests(v.winner, v.generating)
	}
	if v.winner == rnn.None {
		return true
	}
	return !v.neEffect && slices.Contains(v.indist, rnn.None)
}

func tally(vs []verdict) *result {
	r := &result{sessions: map[rnn.Variant]int{}, winners: map[[2]rnn.Variant]int{},
		indist: map[[2]rnn.Variant]int{}, recovered: map[rnn.Variant]int{}, neEffect: map[rnn.Variant]int{},
		respU: map[rnn.Variant]int{}, varU: map[rnn.Variant]int{}}
	for _, v := range vs {
		if r.sessions[v.generating] == 0 {
			r.gens = append(r.gens, v.generating)
		}
		r.sessions[v.generating]++
		r.winners[[2]rnn.Variant{v.generating, v.winner}]++
		for _, x := range v.indist {
			r.indist[[2]rnn.Variant{v.generating, x}]++
		}
		if recovered(v) {
			r.recovered[v.generating]++
		}
		if v.neEffect {
			r.neEffect[v.generating]++
		}
		if v.respU != nil {
			r.predicted = true
			if *v.respU {
				r.respU[v.generating]++
			}
			if *v.varU {
				r.varU[v.generating]++
			}
		}
	}
	return r
}

func (r *result) table() *table.Table {
	var gen, fitted []string
	var win, ind, n []int64
	for _, g := range r.gens {
		for _, f := range rnn.Variants {
			gen = append(gen, string(g))
			fitted = append(fitted, string(f))
			win = append(win, int64(r.winners[[2]rnn.Variant{g, f}]))
			ind = append(ind, int64(r.indist[[2]rnn.Variant{g, f}]))
			n = append(n, int64(r.sessions[g]))
		}
	}
	return table.New().AddString("generating", gen).AddString("variant", fitted).AddInt("winner", win).
		AddInt("indistinguishable", ind).AddInt("sessions", n)
}

func (r *result) csv() ([]byte, error) {
	var buf bytesBuffer
	if err := table.WriteCSV(&buf, r.table()); err != nil {
		return nil, err
	}
	return buf.b, nil
}

type bytesBuffer struct{ b []byte }

func (w *bytesBuffer) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

func (r *result) summary() map[string]any {
	rate := map[string]any{}
	ne := map[string]any{}
	matrix := map[string]any{}
	for _, g := range r.gens {
		rate[string(g)] = float64(r.recovered[g]) / float64(r.sessions[g])
		ne[string(g)] = float64(r.neEffect[g]) / float64(r.sessions[g])
		row := map[string]int{}
		for _, f := range rnn.Variants {
			row[string(f)] = r.winners[[2]rnn.Variant{g, f}]
		}
		matrix[string(g)] = row
	}
	out := map[string]any{"recovery_rate": rate, "ne_effect_rate": ne, "winners": matrix}
	if r.predicted {
		ru, vu := map[string]any{}, map[string]any{}
		for _, g := range r.gens {
			ru[string(g)] = float64(r.respU[g]) / float64(r.sessions[g])
			vu[string(g)] = float64(r.varU[g]) / float64(r.sessions[g])
		}
		out["responsiveness_inverted_u_rate"] = ru
		out["variability_inverted_u_rate"] = vu
	}
	return out
}

func verdictTable(vs []verdict) *table.Table {
	var gen, seed, win, ind []string
	var ne, rec []bool
	for _, v := range vs {
		gen = append(gen, string(v.generating))
		seed = append(seed, v.simSeed)
		win = append(win, string(v.winner))
		names := ""
		for i, x := range v.indist {
			if i > 0 {
				names += ","
			}
			names += string(x)
		}
		ind = append(ind, names)
		ne = append(ne, v.neEffect)
		rec = append(rec, recovered(v))
	}
	t := table.New().AddString("generating", gen).AddString("sim_seed", seed).AddString("winner", win).
		AddString("indistinguishable", ind).AddBool("ne_effect_significant", ne).AddBool("recovered", rec)
	if len(vs) > 0 && vs[0].respU != nil {
		var ru, vu []bool
		for _, v := range vs {
			ru = append(ru, v.respU != nil && *v.respU)
			vu = append(vu, v.varU != nil && *v.varU)
		}
		t.AddBool("responsiveness_inverted_u", ru).AddBool("variability_inverted_u", vu)
	}
	return t
}

// grid is a generating x variant matrix of fractions for a heat map.
type grid struct {
	rows []rnn.Variant
	vals [][]float64
}

func (g grid) Dims() (c, r int)   { return len(rnn.Variants), len(g.rows) }
func (g grid) Z(c, r int) float64 { return g.vals[r][c] }
func (g grid) X(c int) float64    { return float64(c) }
func (g grid) Y(r int) float64    { return float64(r) }

func (r *result) figure() (png, svg []byte, err error) {
	fig := plotting.NewFigure(1, 2, 30, 13)
	for col, kind := range []string{"winner", "indistinguishable from the winner"} {
		g := grid{rows: r.gens}
		var labels plotter.XYLabels
		for _, gen := range r.gens {
			row := make([]float64, len(rnn.Variants))
			for c, f := range rnn.Variants {
				k := [2]rnn.Variant{gen, f}
				n := r.winners[k]
				if col == 1 {
					n = r.indist[k]
				}
				row[c] = float64(n) / float64(r.sessions[gen])
				labels.XYs = append(labels.XYs, plotter.XY{X: float64(c), Y: float64(len(g.vals))})
				labels.Labels = append(labels.Labels, fmt.Sprintf("%d/%d", n, r.sessions[gen]))
			}
			g.vals = append(g.vals, row)
		}
		p := plotting.NewPlot("Fraction of sessions: "+kind, "fitted variant", "generating variant")
		hm := plotter.NewHeatMap(g, plotting.Sequential())
		hm.Min, hm.Max = 0, 1
		p.Add(hm)
		l, err := plotter.NewLabels(labels)
		if err != nil {
			return nil, nil, err
		}
		for i := range l.TextStyle {
			if g.vals[int(labels.XYs[i].Y)][int(labels.XYs[i].X)] > 0.6 {
				l.TextStyle[i].Color = color.White // readable on dark cells
			}
			l.TextStyle[i].XAlign = draw.XCenter
			l.TextStyle[i].YAlign = draw.YCenter
			l.TextStyle[i].Font.Size = vg.Points(12)
		}
		p.Add(l)
		var xt, yt []plot.Tick
		for c, f := range rnn.Variants {
			xt = append(xt, plot.Tick{Value: float64(c), Label: string(f)})
		}
		for i, gen := range r.gens {
			yt = append(yt, plot.Tick{Value: float64(i), Label: string(gen)})
		}
		p.X.Tick.Marker = plot.ConstantTicks(xt)
		p.Y.Tick.Marker = plot.ConstantTicks(yt)
		p.X.Min, p.X.Max = -0.5, float64(len(rnn.Variants))-0.5
		p.Y.Min, p.Y.Max = -0.5, float64(len(r.gens))-0.5
		fig.Panels[0][col] = p
	}
	return fig.Render()
}

// addPredictions attaches the prediction check's inverted-U verdicts to the sessions,
// when `predict` is an input of this stage (matched by mechanism and sim_seed).
func addPredictions(ctx task.Context, vs []verdict) error {
	ins, err := ctx.Inputs("predict")
	if err != nil {
		return nil // not part of this study
	}
	for _, in := range ins {
		gen := fmt.Sprint(in.Item()["mechanism"])
		seed := fmt.Sprint(in.Item()["sim_seed"])
		b, err := in.File("summary.json")
		if err != nil {
			return err
		}
		var s struct {
			Prediction struct {
				Responsiveness struct {
					InvertedU bool `json:"inverted_u"`
				} `json:"responsiveness"`
				Variability struct {
					InvertedU bool `json:"inverted_u"`
				} `json:"variability"`
			} `json:"prediction"`
		}
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("recovery: predict summary.json of %v: %w", in.Item(), err)
		}
		for i := range vs {
			if string(vs[i].generating) == gen && vs[i].simSeed == seed {
				r, v := s.Prediction.Responsiveness.InvertedU, s.Prediction.Variability.InvertedU
				vs[i].respU, vs[i].varU = &r, &v
			}
		}
	}
	return nil
}
