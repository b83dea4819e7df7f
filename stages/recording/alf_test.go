package recording

import (
	"bufio"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio"

	"nmdyn/stages/table"
)

// writeNPY writes v (a slice of a numpy-supported type) with npyio, an encoder
// independent of the reader under test.
func writeNPY(t *testing.T, path string, v any) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := npyio.Write(f, v); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestALFSmall(t *testing.T) {
	times := []float64{0.1, 0.2, 0.2, 0.5, 0.9}
	clusters := []int64{3, 1, 3, 0, 1}
	for _, tc := range []struct {
		name     string
		times    any
		clusters any
	}{
		{"f8 i8", times, clusters},
		{"f4 u1", []float32{0.1, 0.2, 0.2, 0.5, 0.9}, []uint8{3, 1, 3, 0, 1}},
		{"f8 i2", times, []int16{3, 1, 3, 0, 1}},
		{"f8 u4", times, []uint32{3, 1, 3, 0, 1}},
		{"f8 u8", times, []uint64{3, 1, 3, 0, 1}},
		{"f8 i4", times, []int32{3, 1, 3, 0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeNPY(t, filepath.Join(dir, "spikes.times.npy"), tc.times)
			writeNPY(t, filepath.Join(dir, "spikes.clusters.npy"), tc.clusters)
			units, src, start, end, err := openALFSpikes(dir, &Config{})
			if err != nil {
				t.Fatal(err)
			}
			want := []Unit{{0, "unsorted", 1}, {1, "unsorted", 2}, {3, "unsorted", 2}}
			if !slices.Equal(units, want) || math.Abs(start-0.1) > 1e-7 || math.Abs(end-0.9) > 1e-7 {
				t.Errorf("units %+v span %v-%v", units, start, end)
			}
			us, ts := scanAll(t, src)
			if !slices.Equal(us, clusters) || len(ts) != 5 || math.Abs(ts[3]-0.5) > 1e-7 {
				t.Errorf("scanned %v %v", us, ts)
			}
		})
	}
}

// The real kilosort_phy spikes rewritten as ALF (times in seconds at the README's
// 30 kHz, clusters as they are, labels from cluster_group.tsv into a
// clusters.metrics.csv): the README's counts must come back, streamed in chunks.
func TestALFFromRealKilosort(t *testing.T) {
	src := fmtRealData(t, "kilosort_phy")
	dir := t.TempDir()
	f, err := os.Open(filepath.Join(src, "spike_times.npy"))
	if err != nil {
		t.Fatal(err)
	}
	var samples []uint64
	err = npyio.Read(f, &samples)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	secs := make([]float64, len(samples))
	for i, s := range samples {
		secs[i] = float64(s) / 30000
	}
	writeNPY(t, filepath.Join(dir, "spikes.times.npy"), secs)
	if err := os.Symlink(filepath.Join(src, "spike_clusters.npy"), filepath.Join(dir, "spikes.clusters.npy")); err != nil {
		t.Fatal(err)
	}
	g, err := os.Open(filepath.Join(src, "cluster_group.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	var groups []string
	sc := bufio.NewScanner(g)
	for sc.Scan() {
		cols := strings.Split(strings.TrimRight(sc.Text(), "\r"), "\t")
		id, err := strconv.ParseInt(cols[0], 10, 64)
		if err != nil {
			continue // the header
		}
		ids = append(ids, id)
		groups = append(groups, cols[1])
	}
	g.Close()
	mt := table.New().AddInt("cluster_id", ids).AddString("group", groups)
	mf, err := os.Create(filepath.Join(dir, "clusters.metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if err := table.WriteCSV(mf, mt); err != nil {
		t.Fatal(err)
	}
	mf.Close()

	units, s, start, end, err := openALFSpikes(dir, &Config{})
	if err != nil {
		t.Fatal(err)
	}
	byLabel := map[string]int{}
	var goodSpikes, all int64
	for _, u := range units {
		byLabel[u.Label]++
		all += u.Spikes
		if u.Label == "good" {
			goodSpikes += u.Spikes
		}
	}
	// README: 379,321 spikes, 404 clusters, 140 good / 260 mua / 4 noise,
	// 205,723 spikes in good units, samples 95 to 3,595,319.
	if len(units) != 404 || all != 379321 || byLabel["good"] != 140 || byLabel["mua"] != 260 || byLabel["noise"] != 4 || goodSpikes != 205723 {
		t.Errorf("%d units, %d spikes, labels %v, %d good spikes", len(units), all, byLabel, goodSpikes)
	}
	if start != 95.0/30000 || end != 3595319.0/30000 {
		t.Errorf("span %v-%v", start, end)
	}
	us, ts := scanAll(t, s)
	if len(ts) != 379321 || ts[200000] != secs[200000] {
		t.Errorf("scanned %d spikes", len(ts))
	}
	_ = us
}

func TestALFLabels(t *testing.T) {
	dir := t.TempDir()
	writeNPY(t, filepath.Join(dir, "spikes.times.npy"), []float64{1, 2, 3, 4})
	writeNPY(t, filepath.Join(dir, "spikes.clusters.npy"), []int32{0, 1, 2, 5})
	// IBL metrics: numeric label = fraction of quality metrics passed; cluster 5
	// is not listed.
	mt := table.New().AddInt("cluster_id", []int64{0, 1, 2, 3}).AddFloat("label", []float64{1, 2.0 / 3, 0, 1}).AddString("ks2_label", []string{"mua", "good", "good", "good"})
	mf, err := os.Create(filepath.Join(dir, "clusters.metrics.pqt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := table.WriteParquet(mf, mt); err != nil {
		t.Fatal(err)
	}
	mf.Close()
	units, src, _, _, err := openALFSpikes(dir, &Config{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Unit{{0, "good", 1}, {1, "mua", 1}, {2, "mua", 1}, {5, "unsorted", 1}}
	if !slices.Equal(units, want) {
		t.Errorf("units %+v, want %+v", units, want)
	}
	if notes := strings.Join(src.(*alfSpikes).Notes(), "\n"); !strings.Contains(notes, "IBL quality label") || !strings.Contains(notes, "1 spiking clusters missing") {
		t.Errorf("notes %q", notes)
	}

	// Without a cluster_id column, row i is cluster i; a string label is used as is.
	os.Remove(filepath.Join(dir, "clusters.metrics.pqt"))
	writeTestFile(t, filepath.Join(dir, "clusters.metrics.csv"), "amp,KSLabel\n1.5,good\n2.5,mua\n3.5,good\n4,mua\n5,mua\n6,good\n")
	units, _, _, _, err = openALFSpikes(dir, &Config{})
	if err != nil {
		t.Fatal(err)
	}
	want = []Unit{{0, "good", 1}, {1, "mua", 1}, {2, "good", 1}, {5, "good", 1}}
	if !slices.Equal(units, want) {
		t.Errorf("KSLabel: units %+v, want %+v", units, want)
	}
	writeTestFile(t, filepath.Join(dir, "clusters.metrics.csv"), "amp\n1\n")
	if _, _, _, _, err = openALFSpikes(dir, &Config{}); err == nil || !strings.Contains(err.Error(), "no label column") {
		t.Errorf("no label column: %v", err)
	}
}

func TestALFBadInput(t *testing.T) {
	for _, tc := range []struct {
		name     string
		times    any
		clusters any
		want     string
	}{
		{"integer times", []int64{1, 2}, []int64{0, 0}, "integers would be samples"},
		{"float clusters", []float64{1, 2}, []float64{0, 0}, "cluster ids must be integers"},
		{"lengths differ", []float64{1, 2, 3}, []int64{0, 0}, "has 3 spikes but"},
		{"unsorted", []float64{1, 3, 2}, []int64{0, 0, 0}, "spike 2 at 2 s comes before the previous spike at 3 s"},
		{"NaN", []float64{1, math.NaN()}, []int64{0, 0}, "spike 1 is at NaN"},
	} {
		dir := t.TempDir()
		writeNPY(t, filepath.Join(dir, "spikes.times.npy"), tc.times)
		writeNPY(t, filepath.Join(dir, "spikes.clusters.npy"), tc.clusters)
		_, _, _, _, err := openALFSpikes(dir, &Config{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "spikes.") {
			t.Errorf("%s: error %v, want %q and the file", tc.name, err, tc.want)
		}
	}
	// No spikes: shape (0,) (npyio writes an empty slice with shape ()).
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "spikes.times.npy"), alfEmptyNPY("<f8"))
	writeTestFile(t, filepath.Join(dir, "spikes.clusters.npy"), alfEmptyNPY("<i8"))
	if _, _, _, _, err := openALFSpikes(dir, &Config{}); err == nil || !strings.Contains(err.Error(), "spikes.times.npy: no spikes") {
		t.Errorf("empty: %v", err)
	}
	// Truncated data, wrong magic.
	dir = t.TempDir()
	writeNPY(t, filepath.Join(dir, "spikes.times.npy"), []float64{1, 2, 3})
	writeNPY(t, filepath.Join(dir, "spikes.clusters.npy"), []int64{0, 1, 2})
	p := filepath.Join(dir, "spikes.times.npy")
	b, _ := os.ReadFile(p)
	writeTestFile(t, p, string(b[:len(b)-4]))
	if _, _, _, _, err := openALFSpikes(dir, &Config{}); err == nil || !strings.Contains(err.Error(), "spikes.times.npy") {
		t.Errorf("truncated: %v", err)
	}
	writeTestFile(t, p, strings.Repeat("\x00", 64))
	if _, _, _, _, err := openALFSpikes(dir, &Config{}); err == nil || !strings.Contains(err.Error(), "spikes.times.npy: not a .npy file") {
		t.Errorf("wrong magic: %v", err)
	}
	// Two candidate files, and detection.
	writeNPY(t, filepath.Join(dir, "spikes.times.a1b2.npy"), []float64{1, 2, 3})
	if _, _, _, _, err := openALFSpikes(dir, &Config{}); err == nil || !strings.Contains(err.Error(), "several spikes.times files") {
		t.Errorf("two times files: %v", err)
	}
	only := t.TempDir()
	writeNPY(t, filepath.Join(only, "spikes.times.npy"), []float64{1})
	for _, f := range spikeFormats {
		if f.Name == "IBL/ALF spikes.times.npy + spikes.clusters.npy" && (f.Detect(only) || !f.Detect(dir)) {
			t.Error("detection: want both files")
		}
	}
}

// A large shuffled-cluster recording crosses several read chunks: counts and
// order survive. Seeded, so the same every run.
func TestALFChunks(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 3*alfChunk + 123
	times := make([]float64, n)
	clusters := make([]int16, n)
	want := map[int64]int64{}
	x := 0.0
	for i := range times {
		x += r.ExpFloat64() / 1000
		times[i] = x
		clusters[i] = int16(r.IntN(50) - 5) // negative ids are legal integers
		want[int64(clusters[i])]++
	}
	dir := t.TempDir()
	writeNPY(t, filepath.Join(dir, "spikes.times.npy"), times)
	writeNPY(t, filepath.Join(dir, "spikes.clusters.npy"), clusters)
	units, src, _, end, err := openALFSpikes(dir, &Config{})
	if err != nil {
		t.Fatal(err)
	}
	if end != times[n-1] || len(units) != len(want) {
		t.Fatalf("end %v, %d units", end, len(units))
	}
	for _, u := range units {
		if u.Spikes != want[u.ID] {
			t.Errorf("unit %d: %d spikes, want %d", u.ID, u.Spikes, want[u.ID])
		}
	}
	us, ts := scanAll(t, src)
	for i := range ts {
		if ts[i] != times[i] || us[i] != int64(clusters[i]) {
			t.Fatalf("spike %d: %v %v, want %v %v", i, us[i], ts[i], clusters[i], times[i])
		}
	}
}

// alfEmptyNPY is a version-1 .npy file of shape (0,).
func alfEmptyNPY(descr string) string {
	h := "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (0,), }"
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	return "\x93NUMPY\x01\x00" + string([]byte{byte(len(h)), byte(len(h) >> 8)}) + h
}
