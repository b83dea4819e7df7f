package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"nmdyn/cache"
	"nmdyn/dag"
)

func init() { register(newStatusCmd) }

type statusOptions struct {
	*globalOptions
	all bool
}

func newStatusCmd() *cobra.Command {
	o := &statusOptions{}
	c := &cobra.Command{
		Use:   "status",
		Short: "What is fresh, what is stale and why (exit 1 if anything is stale)",
		Long: `status computes every task's key (no data is read, no lock taken) and lists the
stale tasks with the reason: params (a param it reads changed, named with its old
and new values), code (the Go source of its stage or of a package it imports),
input (an external file such as the session folder), upstream (a task it reads
changed) or missing (never run here, or removed). --set shows what a run with
those params would redo.

Exit status: 0 when everything is fresh, 1 when something is stale.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.globalOptions = globalsFrom(cmd)
			return runStatus(cmd.Context(), o, args)
		},
	}
	c.Flags().BoolVarP(&o.all, "all", "a", false, "list fresh tasks too")
	return c
}

func runStatus(_ context.Context, o *statusOptions, _ []string) error {
	p, err := openProject(o.globalOptions, false)
	if err != nil {
		return err
	}
	plan, err := p.engine.Plan()
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(o.out(), 0, 0, 2, ' ', 0)
	stale := 0
	sts := plan.Status()
	for _, st := range sts {
		if st.Fresh {
			if o.all {
				fmt.Fprintf(w, "fresh\t%s\t\n", st.Task.Label)
			}
			continue
		}
		stale++
		fmt.Fprintf(w, "stale\t%s\t%s\n", st.Task.Label, reasonText(st))
	}
	w.Flush()
	fmt.Fprintf(o.out(), "%d tasks: %d fresh, %d stale\n", len(sts), len(sts)-stale, stale)
	if stale > 0 {
		return exitError{exitFailure}
	}
	return nil
}

// reasonText is the reason list of a stale task, with the params named.
func reasonText(st dag.Status) string {
	parts := make([]string, 0, len(st.Reasons))
	for _, r := range st.Reasons {
		if r == cache.ReasonParams && st.Last != nil {
			if d := paramDiffs(st.Task.ParamValues, st.Last.ParamValues); d != "" {
				r += " (" + d + ")"
			}
		}
		parts = append(parts, r)
	}
	return strings.Join(parts, ", ")
}

// paramDiffs names the params that differ: "meanfield.populations: 2 -> 3".
func paramDiffs(now, old map[string]string) string {
	var d []string
	for k, v := range now {
		if ov, ok := old[k]; !ok {
			d = append(d, fmt.Sprintf("%s: (none) -> %s", k, v))
		} else if ov != v {
			d = append(d, fmt.Sprintf("%s: %s -> %s", k, ov, v))
		}
	}
	for k, ov := range old {
		if _, ok := now[k]; !ok {
			d = append(d, fmt.Sprintf("%s: %s -> (none)", k, ov))
		}
	}
	sort.Strings(d)
	return strings.Join(d, "; ")
}
