package preprocess_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"nmdyn/stages/preprocess"
	"nmdyn/stages/preprocess/internal/filetask"
	"nmdyn/stages/session"
	"nmdyn/stages/table"
)

// fakeSession writes a small session folder as CSV: nUnits Poisson units whose
// rates follow a slow NE trace, photometry at 20 Hz (signal = bleaching baseline
// x (1 + 0.05 NE) + shared motion, control = its own baseline + motion), tone
// events every 7 s. Unit 99 fires at 0.1 Hz (below min_rate_hz). It returns the
// true NE at 20 Hz and the spikes it wrote.
type fakeTruth struct {
	neT, ne []float64
	units   []int64
	times   []float64
	tones   []float64
}

func fakeSession(t testing.TB, dir string, nUnits int, durS float64, yaml string) fakeTruth {
	rng := rand.New(rand.NewPCG(42, 1))
	var tr fakeTruth
	const rate = 20.0
	var sig strings.Builder
	sig.WriteString("time,signal,control\n")
	var ne, motion float64
	for i := 0; float64(i)/rate <= durS+2; i++ {
		t := float64(i) / rate
		// NE: a slow oscillation plus an AR(1) wander, so blocks differ in NE.
		ne += (-ne/20 + 0.3*rng.NormFloat64()*math.Sqrt(rate)) / rate
		level := 0.5 + 0.35*math.Sin(2*math.Pi*t/97) + 0.1*ne
		motion += (-motion/0.5 + 0.5*rng.NormFloat64()*math.Sqrt(rate)) / rate
		bs := 2 + 0.4*math.Exp(-t/150)
		bc := 1 + 0.2*math.Exp(-t/300)
		tr.neT = append(tr.neT, t)
		tr.ne = append(tr.ne, level)
		fmt.Fprintf(&sig, "%g,%g,%g\n", t, bs*(1+0.05*level)+0.2*motion, bc+0.3*motion)
	}
	type spike struct {
		u int64
		t float64
	}
	var spikes []spike
	for u := 1; u <= nUnits; u++ {
		base := 2 + float64(u%5)
		for t := rng.ExpFloat64() / 20; t < durS; t += rng.ExpFloat64() / 20 {
			// Thinning: rate base * (0.5 + NE) <= 20 Hz.
			i := int(t * rate)
			if rng.Float64() < base*(0.5+tr.ne[i])/20 {
				spikes = append(spikes, spike{int64(u), t})
			}
		}
	}
	for t := 3.0; t < durS; t += 10 {
		spikes = append(spikes, spike{99, t})
	}
	slices.SortFunc(spikes, func(a, b spike) int {
		if a.t != b.t {
			if a.t < b.t {
				return -1
			}
			return 1
		}
		return int(a.u - b.u)
	})
	var sp strings.Builder
	sp.WriteString("unit,time\n")
	for _, s := range spikes {
		fmt.Fprintf(&sp, "%d,%g\n", s.u, s.t)
		tr.units = append(tr.units, s.u)
		tr.times = append(tr.times, s.t)
	}
	var ev strings.Builder
	ev.WriteString("time,label\n")
	for t := 2.0; t < durS; t += 7 {
		fmt.Fprintf(&ev, "%g,tone\n", t)
		tr.tones = append(tr.tones, t)
	}
	fmt.Fprintf(&ev, "%g,reward\n", 11.0)
	for name, content := range map[string]string{"spikes.csv": sp.String(), "photometry.csv": sig.String(), "events.csv": ev.String(), "session.yaml": yaml} {
		if content == "" {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return tr
}

// runStages runs session then preprocess with file-backed contexts and returns
// the folder of each task's outputs.
func runStages(t testing.TB, sessionDir string, pre map[string]any) (string, string) {
	root := t.TempDir()
	sOut, pOut := filepath.Join(root, "out_session"), filepath.Join(root, "out_preprocess")
	sctx := &filetask.Context{Root: root, OutDir: sOut, Params: map[string]any{"data": map[string]any{"session": sessionDir}}}
	if err := session.Run(sctx); err != nil {
		t.Fatal(err)
	}
	pctx := &filetask.Context{Root: root, OutDir: pOut, Params: map[string]any{"preprocess": pre}, Upstream: map[string]string{"session": sOut}}
	if err := preprocess.Run(pctx); err != nil {
		t.Fatal(err)
	}
	return sOut, pOut
}

func read(t testing.TB, dir, name string) *table.Table {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, name+".parquet"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	tb, err := table.ReadParquet(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func pearson(x, y []float64) float64 {
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= float64(len(x))
	my /= float64(len(y))
	var sxy, sxx, syy float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
		syy += (y[i] - my) * (y[i] - my)
	}
	return sxy / math.Sqrt(sxx*syy)
}

func TestSessionAndPreprocess(t *testing.T) {
	sdir := t.TempDir()
	const dur = 600.0
	tr := fakeSession(t, sdir, 8, dur, "id: fake\nblock_s: 30\n")
	sOut, pOut := runStages(t, sdir, map[string]any{"bin_ms": 50})

	// Session outputs.
	st := read(t, sOut, "session")
	if ids, _ := st.String("id"); ids[0] != "fake" {
		t.Errorf("session id %v", ids)
	}
	if b, _ := st.Float("block_s"); b[0] != 30 {
		t.Errorf("session block_s %v, want 30 from session.yaml", b)
	}
	sp := read(t, sOut, "spikes")
	if sp.Len() != len(tr.times) {
		t.Errorf("spikes output has %d rows, the session %d", sp.Len(), len(tr.times))
	}

	// Units: 8 kept, unit 99 (0.1 Hz) dropped for its rate.
	ut := read(t, pOut, "units")
	ids, _ := ut.Int("unit")
	kept, _ := ut.Bool("kept")
	reasons, _ := ut.String("reason")
	for i, id := range ids {
		if (id == 99) == kept[i] {
			t.Errorf("unit %d kept=%v (%s)", id, kept[i], reasons[i])
		}
		if id == 99 && !strings.Contains(reasons[i], "min_rate_hz 0.5") {
			t.Errorf("unit 99 reason %q", reasons[i])
		}
	}

	// Counts: bin then u1..u8; each unit's total equals its spikes in the binned
	// span [0, nBins * 0.05), counted here from the spikes written.
	ct := read(t, pOut, "counts")
	wantCols := []string{"bin", "u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8"}
	if fmt.Sprint(ct.Names()) != fmt.Sprint(wantCols) {
		t.Fatalf("counts columns %v, want %v", ct.Names(), wantCols)
	}
	nBins := ct.Len()
	// The recording ends at the last spike (just under 600 s): floor(end / 0.05).
	last := tr.times[len(tr.times)-1]
	if want := int(math.Floor(last / 0.05)); nBins != want {
		t.Errorf("%d bins, want floor(%v / 0.05) = %d", nBins, last, want)
	}
	for u := int64(1); u <= 8; u++ {
		var want int64
		for i, id := range tr.units {
			if id == u && tr.times[i] < float64(nBins)*0.05 {
				want++
			}
		}
		col, _ := ct.Int(fmt.Sprintf("u%d", u))
		var got int64
		for _, c := range col {
			got += c
		}
		if got != want {
			t.Errorf("unit %d: %d counts, %d spikes in the binned span", u, got, want)
		}
	}

	// Bins: NE in [0, 1], tracking the true NE; blocks of 30 s (session.yaml).
	bt := read(t, pOut, "bins")
	ne, _ := bt.Float("ne")
	ts, _ := bt.Float("t_s")
	var trueNE []float64
	for b := range ne {
		if ne[b] < 0 || ne[b] > 1 {
			t.Fatalf("ne %v at bin %d", ne[b], b)
		}
		if math.Abs(ts[b]-0.05*float64(b)) > 1e-9 {
			t.Fatalf("t_s %v at bin %d", ts[b], b)
		}
		trueNE = append(trueNE, tr.ne[min(int(math.Round((ts[b]+0.025)*20)), len(tr.ne)-1)])
	}
	if r := pearson(ne, trueNE); r < 0.9 {
		t.Errorf("NE level correlates %.3f with the true NE, want >= 0.9", r)
	}
	tones, _ := bt.Int("ev_tone")
	var nt int64
	for _, c := range tones {
		nt += c
	}
	if nt != int64(len(tr.tones)) || !bt.Has("ev_reward") {
		t.Errorf("%d tones binned, %d written; columns %v", nt, len(tr.tones), bt.Names())
	}

	// Blocks: 20 blocks of 30 s (the last, a little short, joins nothing: it is
	// over half a block), split 12/4/4, each split reaching both halves of the
	// NE range.
	bl := read(t, pOut, "blocks")
	splits, _ := bl.String("split")
	neMean, _ := bl.Float("ne_mean")
	if bl.Len() != 20 {
		t.Fatalf("%d blocks, want 20", bl.Len())
	}
	med := append([]float64(nil), neMean...)
	slices.Sort(med)
	mid := (med[9] + med[10]) / 2
	per := map[string][2]int{}
	for i, s := range splits {
		c := per[s]
		if neMean[i] < mid {
			c[0]++
		} else {
			c[1]++
		}
		per[s] = c
	}
	if per["train"][0]+per["train"][1] != 12 || per["validation"][0]+per["validation"][1] != 4 || per["test"][0]+per["test"][1] != 4 {
		t.Errorf("split counts %v, want 12/4/4", per)
	}
	for s, c := range per {
		if c[0] == 0 || c[1] == 0 {
			t.Errorf("split %s has %d blocks below and %d above the median NE", s, c[0], c[1])
		}
	}
	sub, _ := bt.Int("subblock")
	block, _ := bt.Int("block")
	// 10 s sub-blocks: 3 per 30 s block, never straddling blocks.
	if sub[len(sub)-1] != 59 {
		t.Errorf("last sub-block %d, want 59", sub[len(sub)-1])
	}
	for b := 1; b < len(sub); b++ {
		if block[b] != block[b-1] && sub[b] == sub[b-1] {
			t.Fatalf("sub-block %d straddles blocks %d and %d", sub[b], block[b-1], block[b])
		}
	}

	// Photometry fit and trace.
	ft := read(t, pOut, "photometry_fit")
	method, _ := ft.String("method")
	slope, _ := ft.Float("slope")
	// The motion enters the signal with 0.2 and the control with 0.3: slope 2/3.
	if method[0] != "irls" || math.Abs(slope[0]-2.0/3) > 0.05 {
		t.Errorf("fit %s slope %v, want irls near 0.667", method[0], slope[0])
	}
	pt := read(t, pOut, "photometry")
	if fmt.Sprint(pt.Names()) != "[t_s signal control fitted_control dff ne]" || pt.Len() < 11000 {
		t.Errorf("photometry trace columns %v, %d rows", pt.Names(), pt.Len())
	}
	for _, name := range []string{"overview_raster", "overview_rate"} {
		if read(t, pOut, name).Len() == 0 {
			t.Errorf("%s is empty", name)
		}
	}
}

func TestPreprocessIsDeterministic(t *testing.T) {
	sdir := t.TempDir()
	fakeSession(t, sdir, 3, 120, "block_s: 20\n")
	_, a := runStages(t, sdir, map[string]any{})
	_, b := runStages(t, sdir, map[string]any{})
	for _, name := range []string{"counts", "bins", "units", "blocks", "photometry", "photometry_fit", "overview_raster", "overview_rate"} {
		x, _ := os.ReadFile(filepath.Join(a, name+".parquet"))
		y, _ := os.ReadFile(filepath.Join(b, name+".parquet"))
		if len(x) == 0 || string(x) != string(y) {
			t.Errorf("%s differs between two runs", name)
		}
	}
}

func TestPreprocessErrors(t *testing.T) {
	sdir := t.TempDir()
	fakeSession(t, sdir, 2, 60, "")
	root := t.TempDir()
	sOut := filepath.Join(root, "s")
	if err := session.Run(&filetask.Context{Root: root, OutDir: sOut, Params: map[string]any{"data": map[string]any{"session": sdir}}}); err != nil {
		t.Fatal(err)
	}
	// Without photometry (a session folder with only spikes).
	bare := t.TempDir()
	os.WriteFile(filepath.Join(bare, "spikes.csv"), []byte("unit,time\n1,0.5\n1,30\n"), 0o644)
	bareOut := filepath.Join(root, "bare")
	if err := session.Run(&filetask.Context{Root: root, OutDir: bareOut, Params: map[string]any{"data": map[string]any{"session": bare}}}); err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct {
		up     string
		params map[string]any
		want   string
	}{
		{sOut, map[string]any{"bin_ms": -5}, "preprocess.bin_ms -5"},
		{sOut, map[string]any{"split": []int{6, 2}}, "preprocess.split [6 2]"},
		{sOut, map[string]any{"photometry": map[string]any{"method": "lasso"}}, `unknown control fit method "lasso"`},
		{sOut, map[string]any{"min_rate_hz": 1000}, "no unit kept"},
		{bareOut, map[string]any{"min_rate_hz": 0}, "no photometry"},
	} {
		ctx := &filetask.Context{Root: root, OutDir: filepath.Join(root, fmt.Sprint("p", i)), Params: map[string]any{"preprocess": c.params}, Upstream: map[string]string{"session": c.up}}
		err := preprocess.Run(ctx)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("params %v: error %v, want one containing %q", c.params, err, c.want)
		}
	}
}
