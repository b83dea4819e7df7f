package figures

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"nmdyn/stages/task/tasktest"
)

var figureNames = []string{"overview", "fit_quality", "model_selection", "fixed_points", "meanfield", "clustering", "prediction"}

// run runs the stage on a fixture and returns its files; with NMDYN_FIGURES_OUT
// set they are also written there for a person to look at.
func run(t *testing.T, opt fixtureOptions) (map[string][]byte, *tasktest.Context) {
	t.Helper()
	ctx := fixture(t, opt)
	if err := Run(ctx); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("NMDYN_FIGURES_OUT"); dir != "" {
		sub := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_"))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range ctx.Out.Files {
			if err := os.WriteFile(filepath.Join(sub, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(ctx.Out.Tables) != 0 {
		t.Errorf("the stage wrote Parquet tables %v; its outputs are files (figures/ holds CSV, PNG, SVG)", ctx.Out.Tables)
	}
	return ctx.Out.Files, ctx
}

func TestEveryFigureAndTable(t *testing.T) {
	files, ctx := run(t, fixtureOptions{truth: true})
	for _, n := range figureNames {
		for _, ext := range []string{".csv", ".png", ".svg"} {
			b, ok := files[n+ext]
			if !ok || len(b) == 0 {
				t.Errorf("missing or empty output %s%s", n, ext)
			}
		}
		if !bytes.HasPrefix(files[n+".png"], []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("%s.png is not a PNG", n)
		}
		if !bytes.Contains(files[n+".svg"], []byte("<svg")) {
			t.Errorf("%s.svg is not an SVG", n)
		}
	}
	for _, l := range ctx.Log {
		if strings.Contains(l, "not available") || strings.Contains(l, "failed") {
			t.Errorf("complete synthetic inputs, yet: %s", l)
		}
	}
}
