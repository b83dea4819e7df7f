package main

import (
	"context"

	"github.com/spf13/cobra"
)

func init() { register(newAllCmd) }

type allOptions struct{ *globalOptions }

func newAllCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "all",
		Short: "Run every stage that is not fresh, then publish (figures/)",
		Long: `all brings the whole pipeline up to date: every task whose key has a manifest in
the cache is reused, the others run as soon as their inputs are committed (-j at
once), and the outputs of publishing stages are copied into their directories
(figures/). With everything cached it executes nothing.

` + exitCodesHelp,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAll(cmd.Context(), &allOptions{globalsFrom(cmd)}, args)
		},
	}
}

func runAll(ctx context.Context, o *allOptions, _ []string) error {
	return runPipeline(ctx, o.globalOptions, nil, false)
}

// noArgs is cobra.NoArgs with the usage exit code.
func noArgs(cmd *cobra.Command, args []string) error {
	if err := cobra.NoArgs(cmd, args); err != nil {
		return usageError{err}
	}
	return nil
}

// minArgs is cobra.MinimumNArgs with the usage exit code.
func minArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.MinimumNArgs(n)(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// exactArgs is cobra.ExactArgs with the usage exit code.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}
