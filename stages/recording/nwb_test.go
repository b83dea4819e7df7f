package recording

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/scigolib/hdf5"
)

// fmtRealData returns <project root>/../shared/data/real/<sub>, the root being
// the directory holding go.mod above the test's working directory; the test is
// skipped when the shared data are not there.
func fmtRealData(t testing.TB, sub string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "data", "real", sub)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("real data not found: %v", err)
	}
	return p
}

// fmtSession makes a temp session folder with symlinks to the given files (the
// shared data are read-only and must not be copied) and a session.yaml.
func fmtSession(t testing.TB, yaml string, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(abs, filepath.Join(dir, filepath.Base(f))); err != nil {
			t.Fatal(err)
		}
	}
	if yaml != "" {
		if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// scanAll collects every spike of a source and checks time order.
func scanAll(t *testing.T, src SpikeSource) ([]int64, []float64) {
	t.Helper()
	var us []int64
	var ts []float64
	if err := src.Scan(func(u []int64, tt []float64) error {
		us = append(us, u...)
		ts = append(ts, tt...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(ts); i++ {
		if ts[i] < ts[i-1] {
			t.Fatalf("spike %d at %v s comes after %v s", i, ts[i], ts[i-1])
		}
	}
	return us, ts
}

// Acceptance 1: facts about nwb_units/A8604-211122.nwb from the data README
// (computed there with h5py/numpy).
func TestNWBUnitsReal(t *testing.T) {
	dir := fmtRealData(t, "nwb_units")
	units, src, start, end, err := openNWBSpikes(dir, &Config{})
	if err != nil {
		t.Fatal(err)
	}
	wantIDs := []int64{6, 191, 206}
	wantN := []int64{11020, 4690, 5644}
	if len(units) != 3 {
		t.Fatalf("%d units, want 3", len(units))
	}
	for i, u := range units {
		if u.ID != wantIDs[i] || u.Spikes != wantN[i] || u.Label != "unsorted" {
			t.Errorf("unit %d = %+v, want id %d, %d spikes, unsorted (the file has no label column)", i, u, wantIDs[i], wantN[i])
		}
	}
	us, ts := scanAll(t, src)
	if len(ts) != 21354 {
		t.Fatalf("scanned %d spikes, want 21354", len(ts))
	}
	count := map[int64]int64{}
	last := map[int64]float64{}
	for i, u := range us {
		count[u]++
		last[u] = ts[i]
	}
	for i, id := range wantIDs {
		if count[id] != wantN[i] {
			t.Errorf("unit %d: %d spikes scanned, want %d", id, count[id], wantN[i])
		}
	}
	if math.Abs(last[6]-1087.352833) > 1e-9 {
		t.Errorf("last spike of unit 6 at %.9f s, want 1087.352833", last[6])
	}
	if start != ts[0] || end != ts[len(ts)-1] || end != last[6] {
		t.Errorf("span %v-%v, want first and last spike %v-%v", start, end, ts[0], ts[len(ts)-1])
	}

	// /units/electrode_group holds object references: skipped by the importer,
	// and an error that says so when read.
	n, err := openNWB(filepath.Join(dir, "A8604-211122.nwb"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = n.readFloats(n.dataset("/units/electrode_group"), "/units/electrode_group")
	n.Close()
	if err == nil || !strings.Contains(err.Error(), "holds HDF5 object references, which the pure-Go HDF5 reader") {
		t.Errorf("reading object references: %v", err)
	}

	// Through the session importer, as `run inspect` sees it.
	sess, err := Open(fmtSession(t, "keep: [unsorted]\n", filepath.Join(dir, "A8604-211122.nwb")))
	if err != nil {
		t.Fatal(err)
	}
	if len(sess.Units) != 3 || sess.Units[0].Spikes != 11020 || math.Abs(sess.EndSeconds-1087.352833) > 1e-9 {
		t.Errorf("session: units %+v, end %v", sess.Units, sess.EndSeconds)
	}
}

// units_gzip.nwb (written by make_nwb_fixtures.py with h5py: gzip-chunked
// spike_times, uint8 index, vlen-string quality) merged into time order by
// hand from the script's UNIT_TIMES.
func TestNWBUnitsMerge(t *testing.T) {
	dir := fmtSession(t, "", "testdata/formats/units_gzip.nwb")
	units, src, start, end, err := openNWBSpikes(dir, &Config{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Unit{{3, "good", 4}, {7, "mua", 5}, {12, "good", 2}}
	if !slices.Equal(units, want) {
		t.Errorf("units %+v, want %+v", units, want)
	}
	if start != 0.25 || end != 6 {
		t.Errorf("span %v-%v, want 0.25-6", start, end)
	}
	// Unit 7's spikes are stored unsorted; the tie at 1.0 s goes to unit 3,
	// first in the table.
	wantU := []int64{7, 3, 12, 3, 7, 7, 3, 7, 3, 7, 12}
	wantT := []float64{0.25, 0.5, 0.75, 1.0, 1.0, 2.0, 2.5, 3.0, 4.0, 5.5, 6.0}
	for _, chunk := range []int{0, 1, 3, 11, 100} {
		src.(*nwbSpikes).chunk = chunk
		us, ts := scanAll(t, src)
		if !slices.Equal(us, wantU) || !slices.Equal(ts, wantT) {
			t.Errorf("chunk %d: merged %v %v, want %v %v", chunk, us, ts, wantU, wantT)
		}
	}
	if notes := src.(*nwbSpikes).Notes(); len(notes) != 1 || !strings.Contains(notes[0], `"quality"`) {
		t.Errorf("notes %q, want where the labels came from", notes)
	}
}

// What the pure-Go HDF5 reader cannot read gets an error naming the file, the
// unsupported feature and the conversion.
func TestNWBUnreadable(t *testing.T) {
	tmp := t.TempDir()
	good, err := os.ReadFile("testdata/formats/units_gzip.nwb")
	if err != nil {
		t.Fatal(err)
	}
	trunc := filepath.Join(tmp, "trunc.nwb")
	if err := os.WriteFile(trunc, good[:len(good)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(tmp, "text.nwb")
	if err := os.WriteFile(text, []byte("not hdf5 at all, just text\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"testdata/formats/units_v4chunk.nwb", []string{"units_v4chunk.nwb", "/units/spike_times", "extensible array chunk index", "layout version 4", "h5repack -l CONTI -f NONE"}},
		{"testdata/formats/units_zstd.nwb", []string{"units_zstd.nwb", "/units/spike_times", "zstd filter (HDF5 filter id 32015)", "h5repack"}},
		{"testdata/formats/units_latest.nwb", []string{"units_latest.nwb", "cannot open it", "superblock version 3", "libver='latest'", "h5repack -l CONTI -f NONE"}},
		{trunc, []string{"trunc.nwb"}},
		{text, []string{"text.nwb", "not an HDF5 file"}},
	} {
		dir := fmtSession(t, "", tc.file)
		_, _, _, _, err := openNWBSpikes(dir, &Config{})
		if err == nil {
			t.Errorf("%s: no error", tc.file)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", tc.file, err, w)
			}
		}
	}

	// The advice works: h5repack -l CONTI -f NONE makes the 1.10-format file
	// readable (checked when HDF5's tools are installed).
	h5repack, err := exec.LookPath("h5repack")
	if err != nil {
		t.Log("h5repack not installed: conversion advice not checked")
		return
	}
	out := filepath.Join(tmp, "repacked.nwb")
	if b, err := exec.Command(h5repack, "-l", "CONTI", "-f", "NONE", "testdata/formats/units_latest.nwb", out).CombinedOutput(); err != nil {
		t.Fatalf("h5repack: %v: %s", err, b)
	}
	units, _, _, _, err := openNWBSpikes(fmtSession(t, "", out), &Config{})
	if err != nil || len(units) != 3 || units[1].Spikes != 5 {
		t.Errorf("repacked file: units %+v, err %v", units, err)
	}
}

func TestNWBWavelength(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want float64
	}{
		{"GRAB_NE_470nm", 470},
		{"Raw green fluorescence collected during 470 nm illumination re-binned to 100 Hz", 470},
		{"Green fluorescence collected at its isosbestic wavelength (405 nm) re-binned to 100 Hz", 405},
		{"iso_415", 415},
		{"415.5nm", 415},
		{"re-binned to 100 Hz", 0},
		{"session 2023", 0},
		{"Region1G", 0},
	} {
		got, _ := nwbWavelength(tc.s)
		if got != tc.want {
			t.Errorf("nwbWavelength(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

// Fiber photometry series from the fixtures of make_nwb_fixtures.py; expected
// values are the formulas written there.
func TestNWBPhotometry(t *testing.T) {
	t.Run("table wavelengths", func(t *testing.T) {
		dir := fmtSession(t, "", "testdata/formats/fp_table.nwb")
		if !detectNWBPhotometry(dir, &Config{}) || detectNWBSpikes(dir) {
			t.Fatal("detect: want photometry and no Units table")
		}
		p, ev, err := openNWBPhotometry(dir, &Config{})
		if err != nil {
			t.Fatal(err)
		}
		if ev != nil || p.SignalName != "fp_a 470nm" || p.ControlName != "fp_b 405nm" || p.RateHz != 20 || len(p.Time) != 200 {
			t.Fatalf("got %q / %q at %v Hz, %d samples", p.SignalName, p.ControlName, p.RateHz, len(p.Time))
		}
		for i := range p.Time {
			fi := float64(i)
			// fp_a is stored at half scale with conversion = 2.
			if p.Time[i] != 10+fi/20 || math.Abs(p.Signal[i]-(1+0.001*fi)) > 1e-12 || math.Abs(p.Control[i]-(0.5+0.0005*fi)) > 1e-12 {
				t.Fatalf("sample %d: %v %v %v", i, p.Time[i], p.Signal[i], p.Control[i])
			}
		}
	})
	t.Run("names and a linked timestamps", func(t *testing.T) {
		dir := fmtSession(t, "", "testdata/formats/fp_names.nwb")
		_, _, err := openNWBPhotometry(dir, &Config{})
		if err == nil || !strings.Contains(err.Error(), "2 channels could be the sensor") || !strings.Contains(err.Error(), "signal_series") {
			t.Fatalf("470 and 560 nm sensors: error %v, want ambiguity naming signal_series", err)
		}
		cfg := &Config{Photometry: PhotometryConfig{SignalLED: 470}}
		p, _, err := openNWBPhotometry(dir, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if p.SignalName != "GRAB_NE_470nm 470nm" || p.ControlName != "isosbestic_405nm 405nm" {
			t.Fatalf("picked %q / %q", p.SignalName, p.ControlName)
		}
		for i := range p.Time {
			fi := float64(i)
			want := 100 + 0.05*fi + 0.001*float64(i%3)
			if math.Abs(p.Time[i]-want) > 1e-12 || math.Abs(p.Control[i]-(1+0.002*fi)) > 1e-12 {
				t.Fatalf("sample %d: t %v control %v", i, p.Time[i], p.Control[i])
			}
		}
		cfg = &Config{Photometry: PhotometryConfig{SignalSeries: "tdTomato_560nm", ControlSeries: "/acquisition/isosbestic_405nm"}}
		if p, _, err = openNWBPhotometry(dir, cfg); err != nil || p.Signal[7] != 3 || !strings.HasPrefix(p.ControlName, "isosbestic") {
			t.Fatalf("named series: %v %+v", err, p)
		}
		cfg = &Config{Photometry: PhotometryConfig{SignalSeries: "nope"}}
		if _, _, err = openNWBPhotometry(dir, cfg); err == nil || !strings.Contains(err.Error(), `"nope": no such series`) {
			t.Fatalf("unknown series: %v", err)
		}
	})
	t.Run("interleaved times", func(t *testing.T) {
		dir := fmtSession(t, "", "testdata/formats/fp_offset.nwb")
		p, _, err := openNWBPhotometry(dir, &Config{})
		if err != nil {
			t.Fatal(err)
		}
		// The control (1 + 2 t, sampled at 0.05 + 0.1 i) is linear, so linear
		// interpolation is exact; the signal sample at t = 0 precedes the
		// control's first and is dropped.
		if len(p.Time) != 199 || p.Time[0] != 0.1 {
			t.Fatalf("%d samples from %v s, want 199 from 0.1 s", len(p.Time), p.Time[0])
		}
		for i, tt := range p.Time {
			if math.Abs(p.Control[i]-(1+2*tt)) > 1e-9 || p.Signal[i] != 5 {
				t.Fatalf("sample %d at %v s: control %v, want %v", i, tt, p.Control[i], 1+2*tt)
			}
		}
		if !strings.Contains(strings.Join(p.Notes, "\n"), "interpolated") {
			t.Errorf("notes %q do not mention the interpolation", p.Notes)
		}
	})
}

// A 2-D (time, fiber) FiberPhotometryResponseSeries written in the test with the
// HDF5 library's own writer (superblock v0, as pynwb writes). Two fibers, each
// with a 470 nm and a 405 nm series; values encode (series, fiber, sample).
func TestNWBPhotometryFibers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fibers.nwb")
	fw, err := hdf5.CreateForWrite(path, hdf5.CreateTruncate, hdf5.WithSuperblockVersion(0))
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := fw.CreateGroup("/acquisition"); err != nil {
		t.Fatal(err)
	}
	for s, name := range []string{"sensor", "iso"} {
		g, err := fw.CreateGroup("/acquisition/" + name)
		must(err)
		must(g.WriteAttribute("neurodata_type", nwbFPType))
		must(g.WriteAttribute("description", []string{"470 nm excitation", "405 nm excitation"}[s]))
		d, err := fw.CreateDataset("/acquisition/"+name+"/data", hdf5.Float64, []uint64{n, 2})
		must(err)
		v := make([]float64, 2*n)
		for i := 0; i < n; i++ {
			for f := 0; f < 2; f++ {
				v[2*i+f] = float64(100*s + 10*f + i)
			}
		}
		must(d.Write(v))
		st, err := fw.CreateDataset("/acquisition/"+name+"/starting_time", hdf5.Float64, []uint64{1})
		must(err)
		must(st.Write([]float64{2}))
		must(st.WriteAttribute("rate", 10.0))
	}
	must(fw.Close())
	dir := fmtSession(t, "", path)
	if _, _, err := openNWBPhotometry(dir, &Config{}); err == nil || !strings.Contains(err.Error(), "sensor[0]") || !strings.Contains(err.Error(), "sensor[1]") {
		t.Fatalf("two fibers: error %v, want the channels listed", err)
	}
	p, _, err := openNWBPhotometry(dir, &Config{Photometry: PhotometryConfig{SignalSeries: "sensor[1]"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.SignalName != "sensor[1] 470nm" || p.ControlName != "iso[1] 405nm" || p.RateHz != 10 {
		t.Fatalf("picked %q / %q at %v Hz", p.SignalName, p.ControlName, p.RateHz)
	}
	for i := 0; i < n; i++ {
		if p.Time[i] != 2+float64(i)/10 || p.Signal[i] != float64(10+i) || p.Control[i] != float64(110+i) {
			t.Fatalf("sample %d: %v %v %v", i, p.Time[i], p.Signal[i], p.Control[i])
		}
	}
	if _, _, err := openNWBPhotometry(dir, &Config{Photometry: PhotometryConfig{SignalSeries: "sensor"}}); err == nil || !strings.Contains(err.Error(), "has 2 fibers") {
		t.Fatalf("2-D series named without a fiber: %v", err)
	}
}
