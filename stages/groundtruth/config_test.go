package groundtruth

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseConfigOverDefaults: absent keys keep their defaults, also inside a
// nested section that is partly given.
func TestParseConfigOverDefaults(t *testing.T) {
	c, err := ParseConfig("simulate.yaml", []byte("mechanism: lowrank\nnoise:\n  private: 0.3\n"))
	if err != nil {
		t.Fatal(err)
	}
	d := Defaults()
	if c.Mechanism != "lowrank" || c.Noise.Private != 0.3 {
		t.Errorf("given keys: mechanism %q private %v, want lowrank 0.3", c.Mechanism, c.Noise.Private)
	}
	if c.Noise.SharedSlow != d.Noise.SharedSlow || c.Neurons != d.Neurons || len(c.Events.Labels) != 2 {
		t.Errorf("absent keys lost their defaults: shared_slow %v neurons %d labels %v", c.Noise.SharedSlow, c.Neurons, c.Events.Labels)
	}
	empty, err := ParseConfig("simulate.yaml", []byte("# nothing\n"))
	if err != nil || empty.Neurons != d.Neurons || empty.Mechanism != d.Mechanism {
		t.Errorf("empty file: %+v, %v; want the defaults", empty, err)
	}
}

// TestLoadConfigErrors: each bad file gets an error naming the file, the place
// (line:column) and the problem.
func TestLoadConfigErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, yaml, want string
	}{
		{"unknown key", "neuronz: 3\n", `[1:1] unknown field "neuronz"`},
		{"unknown nested key", "mechanism: postgain\nnoise:\n  privat: 1\n", `[3:3] unknown field "privat"`},
		{"wrong type", "neurons: many\n", "[1:10] cannot unmarshal"},
		{"unknown mechanism", "seed: 2\nmechanism: foo\n", `[2:12] mechanism: unknown variant "foo"`},
		{"fractions", "populations: [0.3, 0.3]\n", "[1:14] populations = [0.3 0.3]: want two positive fractions summing to 1"},
		{"bistable peak", "network:\n  peak_coupling: 1.0\n", "[2:18] network.peak_coupling = 1: want < 1"},
		{"negative minutes", "minutes: -1\n", "[1:10] minutes = -1: want a positive number"},
		{"too few neurons", "neurons: 8\n", "population 1 would have 4 neurons"},
		{"duplicate label", "events:\n  labels: [a, a]\n", `events.labels: "a" appears twice`},
		{"bleach", "photometry:\n  signal_bleach: [0.6, 10, 0.6, 100]\n", "photometry.signal_bleach = [0.6 10 0.6 100]"},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".yaml")
		if err := os.WriteFile(path, []byte(c.yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadConfig(path)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q, want %q after the file name", c.name, err, c.want)
		}
	}
	if _, err := LoadConfig(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("missing file: no error")
	}
}

// TestDefaultSessionFile: data/default/simulate.yaml (the session of `run all`)
// parses strictly and is the default config, so the file documents the defaults.
func TestDefaultSessionFile(t *testing.T) {
	c, err := LoadConfig(filepath.Join("..", "..", "data", "default", "simulate.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(Defaults())
	got, _ := json.Marshal(c)
	if string(got) != string(want) {
		t.Errorf("data/default/simulate.yaml differs from Defaults():\n got %s\nwant %s", got, want)
	}
}
