package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"nmdyn/cache"
	"nmdyn/dag"
)

// Exit codes of every verb. They are stable: scripts rely on them.
const (
	exitOK          = 0   // success; status: everything is fresh
	exitFailure     = 1   // a task failed; status: something is stale; verify: differences
	exitUsage       = 2   // bad command line: unknown verb, flag, stage or param, bad --set
	exitLocked      = 3   // the cache is locked by another run (retry, or use --wait)
	exitPipeline    = 4   // pipeline.yaml is invalid (the error names file:line:column)
	exitInterrupted = 130 // interrupted (Ctrl-C, SIGTERM): running tasks were stopped, nothing partial kept
)

const exitCodesHelp = `Exit codes:
  0    success (status: everything is fresh)
  1    failure: a task failed; status: something is stale; verify: differences
  2    usage: unknown verb, flag, stage or param, or a bad --set
  3    the cache is locked by another run (retry, or pass --wait)
  4    pipeline.yaml is invalid (the message names file:line:column)
  130  interrupted (Ctrl-C or SIGTERM)`

// usageError marks an error as the command line's fault (exit 2).
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// exitError ends a verb with a code and no further message (the verb printed
// what there was to say, e.g. status's stale tasks).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// globalOptions are the flags every engine verb takes.
type globalOptions struct {
	sets      []string // --set key=value
	jobs      int      // -j; 0: runtime.NumCPU()
	force     bool
	cacheDir  string
	pipeline  string
	keepGoing bool
	wait      bool
	isolate   bool
	executor  string // --executor: local, slurm, or "" (pipeline.yaml's executor.use)

	stdout, stderr io.Writer
	tty            bool // stdout is a terminal: progress bars
	width          int
}

func addGlobalFlags(c *cobra.Command) {
	f := c.PersistentFlags()
	f.StringArray("set", nil, "override a param for this run: key=value, value as YAML (e.g. fit.epochs=50, fit.seeds=[1,2,3]); repeatable")
	f.IntP("jobs", "j", 0, "tasks run at once (default: the number of cores)")
	f.Bool("force", false, "rerun the selected stages even if cached")
	f.String("cache", "", "cache directory (default: $NMDYN_CACHE, else .nmdyn/ beside pipeline.yaml)")
	f.String("pipeline", "", "pipeline file (default: pipeline.yaml in this directory or the nearest parent)")
	f.Bool("keep-going", false, "after a task fails, go on with the tasks that do not depend on it")
	f.Bool("wait", false, "wait for the cache lock held by another run instead of exiting with code 3")
	f.Bool("isolate", false, "run each task in a child process (`run exec`), as a cluster executor would")
	f.String("executor", "", "where tasks run: local or slurm (default: executor.use in pipeline.yaml, else local)")
}

// globalsFrom reads the global flags of the command being run.
func globalsFrom(cmd *cobra.Command) *globalOptions {
	f := cmd.Flags()
	g := &globalOptions{stdout: cmd.OutOrStdout(), stderr: cmd.ErrOrStderr()}
	g.sets, _ = f.GetStringArray("set")
	g.jobs, _ = f.GetInt("jobs")
	g.force, _ = f.GetBool("force")
	g.cacheDir, _ = f.GetString("cache")
	g.pipeline, _ = f.GetString("pipeline")
	g.keepGoing, _ = f.GetBool("keep-going")
	g.wait, _ = f.GetBool("wait")
	g.isolate, _ = f.GetBool("isolate")
	g.executor, _ = f.GetString("executor")
	if file, ok := g.stdout.(*os.File); ok && term.IsTerminal(int(file.Fd())) {
		g.tty = true
		g.width, _, _ = term.GetSize(int(file.Fd()))
	}
	return g
}

func (g *globalOptions) out() io.Writer {
	if g.stdout == nil {
		return os.Stdout
	}
	return g.stdout
}

func (g *globalOptions) errw() io.Writer {
	if g.stderr == nil {
		return os.Stderr
	}
	return g.stderr
}

func (g *globalOptions) slots() int {
	if g.jobs > 0 {
		return g.jobs
	}
	return runtime.NumCPU()
}

// execute runs the command line and returns the exit code.
func execute(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// The first Ctrl-C cancels the run (tasks stop, nothing partial is
		// kept); after it the default behaviour returns, so a second one kills
		// a stage that does not check its context: the cache is crash-safe.
		<-ctx.Done()
		stop()
	}()
	return executeIO(ctx, args, os.Stdout, os.Stderr)
}

func executeIO(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.Long = root.Short + `

  run all                      regenerate every output (and the figures) of the study
  run stage NAME               run one stage; what it needs upstream comes from the cache when fresh
  run status                   what is fresh, what is stale and why (exit 1 if anything is stale)
  run why NAME                 which key components of a stage changed since its last commit
  run dag --format mermaid     the pipeline as a picture (text, dot or mermaid)
  run outputs NAME             paths of a stage's Parquet outputs in the cache
  run gc                       remove cached data no current task reaches
  run verify                   regenerate everything in a scratch cache and compare the figures

` + exitCodesHelp
	addGlobalFlags(root)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	err := root.ExecuteContext(ctx)
	code := exitCode(ctx, err)
	var ee exitError
	if err != nil && !errors.As(err, &ee) {
		fmt.Fprintf(stderr, "run: %v\n", err)
		if code == exitUsage && !strings.Contains(err.Error(), "--help") {
			fmt.Fprintln(stderr, "Run 'run --help' for usage.")
		}
	}
	return code
}

// exitCode maps an error to its documented exit code.
func exitCode(ctx context.Context, err error) int {
	var (
		ee  exitError
		ue  usageError
		due *dag.UsageError
		pe  *dag.Error
		pel dag.ErrorList
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return exitInterrupted
	case errors.Is(err, cache.ErrLocked):
		return exitLocked
	case errors.As(err, &ue), errors.As(err, &due):
		return exitUsage
	case errors.As(err, &pe), errors.As(err, &pel):
		return exitPipeline
	case strings.HasPrefix(err.Error(), "unknown command"), strings.HasPrefix(err.Error(), "accepts "),
		strings.HasPrefix(err.Error(), "requires "), strings.HasPrefix(err.Error(), "unknown flag"):
		// cobra's own argument and command errors.
		return exitUsage
	}
	return exitFailure
}
