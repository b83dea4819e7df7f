package main

import (
	"fmt"
	"io"
	"runtime"

	"github.com/spf13/cobra"

	"nmdyn/stages/rnn"
	"nmdyn/stages/rnn/rnnbench"
)

func init() { register(newBenchFitCmd) }

type benchFitOptions struct {
	rnnbench.Config
	mechanism string
}

func newBenchFitCmd() *cobra.Command {
	o := &benchFitOptions{}
	c := &cobra.Command{
		Use:   "bench-fit",
		Short: "Time epochs of the network fit on a synthetic problem (flags as ../shared/bench/torch_ref.py)",
		Long: `bench-fit times one epoch of the fit on synthetic data of a given shape, with the
flags of the PyTorch reference (../shared/bench/torch_ref.py), so that
../shared/bench/compare.sh can time both side by side. The last line is
seconds_per_epoch=<s> (median over the timed epochs, after one warm-up epoch).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBenchFit(cmd.OutOrStdout(), o)
		},
	}
	f := c.Flags()
	f.IntVar(&o.Neurons, "neurons", 200, "neurons (one unit each)")
	f.IntVar(&o.Bins, "bins", 24000, "time bins of the recording")
	f.IntVar(&o.Window, "window", 100, "bins per window")
	f.IntVar(&o.Batch, "batch", 32, "windows per Adam step")
	f.IntVar(&o.Rank, "rank", 2, "connectivity rank R")
	f.IntVar(&o.Epochs, "epochs", 5, "timed epochs")
	f.StringVar(&o.mechanism, "mechanism", "postgain", "variant: none, additive, pregain, postgain or lowrank")
	f.IntVar(&o.Threads, "threads", 0, "goroutines (default GOMAXPROCS)")
	f.Uint64Var(&o.Seed, "seed", 0, "seed of the synthetic data")
	return c
}

func runBenchFit(w io.Writer, o *benchFitOptions) error {
	v, err := rnn.ParseVariant(o.mechanism)
	if err != nil {
		return usageError{err}
	}
	o.Mechanism = v
	if o.Threads <= 0 {
		o.Threads = runtime.GOMAXPROCS(0)
	}
	if o.Neurons < 1 || o.Window < 2 || o.Bins < o.Window || o.Batch < 1 || o.Rank < 1 || o.Epochs < 1 {
		return usageError{fmt.Errorf("bench-fit: sizes must be positive and --bins >= --window")}
	}
	res, err := rnnbench.Fit(o.Config)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "neurons=%d bins=%d window=%d batch=%d rank=%d mechanism=%s threads=%d params=%d\n",
		o.Neurons, o.Bins, o.Window, o.Batch, o.Rank, v, o.Threads, res.Params)
	fmt.Fprintf(w, "final_loss=%.5f neuron_steps_per_s=%.3e\n", res.FinalLoss, res.NeuronStepsPerSec)
	fmt.Fprintf(w, "seconds_per_epoch=%.4f\n", res.SecondsPerEpoch)
	return nil
}
