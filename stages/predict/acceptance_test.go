package predict_test

import (
	"context"
	"math"
	"testing"

	"nmdyn/stages/groundtruth"
	"nmdyn/stages/groundtruth/truthdyn"
	"nmdyn/stages/predict"
)

// simulated generates a ground-truth session and bins it the way the preprocess
// stage does (floor(t / dt), start 0; events likewise), with the true NE level,
// 10 s resampling chunks, and the generating network's slow direction at nu = 1/2.
// It returns the recording, the truth and the generating network's model curves
// on the truth's NE grid.
func simulated(t *testing.T, cfg groundtruth.Config) (*predict.Recording, *groundtruth.Generated) {
	t.Helper()
	g, err := groundtruth.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := truthdyn.Label(g); err != nil {
		t.Fatal(err)
	}
	m := g.Model
	dt := cfg.BinMs / 1000
	T := len(g.NE)
	col := map[int64]int{}
	for i, u := range m.Units {
		col[u] = i
	}
	n := m.N
	rec := &predict.Recording{DtSeconds: dt, N: n, Y: make([]float32, T*n), Nu: g.NE, Chunk: make([]int, T)}
	err = g.Session.Spikes.Scan(func(units []int64, times []float64) error {
		for k, u := range units {
			b := int(math.Floor(times[k] / dt))
			if b >= 0 && b < T {
				rec.Y[b*n+col[u]]++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	label := map[string]int{}
	for _, e := range g.Session.Events {
		l, ok := label[e.Label]
		if !ok {
			l = len(rec.Labels)
			label[e.Label] = l
			rec.Labels = append(rec.Labels, e.Label)
			rec.Events = append(rec.Events, nil)
		}
		b := min(int(math.Floor(e.Time/dt)), T-1)
		if ev := rec.Events[l]; len(ev) == 0 || ev[len(ev)-1] < b {
			rec.Events[l] = append(ev, b)
		}
	}
	for b := range rec.Chunk {
		rec.Chunk[b] = int(float64(b) * dt / 10)
	}
	rec.SlowDir = predict.SlowDirection(m, 0.5, predict.Defaults().Windows.CountS)
	return rec, g
}

// session is the default session (groundtruth.Defaults, what
// data/default/simulate.yaml asks for: 120 neurons, 20 min) with a mechanism and
// seed. The analysis takes about a second per session, so the full size is cheap.
func session(mechanism string, seed uint64) groundtruth.Config {
	cfg := groundtruth.Defaults()
	cfg.Mechanism, cfg.Seed = mechanism, seed
	return cfg
}

func logResult(t *testing.T, res *predict.Result) {
	t.Helper()
	for j, b := range res.Bins {
		t.Logf("  bin %d ne %.2f-%.2f mid %.2f ev %3d win %4d resp %.3f±%.3f fano %.3f±%.3f (raw %.3f, %d matched) slow %.3f±%.3f shared %.3f±%.3f",
			j, b.Lo, b.Hi, b.Mid, b.Events, b.Windows, b.Value[predict.Responsiveness], b.SEM[predict.Responsiveness],
			b.Value[predict.FanoMM], b.SEM[predict.FanoMM], b.FanoRaw, b.Matched,
			b.Value[predict.SlowVar], b.SEM[predict.SlowVar], b.Value[predict.SlowShared], b.SEM[predict.SlowShared])
	}
	for _, f := range res.Fits {
		t.Logf("  %-14s c %9.4f vertex %6.3f peak %.3f ci [%.3f, %.3f] p %.4f boot-inv %.2f inverted_u %v",
			f.Measure, f.C, f.Vertex, f.Peak, f.CILo, f.CIHi, f.PValue, f.BootInvertedU, f.InvertedU)
	}
}

// TestAcceptanceGroundTruth checks the acceptance on simulated sessions,
// with the true NE level and the generating network in place of the fitted one:
// on the default session (postgain) both headline measures show an inverted U
// whose peak lies in the truth's line-attractor NE range, and so do the
// generating network's model curves; with mechanism none, both headline measures
// are false for at least 4 of 5 seeds.
func TestAcceptanceGroundTruth(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates 6 sessions")
	}
	set := predict.Defaults()
	headline := []string{predict.Responsiveness, set.Variability}

	rec, g := simulated(t, session("postgain", 1))
	res, err := predict.Analyze(context.Background(), rec, set, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	la := g.Truth.LineAttractorNERange
	t.Logf("postgain seed 1: truth line-attractor range %v", la)
	logResult(t, res)
	grid := g.Truth.NEGrid
	curve := predict.ModelCurve(g.Model, grid)
	pulse, vari := make([]float64, len(grid)), make([]float64, len(grid))
	for i, p := range curve {
		pulse[i], vari[i] = p.PulseResponse, p.StationaryVariance
	}
	pp, vp := predict.PeakOf(grid, pulse), predict.PeakOf(grid, vari)
	t.Logf("  generating network: pulse peak %.3f, variance peak %.3f", pp, vp)
	if len(la) != 2 {
		t.Fatalf("the default truth has no line-attractor range")
	}
	if pp < la[0] || pp > la[1] || vp < la[0] || vp > la[1] {
		t.Errorf("generating network: model peaks %.3f and %.3f, want both inside %v", pp, vp, la)
	}
	for _, m := range headline {
		f, _ := res.FitOf(m)
		if !f.InvertedU || f.Peak < la[0] || f.Peak > la[1] {
			t.Errorf("postgain: %s inverted_u %v peak %.3f, want true inside %v", m, f.InvertedU, f.Peak, la)
		}
	}

	falsePos := map[string]int{}
	bothFalse := 0
	for seed := uint64(1); seed <= 5; seed++ {
		rec, _ := simulated(t, session("none", seed))
		res, err := predict.Analyze(context.Background(), rec, set, 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("none seed %d:", seed)
		logResult(t, res)
		for _, m := range predict.Measures() {
			if f, _ := res.FitOf(m); f.InvertedU {
				falsePos[m]++
			}
		}
		r, _ := res.FitOf(headline[0])
		v, _ := res.FitOf(headline[1])
		if !r.InvertedU && !v.InvertedU {
			bothFalse++
		}
	}
	t.Logf("mechanism none: inverted_u per measure in 5 seeds %v; both headline measures false in %d of 5", falsePos, bothFalse)
	if bothFalse < 4 {
		t.Errorf("none: both headline inverted_u false in %d of 5 seeds, want at least 4", bothFalse)
	}
}
