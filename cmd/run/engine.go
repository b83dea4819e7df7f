package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/afero"

	"nmdyn"
	"nmdyn/cache"
	"nmdyn/dag"
	"nmdyn/stages"
	"nmdyn/stages/task"
)

// registry gives the pipeline's Go stages; tests swap in fake ones.
var registry = stages.Registry

// codeIdentity builds the function giving a stage's code identity: the hash of
// the embedded source of the package defining it (see dag.CodeIndex). Tests swap
// it, since their fake stages live outside the embedded source.
var codeIdentity = func() (func(run string, fn task.Func) (string, error), error) {
	idx, err := dag.NewCodeIndex(nmdyn.Source, runtime.Version())
	if err != nil {
		return nil, err
	}
	return func(_ string, fn task.Func) (string, error) { return idx.Func(fn) }, nil
}

// selfCommand is how this binary runs itself as a worker (`run exec`); tests
// swap it to re-execute the test binary.
var selfCommand = func(args ...string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return exec.Command(exe, args...)
}

// project is an opened pipeline with its params and cache.
type project struct {
	pipeline *dag.Pipeline
	params   *dag.Params
	store    *cache.Store
	engine   *dag.Engine
}

// findPipeline returns the pipeline file: --pipeline, or pipeline.yaml in the
// working directory or the nearest parent holding one.
func findPipeline(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "pipeline.yaml")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", usageError{errors.New("no pipeline.yaml in this directory or any parent (use --pipeline FILE)")}
		}
		dir = parent
	}
}

// cacheDir is --cache, else $NMDYN_CACHE, else .nmdyn/ beside the pipeline file.
func cacheDir(g *globalOptions, pl *dag.Pipeline) string {
	switch {
	case g.cacheDir != "":
		return g.cacheDir
	case os.Getenv("NMDYN_CACHE") != "":
		return os.Getenv("NMDYN_CACHE")
	}
	return filepath.Join(pl.Dir, ".nmdyn")
}

// openProject loads the pipeline, applies --set and opens the cache. Writers
// create the cache; readers (status, why, outputs, dag) never write one into
// place: without a cache they see an empty one.
func openProject(g *globalOptions, writer bool) (*project, error) {
	file, err := findPipeline(g.pipeline)
	if err != nil {
		return nil, err
	}
	pl, err := dag.Load(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, usageError{err}
		}
		return nil, err
	}
	params := pl.Params.Clone()
	for _, kv := range g.sets {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usageError{fmt.Errorf("--set %q: want key=value", kv)}
		}
		val, err := dag.ParseValue(v)
		if err != nil {
			return nil, usageError{fmt.Errorf("--set %s: %v", kv, err)}
		}
		if err := params.Set(k, val); err != nil {
			return nil, usageError{err}
		}
	}
	dir := cacheDir(g, pl)
	var store *cache.Store
	if writer {
		store, err = cache.Open(afero.NewOsFs(), dir)
	} else if store, err = cache.OpenExisting(afero.NewOsFs(), dir); errors.Is(err, fs.ErrNotExist) {
		store, err = cache.Open(afero.NewMemMapFs(), "/no-cache-yet")
	}
	if err != nil {
		return nil, err
	}
	code, err := codeIdentity()
	if err != nil {
		return nil, err
	}
	e := &dag.Engine{Pipeline: pl, Params: params, Registry: registry(), Code: code, Store: store, Version: nmdyn.Version}
	return &project{pipeline: pl, params: params, store: store, engine: e}, nil
}

// lock takes the writers' lock of the cache, waiting if asked (and saying so).
func lock(ctx context.Context, g *globalOptions, store *cache.Store) (*cache.Lock, error) {
	opt := cache.LockOptions{Command: strings.Join(os.Args, " ")}
	l, err := store.Lock(ctx, opt)
	if err == nil || !g.wait || !errors.Is(err, cache.ErrLocked) {
		return l, err
	}
	var le *cache.LockedError
	if errors.As(err, &le) {
		h := le.Holder
		fmt.Fprintf(g.errw(), "waiting for the cache lock held by pid %d on %s since %s (%s)\n", h.PID, h.Host, h.Time.Format("15:04:05"), le.Path)
	}
	opt.Wait = true
	return store.Lock(ctx, opt)
}

// executor builds the executor of a run: in process, or child processes running
// `run exec` with --isolate.
func executor(g *globalOptions, store *cache.Store) dag.Executor {
	ex := &dag.LocalExecutor{Jobs: g.slots()}
	if g.isolate {
		root := store.Root()
		ex.Command = func(spec, result string) *exec.Cmd {
			return selfCommand("exec", "--cache", root, "--result", result, spec)
		}
	}
	return ex
}

// runPipeline is `run all` and `run stage`: lock, plan, run, publish.
func runPipeline(ctx context.Context, g *globalOptions, targets []string, downstream bool) error {
	p, err := openProject(g, true)
	if err != nil {
		return err
	}
	l, err := lock(ctx, g, p.store)
	if err != nil {
		return err
	}
	defer l.Unlock()
	plan, err := p.engine.Plan()
	if err != nil {
		return err
	}
	ex, err := chooseExecutor(g, p)
	if err != nil {
		return err
	}
	console := dag.NewConsole(g.out(), g.tty, g.width)
	p.engine.Report = console
	// A lost lock (taken over after our refreshes stalled) stops the run before
	// the next task and before publishing: another run now owns the cache.
	_, err = p.engine.Run(ctx, plan, dag.RunOptions{Targets: targets, Downstream: downstream, Force: g.force,
		KeepGoing: g.keepGoing, Executor: ex, Hold: l.Lost})
	console.Close()
	return err
}
