package cache

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestFileHasher(t *testing.T) {
	s := newStore(t)
	dir := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		// Old enough to be cached (see racyWindow).
		old := time.Now().Add(-time.Hour)
		os.Chtimes(p, old, old)
	}
	write("spikes.csv", "unit,time\n1,0.5\n")
	write("sub/photometry.csv", "time,signal\n0,1\n")
	h := s.FileHasher()
	f1, err := h.Hash(filepath.Join(dir, "spikes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if f1 != HashBytes([]byte("unit,time\n1,0.5\n")) {
		t.Errorf("file hash %s is not the sha256 of its content", f1)
	}
	d1, err := h.Hash(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Content change -> new folder hash; renaming a file -> new hash.
	write("sub/photometry.csv", "time,signal\n0,2\n")
	d2, _ := h.Hash(dir)
	os.Rename(filepath.Join(dir, "sub/photometry.csv"), filepath.Join(dir, "sub/photometry2.csv"))
	d3, _ := h.Hash(dir)
	if d1 == d2 || d2 == d3 || d1 == d3 {
		t.Errorf("folder hashes %s %s %s: want all different", d1, d2, d3)
	}
	if err := h.Save(); err != nil {
		t.Fatal(err)
	}
	// The stat cache, reloaded, answers without reading: same size, mtime and
	// inode give the recorded hash even though the bytes changed behind its back
	// (what a stat cache trades for speed; an edit always changes the mtime).
	p := filepath.Join(dir, "spikes.csv")
	st, _ := os.Stat(p)
	f, _ := os.OpenFile(p, os.O_WRONLY, 0)
	f.WriteAt([]byte("U"), 0)
	f.Close()
	os.Chtimes(p, st.ModTime(), st.ModTime())
	h2 := s.FileHasher()
	if got, _ := h2.Hash(p); got != f1 {
		t.Errorf("stat cache not used: %s", got)
	}
	// A newer mtime makes it read the file again.
	os.Chtimes(p, st.ModTime().Add(time.Second), st.ModTime().Add(time.Second))
	if got, _ := h2.Hash(p); got == f1 {
		t.Error("stale stat cache entry used after an mtime change")
	}
	if _, err := h2.Hash(filepath.Join(dir, "missing")); err == nil {
		t.Error("no error for a missing path")
	}
}

func TestFileHasherRacy(t *testing.T) {
	s := newStore(t)
	p := filepath.Join(t.TempDir(), "fresh.txt")
	os.WriteFile(p, []byte("a"), 0o644)
	h := s.FileHasher()
	h.Hash(p)
	if len(h.entries) != 0 {
		t.Error("a file modified just now was put in the stat cache")
	}
}
