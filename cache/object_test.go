package cache

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/afero"
)

// newStore opens a store in a temp dir of the real filesystem (modes and fsync
// behave as in production).
func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(afero.NewOsFs(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// files lists the regular files under dir, relative and sorted.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			r, _ := filepath.Rel(dir, p)
			out = append(out, r)
		}
		return nil
	})
	return out
}

func TestObjectRoundTrip(t *testing.T) {
	s := newStore(t)
	data := []byte("hello cache")
	o, err := s.PutBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	// sha256("hello cache"), from `printf 'hello cache' | sha256sum`.
	if o.Hash != HashBytes(data) || o.Size != int64(len(data)) {
		t.Fatalf("object %+v", o)
	}
	st, err := os.Stat(s.ObjectPath(o.Hash))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o444 {
		t.Errorf("object mode %v, want read-only 0444", st.Mode().Perm())
	}
	b, err := s.ReadObject(o)
	if err != nil || !bytes.Equal(b, data) {
		t.Fatalf("ReadObject = %q, %v", b, err)
	}
	// Storing the same bytes again is a no-op giving the same name.
	o2, err := s.PutBytes(data)
	if err != nil || o2 != o {
		t.Fatalf("second put: %+v %v", o2, err)
	}
	if got := files(t, filepath.Join(s.Root(), "objects")); len(got) != 1 {
		t.Errorf("objects after two puts of the same bytes: %v", got)
	}
}

// TestObjectCommitFailures injects a failure after every step of the atomic
// commit: whatever the step, no object is visible under its name unless the
// rename happened, and no temp file is left behind by a failed commit.
func TestObjectCommitFailures(t *testing.T) {
	for _, failAt := range []string{"write", "sync", "close", "chmod", "rename", "syncdir"} {
		t.Run(failAt, func(t *testing.T) {
			s := newStore(t)
			stepHook = func(step string) error {
				if step == failAt {
					return fmt.Errorf("injected failure at %s", step)
				}
				return nil
			}
			defer func() { stepHook = nil }()
			_, err := s.PutBytes([]byte("some bytes"))
			if err == nil || !strings.Contains(err.Error(), "injected") {
				t.Fatalf("PutBytes: %v", err)
			}
			stepHook = nil
			left := files(t, filepath.Join(s.Root(), "objects"))
			name := HashBytes([]byte("some bytes"))
			switch failAt {
			case "rename", "syncdir":
				// The object got its name before the failure: it is complete.
				if len(left) != 1 || filepath.Base(left[0]) != name {
					t.Fatalf("after failure at %s: %v", failAt, left)
				}
				if b, err := s.ReadObject(Object{Hash: name, Size: 10}); err != nil || string(b) != "some bytes" {
					t.Errorf("complete object unreadable: %q %v", b, err)
				}
			default:
				if len(left) != 0 {
					t.Fatalf("after failure at %s, files left: %v", failAt, left)
				}
			}
		})
	}
}

// failingFile fails its Sync, as a full disk would.
type failingFile struct{ afero.File }

func (failingFile) Sync() error { return errors.New("injected: no space left on device") }

func TestCreateTempInjection(t *testing.T) {
	s := newStore(t)
	old := createTemp
	createTemp = func(fs afero.Fs, dir, pattern string) (afero.File, error) {
		f, err := old(fs, dir, pattern)
		return failingFile{f}, err
	}
	defer func() { createTemp = old }()
	w, err := s.NewObject()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("x"))
	if _, err := w.Commit(); err == nil || !strings.Contains(err.Error(), "no space") {
		t.Fatalf("Commit: %v", err)
	}
	if left := files(t, filepath.Join(s.Root(), "objects")); len(left) != 0 {
		t.Errorf("files left: %v", left)
	}
}

func TestCorruptObject(t *testing.T) {
	s := newStore(t)
	data := bytes.Repeat([]byte("0123456789"), 100)
	o, err := s.PutBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	flipByte(t, s.ObjectPath(o.Hash), 500)
	_, err = s.ReadObject(o)
	var ie *IntegrityError
	if !errors.As(err, &ie) || !errors.Is(err, ErrIntegrity) || ie.Name != o.Hash {
		t.Fatalf("ReadObject of a flipped byte: %v", err)
	}
	if !strings.Contains(err.Error(), "quarantine") {
		t.Errorf("error does not say where the object went: %v", err)
	}
	// Quarantined: the name is free, so a recomputed copy can be stored.
	if s.HasObject(o) {
		t.Error("corrupted object still under its name")
	}
	if _, err := s.PutBytes(data); err != nil {
		t.Fatal(err)
	}
	if b, err := s.ReadObject(o); err != nil || !bytes.Equal(b, data) {
		t.Fatalf("recomputed object: %v", err)
	}

	// The streaming reader checks too.
	o2, _ := s.PutBytes([]byte("another object, read through OpenObject"))
	flipByte(t, s.ObjectPath(o2.Hash), 3)
	if _, err := s.OpenObject(o2); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("OpenObject of a flipped byte: %v", err)
	}
}

// flipByte inverts one byte of a (read-only) file in place.
func flipByte(t *testing.T, path string, at int64) {
	t.Helper()
	os.Chmod(path, 0o644)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	f.ReadAt(b, at)
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, at); err != nil {
		t.Fatal(err)
	}
}

func TestManifest(t *testing.T) {
	s := newStore(t)
	o, _ := s.PutBytes([]byte("table bytes"))
	key := HashBytes([]byte("a task key"))
	m := &Manifest{Key: key, Components: Components{Stage: "fit", Item: "{}"},
		Outputs: []Output{{Name: "b.parquet", Object: o}, {Name: "a.json", Object: o}}}
	if s.HasManifest(key) {
		t.Fatal("manifest before commit")
	}
	if err := s.CommitManifest(m); err != nil {
		t.Fatal(err)
	}
	got, err := s.ReadManifest(key)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got.Names()) != "[a.json b.parquet]" || got.Components.Stage != "fit" {
		t.Errorf("read back %+v", got)
	}
	if out, ok := got.Output("b.parquet"); !ok || out.Hash != o.Hash {
		t.Errorf("Output(b.parquet) = %+v %v", out, ok)
	}

	// An output whose object is missing cannot be committed.
	bad := &Manifest{Key: HashBytes([]byte("other")), Outputs: []Output{{Name: "x", Object: Object{Hash: HashBytes([]byte("nope")), Size: 4}}}}
	if err := s.CommitManifest(bad); err == nil {
		t.Error("committed a manifest naming a missing object")
	}

	// A flipped byte in a manifest is detected and the manifest quarantined.
	flipByte(t, s.ManifestPath(key), 40)
	if _, err := s.ReadManifest(key); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("ReadManifest of a flipped byte: %v", err)
	}
	if s.HasManifest(key) {
		t.Error("damaged manifest still in place")
	}
	if _, err := s.ReadManifest(key); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing manifest: %v", err)
	}
}

func TestRef(t *testing.T) {
	s := newStore(t)
	if s.ReadRef("fit", `{"seed":1}`) != nil {
		t.Fatal("ref before any commit")
	}
	r := &Ref{Key: "k", Components: Components{Stage: "fit", Item: `{"seed":1}`, Params: "p"}, ParamValues: map[string]string{"fit.epochs": "200"}}
	if err := s.WriteRef(r); err != nil {
		t.Fatal(err)
	}
	got := s.ReadRef("fit", `{"seed":1}`)
	if got == nil || got.Key != "k" || got.ParamValues["fit.epochs"] != "200" {
		t.Fatalf("ReadRef = %+v", got)
	}
	if s.ReadRef("fit", `{"seed":2}`) != nil {
		t.Error("ref of another item")
	}
}

// Committing bytes whose object exists but is damaged (same size, wrong content)
// replaces the damaged copy instead of keeping it (found by review).
func TestCommitReplacesDamagedObject(t *testing.T) {
	s := newStore(t)
	obj, err := s.PutBytes([]byte("hello, object"))
	if err != nil {
		t.Fatal(err)
	}
	path := s.ObjectPath(obj.Hash)
	if err := s.fs.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := afero.WriteFile(s.fs, path, []byte("HELLO, object"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutBytes([]byte("hello, object")); err != nil {
		t.Fatal(err)
	}
	if b, err := s.ReadObject(obj); err != nil || string(b) != "hello, object" {
		t.Fatalf("after recommit: %q, %v", b, err)
	}
}
