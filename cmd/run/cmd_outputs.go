package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func init() { register(newOutputsCmd) }

type outputsOptions struct {
	*globalOptions
	files bool
	long  bool
}

func newOutputsCmd() *cobra.Command {
	o := &outputsOptions{}
	c := &cobra.Command{
		Use:   "outputs STAGE",
		Short: "Paths of a stage's Parquet outputs in the cache, one per line",
		Long: `outputs prints the paths, inside the cache, of the Parquet files a stage wrote
(every task of its fan-out, in item order), for pandas, polars or DuckDB:

  duckdb -c "select * from '$(run outputs select | head -1)'"

The files are content-addressed objects (named by their sha256, without an
extension) and read-only. --long adds the task and the output name; --files lists
the non-Parquet outputs (figures, JSON) too. The stage must be fresh (run it
first); no lock is taken.

Exit status: 0, or 1 when the stage is not fresh.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.globalOptions = globalsFrom(cmd)
			return runOutputs(cmd.Context(), o, args)
		},
	}
	c.Flags().BoolVar(&o.files, "files", false, "list every output, not only the Parquet tables")
	c.Flags().BoolVarP(&o.long, "long", "l", false, "print task, output name and path, tab-separated")
	return c
}

func runOutputs(_ context.Context, o *outputsOptions, args []string) error {
	p, err := openProject(o.globalOptions, false)
	if err != nil {
		return err
	}
	name := args[0]
	if p.pipeline.Stage(name) == nil {
		return usageError{fmt.Errorf("no stage %q; stages: %s", name, strings.Join(p.pipeline.StageNames(), ", "))}
	}
	plan, err := p.engine.Plan()
	if err != nil {
		return err
	}
	tasks := plan.StageTasks(name)
	stale := 0
	for _, t := range tasks {
		if !p.store.HasManifest(t.Key) {
			stale++
		}
	}
	if stale > 0 {
		fmt.Fprintf(o.errw(), "stage %s is not fresh (%d of %d tasks stale): run `run stage %s` first\n", name, stale, len(tasks), name)
		return exitError{exitFailure}
	}
	for _, t := range tasks {
		m, err := p.store.ReadManifest(t.Key)
		if err != nil {
			return err
		}
		for _, out := range m.Outputs {
			if !o.files && !strings.HasSuffix(out.Name, ".parquet") {
				continue
			}
			path := p.store.ObjectPath(out.Hash)
			if o.long {
				fmt.Fprintf(o.out(), "%s\t%s\t%s\n", t.Label, out.Name, path)
			} else {
				fmt.Fprintln(o.out(), path)
			}
		}
	}
	return nil
}
