package cache

import (
	"os"
	"path/filepath"
	"testing"
)

func TestGC(t *testing.T) {
	s := newStore(t)
	shared, _ := s.PutBytes([]byte("shared by both tasks"))
	onlyOld, _ := s.PutBytes([]byte("only the old task"))
	orphan, _ := s.PutBytes([]byte("written by a failed task"))
	keyNew, keyOld := HashBytes([]byte("new")), HashBytes([]byte("old"))
	for _, m := range []*Manifest{
		{Key: keyNew, Components: Components{Stage: "a", Item: "{}"}, Outputs: []Output{{Name: "x", Object: shared}}},
		{Key: keyOld, Components: Components{Stage: "a", Item: "{}"}, Outputs: []Output{{Name: "x", Object: shared}, {Name: "y", Object: onlyOld}}},
	} {
		if err := s.CommitManifest(m); err != nil {
			t.Fatal(err)
		}
	}
	s.WriteRef(&Ref{Key: keyNew, Components: Components{Stage: "a", Item: "{}"}})
	s.WriteRef(&Ref{Key: keyOld, Components: Components{Stage: "gone", Item: "{}"}})
	// A crash's leftover temp file.
	os.WriteFile(filepath.Join(s.Root(), "objects", ".tmp-123"), []byte("partial"), 0o644)

	st, err := s.GC(map[string]bool{keyNew: true}, map[string]bool{"a\x00{}": true})
	if err != nil {
		t.Fatal(err)
	}
	want := GCStats{Manifests: 1, Objects: 2, Refs: 1, Temps: 1, KeptManifests: 1, KeptObjects: 1,
		Bytes: onlyOld.Size + orphan.Size}
	if st != want {
		t.Errorf("GC stats %+v, want %+v", st, want)
	}
	if !s.HasManifest(keyNew) || s.HasManifest(keyOld) {
		t.Error("wrong manifests kept")
	}
	if !s.HasObject(shared) || s.HasObject(onlyOld) || s.HasObject(orphan) {
		t.Error("wrong objects kept")
	}
	if s.ReadRef("a", "{}") == nil || s.ReadRef("gone", "{}") != nil {
		t.Error("wrong refs kept")
	}
}
