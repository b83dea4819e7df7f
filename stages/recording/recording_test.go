package recording

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio/npy"

	"nmdyn/stages/table"
)

// realData returns <project root>/../shared/data/real/<sub>, the root being the
// directory holding go.mod above the test's working directory.
func realData(t *testing.T, sub string) string {
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

// linkDir makes a temp folder holding symlinks to every file of src (the shared
// data is read-only, and tests must not copy it) plus the given extra files.
func linkDir(t *testing.T, src string, extra map[string]string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.Symlink(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range extra {
		writeFile(t, filepath.Join(dst, name), content)
	}
	return dst
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// npyBytes encodes a .npy file (version 1.0) by hand, so tests control every
// header detail: descr, order flag, shape literal and the raw data.
func npyBytes(descr string, fortran bool, shape string, data []byte) []byte {
	order := "False"
	if fortran {
		order = "True"
	}
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, order, shape)
	// Pad so that magic + version + length + header + newline is a multiple of 64.
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	b.WriteString(h)
	b.Write(data)
	return b.Bytes()
}

// encodeInts encodes v with the given numpy integer dtype.
func encodeInts(descr string, v []int64) []byte {
	var order binary.ByteOrder = binary.LittleEndian
	if descr[0] == '>' {
		order = binary.BigEndian
	}
	size := int(descr[len(descr)-1] - '0')
	out := make([]byte, size*len(v))
	for i, x := range v {
		switch size {
		case 1:
			out[i] = byte(x)
		case 2:
			order.PutUint16(out[2*i:], uint16(x))
		case 4:
			order.PutUint32(out[4*i:], uint32(x))
		case 8:
			order.PutUint64(out[8*i:], uint64(x))
		}
	}
	return out
}

func writeNPYInts(t *testing.T, path, descr string, shape string, v []int64) {
	t.Helper()
	if err := os.WriteFile(path, npyBytes(descr, strings.Contains(shape, ", 1)"), shape, encodeInts(descr, v)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func labelCounts(s *Session) (units map[string]int, spikes map[string]int64) {
	units, spikes = map[string]int{}, map[string]int64{}
	for _, u := range s.Units {
		units[u.Label]++
		spikes[u.Label] += u.Spikes
	}
	return
}

func TestKilosortPhy(t *testing.T) {
	// Facts from the data README: 404 clusters, 140 good / 260 mua / 4 noise,
	// 205,723 spikes in good units, 379,321 spikes, last spike at sample
	// 3,595,319 (30000 Hz, no params.py), cluster_group.tsv with CRLF line ends.
	dir := linkDir(t, realData(t, "kilosort_phy"), map[string]string{"session.yaml": "sample_rate: 30000\n"})
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	units, spikes := labelCounts(s)
	if len(s.Units) != 404 || units["good"] != 140 || units["mua"] != 260 || units["noise"] != 4 {
		t.Errorf("%d units, per label %v; want 404 = 140 good + 260 mua + 4 noise", len(s.Units), units)
	}
	if spikes["good"] != 205723 {
		t.Errorf("%d spikes in good units, want 205,723", spikes["good"])
	}
	var total int64
	for _, u := range s.Units {
		total += u.Spikes
	}
	if total != 379321 {
		t.Errorf("%d spikes in all, want 379,321", total)
	}
	if want := 3595319.0 / 30000; s.StartSeconds != 0 || math.Abs(s.EndSeconds-want) > 1e-9 {
		t.Errorf("span %v-%v s, want 0-%v", s.StartSeconds, s.EndSeconds, want)
	}
	if s.Photometry != nil || len(s.Keep) != 1 || s.Keep[0] != "good" {
		t.Errorf("photometry %v keep %v", s.Photometry, s.Keep)
	}
	if !strings.Contains(strings.Join(s.Notes, "; "), "sample rate 30000 Hz from session.yaml") {
		t.Errorf("notes %q do not say where the sample rate came from", s.Notes)
	}
	// A second scan gives the same spikes in chunks (Scan may be called again).
	var n int64
	var last float64
	if err := s.Spikes.Scan(func(u []int64, tm []float64) error {
		n += int64(len(tm))
		last = tm[len(tm)-1]
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 379321 || last != s.EndSeconds {
		t.Errorf("rescan: %d spikes, last %v", n, last)
	}
}

func TestPhyTemplate(t *testing.T) {
	// Data README: params.py says sample_rate = 25000.; 314 spikes; 62 clusters;
	// cluster_group.tsv lists only cluster 4 (good).
	dir := realData(t, "phy_template")
	s, err := OpenWithConfig(dir, &Config{Keep: []string{"good"}})
	if err != nil {
		t.Fatal(err)
	}
	units, spikes := labelCounts(s)
	if len(s.Units) != 62 || units["good"] != 1 || units["unsorted"] != 61 {
		t.Errorf("%d units per label %v; want 62 = 1 good + 61 unsorted", len(s.Units), units)
	}
	if spikes["good"]+spikes["unsorted"] != 314 {
		t.Errorf("spikes per label %v, want 314 in all", spikes)
	}
	for _, u := range s.Units {
		if (u.ID == 4) != (u.Label == "good") {
			t.Errorf("unit %d labelled %s", u.ID, u.Label)
		}
	}
	notes := strings.Join(s.Notes, "; ")
	if !strings.Contains(notes, "sample rate 25000 Hz from params.py") || !strings.Contains(notes, "61 units have no label") {
		t.Errorf("notes %q", notes)
	}
	// The last spike in samples divided by 25000 is the end: check against a
	// direct read of the array with npyio's independent reader.
	f, err := os.Open(filepath.Join(dir, "spike_times.npy"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var v []uint64
	if err := npy.Read(f, &v); err != nil {
		t.Fatal(err)
	}
	if want := float64(v[len(v)-1]) / 25000; s.EndSeconds != want {
		t.Errorf("end %v s, want %v", s.EndSeconds, want)
	}
}

// tinySession writes a small table session: 3 units, photometry at 20 Hz over
// [0, 10] s, events.
func tinySession(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	base := map[string]string{
		"spikes.csv": "unit,time\n1,0.5\n2,1.0\n1,2.5\n3,9.5\n2,9.9\n",
		"events.csv": "time,label\n5,tone\n2,reward\n2,air\n30,late\n",
		"photometry.csv": func() string {
			var b strings.Builder
			b.WriteString("time,signal,control\n")
			for i := 0; i <= 200; i++ {
				fmt.Fprintf(&b, "%g,%g,%g\n", float64(i)/20, 1+0.01*math.Sin(float64(i)), 0.5)
			}
			return b.String()
		}(),
	}
	for k, v := range files {
		base[k] = v
	}
	for k, v := range base {
		if v != "" {
			writeFile(t, filepath.Join(dir, k), v)
		}
	}
	return dir
}

func TestTableSession(t *testing.T) {
	dir := tinySession(t, map[string]string{"session.yaml": "id: tiny\nclock_offset_s: 0.25\n"})
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != "tiny" || len(s.Units) != 3 || s.StartSeconds != 0 || s.EndSeconds != 9.9 {
		t.Errorf("id %q units %v span %v-%v", s.ID, s.Units, s.StartSeconds, s.EndSeconds)
	}
	for _, u := range s.Units {
		want := map[int64]int64{1: 2, 2: 2, 3: 1}[u.ID]
		if u.Label != "good" || u.Spikes != want {
			t.Errorf("unit %+v, want good with %d spikes", u, want)
		}
	}
	// Events: offset added, sorted by time then label, the one at 30 s dropped.
	want := []Event{{2.25, "air"}, {2.25, "reward"}, {5.25, "tone"}}
	if fmt.Sprint(s.Events) != fmt.Sprint(want) {
		t.Errorf("events %v, want %v", s.Events, want)
	}
	p := s.Photometry
	if p == nil || p.Time[0] != 0.25 || len(p.Control) != 201 || math.Abs(p.RateHz-20) > 1e-9 {
		t.Fatalf("photometry %+v", p)
	}

	// The same session as Parquet.
	pq := t.TempDir()
	for _, name := range []string{"spikes", "events", "photometry"} {
		tb, err := table.ReadCSVFile(filepath.Join(dir, name+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(filepath.Join(pq, name+".parquet"))
		if err != nil {
			t.Fatal(err)
		}
		if err := table.WriteParquet(f, tb); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	s2, err := OpenWithConfig(pq, &Config{ClockOffsetSeconds: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(s2.Units) != fmt.Sprint(s.Units) || fmt.Sprint(s2.Events) != fmt.Sprint(s.Events) || s2.EndSeconds != s.EndSeconds {
		t.Errorf("parquet session differs: %v %v %v", s2.Units, s2.Events, s2.EndSeconds)
	}
}

func TestWindow(t *testing.T) {
	dir := tinySession(t, map[string]string{"session.yaml": "window_s: [1, 9.6]\n"})
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var times []float64
	s.Spikes.Scan(func(_ []int64, tm []float64) error { times = append(times, tm...); return nil })
	if fmt.Sprint(times) != "[1 2.5 9.5]" || s.StartSeconds != 1 || s.EndSeconds != 9.6 {
		t.Errorf("windowed spikes %v span %v-%v", times, s.StartSeconds, s.EndSeconds)
	}
	// Unit 3 has its only spike at 9.5 s; unit 2 keeps one of two.
	for _, u := range s.Units {
		if want := map[int64]int64{1: 1, 2: 1, 3: 1}[u.ID]; u.Spikes != want {
			t.Errorf("unit %d: %d spikes in the window, want %d", u.ID, u.Spikes, want)
		}
	}
}

func TestNPYDtypesShapesOrders(t *testing.T) {
	// Every integer dtype, both byte orders, shapes (N,), (N,1), (1,N) and the
	// Fortran flag give the same values.
	want := []int64{0, 1, 2, 100, 127}
	dir := t.TempDir()
	for _, descr := range []string{"|i1", "|u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8", ">i2", ">u4", ">i8", "=i8"} {
		for _, shape := range []string{"(5,)", "(5, 1)", "(1, 5)"} {
			for _, fortran := range []bool{false, true} {
				path := filepath.Join(dir, "a.npy")
				if err := os.WriteFile(path, npyBytes(descr, fortran, shape, encodeInts(descr, want)), 0o644); err != nil {
					t.Fatal(err)
				}
				a, err := openNPY(path)
				if err != nil {
					t.Fatalf("%s %s: %v", descr, shape, err)
				}
				r, _ := a.reader()
				got := make([]int64, 8)
				n, err := r.Ints(got)
				r.Close()
				if err != nil || fmt.Sprint(got[:n]) != fmt.Sprint(want) {
					t.Errorf("%s %s fortran=%v: %v (%v), want %v", descr, shape, fortran, got[:n], err, want)
				}
			}
		}
	}
	// Negative values survive signed dtypes.
	path := filepath.Join(dir, "neg.npy")
	os.WriteFile(path, npyBytes("<i2", false, "(2,)", encodeInts("<i2", []int64{-3, 5})), 0o644)
	a, _ := openNPY(path)
	r, _ := a.reader()
	got := make([]int64, 2)
	r.Ints(got)
	r.Close()
	if got[0] != -3 || got[1] != 5 {
		t.Errorf("<i2 [-3 5] read as %v", got)
	}
}

func TestParseNPYHeader(t *testing.T) {
	for _, c := range []struct {
		header  string
		descr   string
		shape   string
		fortran bool
		err     string
	}{
		{"{'descr': '<u8', 'fortran_order': True, 'shape': (379321, 1), }", "<u8", "[379321 1]", true, ""},
		{"{'shape': (3,), 'fortran_order': False, 'descr': '|u1'}", "|u1", "[3]", false, ""}, // any key order, no trailing comma
		{"{\"descr\":\"<i4\",\"fortran_order\":False,\"shape\":(7L,)}", "<i4", "[7]", false, ""},
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (), }", "<f8", "[]", false, ""},
		{"{'descr': '<c16', 'fortran_order': False, 'shape': (3,), }", "", "", false, "unknown npy dtype"},
		{"{'descr': '<U5', 'fortran_order': False, 'shape': (3,), }", "", "", false, "unknown npy dtype"},
		{"{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (3,), }", "", "", false, "structured"},
		{"{'descr': '<i4', 'fortran_order': False, 'shape': (-3,), }", "", "", false, "non-negative"},
		{"{'descr': '<i4', 'fortran_order': 'yes', 'shape': (3,), }", "", "", false, "fortran_order"},
		{"{'descr': '<i4', 'fortran_order': False}", "", "", false, "shape"},
		{"{'descr': '<i4', 'fortran_order': False, 'shape': (3,) ", "", "", false, "bad .npy header"},
	} {
		buf := npyBytes(c.descr, false, "", nil)[:8]
		buf = binary.LittleEndian.AppendUint16(buf, uint16(len(c.header)))
		buf = append(buf, c.header...)
		h, err := parseNPYHeader(buf)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want one containing %q", c.header, err, c.err)
			}
			continue
		}
		if err != nil || h.Descr != c.descr || fmt.Sprint(h.Shape) != c.shape || h.Fortran != c.fortran {
			t.Errorf("%s: %+v %v", c.header, h, err)
		}
	}
}

func TestParamsPy(t *testing.T) {
	src := "\ufeffdat_path = r'C:\\data\\run.dat'  # raw string\r\n" +
		"n_channels_dat = 385\r\n\r\n" +
		"dtype = \"int16\"\r\n" +
		"offset = 0\r\n" +
		"sample_rate = 30_000.\r\n" +
		"hp_filtered = False\r\n" +
		"paths = ['a#b.dat', 'c.dat',]\r\n"
	p, err := ParseParamsPy([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if v := p["dat_path"]; v.Kind != PyString || v.Str != `C:\data\run.dat` || v.Line != 1 {
		t.Errorf("dat_path %+v", v)
	}
	if v := p["sample_rate"]; v.Kind != PyNumber || v.Num != 30000 {
		t.Errorf("sample_rate %+v", v)
	}
	if v := p["hp_filtered"]; v.Kind != PyBool || v.Bool {
		t.Errorf("hp_filtered %+v", v)
	}
	if v := p["dtype"]; v.Str != "int16" || p["paths"].Kind != PyList {
		t.Errorf("dtype %+v paths %+v", v, p["paths"])
	}
	for _, c := range []struct{ src, err string }{
		{"sample_rate 30000\n", "line 1: "},
		{"a = 1\nsample_rate = 'abc\n", "line 2: sample_rate = 'abc: unterminated string"},
		{"x = 1\n\n3x = 2\n", "line 3: \"3x\" is not a valid name"},
		{"sample_rate = nan\n", "line 1"},
		{"sample_rate = \n", "missing value"},
		{"dat_path = 'a' 'b'\n", "after the closing quote"},
	} {
		_, err := ParseParamsPy([]byte(c.src))
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%q: error %v, want one containing %q", c.src, err, c.err)
		}
	}
}

func TestClusterLabelPrecedence(t *testing.T) {
	// cluster_group.tsv (curation) overrides cluster_KSLabel.tsv, which overrides
	// cluster_info.tsv; an empty group in cluster_info falls back to its KSLabel.
	dir := t.TempDir()
	writeNPYInts(t, filepath.Join(dir, "spike_times.npy"), "<i8", "(6,)", []int64{10, 20, 30, 40, 50, 60})
	writeNPYInts(t, filepath.Join(dir, "spike_clusters.npy"), "<u2", "(6, 1)", []int64{1, 2, 3, 4, 5, 1})
	writeFile(t, filepath.Join(dir, "params.py"), "sample_rate = 10.\n")
	writeFile(t, filepath.Join(dir, "cluster_group.tsv"), "cluster_id\tgroup\n1\tgood\n")
	writeFile(t, filepath.Join(dir, "cluster_KSLabel.tsv"), "cluster_id\tKSLabel\n1\tmua\n2\tmua\n")
	writeFile(t, filepath.Join(dir, "cluster_info.tsv"), "id\tamp\tgroup\tKSLabel\n2\t3\tnoise\tgood\n3\t1\t\tgood\n")
	s, err := OpenWithConfig(dir, &Config{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]string{}
	for _, u := range s.Units {
		got[u.ID] = u.Label
	}
	want := map[int64]string{1: "good", 2: "mua", 3: "good", 4: "unsorted", 5: "unsorted"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("labels %v, want %v", got, want)
	}
	if s.EndSeconds != 6 {
		t.Errorf("end %v, want 60 samples / 10 Hz = 6 s", s.EndSeconds)
	}
}
