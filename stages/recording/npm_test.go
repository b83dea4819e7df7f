package recording

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const (
	npmRawFile     = "_neurophotometrics_fpData.raw.pqt"
	npmDigitalFile = "_neurophotometrics_fpData.digitalInputs.pqt"
)

// Acceptance 3 (de-interleaving part) on neurophotometrics_pqt. Expected counts
// were computed with numpy from a CSV dump of the file: Flags & 7 is 0 once (the
// first frame, Flags 16), 1 (415 nm) 43,467 times and 2 (470 nm) 43,468 times,
// in the order 0, 2, 1, 2, 1, ..., 2; digitalInputs holds 358 alternating edges,
// 179 of them rising (Value 1), the first at 5388.65744 s.
func TestNPMReal(t *testing.T) {
	dir := fmtRealData(t, "neurophotometrics_pqt")
	e, err := ReadNPMExport(filepath.Join(dir, npmRawFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(e.LED) != 86936 {
		t.Fatalf("%d frames, the README says 86,936", len(e.LED))
	}
	if c := e.LEDCounts(); len(c) != 3 || c[0] != 1 || c[NPMLED415] != 43467 || c[NPMLED470] != 43468 {
		t.Errorf("frames by LED %v, want 0:1 415nm:43467 470nm:43468", c)
	}
	wantRegions := []string{"Region0R", "Region1G", "Region2R", "Region3R", "Region4G", "Region5R", "Region6G"}
	if !slices.Equal(e.Regions, wantRegions) {
		t.Errorf("regions %v", e.Regions)
	}
	times, sig, ctl, unpaired := e.Pairs("Region1G", NPMLED470, NPMLED415)
	// Every 415 nm frame follows a 470 nm frame: 43,467 pairs; the last 470 nm
	// frame has no partner.
	if len(times) != 43467 || unpaired != 1 {
		t.Errorf("%d pairs, %d unpaired; want 43467 and 1", len(times), unpaired)
	}
	st, sv := e.Channel("Region1G", NPMLED470)
	ct, cv := e.Channel("Region1G", NPMLED415)
	for i := range times {
		// pair i = 470 nm frame i and 415 nm frame i, on the 470 nm frame's time
		if times[i] != st[i] || sig[i] != sv[i] || ctl[i] != cv[i] || !(ct[i] > st[i]) || ct[i]-st[i] > 0.034 {
			t.Fatalf("pair %d: %v %v %v; 470 frame %v %v, 415 frame %v %v", i, times[i], sig[i], ctl[i], st[i], sv[i], ct[i], cv[i])
		}
	}

	sdir := fmtSession(t, "", filepath.Join(dir, npmRawFile), filepath.Join(dir, npmDigitalFile))
	if !detectNPM(sdir, &Config{}) {
		t.Fatal("the export is not detected")
	}
	p, ev, err := openNPMPhotometry(sdir, &Config{})
	if err != nil {
		t.Fatal(err)
	}
	if p.SignalName != "Region1G 470nm" || p.ControlName != "Region1G 415nm" || len(p.Time) != 43467 || math.Abs(p.RateHz-15) > 0.01 {
		t.Errorf("photometry %q/%q, %d samples at %v Hz; want Region1G 470/415, 43467 at ~15 Hz", p.SignalName, p.ControlName, len(p.Time), p.RateHz)
	}
	if len(ev) != 179 || ev[0].Time != 5388.65744 || ev[0].Label != "digital_input" {
		t.Errorf("%d events, first %+v; want 179 from 5388.65744 s", len(ev), ev[0])
	}
	// Named in session.yaml, the export wins over the plain table format.
	cfg := &Config{Photometry: PhotometryConfig{File: npmRawFile, Region: "Region6G", SignalLED: 470, ControlLED: 415}}
	if !detectNPM(sdir, cfg) {
		t.Fatal("the export named in session.yaml is not detected")
	}
	if p, _, err = openNPMPhotometry(sdir, cfg); err != nil || p.SignalName != "Region6G 470nm" {
		t.Fatalf("Region6G: %v %+v", err, p)
	}
}

func detectNPM(dir string, cfg *Config) bool {
	p, _ := npmExportFile(dir, cfg)
	return p != ""
}

// A synthetic CSV export: three LEDs, I/O bits in Flags, a dropped frame, the
// LedState column name, and a digital inputs CSV with a channel column.
func TestNPMSynthetic(t *testing.T) {
	dir := t.TempDir()
	// Cycle 415, 470, 560 at 30 fps. Region0G = 10 * frame; Flags carry input
	// bits (16, 256, 512) that must be masked. Frame 7 (470 nm) is dropped, so
	// the 415 nm frame 6 has no partner and is left out; 415 nm frame 9 pairs
	// with 470 nm frame 10.
	rows := []struct {
		fc   int
		flag int
	}{
		{0, 1 | 16}, {1, 2 | 16}, {2, 4}, {3, 1 | 256}, {4, 2 | 512}, {5, 4 | 256}, {6, 1}, {8, 4}, {9, 1 | 16}, {10, 2 | 16}, {11, 4},
	}
	var b strings.Builder
	b.WriteString("FrameCounter,Timestamp,LedState,Region0G,Region1R\n")
	for _, r := range rows {
		b.WriteString(strings.Join([]string{itoa(r.fc), ftoa(100 + float64(r.fc)/30), itoa(r.flag), itoa(10 * r.fc), itoa(-r.fc)}, ","))
		b.WriteString("\n")
	}
	writeTestFile(t, filepath.Join(dir, "FP3002_raw.csv"), b.String())
	writeTestFile(t, filepath.Join(dir, "FP3002_digitalInputs.csv"),
		"Timestamp,Channel,Value\n100.01,0,True\n100.02,1,True\n100.05,0,False\n100.07,0,True\n100.08,0,True\n100.09,1,False\n")
	e, err := ReadNPMExport(filepath.Join(dir, "FP3002_raw.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if c := e.LEDCounts(); c[NPMLED415] != 4 || c[NPMLED470] != 3 || c[NPMLED560] != 4 {
		t.Errorf("frames by LED %v", c)
	}
	times, sig, ctl, unpaired := e.Pairs("Region0G", NPMLED470, NPMLED415)
	// Pairs: (0,1), (3,4), (9,10); frame 6 left alone.
	if !slices.Equal(sig, []float64{10, 40, 100}) || !slices.Equal(ctl, []float64{0, 30, 90}) || unpaired != 1 || times[1] != 100+4.0/30 {
		t.Errorf("pairs sig %v ctl %v times %v, %d unpaired", sig, ctl, times, unpaired)
	}
	p, ev, err := openNPMPhotometry(dir, &Config{})
	if err != nil {
		t.Fatal(err)
	}
	if p.SignalName != "Region0G 470nm" || len(p.Signal) != 3 {
		t.Errorf("%q, %d samples", p.SignalName, len(p.Signal))
	}
	// Channel 0: rising at 100.01 and 100.07 (100.08 repeats a high state);
	// channel 1: rising at 100.02.
	want := []Event{{100.01, "digital_input_0"}, {100.02, "digital_input_1"}, {100.07, "digital_input_0"}}
	if !slices.Equal(ev, want) {
		t.Errorf("events %v, want %v", ev, want)
	}
	p, _, err = openNPMPhotometry(dir, &Config{Photometry: PhotometryConfig{Region: "Region1R", SignalLED: 4, NoControl: true}})
	if err != nil || !slices.Equal(p.Signal, []float64{-2, -5, -8, -11}) || p.Control != nil {
		t.Errorf("560 nm, no control: %v %+v", err, p)
	}
	for _, tc := range []struct {
		pc   PhotometryConfig
		want string
	}{
		{PhotometryConfig{SignalLED: 500}, "signal_led 500"},
		{PhotometryConfig{SignalLED: 470, ControlLED: 2}, "same LED"},
		{PhotometryConfig{Region: "Region9G"}, `region "Region9G"`},
	} {
		if _, _, err := openNPMPhotometry(dir, &Config{Photometry: tc.pc}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.pc, err, tc.want)
		}
	}
}

func TestNPMBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, csv, want string
	}{
		{"no frames", "FrameCounter,Timestamp,Flags,Region0G\n", "no frames"},
		{"time goes back", "FrameCounter,Timestamp,Flags,Region0G\n0,1.0,1,5\n1,0.5,2,5\n", "does not come after"},
		{"frame counter repeats", "FrameCounter,Timestamp,Flags,Region0G\n0,1.0,1,5\n0,1.1,2,5\n", "FrameCounter 0 does not increase"},
		{"negative flags", "FrameCounter,Timestamp,Flags,Region0G\n0,1.0,-1,5\n", "is negative"},
		{"no time", "FrameCounter,Time,Flags,Region0G\n0,1.0,1,5\n", "no frame time column"},
		{"only 415 nm", "FrameCounter,Timestamp,Flags,Region0G\n0,1.0,1,5\n1,1.1,1,5\n", "no frame is lit by the signal LED"},
		{"only 470 nm", "FrameCounter,Timestamp,Flags,Region0G\n0,1.0,2,5\n1,1.1,2,5\n", "set photometry.no_control"},
	} {
		dir := t.TempDir()
		writeTestFile(t, filepath.Join(dir, "x.csv"), tc.csv)
		_, _, err := openNPMPhotometry(dir, &Config{})
		if tc.name == "no time" {
			_, err = ReadNPMExport(filepath.Join(dir, "x.csv"))
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "x.csv") {
			t.Errorf("%s: error %v, want %q and the file name", tc.name, err, tc.want)
		}
	}
	// Tables that are not exports are left to other formats.
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "photometry.csv"), "time,signal\n0,1\n")
	writeTestFile(t, filepath.Join(dir, "other.csv"), "Flags,Timestamp\n1,0\n")
	if detectNPM(dir, &Config{}) || detectNPM(dir, &Config{Photometry: PhotometryConfig{File: "photometry.csv"}}) {
		t.Error("a plain table was taken for a Neurophotometrics export")
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
