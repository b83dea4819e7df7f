// Command run is the nmdyn command line: it runs the study's pipeline (run all, run
// stage X), reports on its cache (status, why, outputs, dag, gc) and offers the
// standalone tools (simulate, photometry, inspect, bench-fit).
package main

import (
	"os"

	"github.com/spf13/cobra"
)

// commands holds the constructors of the verbs; each cmd_<verb>.go file adds its own
// in an init function, so verbs can be added without touching this file.
var commands []func() *cobra.Command

func register(c func() *cobra.Command) { commands = append(commands, c) }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "run",
		Short:         "nmdyn: how a neuromodulator reshapes cortical population dynamics",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, c := range commands {
		root.AddCommand(c())
	}
	return root
}

func main() {
	os.Exit(execute(os.Args[1:]))
}
