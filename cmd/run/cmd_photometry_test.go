package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"nmdyn/stages/table"
)

// writeTrace writes a photometry CSV with custom column names: signal =
// baseline (1 + dff) + 0.4 motion, control = its baseline + motion, plus a few
// gross artefacts in the control channel only.
func writeTrace(t *testing.T, path string) {
	rng := rand.New(rand.NewPCG(9, 9))
	var b strings.Builder
	b.WriteString("t_sec,gcamp,iso\n")
	var motion, slow float64
	for i := 0; i < 20*600; i++ {
		tm := float64(i) / 20
		slow += (-slow/5 + 0.005*rng.NormFloat64()*math.Sqrt(20)) / 20
		motion += (-motion/0.5 + 0.1*rng.NormFloat64()*math.Sqrt(20)) / 20
		iso := 1 + 0.1*math.Exp(-tm/300) + motion
		if i%2000 == 1000 {
			iso += 5 // artefact in the control only
		}
		fmt.Fprintf(&b, "%g,%g,%g\n", tm, (2+0.3*math.Exp(-tm/200))*(1+slow)+0.4*motion, iso)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRunPhotometry(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "trace.csv")
	writeTrace(t, in)
	out := filepath.Join(dir, "corrected.parquet")
	var stdout bytes.Buffer
	o := &photometryOptions{timeCol: "t_sec", signalCol: "gcamp", controlCol: "iso", method: "irls", bleaching: "dexp",
		lowpassHz: 2, highpassHz: 0.001, percentiles: []float64{2, 98}, out: out, stdout: &stdout}
	if err := runPhotometry(context.Background(), o, []string{in}); err != nil {
		t.Fatal(err)
	}
	text := stdout.String()
	t.Log(text)
	var slope float64
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "control fit: method irls, slope ") {
			fmt.Sscanf(strings.TrimPrefix(line, "control fit: method irls, slope "), "%g", &slope)
		}
	}
	// The motion enters the signal with slope 0.4 (by construction); the 6 control
	// artefacts must not bend the robust fit.
	if math.Abs(slope-0.4) > 0.02 {
		t.Errorf("printed slope %v, want 0.4 within 0.02", slope)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	tb, err := table.ReadParquet(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(tb.Names()); got != "[time signal control fitted_control dff ne]" || tb.Len() != 12000 {
		t.Errorf("output columns %s, %d rows", got, tb.Len())
	}

	// Errors name the file and the column; no control: said so.
	o2 := *o
	o2.controlCol = "isosbestic"
	if err := runPhotometry(context.Background(), &o2, []string{in}); err == nil || !strings.Contains(err.Error(), in) || !strings.Contains(err.Error(), `"isosbestic"`) {
		t.Errorf("missing control column: %v", err)
	}
	o3 := *o
	o3.noControl, o3.out = true, filepath.Join(dir, "nc.csv")
	stdout.Reset()
	if err := runPhotometry(context.Background(), &o3, []string{in}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "control fit: none") || !strings.Contains(stdout.String(), "bleaching correction only") {
		t.Errorf("no-control output:\n%s", stdout.String())
	}
}
