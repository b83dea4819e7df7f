package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/afero"
	"github.com/spf13/cobra"

	"nmdyn"
	"nmdyn/cache"
	"nmdyn/dag"
)

func init() { register(newExecCmd) }

type execOptions struct {
	*globalOptions
	result string
}

func newExecCmd() *cobra.Command {
	o := &execOptions{}
	c := &cobra.Command{
		Use:   "exec JOBFILE",
		Short: "(internal) Run one task from a job file and commit it to the cache",
		Long: `exec is how executors run a task out of process (a Slurm job, or run all
--isolate): JOBFILE is a JSON job description (dag.JobSpec: stage, item, key, params,
upstream task keys) written by the controller. exec runs the stage, commits its
outputs and manifest to the cache (--cache, else the job's cache_root) with the
same atomic rules as an in-process run, and writes the outcome to --result
(default JOBFILE.result.json) as JSON {"ok": true} or {"ok": false, "error": ...,
"corrupt_key": ...}. It refuses a job whose key was computed for other source
code than this binary's. It takes no lock: the controller holds it. The
environment variable NMDYN_JOB_ID, when set, is recorded as the job id in the
task's provenance.

Exit status: 0 when the task is committed, 1 when it failed.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.globalOptions = globalsFrom(cmd)
			return runExec(cmd.Context(), o, args)
		},
	}
	c.Flags().StringVar(&o.result, "result", "", "where to write the result (default JOBFILE.result.json)")
	return c
}

func runExec(ctx context.Context, o *execOptions, args []string) error {
	fsys := afero.NewOsFs()
	spec, err := dag.ReadJobSpec(fsys, args[0])
	if err != nil {
		return err
	}
	if spec.JobID == "" {
		// A batch script exports its scheduler's job id (e.g. Slurm's) for the
		// provenance record.
		spec.JobID = os.Getenv("NMDYN_JOB_ID")
	}
	root := o.cacheDir
	if root == "" {
		root = spec.CacheRoot
	}
	store, err := cache.Open(fsys, root)
	if err != nil {
		return err
	}
	code, err := codeIdentity()
	if err != nil {
		return err
	}
	errw := o.errw()
	env := dag.JobEnv{Store: store, Registry: registry(), Code: code, RSSScope: "task", Version: nmdyn.Version,
		Log: func(line string) { fmt.Fprintln(errw, line) }}
	_, runErr := dag.RunJob(ctx, env, spec)
	result := o.result
	if result == "" {
		result = args[0] + ".result.json"
	}
	if err := dag.WriteJSONAtomic(fsys, result, dag.ResultOf(runErr)); err != nil {
		return fmt.Errorf("writing the result: %w (task: %v)", err, runErr)
	}
	return runErr
}
