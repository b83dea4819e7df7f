package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func init() { register(newWhyCmd) }

type whyOptions struct{ *globalOptions }

func newWhyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "why STAGE",
		Short: "Which key components of a stage changed since its last commit",
		Long: `why compares each task of STAGE with the last commit of the same task (stage and
fan-out item) in the cache, component by component: params (each changed param
with its old and new value), code, input files, upstream tasks. A fresh task also
shows where and how it ran (provenance). No data is read, no lock taken.

Exit status: 0 when the stage is fresh, 1 when some task of it is stale.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runWhy(cmd.Context(), &whyOptions{globalsFrom(cmd)}, args)
		},
	}
}

func runWhy(_ context.Context, o *whyOptions, args []string) error {
	p, err := openProject(o.globalOptions, false)
	if err != nil {
		return err
	}
	plan, err := p.engine.Plan()
	if err != nil {
		return err
	}
	name := args[0]
	if p.pipeline.Stage(name) == nil {
		return usageError{fmt.Errorf("no stage %q; stages: %s", name, strings.Join(p.pipeline.StageNames(), ", "))}
	}
	out := o.out()
	stale := false
	for _, t := range plan.StageTasks(name) {
		st, lines := plan.Why(t)
		if st.Fresh {
			fmt.Fprintf(out, "%s: fresh\n", t.Label)
			if m, err := p.store.ReadManifest(t.Key); err == nil {
				pv := m.Provenance
				fmt.Fprintf(out, "  committed %s by %s on %s (pid %d%s), %.2f s, peak RSS %.0f MiB (%s), nmdyn %s\n",
					pv.End.Format("2006-01-02 15:04:05"), pv.Executor, pv.Host, pv.PID, jobText(pv.JobID),
					pv.WallSeconds, float64(pv.PeakRSSBytes)/(1<<20), pv.PeakRSSScope, pv.Version)
			}
		} else {
			stale = true
			fmt.Fprintf(out, "%s: stale (%s)\n", t.Label, strings.Join(st.Reasons, ", "))
		}
		for _, l := range lines {
			fmt.Fprintf(out, "  %s\n", l)
		}
	}
	if stale {
		return exitError{exitFailure}
	}
	return nil
}

func jobText(id string) string {
	if id == "" {
		return ""
	}
	return ", job " + id
}
