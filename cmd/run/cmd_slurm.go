package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"nmdyn/dag"
)

func init() { register(newSlurmCheckCmd) }

// slurmWorker gives the executable the Slurm jobs run (copied into the cache
// by dag.StageBinary) and extra environment for their scripts; tests swap in
// a wrapper around the test binary.
var slurmWorker = func() (exe string, env []string, err error) {
	exe, err = os.Executable()
	return exe, nil, err
}

// chooseExecutor returns the executor of `run all` and `run stage`:
// --executor, else executor.use of pipeline.yaml, else local.
func chooseExecutor(g *globalOptions, p *project) (dag.Executor, error) {
	name := g.executor
	if name == "" && p.pipeline.Executor != nil {
		name = p.pipeline.Executor.Use
	}
	switch name {
	case "", "local":
		return executor(g, p.store), nil
	case "slurm":
		ex, _, err := newSlurmExecutor(g, p)
		return ex, err
	}
	return nil, usageError{fmt.Errorf("--executor %q: want local or slurm", name)}
}

// newSlurmExecutor builds the Slurm executor of a project: its settings from
// pipeline.yaml, -j as the cap on queued tasks, the shared-cache check, and
// this binary copied into the cache for the nodes.
func newSlurmExecutor(g *globalOptions, p *project) (*dag.SlurmExecutor, *dag.SharedCheck, error) {
	var cfg *dag.SlurmConfig
	if p.pipeline.Executor != nil {
		cfg = p.pipeline.Executor.Slurm
	}
	errw := g.errw()
	ex := &dag.SlurmExecutor{Config: cfg, Jobs: g.jobs, Log: func(s string) { fmt.Fprintln(errw, "slurm: "+s) }}
	check, err := ex.CheckShared(map[string]string{"cache": p.store.Root(), "project": p.pipeline.Dir})
	if err != nil {
		return nil, nil, err
	}
	for _, n := range check.Notes {
		fmt.Fprintln(errw, "slurm: note: "+n)
	}
	exe, env, err := slurmWorker()
	if err != nil {
		return nil, nil, fmt.Errorf("finding this executable for the Slurm jobs: %w", err)
	}
	if ex.Binary, err = dag.StageBinary(p.store, exe); err != nil {
		return nil, nil, err
	}
	ex.Env = env
	return ex, check, nil
}

type slurmCheckOptions struct {
	*globalOptions
	timeout time.Duration
}

func newSlurmCheckCmd() *cobra.Command {
	o := &slurmCheckOptions{}
	c := &cobra.Command{
		Use:   "slurm-check",
		Short: "Check that Slurm runs nmdyn's jobs: a probe job writes into the cache from its node",
		Long: `slurm-check tells whether this project can run on Slurm (--executor slurm, or
executor.use: slurm in pipeline.yaml) before a long run finds out: it lists the
nodes of the partitions the executor section names, refuses a cache or project on
a node-local path (/tmp, /var/tmp, /dev/shm, /run, a tmpfs) on a cluster of more
than one node, copies this binary into the cache (<cache>/bin/<sha256>, what the
jobs run), then submits a probe job that writes a file into the cache from its
node and runs that binary there, and waits for both to be seen here (--timeout).
It also says whether sacct answers (else the executor polls squeue and scontrol).

Exit status: 0 when the probe came back, 1 when it did not (the message says
why), 2 on a bad command line.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.globalOptions = globalsFrom(cmd)
			return runSlurmCheck(cmd.Context(), o, args)
		},
	}
	c.Flags().DurationVar(&o.timeout, "timeout", 5*time.Minute, "how long to wait for the probe job (it may queue)")
	return c
}

func runSlurmCheck(_ context.Context, o *slurmCheckOptions, _ []string) error {
	p, err := openProject(o.globalOptions, true)
	if err != nil {
		return err
	}
	out := o.out()
	ex, check, err := newSlurmExecutor(o.globalOptions, p)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "nodes:   %s\n", strings.Join(check.Nodes, " "))
	fmt.Fprintf(out, "cache:   %s\n", p.store.Root())
	fmt.Fprintf(out, "binary:  %s\n", ex.Binary)
	res, err := ex.Probe(p.store, o.timeout)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "probe:   Slurm job %s ran on node %s, wrote into the cache and ran the binary (%.1f s)\n", res.JobID, res.Node, res.Elapsed.Seconds())
	if _, err := dag.ExecSlurm(context.Background(), "sacct", "--noheader", "-X", "--jobs="+res.JobID); err != nil {
		var se *dag.SlurmError
		msg := err.Error()
		if errors.As(err, &se) {
			msg = se.Msg
		}
		fmt.Fprintf(out, "sacct:   not usable (%s): the executor polls squeue and scontrol\n", firstLine(msg))
	} else {
		fmt.Fprintln(out, "sacct:   answers: the executor polls sacct")
	}
	fmt.Fprintln(out, "ok: this project can run with --executor slurm")
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
