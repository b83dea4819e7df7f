package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"nmdyn/stages/recording"
)

func init() { register(newInspectCmd) }

type inspectOptions struct {
	stdout io.Writer
}

func newInspectCmd() *cobra.Command {
	o := &inspectOptions{}
	return &cobra.Command{
		Use:   "inspect PATH",
		Short: "Show what the importer finds in a session folder",
		Long: `inspect imports the session folder PATH as the pipeline would (session.yaml,
spikes, photometry, events) and prints what it found: units per label with their
spikes, which labels are kept, the recording's span, the photometry channels and
sampling rate, events per label, and the importer's notes. Bad input gives the same
error the pipeline would, naming the file and the problem.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.stdout = cmd.OutOrStdout()
			return runInspect(cmd.Context(), o, args)
		},
	}
}

func runInspect(_ context.Context, o *inspectOptions, args []string) error {
	if o.stdout == nil {
		o.stdout = os.Stdout
	}
	dir := args[0]
	if _, err := os.Stat(filepath.Join(dir, "simulate.yaml")); err == nil {
		fmt.Fprintf(o.stdout, "%s holds simulate.yaml: the pipeline generates this session (see run simulate); importing what else is there.\n\n", dir)
	}
	s, err := recording.Open(dir)
	if err != nil {
		return err
	}
	printSession(o.stdout, s)
	return nil
}

func printSession(out io.Writer, s *recording.Session) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	dur := s.EndSeconds - s.StartSeconds
	var total int64
	for _, u := range s.Units {
		total += u.Spikes
	}
	fmt.Fprintf(w, "session\t%s\n", s.ID)
	fmt.Fprintf(w, "folder\t%s\n", s.Dir)
	fmt.Fprintf(w, "spikes\t%s\n", s.Spikes.Describe())
	fmt.Fprintf(w, "span\t%.3f - %.3f s (%.1f s)\n", s.StartSeconds, s.EndSeconds, dur)
	fmt.Fprintf(w, "units\t%d units, %d spikes, keep: %s\n", len(s.Units), total, strings.Join(s.Keep, ", "))
	w.Flush()

	// Units per label.
	type agg struct {
		units  int
		spikes int64
	}
	per := map[string]*agg{}
	for _, u := range s.Units {
		a := per[u.Label]
		if a == nil {
			a = &agg{}
			per[u.Label] = a
		}
		a.units++
		a.spikes += u.Spikes
	}
	labels := make([]string, 0, len(per))
	for l := range per {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	keep := map[string]bool{}
	for _, k := range s.Keep {
		keep[k] = true
	}
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "label\tunits\tspikes\tmean rate (Hz/unit)\tkept\t\n")
	for _, l := range labels {
		a := per[l]
		k := ""
		if keep[l] {
			k = "yes"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.2f\t%s\t\n", l, a.units, a.spikes, float64(a.spikes)/float64(a.units)/dur, k)
	}
	tw.Flush()

	fmt.Fprintln(out)
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	if p := s.Photometry; p != nil {
		n := len(p.Time)
		ctl := "none"
		if p.Control != nil {
			ctl = p.ControlName
		}
		fmt.Fprintf(w, "photometry\t%s\n", p.Source)
		fmt.Fprintf(w, "\t%d samples at %.4g Hz, %.3f - %.3f s on the spike clock\n", n, p.RateHz, p.Time[0], p.Time[n-1])
		fmt.Fprintf(w, "\tsignal: %s, control: %s\n", p.SignalName, ctl)
	} else {
		fmt.Fprintf(w, "photometry\tnone\n")
	}
	w.Flush()

	fmt.Fprintln(out)
	if len(s.Events) == 0 {
		fmt.Fprintln(out, "events: none")
	} else {
		count := map[string]int{}
		for _, e := range s.Events {
			count[e.Label]++
		}
		names := make([]string, 0, len(count))
		for l := range count {
			names = append(names, l)
		}
		sort.Strings(names)
		tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "event\tcount\t\n")
		for _, l := range names {
			fmt.Fprintf(tw, "%s\t%d\t\n", l, count[l])
		}
		tw.Flush()
	}

	if len(s.Notes) > 0 {
		fmt.Fprintln(out)
		fmt.Fprintln(out, "notes:")
		for _, n := range s.Notes {
			fmt.Fprintf(out, "  - %s\n", n)
		}
	}
}
