package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"nmdyn/dag"
)

func init() { register(newDagCmd) }

type dagOptions struct {
	*globalOptions
	format string
}

func newDagCmd() *cobra.Command {
	o := &dagOptions{}
	c := &cobra.Command{
		Use:   "dag",
		Short: "Print the pipeline's stages and their dependencies (text, dot or mermaid)",
		Long: `dag prints the stage graph of pipeline.yaml: each stage with the Go stage it runs,
its inputs and its fan-out (dimensions and number of tasks, with --set applied).
--format dot gives Graphviz input (run dag --format dot | dot -Tsvg > dag.svg),
--format mermaid a Mermaid flowchart (paste into Markdown).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.globalOptions = globalsFrom(cmd)
			return runDag(cmd.Context(), o, args)
		},
	}
	c.Flags().StringVar(&o.format, "format", "text", "text, dot or mermaid")
	return c
}

func runDag(_ context.Context, o *dagOptions, _ []string) error {
	p, err := openProject(o.globalOptions, false)
	if err != nil {
		return err
	}
	counts, err := dag.CountTasks(p.pipeline, p.params)
	if err != nil {
		return err
	}
	switch o.format {
	case "text":
		writeDagText(o.out(), p.pipeline, counts)
	case "dot":
		writeDagDot(o.out(), p.pipeline, counts)
	case "mermaid":
		writeDagMermaid(o.out(), p.pipeline, counts)
	default:
		return usageError{fmt.Errorf("--format %q: want text, dot or mermaid", o.format)}
	}
	return nil
}

// fanOut describes a stage's tasks: "10 tasks: seed x variant".
func fanOut(s *dag.Stage, n int) string {
	if len(s.Foreach) == 0 {
		return "1 task"
	}
	dims := make([]string, len(s.Foreach))
	for i, d := range s.Foreach {
		dims[i] = d.Name
	}
	return fmt.Sprintf("%d tasks: %s", n, strings.Join(dims, " x "))
}

func inputNames(s *dag.Stage) []string {
	var in []string
	for _, u := range s.InputStages() {
		in = append(in, u.Name)
	}
	return in
}

func writeDagText(out io.Writer, pl *dag.Pipeline, counts map[string]int) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "stage\trun\ttasks\tinputs\tpublish\n")
	for _, s := range pl.Order() {
		in := strings.Join(inputNames(s), ", ")
		if in == "" {
			in = "-"
		}
		pub := s.Publish.Name
		if pub == "" {
			pub = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", s.Name, s.Run.Name, fanOut(s, counts[s.Name]), in, pub)
	}
	w.Flush()
}

func writeDagDot(out io.Writer, pl *dag.Pipeline, counts map[string]int) {
	fmt.Fprintln(out, "digraph pipeline {")
	fmt.Fprintln(out, "  rankdir=LR;")
	fmt.Fprintln(out, `  node [shape=box, style=rounded, fontname="Helvetica"];`)
	for _, s := range pl.Order() {
		label := s.Name
		if len(s.Foreach) > 0 {
			label += `\n` + fanOut(s, counts[s.Name])
		}
		if s.Publish.Name != "" {
			label += `\n-> ` + s.Publish.Name + "/"
		}
		fmt.Fprintf(out, "  %q [label=\"%s\"];\n", s.Name, strings.ReplaceAll(label, `"`, `\"`))
	}
	for _, s := range pl.Order() {
		for _, u := range s.InputStages() {
			fmt.Fprintf(out, "  %q -> %q;\n", u.Name, s.Name)
		}
	}
	fmt.Fprintln(out, "}")
}

func writeDagMermaid(out io.Writer, pl *dag.Pipeline, counts map[string]int) {
	fmt.Fprintln(out, "flowchart LR")
	id := map[string]string{}
	for i, s := range pl.Order() {
		id[s.Name] = fmt.Sprintf("s%d", i)
		label := s.Name
		if len(s.Foreach) > 0 {
			label += "<br/>" + strings.ReplaceAll(fanOut(s, counts[s.Name]), " x ", " × ")
		}
		if s.Publish.Name != "" {
			label += "<br/>→ " + s.Publish.Name + "/"
		}
		fmt.Fprintf(out, "  %s[\"%s\"]\n", id[s.Name], strings.ReplaceAll(label, `"`, "#quot;"))
	}
	for _, s := range pl.Order() {
		for _, u := range s.InputStages() {
			fmt.Fprintf(out, "  %s --> %s\n", id[u.Name], id[s.Name])
		}
	}
}
