package meanfield

import (
	"encoding/json"
	"fmt"
	"testing"

	"nmdyn/stages/dynamics"
	"nmdyn/stages/groundtruth"
	"nmdyn/stages/mft"
	"nmdyn/stages/rnn"
	"nmdyn/stages/task/tasktest"
)

// truthInputs gives the stage the generating network of a simulated session as the
// selected model, with its own exact latent analysis as stage fixedpoints would write
// it (dynamics.Sweep, default thresholds).
func truthInputs(t *testing.T, m *rnn.Model, grid int) map[string]*tasktest.Outputs {
	levels, err := dynamics.Sweep(m, dynamics.DefaultGrid(grid), &dynamics.Settings{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	var sweep []Level
	for _, lv := range levels {
		an, err := fromLevel(lv)
		if err != nil {
			t.Fatal(err)
		}
		sweep = append(sweep, Level{Nu: lv.Nu, Analysis: an})
	}
	neurons, globals := m.Tables()
	sel, fp := tasktest.NewOutputs(nil), tasktest.NewOutputs(nil)
	sel.Tables["winner_neurons"], sel.Tables["winner_globals"] = neurons, globals
	fp.Tables["levels"], fp.Tables["fixed_points"] = levelsTable(sweep), fixedPointsTable(sweep, levels[0].Dim)
	return map[string]*tasktest.Outputs{"select": sel, "fixedpoints": fp}
}

// TestGroundTruthNetworks runs the stage on the generating networks of the study's
// simulator (the default session's settings, 120 neurons, two populations) for every
// mechanism: issue 7's acceptance check 3 on the true network rather than a fit. The
// two populations must be the simulator's (their NE curves differ in mean; for
// lowrank they differ only in how q aligns with m_1, and the Gaussian mixture puts
// 111 of 120 right, so 90 % is asked; none has no NE modulation to group by and its
// populations differ only in the sign of a weak feedback, so none is not checked),
// and the mean-field regime must match the network's at every NE level except at
// most two next to a change of regime.
func TestGroundTruthNetworks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds five simulated networks")
	}
	for _, mech := range []string{"postgain", "pregain", "additive", "lowrank", "none"} {
		cfg := groundtruth.Defaults()
		cfg.Mechanism = mech
		cfg.Minutes = 0.5 // only the network is used
		g, err := groundtruth.Generate(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx := newContext(map[string]any{}, truthInputs(t, g.Model, 21))
		if err := Run(ctx); err != nil {
			t.Fatalf("%s: %v", mech, err)
		}
		pops, _ := ctx.Out.Tables["populations"].Int("population")
		same := 0
		for i, p := range pops {
			if int(p) == g.Truth.Population[i] {
				same++
			}
		}
		same = max(same, len(pops)-same) // labels may be swapped
		var sum struct {
			Meanfield struct {
				Regime      []string  `json:"regime"`
				Agreement   float64   `json:"agreement_with_rnn"`
				OffBoundary int       `json:"disagreements_off_boundary"`
				Disagree    []float64 `json:"disagreements"`
			} `json:"meanfield"`
		}
		if err := json.Unmarshal(ctx.Out.Files["summary.json"], &sum); err != nil {
			t.Fatal(err)
		}
		rr, _ := ctx.Out.Tables["comparison"].String("rnn_regime")
		t.Logf("%s: populations %d/%d as simulated; agreement %.3f, disagreements at %v\n  network    %v\n  mean field %v",
			mech, same, len(pops), sum.Meanfield.Agreement, sum.Meanfield.Disagree, short(rr), short(sum.Meanfield.Regime))
		want := len(pops)
		switch mech {
		case "lowrank":
			want = len(pops) * 9 / 10
		case "none":
			want = 0
		}
		if same < want {
			t.Errorf("%s: %d of %d neurons in their simulated population", mech, same, len(pops))
		}
		if len(sum.Meanfield.Disagree) > 2 || sum.Meanfield.OffBoundary > 0 {
			t.Errorf("%s: regimes differ at %v", mech, sum.Meanfield.Disagree)
		}
	}
}

// short abbreviates regime labels for the log.
func short(rs []string) string {
	s := ""
	for _, r := range rs {
		switch r {
		case dynamics.RegimeSingle:
			s += "S"
		case dynamics.RegimeLine:
			s += "L"
		case dynamics.RegimeMultistable:
			s += "M"
		default:
			s += "O"
		}
	}
	return s
}

// BenchmarkSweepDefaultSession is issue 7's acceptance check 4 on the default
// session's generating network (postgain, 120 neurons, 2 populations): the mean-field
// analysis of 21 NE levels, on one goroutine and on two.
func BenchmarkSweepDefaultSession(b *testing.B) {
	cfg := groundtruth.Defaults()
	cfg.Minutes = 0.5
	g, err := groundtruth.Generate(cfg)
	if err != nil {
		b.Fatal(err)
	}
	red, err := mft.Reduce(g.Model, 2, nil)
	if err != nil {
		b.Fatal(err)
	}
	grid := dynamics.DefaultGrid(21)
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := Sweep(nil, red.Mixture, grid, &dynamics.Settings{TauSeconds: g.Model.TauSeconds, Threads: threads}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
