package groundtruth

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"nmdyn/stages/recording"
	"nmdyn/stages/table"
)

// TestWriteSessionRoundTrip: the importer reads a written session back as the
// generator made it (units, spikes, span, photometry, events), and the truth
// files read back as written.
func TestWriteSessionRoundTrip(t *testing.T) {
	cfg := shortConfig("lowrank", 7)
	cfg.Minutes = 1
	g := generate(t, cfg)
	dir := t.TempDir()
	if err := WriteSession(dir, g); err != nil {
		t.Fatal(err)
	}
	s, err := recording.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := g.Session
	if s.ID != want.ID || s.StartSeconds != 0 || s.EndSeconds != 60 || len(s.Units) != len(want.Units) {
		t.Fatalf("imported %q span %v-%v with %d units; want %q 0-60 with %d", s.ID, s.StartSeconds, s.EndSeconds, len(s.Units), want.ID, len(want.Units))
	}
	for i, u := range s.Units {
		if u != want.Units[i] {
			t.Errorf("unit %d: imported %+v, generated %+v", i, u, want.Units[i])
		}
	}
	collect := func(src recording.SpikeSource) (u []int64, tm []float64) {
		src.Scan(func(a []int64, b []float64) error {
			u, tm = append(u, a...), append(tm, b...)
			return nil
		})
		return
	}
	u1, t1 := collect(want.Spikes)
	u2, t2 := collect(s.Spikes)
	if len(u1) != len(u2) {
		t.Fatalf("%d spikes imported, %d generated", len(u2), len(u1))
	}
	for i := range u1 {
		if u1[i] != u2[i] || t1[i] != t2[i] {
			t.Fatalf("spike %d: imported (%d, %v), generated (%d, %v)", i, u2[i], t2[i], u1[i], t1[i])
		}
	}
	if len(s.Events) != len(want.Events) {
		t.Fatalf("%d events imported, %d generated", len(s.Events), len(want.Events))
	}
	for i, e := range s.Events {
		if e != want.Events[i] {
			t.Errorf("event %d: %+v, want %+v", i, e, want.Events[i])
		}
	}
	p, q := s.Photometry, want.Photometry
	if p == nil || len(p.Time) != len(q.Time) || p.Control == nil {
		t.Fatal("photometry not read back")
	}
	for k := range p.Time {
		if p.Time[k] != q.Time[k] || p.Signal[k] != q.Signal[k] || p.Control[k] != q.Control[k] {
			t.Fatalf("photometry sample %d differs", k)
		}
	}
	for name, tb := range g.Tables {
		f, err := os.Open(filepath.Join(dir, name+".parquet"))
		if err != nil {
			t.Fatal(err)
		}
		st, _ := f.Stat()
		got, err := table.ReadParquet(f, st.Size())
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !table.Equal(got, tb) {
			t.Errorf("%s.parquet does not read back as written", name)
		}
	}
	js, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tr Truth
	if err := json.Unmarshal(js, &tr); err != nil {
		t.Fatal(err)
	}
	if tr.Mechanism != "lowrank" || tr.Seed != 7 || len(tr.Population) != cfg.Neurons || tr.Config.Minutes != 1 {
		t.Errorf("truth.json: mechanism %q seed %d %d populations, config minutes %v", tr.Mechanism, tr.Seed, len(tr.Population), tr.Config.Minutes)
	}
}
