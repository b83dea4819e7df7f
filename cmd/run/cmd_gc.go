package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

func init() { register(newGCCmd) }

type gcOptions struct{ *globalOptions }

func newGCCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "gc",
		Short: "Remove cached data that no current task reaches",
		Long: `gc removes from the cache every manifest whose key is not the key of a current
task (the pipeline with the given --set overrides), every object no remaining
manifest names, the refs of tasks that no longer exist, temp files left by
crashes and quarantined (damaged) files. It takes the writers' lock.

` + exitCodesHelp,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGC(cmd.Context(), &gcOptions{globalsFrom(cmd)}, args)
		},
	}
}

func runGC(ctx context.Context, o *gcOptions, _ []string) error {
	p, err := openProject(o.globalOptions, true)
	if err != nil {
		return err
	}
	l, err := lock(ctx, o.globalOptions, p.store)
	if err != nil {
		return err
	}
	defer l.Unlock()
	plan, err := p.engine.Plan()
	if err != nil {
		return err
	}
	keep, refs := map[string]bool{}, map[string]bool{}
	for _, t := range plan.Tasks {
		keep[t.Key] = true
		refs[t.Stage.Name+"\x00"+t.ItemText] = true
	}
	st, err := p.store.GC(keep, refs)
	fmt.Fprintf(o.out(), "removed %d manifests, %d objects (%.1f MiB), %d refs, %d temp files; kept %d manifests, %d objects\n",
		st.Manifests, st.Objects, float64(st.Bytes)/(1<<20), st.Refs, st.Temps, st.KeptManifests, st.KeptObjects)
	return err
}
