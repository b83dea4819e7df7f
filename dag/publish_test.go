package dag

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"nmdyn/stages/task"
)

const publishYAML = `
params:
  fig: {n: 2}
stages:
  - {name: data, run: data}
  - {name: figures, run: figures, inputs: [data], params: [fig], publish: out/figures}
`

// figuresStage writes n svg files, a table and a MANIFEST, as the real figures
// stage does.
func figuresStage(c *counts) task.Func {
	return func(ctx task.Context) error {
		var p struct {
			Fig struct{ N int } `yaml:"fig"`
		}
		if err := ctx.Decode(&p); err != nil {
			return err
		}
		var manifest strings.Builder
		for i := 0; i < p.Fig.N; i++ {
			name := "fig" + string(rune('a'+i)) + ".svg"
			data := []byte("<svg>" + name + "</svg>")
			if err := ctx.WriteFile(name, data); err != nil {
				return err
			}
			manifest.WriteString(sha(data) + "  " + name + "\n")
		}
		if err := ctx.WriteFile("summary.csv", []byte("k,v\nx,0.5\n")); err != nil {
			return err
		}
		manifest.WriteString(sha([]byte("k,v\nx,0.5\n")) + "  summary.csv\n")
		c.add("figures")
		return ctx.WriteFile("MANIFEST", []byte(manifest.String()))
	}
}

func TestPublish(t *testing.T) {
	var c counts
	reg := map[string]task.Func{"data": fake(&c, "data"), "figures": figuresStage(&c)}
	te := newTestEngine(t, publishYAML, reg)
	fig := filepath.Join(te.dir, "out", "figures")
	os.MkdirAll(fig, 0o755)
	os.WriteFile(filepath.Join(fig, "README.txt"), []byte("not published by the engine"), 0o644)

	s := te.run(t, RunOptions{})
	if len(s.Published) != 1 || s.Published[0].Written != 4 {
		t.Fatalf("published %+v", s.Published)
	}
	list, _ := os.ReadFile(filepath.Join(fig, PublishedList))
	if string(list) != "MANIFEST\nfiga.svg\nfigb.svg\nsummary.csv\n" {
		t.Errorf(".published = %q", list)
	}
	// Cached run: nothing rewritten (the files' bytes match).
	st, _ := os.Stat(filepath.Join(fig, "figa.svg"))
	s = te.run(t, RunOptions{})
	if s.Ran != 0 || s.Published[0].Unchanged != 4 || s.Published[0].Written != 0 {
		t.Fatalf("cached run published %+v", s.Published)
	}
	if st2, _ := os.Stat(filepath.Join(fig, "figa.svg")); !st2.ModTime().Equal(st.ModTime()) {
		t.Error("an unchanged file was rewritten")
	}
	// A deleted or edited figure is restored by the next run.
	os.Remove(filepath.Join(fig, "figb.svg"))
	os.WriteFile(filepath.Join(fig, "figa.svg"), []byte("edited"), 0o644)
	s = te.run(t, RunOptions{})
	if s.Published[0].Written != 2 {
		t.Errorf("restore: %+v", s.Published)
	}
	// Fewer outputs: the file no longer produced is removed, the user's file stays.
	s = te.with(t, "fig.n=1").run(t, RunOptions{})
	if s.Published[0].Removed != 1 {
		t.Errorf("shrink: %+v", s.Published)
	}
	if _, err := os.Stat(filepath.Join(fig, "figb.svg")); !os.IsNotExist(err) {
		t.Error("figb.svg, no longer an output, still published")
	}
	if _, err := os.Stat(filepath.Join(fig, "README.txt")); err != nil {
		t.Error("a file the engine did not publish was removed")
	}
	// A damaged object of the publishing task is recomputed, then published.
	p := te.with(t, "fig.n=1").plan(t)
	m, _ := te.Store.ReadManifest(p.StageTasks("figures")[0].Key)
	out, _ := m.Output("figa.svg")
	flip(t, te.Store.ObjectPath(out.Hash), 2)
	os.Remove(filepath.Join(fig, "figa.svg"))
	te2 := te.with(t, "fig.n=1")
	s = te2.run(t, RunOptions{})
	if s.Recovered != 1 || c.get("figures") != 3 {
		t.Errorf("damaged published object: %+v, counts %v", s, c.n)
	}
	if b, _ := os.ReadFile(filepath.Join(fig, "figa.svg")); string(b) != "<svg>figa.svg</svg>" {
		t.Errorf("republished figa.svg = %q", b)
	}
	// So is a vanished one (an object deleted by hand).
	os.Remove(te.Store.ObjectPath(out.Hash))
	os.Remove(filepath.Join(fig, "figa.svg"))
	s = te.with(t, "fig.n=1").run(t, RunOptions{})
	if s.Recovered != 1 || c.get("figures") != 4 {
		t.Errorf("vanished published object: %+v, counts %v", s, c.n)
	}
	if _, err := os.Stat(filepath.Join(fig, "figa.svg")); err != nil {
		t.Error(err)
	}
}

// TestComparePublished checks `run verify`'s comparison on a committed publish
// directory with deliberate faults.
func TestComparePublished(t *testing.T) {
	dir := t.TempDir()
	committed, fresh := filepath.Join(dir, "committed"), filepath.Join(dir, "fresh")
	write := func(base, name, content string) {
		os.MkdirAll(filepath.Dir(filepath.Join(base, name)), 0o755)
		os.WriteFile(filepath.Join(base, name), []byte(content), 0o644)
	}
	files := map[string]string{
		"a.svg":         "<svg>a</svg>",
		"t.csv":         "x,y\n1,0.5\n2,0.25\n",
		"sub/b.svg":     "<svg>b</svg>",
		"summary.json":  `{"k": 1}`,
		"stale.svg":     "<svg>old</svg>",
		"not-regen.svg": "<svg>gone</svg>",
	}
	var manifest []string
	for n, content := range files {
		write(committed, n, content)
		manifest = append(manifest, sha([]byte(content))+"  "+n)
	}
	sort.Strings(manifest)
	write(committed, "MANIFEST", strings.Join(manifest, "\n")+"\n")
	// Somebody edited a committed figure without regenerating MANIFEST.
	write(committed, "stale.svg", "<svg>hand edited</svg>")

	// The regenerated directory: a.svg identical; t.csv within 1e-12 relative
	// (bytes differ); sub/b.svg one byte off; summary.json beyond tolerance is
	// compared as bytes; stale.svg as in MANIFEST; not-regen.svg missing; a new file.
	write(fresh, "a.svg", files["a.svg"])
	write(fresh, "t.csv", "x,y\n1,0.5000000000001\n2,0.25\n")
	write(fresh, "sub/b.svg", "<svg>c</svg>")
	write(fresh, "summary.json", `{"k": 2}`)
	write(fresh, "stale.svg", files["stale.svg"])
	write(fresh, "new.svg", "<svg>new</svg>")
	write(fresh, "MANIFEST", sha([]byte("<svg>new</svg>"))+"  new.svg\n"+strings.Join(manifest, "\n")+"\n")

	diffs, err := ComparePublished(osFs(), committed, fresh, 1e-9)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(diffs, "\n")
	t.Log("\n" + got)
	for _, want := range []string{
		"not-regen.svg: not regenerated",
		"stale.svg: the committed file does not match its MANIFEST line",
		"sub/b.svg: bytes differ",
		"summary.json: bytes differ",
		"new.svg: regenerated but not in the committed MANIFEST",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("differences lack %q", want)
		}
	}
	for _, l := range diffs {
		if strings.HasPrefix(l, "a.svg:") || strings.HasPrefix(l, "t.csv:") {
			t.Errorf("reported a matching file: %s", l)
		}
	}
	if len(diffs) != 5 {
		t.Errorf("%d differences, want 5", len(diffs))
	}
	// Beyond the tolerance, the table differs, and says where.
	write(fresh, "t.csv", "x,y\n1,0.51\n2,0.25\n")
	diffs, _ = ComparePublished(osFs(), committed, fresh, 1e-9)
	if got := strings.Join(diffs, "\n"); !strings.Contains(got, `t.csv: column "y": 1 of 2 rows differ`) {
		t.Errorf("table beyond tolerance:\n%s", got)
	}
}
