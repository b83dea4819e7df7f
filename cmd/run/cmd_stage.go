package main

import (
	"context"

	"github.com/spf13/cobra"
)

func init() { register(newStageCmd) }

type stageOptions struct {
	*globalOptions
	downstream bool
}

func newStageCmd() *cobra.Command {
	o := &stageOptions{}
	c := &cobra.Command{
		Use:   "stage NAME [NAME...]",
		Short: "Run stages and whatever they need upstream that is not fresh",
		Long: `stage runs the named stages (all their fan-out tasks). What they read upstream
comes from the cache when fresh and is run first otherwise. --downstream also runs
what depends on them; --force reruns the named stages (and with --downstream their
dependents) even when cached, never the upstream ones.

` + exitCodesHelp,
		Args: minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.globalOptions = globalsFrom(cmd)
			return runStage(cmd.Context(), o, args)
		},
	}
	c.Flags().BoolVar(&o.downstream, "downstream", false, "also run every stage depending on the named ones")
	return c
}

func runStage(ctx context.Context, o *stageOptions, args []string) error {
	return runPipeline(ctx, o.globalOptions, args, o.downstream)
}
