package cache

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/afero"
)

// Object names stored bytes: their sha256 (hex) and size.
type Object struct {
	Hash string `json:"object"`
	Size int64  `json:"size"`
}

// IntegrityError reports cached bytes that do not match their name: a corrupted
// object or manifest. The engine treats the task owning it as missing and
// recomputes it; the bytes are never used.
type IntegrityError struct {
	What string // "object" or "manifest"
	Name string // object hash or task key
	Path string // file that was read (moved to quarantine/ if possible)
	Msg  string
}

func (e *IntegrityError) Error() string {
	return fmt.Sprintf("cache %s %s is corrupted (%s): %s", e.What, e.Name, e.Path, e.Msg)
}

// ErrIntegrity matches every *IntegrityError with errors.Is.
var ErrIntegrity = errors.New("cache integrity")

func (e *IntegrityError) Is(target error) bool { return target == ErrIntegrity }

// ObjectWriter streams bytes into a new object: they go to a temp file while being
// hashed, and become an object (named by the hash) only at Commit.
type ObjectWriter struct {
	s    *Store
	f    afero.File
	tmp  string
	h    hash.Hash
	n    int64
	done bool
}

// NewObject starts a new object. The temp file lives in objects/, on the same
// filesystem and tree as the object's final directory objects/ab/ (its name is
// not known until all bytes are hashed), so the final rename is atomic.
func (s *Store) NewObject() (*ObjectWriter, error) {
	f, err := createTemp(s.fs, filepath.Join(s.root, dirObjects), tempPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("cache: new object: %w", err)
	}
	return &ObjectWriter{s: s, f: f, tmp: f.Name(), h: sha256.New()}, nil
}

// Write implements io.Writer.
func (w *ObjectWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, errors.New("cache: write to a finished object")
	}
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	if err == nil {
		err = step("write")
	}
	return n, err
}

// Commit makes the bytes written so far an object and returns its name. If an
// object with the same hash exists already, the temp file is dropped.
func (w *ObjectWriter) Commit() (Object, error) {
	if w.done {
		return Object{}, errors.New("cache: object committed twice")
	}
	w.done = true
	obj := Object{Hash: sum(w.h), Size: w.n}
	final := w.s.ObjectPath(obj.Hash)
	if st, err := w.s.fs.Stat(final); err == nil && st.Size() == obj.Size && w.s.intact(final, obj.Hash) {
		w.f.Close()
		w.s.fs.Remove(w.tmp)
		return obj, nil
	}
	// Absent, or present but damaged: the fresh bytes replace it atomically.
	if err := w.s.fs.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return Object{}, abortTemp(w.s.fs, w.f, w.tmp, err)
	}
	if err := commitTemp(w.s.fs, w.f, w.tmp, final, 0o444); err != nil {
		return Object{}, fmt.Errorf("cache: commit object: %w", err)
	}
	return obj, nil
}

// Abort drops an unfinished object.
func (w *ObjectWriter) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.f.Close()
	w.s.fs.Remove(w.tmp)
}

// PutBytes stores b as an object.
func (s *Store) PutBytes(b []byte) (Object, error) {
	w, err := s.NewObject()
	if err != nil {
		return Object{}, err
	}
	if _, err := w.Write(b); err != nil {
		w.Abort()
		return Object{}, err
	}
	return w.Commit()
}

// HasObject tells whether the object exists with the right size (without
// reading it).
func (s *Store) HasObject(o Object) bool {
	st, err := s.fs.Stat(s.ObjectPath(o.Hash))
	return err == nil && st.Size() == o.Size
}

// ReadObject returns the bytes of an object after checking their hash. A mismatch
// quarantines the object and returns an *IntegrityError.
func (s *Store) ReadObject(o Object) ([]byte, error) {
	p := s.ObjectPath(o.Hash)
	b, err := afero.ReadFile(s.fs, p)
	if err != nil {
		return nil, err
	}
	if got := HashBytes(b); got != o.Hash || int64(len(b)) != o.Size {
		return nil, s.corrupt(o, p, got, int64(len(b)))
	}
	s.verified.Store(o.Hash, true)
	return b, nil
}

// OpenObject opens an object for random access (a Parquet reader) after checking
// its hash by streaming it once (skipped when this process checked it already).
// The caller closes the file.
func (s *Store) OpenObject(o Object) (afero.File, error) {
	p := s.ObjectPath(o.Hash)
	f, err := s.fs.Open(p)
	if err != nil {
		return nil, err
	}
	if _, ok := s.verified.Load(o.Hash); ok {
		return f, nil
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	if got := sum(h); got != o.Hash || n != o.Size {
		f.Close()
		return nil, s.corrupt(o, p, got, n)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	s.verified.Store(o.Hash, true)
	return f, nil
}

// corrupt quarantines a bad object and describes it.
func (s *Store) corrupt(o Object, p, got string, n int64) error {
	e := &IntegrityError{What: "object", Name: o.Hash, Path: p,
		Msg: fmt.Sprintf("content hash %s, %d bytes; want %d bytes", short(got), n, o.Size)}
	if q, err := s.quarantine(p, o.Hash); err == nil {
		e.Msg += "; moved to " + q
	}
	return e
}

// quarantine moves a bad file out of the way so that it is never read again and a
// recomputed copy can take its name.
func (s *Store) quarantine(p, name string) (string, error) {
	dir := filepath.Join(s.root, dirQuarantine)
	if err := s.fs.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	q := filepath.Join(dir, name+"."+strconv.FormatInt(time.Now().UnixNano(), 10))
	if err := s.fs.Rename(p, q); err != nil {
		return "", err
	}
	return q, nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// intact reports whether the file at path hashes to hash (a damaged copy of an
// object must not be kept when the same bytes are committed again).
func (s *Store) intact(path, hash string) bool {
	f, err := s.fs.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false
	}
	return sum(h) == hash
}
