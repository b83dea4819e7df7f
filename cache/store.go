package cache

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/spf13/afero"
)

// Store is a cache rooted at a directory of an afero.Fs. Its methods are safe for
// concurrent use by the tasks of one run, and several processes may write to one
// store at the same time (objects and manifests are immutable once named); the
// writers' lock (Lock) keeps two controllers from running the same pipeline.
type Store struct {
	fs   afero.Fs
	root string

	// verified records objects whose hash was checked by this process, so a
	// large object read by several tasks is hashed once.
	verified sync.Map
}

// Open opens (creating if needed) the store rooted at root on fs.
func Open(fs afero.Fs, root string) (*Store, error) {
	for _, d := range []string{dirObjects, dirManifests, dirRefs} {
		if err := fs.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return nil, fmt.Errorf("cache %s: %w", root, err)
		}
	}
	return &Store{fs: fs, root: root}, nil
}

// OpenExisting opens the store at root without creating anything (readers such as
// `run status` must not write a cache into an arbitrary directory). A missing
// store is reported as an error wrapping fs.ErrNotExist.
func OpenExisting(fs afero.Fs, root string) (*Store, error) {
	if _, err := fs.Stat(filepath.Join(root, dirObjects)); err != nil {
		return nil, fmt.Errorf("cache %s: %w", root, err)
	}
	return &Store{fs: fs, root: root}, nil
}

// Layout of the store (see the package comment).
const (
	dirObjects    = "objects"
	dirManifests  = "manifests"
	dirRefs       = "refs"
	dirQuarantine = "quarantine"
	dirJobs       = "jobs"
	fileStatCache = "statcache.json"
	fileLock      = "lock"
)

// Fs is the filesystem the store lives on.
func (s *Store) Fs() afero.Fs { return s.fs }

// Root is the store's root directory.
func (s *Store) Root() string { return s.root }

// ObjectPath is where the object with the given hash lives.
func (s *Store) ObjectPath(hash string) string {
	return filepath.Join(s.root, dirObjects, shard(hash), hash)
}

// JobsDir is a scratch directory for job descriptions of out-of-process
// executors (removed by gc).
func (s *Store) JobsDir() string { return filepath.Join(s.root, dirJobs) }

func shard(h string) string {
	if len(h) < 2 {
		return "__"
	}
	return h[:2]
}

// validHash tells whether h looks like a hex sha256 (object names and keys).
func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for _, c := range h {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func notExist(err error) bool { return errors.Is(err, os.ErrNotExist) }
