package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/afero"
	"github.com/spf13/cobra"

	"nmdyn/cache"
	"nmdyn/dag"
)

func init() { register(newVerifyCmd) }

type verifyOptions struct {
	*globalOptions
	scratch string
	keep    bool
	relTol  float64
}

func newVerifyCmd() *cobra.Command {
	o := &verifyOptions{}
	c := &cobra.Command{
		Use:   "verify",
		Short: "Regenerate the study in a scratch cache and compare with the committed figures",
		Long: `verify reruns the whole pipeline into a scratch cache (the project's cache is not
used or touched), publishing into a scratch directory, then compares every
publish directory (figures/) with the committed one using its MANIFEST file
("sha256  path" lines): tables (.csv, .parquet) must hold the same columns and
rows with floats within --rel-tol relative difference; every other file (.svg,
.png, .json) must be byte-identical. It lists each difference: files missing or
new, files that differ, committed files that no longer match their MANIFEST.

Exit status: 0 when everything matches, 1 on any difference or failure.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.globalOptions = globalsFrom(cmd)
			return runVerify(cmd.Context(), o, args)
		},
	}
	c.Flags().StringVar(&o.scratch, "scratch", "", "scratch directory (default: a new temporary directory, removed afterwards)")
	c.Flags().BoolVar(&o.keep, "keep", false, "keep the scratch directory")
	c.Flags().Float64Var(&o.relTol, "rel-tol", dag.DefaultRelTol, "relative tolerance for table values")
	return c
}

func runVerify(ctx context.Context, o *verifyOptions, _ []string) error {
	p, err := openProject(o.globalOptions, false)
	if err != nil {
		return err
	}
	scratch := o.scratch
	if scratch == "" {
		if scratch, err = os.MkdirTemp("", "nmdyn-verify-"); err != nil {
			return err
		}
		if !o.keep {
			defer os.RemoveAll(scratch)
		}
	}
	fsys := afero.NewOsFs()
	store, err := cache.Open(fsys, filepath.Join(scratch, "cache"))
	if err != nil {
		return err
	}
	e := p.engine
	e.Store, e.Files = store, nil
	e.PublishFS, e.PublishRoot = fsys, filepath.Join(scratch, "publish")
	console := dag.NewConsole(o.out(), o.tty, o.width)
	e.Report = console
	plan, err := e.Plan()
	if err != nil {
		return err
	}
	_, err = e.Run(ctx, plan, dag.RunOptions{KeepGoing: o.keepGoing, Executor: executor(o.globalOptions, store)})
	console.Close()
	if err != nil {
		return err
	}
	out := o.out()
	differ := 0
	for _, s := range p.pipeline.Stages {
		if s.Publish.Name == "" {
			continue
		}
		committed := filepath.Join(p.pipeline.Dir, filepath.FromSlash(s.Publish.Name))
		fresh := filepath.Join(e.PublishRoot, filepath.FromSlash(s.Publish.Name))
		diffs, err := dag.ComparePublished(fsys, committed, fresh, o.relTol)
		if err != nil {
			fmt.Fprintf(out, "verify %s: %v\n", s.Publish.Name, err)
			differ++
			continue
		}
		if len(diffs) == 0 {
			fmt.Fprintf(out, "verify %s: every file matches (tables within relative %g)\n", s.Publish.Name, o.relTol)
			continue
		}
		differ += len(diffs)
		fmt.Fprintf(out, "verify %s: %d difference(s):\n", s.Publish.Name, len(diffs))
		for _, d := range diffs {
			fmt.Fprintf(out, "  %s\n", d)
		}
	}
	if o.keep || o.scratch != "" {
		fmt.Fprintf(out, "scratch kept in %s\n", scratch)
	}
	if differ > 0 {
		return exitError{exitFailure}
	}
	return nil
}
