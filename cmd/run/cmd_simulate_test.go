package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"nmdyn/stages/recording"
)

// TestRunSimulate writes a short postgain session and checks the folder, the
// summary and that the importer reads it.
func TestRunSimulate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s1")
	var out bytes.Buffer
	o := &simulateOptions{mechanism: "postgain", out: dir, neurons: 40, minutes: 0.5, seed: 2, stdout: &out}
	if err := runSimulate(context.Background(), o, nil); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	t.Log("\n" + text)
	// The default postgain design has its line attractor over [0.25, 0.75] of
	// the 21-level grid (see stages/groundtruth TestDefaultDesignRegimes).
	for _, want := range []string{"sim-postgain-seed2", "mechanism        postgain, seed 2", "units            40, all labelled good (population 1: 20, population 2: 20)",
		"duration         30 s (600 bins of 50 ms)", "line attractor   NE range [0.25, 0.75]", "SSSSSLLLLLLLLLLLSSSSS"} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	s, err := recording.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Units) != 40 || s.EndSeconds != 30 || s.Photometry == nil || s.Photometry.Control == nil || len(s.Events) == 0 {
		t.Errorf("imported %d units, end %v s, photometry %v, %d events", len(s.Units), s.EndSeconds, s.Photometry != nil, len(s.Events))
	}
	var tr struct {
		Mechanism string    `json:"mechanism"`
		Range     []float64 `json:"line_attractor_ne_range"`
	}
	js, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, &tr); err != nil || tr.Mechanism != "postgain" || len(tr.Range) != 2 {
		t.Errorf("truth.json: %+v, %v", tr, err)
	}

	// The folder now holds files: a second run refuses without --force.
	err = runSimulate(context.Background(), &simulateOptions{mechanism: "none", out: dir, minutes: 0.5, stdout: &out}, nil)
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--force") {
		t.Errorf("non-empty folder: %v, want a usage error naming --force", err)
	}
	out.Reset()
	if err := runSimulate(context.Background(), &simulateOptions{mechanism: "none", out: dir, neurons: 20, minutes: 0.5, force: true, stdout: &out}, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "line attractor   NE range none") {
		t.Errorf("mechanism none: summary\n%s\nwants no line-attractor range", out.String())
	}
}

// TestRunSimulateConfig: --config sets the session, flags given override it, and
// bad settings are usage errors that name the problem.
func TestRunSimulateConfig(t *testing.T) {
	tmp := t.TempDir()
	cfg := filepath.Join(tmp, "simulate.yaml")
	if err := os.WriteFile(cfg, []byte("mechanism: additive\nneurons: 30\nminutes: 0.25\nseed: 9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	o := &simulateOptions{config: cfg, out: filepath.Join(tmp, "a"), stdout: &out}
	if err := runSimulate(context.Background(), o, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "mechanism        additive, seed 9") || !strings.Contains(out.String(), "units            30,") {
		t.Errorf("config not applied:\n%s", out.String())
	}
	out.Reset()
	o = &simulateOptions{config: cfg, mechanism: "lowrank", seed: 3, out: filepath.Join(tmp, "b"), stdout: &out}
	if err := runSimulate(context.Background(), o, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "mechanism        lowrank, seed 3") || !strings.Contains(out.String(), "units            30,") {
		t.Errorf("flags did not override the config:\n%s", out.String())
	}
	for _, c := range []struct {
		o    simulateOptions
		want string
	}{
		{simulateOptions{mechanism: "gain", out: filepath.Join(tmp, "c")}, `unknown variant "gain"`},
		{simulateOptions{mechanism: "none"}, "--out DIR is required"},
		{simulateOptions{mechanism: "none", neurons: 4, out: filepath.Join(tmp, "d")}, "population 1 would have 2 neurons"},
	} {
		o := c.o
		o.stdout = &out
		err := runSimulate(context.Background(), &o, nil)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want a usage error containing %q", c.o, err, c.want)
		}
	}
	if err := runSimulate(context.Background(), &simulateOptions{config: filepath.Join(tmp, "missing.yaml"), out: filepath.Join(tmp, "e"), stdout: &out}, nil); err == nil {
		t.Error("missing config: no error")
	}
}
