// Command benchprep measures the session import and preprocessing of a large
// synthetic session (default 500 units x 60 min, about 9 million spikes): wall time
// of each stage and the process's peak resident memory.
//
//	go run ./stages/preprocess/internal/benchprep -gen /tmp/bp      # write the session once
//	go build -o /tmp/benchprep ./stages/preprocess/internal/benchprep
//	/usr/bin/time -v /tmp/benchprep -run /tmp/bp                   # "Maximum resident set size"
//
// -run also prints the peak RSS the kernel reports for the process (VmHWM).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"nmdyn/stages/preprocess"
	"nmdyn/stages/preprocess/internal/filetask"
	"nmdyn/stages/preprocess/internal/synth"
	"nmdyn/stages/session"
)

func main() {
	gen := flag.String("gen", "", "write a synthetic session into this folder")
	run := flag.String("run", "", "run session and preprocess on this folder (outputs in a temp folder)")
	units := flag.Int("units", 500, "units")
	minutes := flag.Float64("minutes", 60, "duration in minutes")
	flag.Parse()
	if *gen == "" && *run == "" {
		flag.Usage()
		os.Exit(2)
	}
	if *gen != "" {
		if err := os.MkdirAll(*gen, 0o755); err != nil {
			fail(err)
		}
		t0 := time.Now()
		st, err := synth.Write(*gen, synth.Config{Units: *units, DurationS: *minutes * 60, MeanRateHz: 5, PhotoRateHz: 30, Seed: 1})
		if err != nil {
			fail(err)
		}
		fmt.Printf("wrote %d spikes of %d units over %g min in %s (%.1fs)\n", st.Spikes, *units, *minutes, *gen, time.Since(t0).Seconds())
	}
	if *run != "" {
		out, err := os.MkdirTemp("", "benchprep")
		if err != nil {
			fail(err)
		}
		defer os.RemoveAll(out)
		abs, _ := filepath.Abs(*run)
		sOut, pOut := filepath.Join(out, "session"), filepath.Join(out, "preprocess")
		t0 := time.Now()
		if err := session.Run(&filetask.Context{Root: "/", OutDir: sOut, Params: map[string]any{"data": map[string]any{"session": abs}}}); err != nil {
			fail(err)
		}
		t1 := time.Now()
		fmt.Printf("session:    %.2f s, peak RSS so far %s\n", t1.Sub(t0).Seconds(), peakRSS())
		if err := preprocess.Run(&filetask.Context{Root: "/", OutDir: pOut, Params: map[string]any{}, Upstream: map[string]string{"session": sOut}}); err != nil {
			fail(err)
		}
		t2 := time.Now()
		fmt.Printf("preprocess: %.2f s, peak RSS %s\n", t2.Sub(t1).Seconds(), peakRSS())
		fmt.Printf("total:      %.2f s\n", t2.Sub(t0).Seconds())
	}
}

// peakRSS is VmHWM from /proc/self/status (Linux).
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:"))
		}
	}
	return "unknown"
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchprep:", err)
	os.Exit(1)
}
