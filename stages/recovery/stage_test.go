package recovery

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"nmdyn/stages/figures"
	"nmdyn/stages/plotting"
	"nmdyn/stages/task"
	"nmdyn/stages/task/tasktest"
)

// Two generating variants x three seeds, with hand-written verdicts: the tallies follow
// from counting them.
func TestConfusion(t *testing.T) {
	ctx := tasktest.New(nil)
	verdicts := []struct {
		gen, seed, winner string
		indist            []string
	}{
		{"postgain", "1", "postgain", []string{"postgain", "pregain"}},
		{"postgain", "2", "pregain", []string{"pregain", "postgain"}},
		{"postgain", "3", "postgain", []string{"postgain"}},
		{"none", "1", "none", []string{"none", "additive"}},
		{"none", "2", "additive", []string{"additive", "none"}}, // additive contains none: recovered
		{"none", "3", "none", []string{"none"}},
		{"none", "10", "lowrank", []string{"lowrank"}}, // none excluded: not recovered
	}
	for _, v := range verdicts {
		o := tasktest.NewOutputs(task.Item{"mechanism": v.gen, "sim_seed": v.seed})
		ne := v.gen != "none" || v.winner == "lowrank"
		b, _ := json.Marshal(map[string]any{"selection": map[string]any{"winner": v.winner, "indistinguishable": v.indist, "ne_effect_significant": ne}})
		o.Files["summary.json"] = b
		ctx.AddInput("select", o)
	}
	if err := Run(ctx); err != nil {
		t.Fatal(err)
	}
	var s struct {
		Recovery struct {
			Rate    map[string]float64        `json:"recovery_rate"`
			Winners map[string]map[string]int `json:"winners"`
		} `json:"recovery"`
	}
	if err := json.Unmarshal(ctx.Out.Files["summary.json"], &s); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(s.Recovery.Rate["postgain"], s.Recovery.Rate["none"]); got != "0.6666666666666666 0.75" {
		t.Errorf("recovery rates postgain, none = %s, want 2/3 and 3/4", got)
	}
	if s.Recovery.Winners["postgain"]["pregain"] != 1 || s.Recovery.Winners["none"]["none"] != 2 {
		t.Errorf("winner counts %v", s.Recovery.Winners)
	}
	if out := os.Getenv("NMDYN_FIGURE_OUT"); out != "" {
		_ = os.WriteFile(out, ctx.Out.Files["recovery_confusion.png"], 0o644)
	}
	if len(ctx.Out.Files["recovery_confusion.svg"]) == 0 || len(ctx.Out.Files["recovery_confusion.png"]) == 0 {
		t.Error("no figure")
	}
	// The MANIFEST `run verify` reads: the table, the SVG and summary.json with
	// their SHA-256, not the PNG.
	entries, err := figures.ParseManifest(ctx.Out.Files[plotting.ManifestName])
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name)
		h := sha256.Sum256(ctx.Out.Files[e.Name])
		if e.SHA256 != hex.EncodeToString(h[:]) {
			t.Errorf("MANIFEST hash of %s does not match the file", e.Name)
		}
	}
	if got := fmt.Sprint(names); got != "[recovery_confusion.csv recovery_confusion.svg summary.json]" {
		t.Errorf("MANIFEST lists %s", got)
	}
}
