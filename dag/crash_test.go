package dag

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/afero"

	"nmdyn/cache"
	"nmdyn/stages/table"
	"nmdyn/stages/task"
)

// crashYAML: a and c are quick; b streams a large table slowly; d reads b.
const crashYAML = `
params: {}
stages:
  - {name: a, run: a}
  - {name: c, run: c}
  - {name: b, run: b, inputs: [a]}
  - {name: d, run: d, inputs: [b]}
`

// bigRows is b's output size: more than two row groups (table.RowGroupRows), so
// bytes reach the temp file long before the object is complete.
const bigRows = 2*table.RowGroupRows + 12345

func crashRegistry(c *counts, slow bool, marker string) map[string]task.Func {
	return map[string]task.Func{
		"a": fake(c, "a"),
		"c": fake(c, "c"),
		"b": func(ctx task.Context) error {
			w, err := ctx.CreateTable("big")
			if err != nil {
				return err
			}
			const chunk = 1 << 18
			for lo := 0; lo < bigRows; lo += chunk {
				n := min(chunk, bigRows-lo)
				v := make([]float64, n)
				for i := range v {
					v[i] = float64(lo + i)
				}
				if err := w.Write(table.New().AddFloat("x", v)); err != nil {
					return err
				}
				if slow && lo >= table.RowGroupRows {
					// A row group is on disk in the temp file: let the parent know.
					os.WriteFile(marker, nil, 0o644)
					time.Sleep(50 * time.Millisecond)
				}
			}
			c.add("b")
			return w.Close()
		},
		"d": func(ctx task.Context) error {
			in, err := ctx.Input("b")
			if err != nil {
				return err
			}
			rows := 0
			var last float64
			err = in.ScanTable("big", []string{"x"}, func(ch *table.Table) error {
				x, _ := ch.Float("x")
				rows += len(x)
				last = x[len(x)-1]
				return nil
			})
			if err != nil {
				return err
			}
			if rows != bigRows || last != bigRows-1 {
				return fmt.Errorf("read %d rows ending with %v, want %d ending with %d", rows, last, bigRows, bigRows-1)
			}
			c.add("d")
			return ctx.WriteTable("out", table.New().AddInt("rows", []int64{int64(rows)}))
		},
	}
}

// TestCrashSafety kills a run (SIGKILL) while a task streams a large output, then
// reruns: no partial object is ever visible under an object name, the killed task
// reruns, the tasks finished before the kill are reused.
func TestCrashSafety(t *testing.T) {
	if dir := os.Getenv("NMDYN_DAG_CRASH_CHILD"); dir != "" {
		crashChild(t, dir)
		return
	}
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	dir := t.TempDir()
	marker := filepath.Join(dir, "writing")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashSafety$", "-test.count=1")
	cmd.Env = append(os.Environ(), "NMDYN_DAG_CRASH_CHILD="+dir)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(marker); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("child never reached the slow write:\n%s", out)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	store, err := cache.Open(afero.NewOsFs(), filepath.Join(dir, ".nmdyn"))
	if err != nil {
		t.Fatal(err)
	}
	// The kill left a partial temp file (the test did test something) and no
	// object whose bytes do not match its name.
	var temps, objects int
	filepath.Walk(filepath.Join(dir, ".nmdyn", "objects"), func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		if strings.HasPrefix(info.Name(), ".tmp-") {
			if info.Size() > 0 {
				temps++
			}
			return nil
		}
		objects++
		if _, err := store.ReadObject(cache.Object{Hash: info.Name(), Size: info.Size()}); err != nil {
			t.Errorf("object after the kill: %v", err)
		}
		return nil
	})
	if temps == 0 {
		t.Fatalf("no partial temp file after the kill: the child was not killed mid-write\n%s", out)
	}
	if objects < 2 {
		t.Errorf("%d objects: a and c should have been committed before b", objects)
	}

	// Rerun in process: a and c from the cache, b and d run.
	var c counts
	te := &testEngine{Engine: crashEngine(t, dir, crashRegistry(&c, false, marker), store)}
	s := te.run(t, RunOptions{})
	if s.Cached != 2 || s.Ran != 2 || c.get("b") != 1 || c.get("d") != 1 || c.get("a") != 0 {
		t.Errorf("rerun: %+v, counts %v", s, c.n)
	}
	// gc (under the lock, as `run gc`) removes the leftover temp file.
	p := te.plan(t)
	keep := map[string]bool{}
	for _, task := range p.Tasks {
		keep[task.Key] = true
	}
	st, err := store.GC(keep, nil)
	if err != nil || st.Temps < 1 {
		t.Errorf("gc: %+v %v", st, err)
	}
}

func crashEngine(t *testing.T, dir string, reg map[string]task.Func, store *cache.Store) *Engine {
	file := filepath.Join(dir, "pipeline.yaml")
	if _, err := os.Stat(file); err != nil {
		os.WriteFile(file, []byte(crashYAML), 0o644)
	}
	pl, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	return &Engine{Pipeline: pl, Registry: reg, Store: store,
		Code: func(run string, fn task.Func) (string, error) { return "v1-" + run, nil }}
}

// crashChild runs the pipeline with a slow b, one task at a time (a, c, then b),
// until the parent kills it.
func crashChild(t *testing.T, dir string) {
	store, err := cache.Open(afero.NewOsFs(), filepath.Join(dir, ".nmdyn"))
	if err != nil {
		t.Fatal(err)
	}
	var c counts
	e := crashEngine(t, dir, crashRegistry(&c, true, filepath.Join(dir, "writing")), store)
	p, err := e.Plan()
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Run(context.Background(), p, RunOptions{Executor: &LocalExecutor{Jobs: 1}})
	t.Fatalf("the child run ended (%v) before being killed", err)
}

// A flipped byte in a cached object is detected when a task reads it, reported
// (naming the object and the task), and the task owning it is recomputed.
func TestCorruptedObjectRecomputed(t *testing.T) {
	var c counts
	te := newTestEngine(t, chainYAML, chainRegistry(&c))
	te.run(t, RunOptions{})
	p := te.plan(t)
	a := p.StageTasks("a")[0]
	m, _ := te.Store.ReadManifest(a.Key)
	o := m.Outputs[0]
	flip(t, te.Store.ObjectPath(o.Hash), 10)

	te2 := te.with(t)
	s := te2.run(t, RunOptions{Targets: []string{"b"}, Force: true})
	if s.Recovered != 1 || c.get("a") != 2 || c.get("b") != 2 {
		t.Fatalf("summary %+v, counts %v", s, c.n)
	}
	var warned string
	for _, ev := range te2.log.Events {
		if ev.Kind == EventWarn {
			warned = ev.Note
		}
	}
	if !strings.Contains(warned, o.Hash) || !strings.Contains(warned, "input a") || !strings.Contains(warned, "recomputing a") {
		t.Errorf("warning %q does not name the object and the task", warned)
	}
	// The recomputed object is intact and b's output is what it was.
	if _, err := te.Store.ReadObject(o.Object); err != nil {
		t.Error(err)
	}
	// A damaged manifest is treated the same way.
	mpath := te.Store.ManifestPath(a.Key)
	flip(t, mpath, 20)
	s = te.with(t).run(t, RunOptions{Targets: []string{"b"}, Force: true})
	if s.Recovered != 1 || c.get("a") != 3 {
		t.Fatalf("damaged manifest: %+v, counts %v", s, c.n)
	}
	// A stage that hides the integrity error (wrapping it with %v) still gets
	// its input recomputed rather than failing or going on with bad data.
	reg := chainRegistry(&c)
	reg["b"] = func(ctx task.Context) error {
		in, _ := ctx.Input("a")
		if _, err := in.Table("out"); err != nil {
			return fmt.Errorf("b could not read: %v", err)
		}
		return ctx.WriteTable("out", table.New().AddInt("n", []int64{1}))
	}
	te3 := te.with(t)
	te3.Registry = reg
	m, _ = te.Store.ReadManifest(a.Key)
	flip(t, te.Store.ObjectPath(m.Outputs[0].Hash), 10)
	s, err := te3.Run(context.Background(), te3.plan(t), RunOptions{Targets: []string{"b"}, Force: true, Executor: &LocalExecutor{Jobs: 1}})
	if err != nil || s.Recovered != 1 {
		t.Fatalf("hidden integrity error: %+v %v", s, err)
	}
}

func flip(t *testing.T, path string, at int64) {
	t.Helper()
	os.Chmod(path, 0o644)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	f.ReadAt(b, at)
	b[0] ^= 0x01
	f.WriteAt(b, at)
}
