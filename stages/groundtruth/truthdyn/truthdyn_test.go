package truthdyn

import (
	"encoding/json"
	"testing"

	"nmdyn/stages/dynamics"
	"nmdyn/stages/groundtruth"
)

// TestRegimeLabels: package groundtruth spells the regime labels itself (it does not
// import dynamics); they must be the analysis's.
func TestRegimeLabels(t *testing.T) {
	for _, p := range [][2]string{
		{groundtruth.RegimeSingle, dynamics.RegimeSingle},
		{groundtruth.RegimeLine, dynamics.RegimeLine},
		{groundtruth.RegimeMultistable, dynamics.RegimeMultistable},
		{groundtruth.RegimeOther, dynamics.RegimeOther},
	} {
		if p[0] != p[1] {
			t.Errorf("groundtruth label %q, dynamics label %q", p[0], p[1])
		}
	}
}

// TestLabelDefaultSession: the default session's truth (postgain, designed with a
// line attractor where the slow coupling is >= 7/8, i.e. over [0.25, 0.75]; see
// data/README.md) gets its regimes in the Truth, the table truth_regime and
// truth.json; Generate alone leaves them out.
func TestLabelDefaultSession(t *testing.T) {
	g, err := groundtruth.Generate(groundtruth.Defaults())
	if err != nil {
		t.Fatal(err)
	}
	if g.Tables["truth_regime"] != nil || g.Truth.Regime != nil {
		t.Fatal("Generate already labelled the regimes")
	}
	var before map[string]any
	if err := json.Unmarshal(g.TruthJSON, &before); err != nil {
		t.Fatal(err)
	}
	if _, ok := before["line_attractor_ne_range"]; ok {
		t.Error("truth.json has line_attractor_ne_range before Label")
	}
	if err := Label(g); err != nil {
		t.Fatal(err)
	}
	n := g.Truth.Config.NEGrid
	if tb := g.Tables["truth_regime"]; tb == nil || tb.Len() != n {
		t.Fatalf("truth_regime missing or not %d rows", n)
	}
	r := g.Truth.LineAttractorNERange
	if len(r) != 2 || r[0] != 0.25 || r[1] != 0.75 {
		t.Errorf("line-attractor range %v, want [0.25 0.75]", r)
	}
	if g.Truth.Regime[0] != groundtruth.RegimeSingle || g.Truth.Regime[n-1] != groundtruth.RegimeSingle || g.Truth.Regime[n/2] != groundtruth.RegimeLine {
		t.Errorf("regimes %v", g.Truth.Regime)
	}
	var after map[string]any
	if err := json.Unmarshal(g.TruthJSON, &after); err != nil {
		t.Fatalf("truth.json after Label: %v\n%s", err, g.TruthJSON)
	}
	if got, ok := after["regime"].([]any); !ok || len(got) != n {
		t.Errorf("truth.json regime = %v", after["regime"])
	}
	if after["regime_method"] != Method {
		t.Errorf("truth.json regime_method = %v", after["regime_method"])
	}
}

// TestLabelMechanisms: every NE mechanism's network has a line attractor around
// the middle of the NE range and none has none (2-minute sessions; the network
// does not depend on the duration).
func TestLabelMechanisms(t *testing.T) {
	for _, mech := range []string{"none", "additive", "pregain", "postgain", "lowrank"} {
		cfg := groundtruth.Defaults()
		cfg.Mechanism, cfg.Minutes, cfg.Seed = mech, 2, 2
		g, err := groundtruth.Generate(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := Label(g); err != nil {
			t.Fatal(err)
		}
		var tr map[string]any
		if err := json.Unmarshal(g.TruthJSON, &tr); err != nil {
			t.Fatal(err)
		}
		la, present := tr["line_attractor_ne_range"]
		if !present {
			t.Errorf("%s: truth.json has no line_attractor_ne_range", mech)
		}
		if mech == "none" {
			if la != nil {
				t.Errorf("none: line_attractor_ne_range %v, want null", la)
			}
			continue
		}
		r, ok := la.([]any)
		if !ok || len(r) != 2 || r[0].(float64) > 0.35 || r[1].(float64) < 0.65 {
			t.Errorf("%s: line_attractor_ne_range %v, want [lo, hi] around [0.25, 0.75]", mech, la)
		}
	}
}
