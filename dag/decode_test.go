package dag

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/spf13/afero"

	"nmdyn/cache"
	"nmdyn/stages/task"
)

// yamlText must give goccy/go-yaml text that reads back to the same value (as
// canonical text), for awkward strings and floats alike: what a stage's Decode
// sees is what its key was computed from.
func TestYAMLTextRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	strs := []string{"", "a b", "null", "true", "~", "1e3", "0x10", "- x", "a: b", "#c", " lead", "trail ", "quote\"d", "back\\slash",
		"new\nline", "tab\t", "é ü 日本", "{x}", "[1]", "'single'", "%", "@", "`", "*alias", "&anchor", "!tag", "|", ">", "?"}
	var gen func(depth int) any
	gen = func(depth int) any {
		k := rng.IntN(9)
		if depth > 3 {
			k = rng.IntN(6)
		}
		switch k {
		case 0:
			return nil
		case 1:
			return rng.IntN(2) == 0
		case 2:
			return []int64{0, 1, -1, math.MaxInt64, math.MinInt64, 50}[rng.IntN(6)]
		case 3:
			return []float64{0.1, 1e-7, 1e21, 50, -2.5, 0.30000000000000004, math.Inf(1), math.Inf(-1), 5e-324, math.MaxFloat64, 123456789.123456789}[rng.IntN(11)]
		case 4:
			return math.Float64frombits(rng.Uint64()) // anything, NaN included
		case 5:
			return strs[rng.IntN(len(strs))]
		case 6, 7:
			n := rng.IntN(4)
			l := make([]any, n)
			for i := range l {
				l[i] = gen(depth + 1)
			}
			return l
		}
		m := map[string]any{}
		for i := rng.IntN(4); i > 0; i-- {
			m[strs[rng.IntN(len(strs))]] = gen(depth + 1)
		}
		return m
	}
	for i := 0; i < 2000; i++ {
		v := map[string]any{"g": gen(0)}
		text := yamlText(v)
		var back any
		if err := yaml.Unmarshal([]byte(text), &back); err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		want, got := cache.MustCanonical(v), cache.MustCanonical(back)
		if want != got {
			t.Fatalf("round trip of\n  %s\nwant %s\ngot  %s", text, want, got)
		}
	}
	// Into typed fields, as stages decode.
	var dst struct {
		Fit struct {
			LR     float64 `yaml:"lr"`
			Epochs int     `yaml:"epochs"`
			Name   string  `yaml:"name"`
		} `yaml:"fit"`
	}
	text := yamlText(map[string]any{"fit": map[string]any{"lr": 1e-7, "epochs": 50.0, "name": "1e3"}})
	if err := yaml.Unmarshal([]byte(text), &dst); err != nil || dst.Fit.LR != 1e-7 || dst.Fit.Epochs != 50 || dst.Fit.Name != "1e3" {
		t.Errorf("typed decode of %s: %+v %v", text, dst, err)
	}
}

func TestItemEncoding(t *testing.T) {
	it := task.Item{"seed": int64(3), "variant": "postgain", "scale": 0.1, "on": true, "f1": 1.0}
	b, _ := json.Marshal(encodeItem(it))
	var fields []ItemField
	json.Unmarshal(b, &fields)
	back, err := decodeItem(fields)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range it {
		if back[k] != v {
			t.Errorf("%s: %#v -> %#v", k, v, back[k])
		}
	}
}

// workerEnv names the job file a re-executed test binary runs as `run exec` would.
const workerEnv = "NMDYN_DAG_WORKER_SPEC"

// TestWorkerProcess is the worker side of TestIsolatedExecutor (skipped
// otherwise).
func TestWorkerProcess(t *testing.T) {
	specPath := os.Getenv(workerEnv)
	if specPath == "" {
		t.Skip("worker process only")
	}
	fs := afero.NewOsFs()
	spec, err := ReadJobSpec(fs, specPath)
	if err != nil {
		t.Fatal(err)
	}
	store, err := cache.Open(fs, spec.CacheRoot)
	if err != nil {
		t.Fatal(err)
	}
	var c counts
	env := JobEnv{Store: store, Registry: chainRegistry(&c), RSSScope: "task",
		Code: func(run string, fn task.Func) (string, error) { return "code-of-" + run, nil }}
	_, err = RunJob(context.Background(), env, spec)
	if werr := WriteJSONAtomic(fs, os.Getenv(workerEnv+"_RESULT"), ResultOf(err)); werr != nil {
		t.Fatal(werr)
	}
}

// Tasks run out of process through job files, as `run exec` runs them under
// Slurm, commit to the same cache; a worker built from other code refuses.
func TestIsolatedExecutor(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	var c counts
	te := newTestEngine(t, chainYAML, chainRegistry(&c))
	ex := &LocalExecutor{Jobs: 2, Command: func(spec, result string) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestWorkerProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), workerEnv+"="+spec, workerEnv+"_RESULT="+result)
		return cmd
	}}
	s := te.run(t, RunOptions{Executor: ex})
	if s.Ran != 5 || c.total() != 0 {
		t.Fatalf("isolated run: %+v (in-process counts %v)", s, c.n)
	}
	p := te.plan(t)
	m, _ := te.Store.ReadManifest(p.StageTasks("d")[0].Key)
	if m.Provenance.PeakRSSScope != "task" || m.Provenance.PID == os.Getpid() {
		t.Errorf("provenance %+v", m.Provenance)
	}
	// The same outputs as in process.
	want := "dmap[] params=map[] <amap[] params=map[a:map[x:1]]> <cmap[] params=map[c:map[z:text]] <bmap[] params=map[b:map[y:2.5]] <amap[] params=map[a:map[x:1]]>>>"
	if got := outputV(t, te, p.StageTasks("d")[0]); got != want {
		t.Errorf("d = %s", got)
	}
	// Code mismatch between controller and worker.
	te.codes["e"] = "-edited"
	_, err := te.Run(context.Background(), te.plan(t), RunOptions{Executor: ex})
	if err == nil || !strings.Contains(err.Error(), "differs from the controller's") {
		t.Errorf("code mismatch: %v", err)
	}
	// No job files are left behind.
	if ents, _ := os.ReadDir(filepath.Join(te.dir, ".nmdyn", "jobs")); len(ents) != 0 {
		t.Errorf("job files left: %d", len(ents))
	}
}

// Decode fills what params give and leaves other fields (defaults) alone; the
// item is typed as written.
func TestDecodeDefaults(t *testing.T) {
	yaml := `
params:
  fit: {epochs: 50, lr: 1e-3, seeds: [7]}
stages:
  - {name: fit, run: fit, params: [fit], foreach: {seed: '${fit.seeds}', variant: [none]}}
`
	type settings struct {
		Epochs   int     `yaml:"epochs"`
		LR       float64 `yaml:"lr"`
		Patience int     `yaml:"patience"`
		Seeds    []int   `yaml:"seeds"`
	}
	var got struct {
		Fit  settings `yaml:"fit"`
		Item struct {
			Seed    int64  `yaml:"seed"`
			Variant string `yaml:"variant"`
		} `yaml:"item"`
	}
	var item task.Item
	reg := map[string]task.Func{"fit": func(ctx task.Context) error {
		got.Fit = settings{Epochs: 200, LR: 0.01, Patience: 30}
		item = ctx.Item()
		return ctx.Decode(&got)
	}}
	te := newTestEngine(t, yaml, reg)
	te.run(t, RunOptions{})
	want := settings{Epochs: 50, LR: 1e-3, Patience: 30} // seeds: consumed by the fan-out, not given
	if fmt.Sprint(got.Fit) != fmt.Sprint(want) || got.Item.Seed != 7 || got.Item.Variant != "none" {
		t.Errorf("decoded %+v, item %+v", got.Fit, got.Item)
	}
	if v, ok := item["seed"].(int64); !ok || v != 7 {
		t.Errorf("Item()[seed] = %#v", item["seed"])
	}
}
