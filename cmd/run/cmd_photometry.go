package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"nmdyn/stages/photometry"
	"nmdyn/stages/table"
)

func init() { register(newPhotometryCmd) }

type photometryOptions struct {
	timeCol, signalCol, controlCol string
	noControl                      bool
	method, bleaching              string
	lowpassHz, highpassHz          float64
	percentiles                    []float64
	out                            string
	stdout                         io.Writer
}

func newPhotometryCmd() *cobra.Command {
	o := &photometryOptions{}
	c := &cobra.Command{
		Use:   "photometry FILE",
		Short: "Correct a photometry trace (control fit, bleaching, dF/F, NE level) and write it",
		Long: `photometry corrects one fiber photometry trace, as the preprocess stage does, and
writes the result: the standalone tool for what is otherwise done with GuPPy or a
notebook. FILE is a .csv or .parquet table with a time column (seconds), the sensor
channel and, optionally, the isosbestic/control channel.

Steps: zero-phase 2nd-order Butterworth low-pass of both channels; bleaching removed
from each channel (double-exponential fit, or high-pass); the detrended signal
regressed on the detrended control (IRLS with Tukey's bisquare, or OLS) and the fit
subtracted; dF/F = corrected / signal baseline; NE level = dF/F mapped so that its
low and high percentiles go to 0 and 1, clipped. Without a control channel only the
bleaching is removed.

It prints the control fit (method, slope, intercept) and writes --out (.csv or
.parquet) with columns time, signal, control, fitted_control (bleaching baseline +
intercept + slope x detrended control, on the signal's scale), dff and ne.
Exit status: 0 done, 1 bad input or failure.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.stdout = cmd.OutOrStdout()
			return runPhotometry(cmd.Context(), o, args)
		},
	}
	f := c.Flags()
	f.StringVar(&o.timeCol, "time-col", "time", "column of the sample times (s)")
	f.StringVar(&o.signalCol, "signal-col", "signal", "column of the sensor channel")
	f.StringVar(&o.controlCol, "control-col", "control", "column of the control channel (used when present)")
	f.BoolVar(&o.noControl, "no-control", false, "ignore any control channel: bleaching correction only")
	f.StringVar(&o.method, "method", photometry.MethodIRLS, "control fit: irls (robust, Tukey bisquare) or ols")
	f.StringVar(&o.bleaching, "bleaching", photometry.BleachDoubleExp, "bleaching removal: dexp (double exponential) or highpass")
	f.Float64Var(&o.lowpassHz, "lowpass-hz", photometry.DefaultLowpassHz, "low-pass cut-off (Hz); negative: none")
	f.Float64Var(&o.highpassHz, "highpass-hz", photometry.DefaultHighpassHz, "high-pass cut-off for --bleaching highpass (Hz)")
	f.Float64SliceVar(&o.percentiles, "percentiles", []float64{photometry.DefaultPctLow, photometry.DefaultPctHigh}, "dF/F percentiles mapped to NE 0 and 1")
	f.StringVar(&o.out, "out", "corrected.csv", "output table (.csv or .parquet)")
	return c
}

// readAnyTable reads a .csv, .parquet or .pqt file.
func readAnyTable(path string) (*table.Table, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return table.ReadCSVFile(path)
	case ".parquet", ".pqt":
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return nil, err
		}
		t, err := table.ReadParquet(f, st.Size())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return t, nil
	}
	return nil, fmt.Errorf("%s: want a .csv or .parquet file", path)
}

func runPhotometry(_ context.Context, o *photometryOptions, args []string) error {
	if o.stdout == nil {
		o.stdout = os.Stdout
	}
	path := args[0]
	if len(o.percentiles) != 2 {
		return fmt.Errorf("--percentiles %v: want two values, low,high", o.percentiles)
	}
	t, err := readAnyTable(path)
	if err != nil {
		return err
	}
	col := func(name, what string) ([]float64, error) {
		v, err := t.Float(name)
		if err != nil {
			return nil, fmt.Errorf("%s: column %q (%s): %v; columns are: %s", path, name, what, err, strings.Join(t.Names(), ", "))
		}
		return v, nil
	}
	tm, err := col(o.timeCol, "--time-col")
	if err != nil {
		return err
	}
	sig, err := col(o.signalCol, "--signal-col")
	if err != nil {
		return err
	}
	var ctl []float64
	if !o.noControl && o.controlCol != "" {
		if t.Has(o.controlCol) {
			if ctl, err = col(o.controlCol, "--control-col"); err != nil {
				return err
			}
		} else if o.controlCol != "control" {
			// Named explicitly but absent: a typo, not "no control".
			_, err := col(o.controlCol, "--control-col")
			return err
		}
	}
	set := &photometry.Settings{Method: o.method, Bleaching: o.bleaching, LowpassHz: o.lowpassHz,
		HighpassHz: o.highpassHz, PercentileLow: o.percentiles[0], PercentileHigh: o.percentiles[1]}
	r, err := photometry.Correct(tm, sig, ctl, set)
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}

	out := table.New().AddFloat("time", tm).AddFloat("signal", sig)
	if ctl != nil {
		out.AddFloat("control", ctl)
	}
	out.AddFloat("fitted_control", r.FittedControl).AddFloat("dff", r.DFF).AddFloat("ne", r.NE)
	if err := writeAnyTable(o.out, out); err != nil {
		return err
	}
	printCorrection(o.stdout, path, r)
	fmt.Fprintf(o.stdout, "wrote %s (%d rows)\n", o.out, out.Len())
	return nil
}

func printCorrection(w io.Writer, path string, r *photometry.Result) {
	f := r.Fit
	fmt.Fprintf(w, "%s: %d samples, %.1f s at %.4g Hz\n", path, r.QC.Samples, r.QC.DurationS, r.QC.RateHz)
	if f.Method == photometry.MethodNone {
		fmt.Fprintf(w, "control fit: none (no control channel)\n")
	} else {
		fmt.Fprintf(w, "control fit: method %s, slope %.6g, intercept %.6g (signal ~ intercept + slope x control, detrended)\n", f.Method, f.Slope, f.Intercept)
		fmt.Fprintf(w, "             r %.4f, n %d", f.R, f.N)
		if f.Method == photometry.MethodIRLS {
			fmt.Fprintf(w, ", outliers %.2f %%, %d iterations", 100*f.OutlierFraction, f.Iterations)
		}
		fmt.Fprintln(w)
	}
	switch r.Settings.Bleaching {
	case photometry.BleachHighpass:
		fmt.Fprintf(w, "bleaching: high-pass %g Hz; signal baseline falls %.2f %%\n", r.Settings.HighpassHz, r.QC.SignalBleachPct)
	default:
		b := r.SignalBleach
		fmt.Fprintf(w, "bleaching: double exponential, signal tau %.4g s and %.4g s, baseline falls %.2f %%\n", b.Tau1, b.Tau2, r.QC.SignalBleachPct)
	}
	fmt.Fprintf(w, "dF/F: std %.4g %%; NE level 0 at dF/F %.4g (p%g), 1 at %.4g (p%g)\n",
		100*r.QC.DFFStd, r.Level.Lo, r.Level.PLow, r.Level.Hi, r.Level.PHigh)
	if r.Settings.LowpassHz > 0 && !math.IsNaN(r.Settings.LowpassHz) {
		fmt.Fprintf(w, "low-pass: %g Hz, zero phase\n", r.Settings.LowpassHz)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

// writeAnyTable writes .csv or .parquet by extension.
func writeAnyTable(path string, t *table.Table) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return table.WriteCSVFile(path, t)
	case ".parquet", ".pqt":
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := table.WriteParquet(f, t); err != nil {
			f.Close()
			return fmt.Errorf("%s: %w", path, err)
		}
		return f.Close()
	}
	return fmt.Errorf("--out %s: want a .csv or .parquet file name", path)
}
