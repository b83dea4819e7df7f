package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"nmdyn/stages/groundtruth"
	"nmdyn/stages/groundtruth/truthdyn"
)

func init() { register(newSimulateCmd) }

type simulateOptions struct {
	mechanism string
	out       string
	neurons   int
	minutes   float64
	seed      uint64
	config    string
	force     bool
	// changed says whether a flag was given (flags override --config only then).
	changed func(name string) bool
	stdout  io.Writer
}

func newSimulateCmd() *cobra.Command {
	o := &simulateOptions{}
	c := &cobra.Command{
		Use:   "simulate --mechanism M --out DIR",
		Short: "Write a ground-truth session whose mechanism, populations and line attractor are known",
		Long: `simulate generates a session from a two-population, rank-2 network whose NE
dependence follows the chosen mechanism (none, additive, pregain, postgain or
lowrank) and writes it to DIR as a session folder: spikes.parquet,
photometry.parquet (time, signal, control), events.parquet, session.yaml, and the
truth: truth.json (mechanism, population of each unit, regime along NE, the NE
range of the line attractor) and the truth tables (truth_neurons, truth_globals,
truth_units, truth_ne, truth_regime) as Parquet.

Settings come from --config (a simulate.yaml, e.g. data/default/simulate.yaml) or
the defaults (postgain, 120 neurons, 20 minutes, seed 1); --mechanism, --neurons,
--minutes and --seed override them. The same settings give the same files, byte
for byte. DIR must be empty or absent unless --force.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.stdout = cmd.OutOrStdout()
			o.changed = cmd.Flags().Changed
			return runSimulate(cmd.Context(), o, args)
		},
	}
	f := c.Flags()
	f.StringVar(&o.mechanism, "mechanism", "", "how NE acts: none, additive, pregain, postgain or lowrank (default: the config's, postgain)")
	f.StringVar(&o.out, "out", "", "session folder to write (required)")
	f.IntVar(&o.neurons, "neurons", 120, "neurons (one unit each)")
	f.Float64Var(&o.minutes, "minutes", 20, "length of the recording (minutes)")
	f.Uint64Var(&o.seed, "seed", 1, "seed of every random draw")
	f.StringVar(&o.config, "config", "", "simulate.yaml to start from (default: the built-in defaults)")
	f.BoolVar(&o.force, "force", false, "write into DIR even if it holds files")
	return c
}

func runSimulate(_ context.Context, o *simulateOptions, _ []string) error {
	if o.stdout == nil {
		o.stdout = os.Stdout
	}
	changed := o.changed
	if changed == nil {
		// Called without the CLI: every non-zero option counts as given.
		changed = func(name string) bool {
			switch name {
			case "mechanism":
				return o.mechanism != ""
			case "neurons":
				return o.neurons != 0
			case "minutes":
				return o.minutes != 0
			case "seed":
				return o.seed != 0
			}
			return false
		}
	}
	if o.out == "" {
		return usageError{fmt.Errorf("simulate: --out DIR is required")}
	}
	cfg := groundtruth.Defaults()
	if o.config != "" {
		var err error
		if cfg, err = groundtruth.LoadConfig(o.config); err != nil {
			return err
		}
	}
	if changed("mechanism") {
		cfg.Mechanism = o.mechanism
	}
	if changed("neurons") {
		cfg.Neurons = o.neurons
	}
	if changed("minutes") {
		cfg.Minutes = o.minutes
	}
	if changed("seed") {
		cfg.Seed = o.seed
	}
	if err := cfg.Check(); err != nil {
		return usageError{fmt.Errorf("simulate: %v", err)}
	}
	if !o.force {
		if ents, err := os.ReadDir(o.out); err == nil && len(ents) > 0 {
			return usageError{fmt.Errorf("simulate: %s already holds %d entries (e.g. %s): choose an empty folder or pass --force", o.out, len(ents), ents[0].Name())}
		}
	}
	start := time.Now()
	g, err := groundtruth.Generate(cfg)
	if err != nil {
		return err
	}
	if err := truthdyn.Label(g); err != nil {
		return err
	}
	genS := time.Since(start).Seconds()
	if err := groundtruth.WriteSession(o.out, g); err != nil {
		return err
	}
	printSimulated(o.stdout, o.out, g, genS)
	return nil
}

// printSimulated summarises a written session and its truth.
func printSimulated(w io.Writer, dir string, g *groundtruth.Generated, genS float64) {
	tr := &g.Truth
	s := g.Session
	var bytes int64
	if ents, err := os.ReadDir(dir); err == nil {
		for _, e := range ents {
			if st, err := os.Stat(filepath.Join(dir, e.Name())); err == nil && !st.IsDir() {
				bytes += st.Size()
			}
		}
	}
	pop := [3]int{}
	for _, p := range tr.Population {
		pop[p]++
	}
	var ev []string
	for _, l := range tr.Config.Events.Labels {
		ev = append(ev, fmt.Sprintf("%s %d", l, tr.Events[l]))
	}
	la := "none (no NE level has a line attractor)"
	if r := tr.LineAttractorNERange; r != nil {
		la = fmt.Sprintf("[%g, %g]", r[0], r[1])
	}
	// Regime along the grid, one letter per level.
	letter := map[string]string{groundtruth.RegimeSingle: "S", groundtruth.RegimeLine: "L",
		groundtruth.RegimeMultistable: "M", groundtruth.RegimeOther: "O"}
	var reg strings.Builder
	for _, r := range tr.Regime {
		reg.WriteString(letter[r])
	}
	bins := len(g.NE)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "session\t%s written to %s (%.1f MB)\n", s.ID, dir, float64(bytes)/1e6)
	fmt.Fprintf(tw, "mechanism\t%s, seed %d\n", tr.Mechanism, tr.Seed)
	fmt.Fprintf(tw, "units\t%d, all labelled good (population 1: %d, population 2: %d)\n", len(s.Units), pop[1], pop[2])
	fmt.Fprintf(tw, "spikes\t%d (%.2f Hz per unit)\n", tr.Spikes, tr.MeanRateHz)
	fmt.Fprintf(tw, "duration\t%g s (%d bins of %g ms)\n", tr.DurationS, bins, tr.Config.BinMs)
	fmt.Fprintf(tw, "events\t%d (%s)\n", len(s.Events), strings.Join(ev, ", "))
	fmt.Fprintf(tw, "photometry\t%d samples at %g Hz (signal, control)\n", len(s.Photometry.Time), s.Photometry.RateHz)
	fmt.Fprintf(tw, "line attractor\tNE range %s\n", la)
	fmt.Fprintf(tw, "regime along NE\t%s (NE 0 to 1 in %d levels; S single fixed point, L line attractor, M multistable, O other)\n", reg.String(), len(tr.Regime))
	fmt.Fprintf(tw, "generated in\t%.2f s\n", genS)
	tw.Flush()
}
