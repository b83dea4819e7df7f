package recording

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// Acceptance 4 of issue 10 needs the whole pipeline: `run all` on a session made
// of the real kilosort_phy spikes and the real pyPhotometry trace cut to the
// spikes' length, with short blocks. This file prepares that session and checks
// that the importer accepts it; the end-to-end run is wired by the lead:
//
//	NMDYN_ACCEPTANCE4_DIR=/tmp/acc4 go test ./stages/recording -run TestAcceptance4Session
//	run all --set data.session=/tmp/acc4
//
// With the variable set the session is assembled there (and kept); without it,
// in a temporary folder. The session holds symlinks to the read-only shared
// files (never copies) and this session.yaml:
const acceptance4YAML = `# Real Kilosort spikes (~119.8 s) + real pyPhotometry trace (5425 s), cut to the spikes.
id: ks_phy_x_pyphotometry
sample_rate: 30000                 # kilosort_phy has no params.py
photometry:
  file: m53_NAc_L-2019-11-24-093939.ppd
  signal_channel: 1                # dLight
  control_channel: 2               # tdTomato
events:
  digital_channel: 1               # reward cues: rising edges of digital_1
  label: reward_cue
window_s: [0, 119.8]               # the spikes span 0.003-119.844 s; the trace is cut to this
block_s: 10                        # 12 blocks instead of 2 at the default 60 s
`

// AssembleAcceptance4Session makes the acceptance-4 session in dir from the
// shared data root real (…/shared/data/real).
func assembleAcceptance4Session(dir, real string) error {
	links := map[string]string{
		"spike_times.npy":                 filepath.Join(real, "kilosort_phy", "spike_times.npy"),
		"spike_clusters.npy":              filepath.Join(real, "kilosort_phy", "spike_clusters.npy"),
		"cluster_group.tsv":               filepath.Join(real, "kilosort_phy", "cluster_group.tsv"),
		"m53_NAc_L-2019-11-24-093939.ppd": filepath.Join(real, "pyphotometry_ppd", "m53_NAc_L-2019-11-24-093939.ppd"),
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, target := range links {
		abs, err := filepath.Abs(target)
		if err != nil {
			return err
		}
		p := filepath.Join(dir, name)
		os.Remove(p)
		if err := os.Symlink(abs, p); err != nil {
			return fmt.Errorf("link %s: %w", p, err)
		}
	}
	return os.WriteFile(filepath.Join(dir, ConfigFile), []byte(acceptance4YAML), 0o644)
}

func TestAcceptance4Session(t *testing.T) {
	real := filepath.Dir(fmtRealData(t, "kilosort_phy"))
	fmtRealData(t, "pyphotometry_ppd")
	dir := os.Getenv("NMDYN_ACCEPTANCE4_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := assembleAcceptance4Session(dir, real); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	good := 0
	var goodSpikes int64
	for _, u := range s.Units {
		if u.Label == "good" {
			good++
			goodSpikes += u.Spikes
		}
	}
	p := s.Photometry
	t.Logf("session %s in %s: %d units (%d good, %d good spikes), span %.3f-%.3f s, block_s %g", s.ID, dir, len(s.Units), good, goodSpikes, s.StartSeconds, s.EndSeconds, s.BlockSeconds)
	if p != nil {
		t.Logf("photometry %s/%s: %d samples at %g Hz, %.3f-%.3f s; %d events; notes %q", p.SignalName, p.ControlName, len(p.Time), p.RateHz, p.Time[0], p.Time[len(p.Time)-1], len(s.Events), s.Notes)
	}
	// The data README: 404 clusters, 140 good; the window keeps 0-119.8 s (the
	// last spikes, at up to 119.844 s, fall outside it).
	if len(s.Units) != 404 || good != 140 || s.StartSeconds != 0 || s.EndSeconds != 119.8 || s.BlockSeconds != 10 {
		t.Errorf("%d units, %d good, span %v-%v, block_s %v", len(s.Units), good, s.StartSeconds, s.EndSeconds, s.BlockSeconds)
	}
	if p == nil || p.RateHz != 130 || p.Control == nil || p.Time[0] > s.StartSeconds || p.Time[len(p.Time)-1] < s.EndSeconds ||
		p.Time[len(p.Time)-1] > s.EndSeconds+11 {
		t.Fatalf("photometry does not cover the window, or was not cut to it: %+v", p)
	}
	// Reward cues (rising edges of digital_1) inside 0-119.8 s: the first five
	// edges of the 137, at 23.28, 41.36, 57.31, 70.30 and 88.44 s (numpy).
	want := []float64{23.2846, 41.3615, 57.3077, 70.3, 88.4385}
	n := 0
	for _, e := range s.Events {
		if e.Label == "reward_cue" {
			if n < len(want) && math.Abs(e.Time-want[n]) > 1e-3 {
				t.Errorf("cue %d at %v s, want %v", n, e.Time, want[n])
			}
			n++
		}
	}
	if n != len(want) {
		t.Errorf("%d reward cues in the window, want %d", n, len(want))
	}
}
