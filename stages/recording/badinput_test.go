package recording

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"nmdyn/stages/table"
)

// phyFiles writes a small Kilosort folder: 4 spikes of clusters 1 and 2 at
// 1000 Hz, cluster 1 good.
func phyFiles(t *testing.T, dir string) {
	writeNPYInts(t, filepath.Join(dir, "spike_times.npy"), "<u8", "(4, 1)", []int64{100, 200, 300, 400})
	writeNPYInts(t, filepath.Join(dir, "spike_clusters.npy"), "<i4", "(4,)", []int64{1, 2, 1, 2})
	writeFile(t, filepath.Join(dir, "params.py"), "sample_rate = 1000.\n")
	writeFile(t, filepath.Join(dir, "cluster_group.tsv"), "cluster_id\tgroup\r\n1\tgood\r\n2\tmua\r\n")
}

func TestBadInput(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string)
		// The error must name the file and say the problem.
		file, problem string
	}{
		{"spikes.csv missing column", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "spikes.csv"), "unit,t\n1,0.5\n")
		}, "spikes.csv", `missing column "time"`},
		{"spikes.parquet missing column", func(t *testing.T, dir string) {
			tb := table.New().AddFloat("time", []float64{0.5, 1}).AddInt("neuron", []int64{1, 2})
			f, _ := os.Create(filepath.Join(dir, "spikes.parquet"))
			table.WriteParquet(f, tb)
			f.Close()
		}, "spikes.parquet", `no column "unit"`},
		{"unsorted spikes", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "spikes.csv"), "unit,time\n1,0.5\n1,2\n2,1.5\n")
		}, "spikes.csv", "spikes must be sorted by time"},
		{"negative spike time", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "spikes.csv"), "unit,time\n1,-0.5\n1,2\n")
		}, "spikes.csv", "is negative"},
		{"NaN spike time", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "spikes.csv"), "unit,time\n1,0.5\n1,NaN\n")
		}, "spikes.csv", "NaN is not a finite number"},
		{"Inf in photometry", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "spikes.csv"), "unit,time\n1,0.5\n1,1\n")
			writeFile(t, filepath.Join(dir, "photometry.csv"), "time,signal\n0,1\n0.5,Inf\n1,1\n")
		}, "photometry.csv", "signal +Inf is not a finite number"},
		{"photometry times not increasing", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "spikes.csv"), "unit,time\n1,0.5\n1,1\n")
			writeFile(t, filepath.Join(dir, "photometry.csv"), "time,signal\n0,1\n0.5,1\n0.5,1\n1,1\n")
		}, "photometry.csv", "photometry times must increase"},
		{"photometry not covering", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "spikes.csv"), "unit,time\n1,0.5\n1,30\n")
			writeFile(t, filepath.Join(dir, "photometry.csv"), "time,signal\n0,1\n10,1\n20,1\n")
		}, "photometry.csv", "must cover it to within 1 s"},
		{"photometry missing control named in session.yaml", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "spikes.csv"), "unit,time\n1,0.5\n1,1\n")
			writeFile(t, filepath.Join(dir, "photometry.csv"), "time,signal\n0,1\n1,1\n")
			writeFile(t, filepath.Join(dir, "session.yaml"), "photometry:\n  control_col: iso\n")
		}, "photometry.csv", `missing column "iso"`},
		{"NaN event time", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "spikes.csv"), "unit,time\n1,0.5\n1,1\n")
			writeFile(t, filepath.Join(dir, "events.csv"), "time,label\nNaN,tone\n")
		}, "events.csv", "not a finite number"},
		{"kept unit without spikes", func(t *testing.T, dir string) {
			phyFiles(t, dir)
			writeFile(t, filepath.Join(dir, "cluster_group.tsv"), "cluster_id\tgroup\n1\tgood\n9\tgood\n")
		}, "spike_times.npy", "unit 9 (label good, which session.yaml keeps) has no spikes"},
		{"unknown npy dtype", func(t *testing.T, dir string) {
			phyFiles(t, dir)
			os.WriteFile(filepath.Join(dir, "spike_clusters.npy"), npyBytes("<c8", false, "(4,)", make([]byte, 32)), 0o644)
		}, "spike_clusters.npy", `unknown npy dtype "<c8"`},
		{"float spike times", func(t *testing.T, dir string) {
			phyFiles(t, dir)
			os.WriteFile(filepath.Join(dir, "spike_times.npy"), npyBytes("<f8", false, "(4,)", make([]byte, 32)), 0o644)
		}, "spike_times.npy", "want integer sample indices"},
		{"truncated npy", func(t *testing.T, dir string) {
			phyFiles(t, dir)
			os.WriteFile(filepath.Join(dir, "spike_times.npy"), npyBytes("<u8", false, "(4,)", make([]byte, 24)), 0o644)
		}, "spike_times.npy", "file has"},
		{"npy length mismatch", func(t *testing.T, dir string) {
			phyFiles(t, dir)
			writeNPYInts(t, filepath.Join(dir, "spike_clusters.npy"), "<i4", "(3,)", []int64{1, 2, 1})
		}, "spike_clusters.npy", "must match spike for spike"},
		{"unsorted spike_times.npy", func(t *testing.T, dir string) {
			phyFiles(t, dir)
			writeNPYInts(t, filepath.Join(dir, "spike_times.npy"), "<u8", "(4,)", []int64{100, 300, 200, 400})
		}, "spike_times.npy", "spikes must be sorted by time"},
		{"negative samples", func(t *testing.T, dir string) {
			phyFiles(t, dir)
			writeNPYInts(t, filepath.Join(dir, "spike_times.npy"), "<i8", "(4,)", []int64{-100, 200, 300, 400})
		}, "spike_times.npy", "is negative"},
		{"malformed params.py", func(t *testing.T, dir string) {
			phyFiles(t, dir)
			writeFile(t, filepath.Join(dir, "params.py"), "dtype = 'int16'\nsample_rate = 30000 Hz\n")
		}, "params.py", "line 2: sample_rate = 30000 Hz"},
		{"params.py sample_rate not a number", func(t *testing.T, dir string) {
			phyFiles(t, dir)
			writeFile(t, filepath.Join(dir, "params.py"), "sample_rate = '30k'\n")
		}, "params.py", "line 1: sample_rate = '30k': want a positive number"},
		{"no sample rate", func(t *testing.T, dir string) {
			phyFiles(t, dir)
			os.Remove(filepath.Join(dir, "params.py"))
		}, "spike_times.npy", "give sample_rate (Hz) in session.yaml"},
		{"tsv without id column", func(t *testing.T, dir string) {
			phyFiles(t, dir)
			writeFile(t, filepath.Join(dir, "cluster_group.tsv"), "cluster\tgroup\n1\tgood\n")
		}, "cluster_group.tsv", "no cluster_id column"},
		{"session.yaml unknown key", func(t *testing.T, dir string) {
			phyFiles(t, dir)
			writeFile(t, filepath.Join(dir, "session.yaml"), "id: x\nsampel_rate: 30000\n")
		}, "session.yaml", `[2:1] unknown field "sampel_rate"`},
		{"session.yaml bad window", func(t *testing.T, dir string) {
			phyFiles(t, dir)
			writeFile(t, filepath.Join(dir, "session.yaml"), "window_s: [5, 1]\n")
		}, "session.yaml", "window_s [5 1]"},
		{"no kept label", func(t *testing.T, dir string) {
			phyFiles(t, dir)
			writeFile(t, filepath.Join(dir, "session.yaml"), "keep: [excellent]\n")
		}, "spike_times.npy", "no unit has a label to keep (excellent); labels found: good, mua"},
		{"no spikes at all", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "photometry.csv"), "time,signal\n0,1\n")
		}, "", "no spikes found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			c.setup(t, dir)
			_, err := Open(dir)
			if err == nil {
				t.Fatalf("no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, c.problem) || (c.file != "" && !strings.Contains(msg, filepath.Join(dir, c.file))) {
				t.Errorf("error %q\nwant it to name %s and contain %q", msg, c.file, c.problem)
			}
		})
	}
}

// An event label with a comma would break the model's list of event inputs later: it
// is refused at import, naming the session and the label.
func TestEventLabelWithComma(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "spikes.csv"), "unit,time\n1,0.5\n1,1\n")
	writeFile(t, filepath.Join(dir, "events.csv"), "time,label\n0.7,\"tone,left\"\n")
	_, err := Open(dir)
	if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), `"tone,left"`) {
		t.Fatalf("err = %v, want the session folder and the label named", err)
	}
}

// Files named in session.yaml must lie inside the session folder, whose content is
// what the cache key covers.
func TestConfigFileOutsideFolder(t *testing.T) {
	for _, f := range []string{"../ph.csv", "/tmp/ph.csv"} {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "spikes.csv"), "unit,time\n1,0.5\n1,1\n")
		writeFile(t, filepath.Join(dir, "session.yaml"), "photometry:\n  file: "+f+"\n")
		_, err := Open(dir)
		if err == nil || !strings.Contains(err.Error(), "session.yaml") || !strings.Contains(err.Error(), "inside the session folder") {
			t.Errorf("photometry.file %s: err = %v", f, err)
		}
	}
}
