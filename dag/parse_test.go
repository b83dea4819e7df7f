package dag

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The positions below are line:column of the offending token in each snippet,
// counted by hand (lines from 1, columns from 1).
func TestParseErrors(t *testing.T) {
	const head = "params:\n  fit:\n    seeds: [1, 2]\n    epochs: 200\n  empty: []\n  n: 3\nstages:\n"
	// head is 7 lines; a snippet's first line is line 8.
	for _, c := range []struct {
		name, yaml, want string
	}{
		{"cycle", head + "  - {name: a, run: x, inputs: [c]}\n  - {name: b, run: x, inputs: [a]}\n  - {name: c, run: x, inputs: [b]}\n",
			"p.yaml:9:32: cycle: a -> c -> b -> a (each stage reads the next)"},
		{"unknown stage key", head + "  - name: a\n    run: x\n    imputs: [b]\n",
			`p.yaml:10:5: unknown key "imputs" in a stage (did you mean "inputs"?)`},
		{"unknown top-level key", "parms: {}\n" + head[len("params:\n  fit:\n    seeds: [1, 2]\n    epochs: 200\n  empty: []\n  n: 3\n"):] + "  - {name: a, run: x}\n",
			`p.yaml:1:1: unknown key "parms" in the pipeline file (did you mean "params"?)`},
		{"duplicate name", head + "  - {name: a, run: x}\n  - {name: a, run: y}\n",
			`p.yaml:9:12: duplicate stage name "a" (first at p.yaml:8:12)`},
		{"missing input", head + "  - {name: a, run: x, inputs: [preproces]}\n  - {name: preprocess, run: x}\n",
			`p.yaml:8:32: stage "a": input "preproces" is not a stage (did you mean "preprocess"?)`},
		{"self input", head + "  - {name: a, run: x, inputs: [a]}\n",
			`p.yaml:8:32: stage "a" lists itself as an input`},
		{"foreach empty list", head + "  - name: a\n    run: x\n    foreach: {seed: []}\n",
			"p.yaml:10:21: foreach seed: empty list"},
		{"foreach bad reference", head + "  - name: a\n    run: x\n    foreach: {seed: '${fit.sedes}'}\n",
			`p.yaml:10:21: stage "a": foreach seed: unknown param "fit.sedes" (did you mean "fit.seeds"?)`},
		{"foreach reference to a non-list", head + "  - name: a\n    run: x\n    foreach: {seed: '${fit.epochs}'}\n",
			`p.yaml:10:21: stage "a": foreach seed: ${fit.epochs} (p.yaml:4:13) is 200, not a list`},
		{"foreach reference to an empty list", head + "  - name: a\n    run: x\n    foreach: {seed: '${empty}'}\n",
			"is an empty list"},
		{"foreach string", head + "  - name: a\n    run: x\n    foreach: {seed: 3}\n",
			"p.yaml:10:21: foreach seed: want a list, found a number"},
		{"foreach not a reference", head + "  - name: a\n    run: x\n    foreach: {seed: fit.seeds}\n",
			`p.yaml:10:21: foreach seed: want a list of values or a reference ${param.path}`},
		{"foreach duplicate value", head + "  - name: a\n    run: x\n    foreach: {seed: [1, 2, 1]}\n",
			"p.yaml:10:28: foreach seed: value 1 twice (first at p.yaml:10:22)"},
		{"foreach nested value", head + "  - name: a\n    run: x\n    foreach: {seed: [[1]]}\n",
			"a fan-out value must be a string, number or boolean"},
		{"foreach empty mapping", head + "  - name: a\n    run: x\n    foreach: {}\n",
			`p.yaml:10:14: stage "a": empty foreach`},
		{"unknown param", head + "  - {name: a, run: x, params: [fit.epoch]}\n",
			`p.yaml:8:32: stage "a": params: unknown param "fit.epoch" (did you mean "fit.epochs"?)`},
		{"files not a path", head + "  - {name: a, run: x, files: [n]}\n",
			`stage "a": files: param n is not a path`},
		{"publish with foreach", head + "  - {name: a, run: x, foreach: {s: [1]}, publish: figures}\n",
			"publish needs a stage without foreach"},
		{"publish outside", head + "  - {name: a, run: x, publish: ../x}\n",
			"must stay inside the project"},
		{"no run", head + "  - {name: a}\n", `p.yaml:8:12: stage "a": no ` + "`run:`"},
		{"bad name", head + "  - {name: 'a b', run: x}\n", `stage name "a b"`},
		{"duplicate key", head + "  - name: a\n    run: x\n    run: y\n", "p.yaml:10:5"},
		{"yaml syntax", head + "  - {name: a, run: [x\n", "p.yaml:"},
		{"anchor", "params:\n  a: &x 1\n  b: *x\nstages:\n  - {name: a, run: x}\n", "p.yaml:2:6: YAML anchors"},
		{"reserved group", "params:\n  item: {}\nstages:\n  - {name: a, run: x}\n", `param group name "item" is reserved`},
		{"dotted param name", "params:\n  a.b: 1\nstages:\n  - {name: a, run: x}\n", `p.yaml:2:3: param name "a.b"`},
		{"no stages", "params: {}\n", "no stages"},
		{"empty", "", "empty pipeline"},
		{"stages not a list", "stages: {a: 1}\n", "p.yaml:1:9: stages: want a list, found a mapping"},
		{"inputs not a list", head + "  - {name: a, run: x, inputs: b}\n", "inputs: want a list, found a string"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(c.yaml))
			if err == nil {
				t.Fatalf("no error; want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error\n  %v\nwant it to contain\n  %s", err, c.want)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Errorf("error %T is not a positioned *dag.Error", err)
			}
		})
	}
}

func TestParseProjectPipeline(t *testing.T) {
	// The study's own pipeline.yaml parses (whatever stages it lists).
	root := findRoot(t)
	p, err := Load(filepath.Join(root, "pipeline.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Stages) == 0 || p.Stage("fit") == nil {
		t.Fatalf("stages %v", p.StageNames())
	}
	// Topological order: every stage after its inputs.
	seen := map[string]bool{}
	for _, s := range p.Order() {
		for _, u := range s.InputStages() {
			if !seen[u.Name] {
				t.Errorf("%s before its input %s", s.Name, u.Name)
			}
		}
		seen[s.Name] = true
	}
}

func TestParseValues(t *testing.T) {
	p, err := Parse("p.yaml", []byte(`
params:
  g:
    int: 50
    float: 50.0
    exp: 1e-3          # YAML 1.2 float, which goccy/go-yaml alone reads as a string
    quoted: "1e-3"     # a string
    list: [1, two, 3.5]
    nested: {a: {b: true}}
    nothing:
stages:
  - {name: a, run: x, params: [g]}
`))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]any{"g.int": int64(50), "g.float": 50.0, "g.exp": 1e-3, "g.quoted": "1e-3", "g.nested.a.b": true, "g.nothing": nil} {
		if v, ok := p.Params.Lookup(path); !ok || v != want {
			t.Errorf("%s = %#v (%v), want %#v", path, v, ok, want)
		}
	}
	if p.Params.Pos("g.exp").Line != 6 {
		t.Errorf("position of g.exp: %v", p.Params.Pos("g.exp"))
	}
}

func TestSetParams(t *testing.T) {
	p, err := Parse("p.yaml", []byte("params:\n  fit: {epochs: 200, seeds: [1]}\nstages:\n  - {name: a, run: x}\n"))
	if err != nil {
		t.Fatal(err)
	}
	q := p.Params.Clone()
	for _, c := range []struct{ kv, path, want string }{
		{"fit.epochs=50", "fit.epochs", "50"},
		{"fit.seeds=[1, 2, 3]", "fit.seeds", "[1,2,3]"},
		{"fit.epochs=1e-3", "fit.epochs", "0.001"},
		{"fit.epochs=abc", "fit.epochs", `"abc"`},
	} {
		k, v, _ := strings.Cut(c.kv, "=")
		val, err := ParseValue(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Set(k, val); err != nil {
			t.Fatal(err)
		}
		got, _ := q.Lookup(c.path)
		if s := canon(got); s != c.want {
			t.Errorf("--set %s: %s = %s, want %s", c.kv, c.path, s, c.want)
		}
	}
	if v, _ := p.Params.Lookup("fit.epochs"); v != int64(200) {
		t.Errorf("Clone shares state: original now %v", v)
	}
	if err := q.Set("fit.epoch", int64(1)); err == nil || !strings.Contains(err.Error(), `did you mean "fit.epochs"`) {
		t.Errorf("unknown param: %v", err)
	}
	if err := q.Set("fit.epochs.x", int64(1)); err == nil {
		t.Error("set below a scalar: no error")
	}
}

// findRoot walks up to the directory holding go.mod.
func findRoot(t *testing.T) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}
