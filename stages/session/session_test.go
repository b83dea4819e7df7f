package session

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"nmdyn/stages/recording"
	"nmdyn/stages/task/tasktest"
)

func projectRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

func TestSessionStageOnPhyTemplate(t *testing.T) {
	// phy_template (data README): 314 spikes, 62 clusters, only cluster 4 labelled
	// (good), sample_rate 25000 from params.py, no photometry.
	root := projectRoot(t)
	rel := filepath.Join("..", "shared", "data", "real", "phy_template")
	if _, err := os.Stat(filepath.Join(root, rel)); err != nil {
		t.Skipf("real data not found: %v", err)
	}
	ctx := tasktest.New(map[string]any{"data": map[string]any{"session": rel}})
	ctx.Root = root
	if err := Run(ctx); err != nil {
		t.Fatal(err)
	}
	out := ctx.Out
	sp, _ := out.Table("spikes")
	units, _ := out.Table("units")
	ph, _ := out.Table("photometry")
	st, _ := out.Table("session")
	if sp.Len() != 314 || units.Len() != 62 || ph.Len() != 0 || st.Len() != 1 {
		t.Fatalf("rows: spikes %d units %d photometry %d session %d", sp.Len(), units.Len(), ph.Len(), st.Len())
	}
	times, _ := sp.Float("time")
	for i := 1; i < len(times); i++ {
		if times[i] < times[i-1] {
			t.Fatalf("spikes not in time order at row %d", i)
		}
	}
	labels, _ := units.String("label")
	good := 0
	for _, l := range labels {
		if l == "good" {
			good++
		}
	}
	notes, _ := st.String("notes")
	block, _ := st.Float("block_s")
	keep, _ := st.String("keep")
	if good != 1 || !math.IsNaN(block[0]) || keep[0] != "good" || !strings.Contains(notes[0], "no photometry found") {
		t.Errorf("good %d block_s %v keep %q notes %q", good, block, keep, notes)
	}
}

func TestWriteMemorySession(t *testing.T) {
	// A session built in memory (as the ground-truth generator builds one) goes
	// through recording.Check and Write: counts filled, events sorted and cut.
	s := &recording.Session{
		ID:     "mem",
		Units:  []recording.Unit{{ID: 1, Label: "good"}, {ID: 2, Label: "good"}},
		Spikes: &recording.MemorySpikes{Units: []int64{1, 2, 1}, Times: []float64{0.1, 0.2, 3.9}, ChunkSize: 2},
		Photometry: &recording.Photometry{Time: []float64{0, 1, 2, 3, 4}, Signal: []float64{1, 1, 1, 1, 1},
			Control: []float64{2, 2, 2, 2, 2}, Source: "memory", SignalName: "470", ControlName: "415"},
		Events:       []recording.Event{{Time: 3, Label: "b"}, {Time: 1, Label: "a"}, {Time: 9, Label: "late"}},
		StartSeconds: 0, EndSeconds: 4,
	}
	if err := recording.Check(s); err != nil {
		t.Fatal(err)
	}
	ctx := tasktest.New(nil)
	if err := Write(ctx, s); err != nil {
		t.Fatal(err)
	}
	units, _ := ctx.Out.Table("units")
	spikes, _ := units.Int("spikes")
	ev, _ := ctx.Out.Table("events")
	labels, _ := ev.String("label")
	ph, _ := ctx.Out.Table("photometry")
	st, _ := ctx.Out.Table("session")
	end, _ := st.Float("end_s")
	if spikes[0] != 2 || spikes[1] != 1 || strings.Join(labels, ",") != "a,b" || !ph.Has("control") || end[0] != 4 {
		t.Errorf("spikes %v events %v photometry %v end %v", spikes, labels, ph.Names(), end)
	}
}

func TestSimulatedSession(t *testing.T) {
	// A folder with simulate.yaml is generated, not imported: the session tables
	// plus the generator's truth tables and truth.json, as it gives them.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, SimulateFile), []byte("mechanism: postgain\nneurons: 20\nminutes: 2\nseed: 3\n"), 0o644)
	ctx := tasktest.New(map[string]any{"data": map[string]any{"session": dir}})
	if err := Run(ctx); err != nil {
		t.Fatal(err)
	}
	units, _ := ctx.Out.Table("units")
	ph, _ := ctx.Out.Table("photometry")
	st, _ := ctx.Out.Table("session")
	end, _ := st.Float("end_s")
	if units.Len() != 20 || !ph.Has("control") || end[0] != 120 {
		t.Errorf("units %d photometry %v end %v", units.Len(), ph.Names(), end)
	}
	if len(ctx.Out.Files["truth.json"]) == 0 {
		t.Error("no truth.json")
	}
	names := ctx.Out.Names()
	t.Log(names)
	if len(ctx.Out.Tables) <= 5 {
		t.Errorf("outputs %v: no truth tables", names)
	}
	// A bad simulate.yaml: the generator's error, naming the file.
	os.WriteFile(filepath.Join(dir, SimulateFile), []byte("mechanism: postgain\nneuronz: 20\n"), 0o644)
	err := Run(tasktest.New(map[string]any{"data": map[string]any{"session": dir}}))
	if err == nil || !strings.Contains(err.Error(), "simulate.yaml") {
		t.Errorf("error %v", err)
	}
}
