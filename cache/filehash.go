package cache

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/afero"
)

// FileHasher hashes external input files and folders (a recording, a session
// folder) on the OS filesystem, keeping a stat cache in the store so that an
// unchanged file is not read again: (path, size, mtime, inode) -> content hash.
// Entries for files modified within the last racyWindow are not kept, since a
// later write within the same mtime tick would go unnoticed (git's "racy" rule).
type FileHasher struct {
	fs   afero.Fs
	path string

	mu      sync.Mutex
	entries map[string]statEntry
	dirty   bool
}

type statEntry struct {
	Size    int64  `json:"size"`
	MtimeNs int64  `json:"mtime_ns"`
	Inode   uint64 `json:"inode"`
	Hash    string `json:"hash"`
}

const racyWindow = 2 * time.Second

// FileHasher returns the store's file hasher (loading its stat cache).
func (s *Store) FileHasher() *FileHasher {
	h := &FileHasher{fs: s.fs, path: filepath.Join(s.root, fileStatCache), entries: map[string]statEntry{}}
	if b, err := afero.ReadFile(s.fs, h.path); err == nil {
		json.Unmarshal(b, &h.entries) // a damaged stat cache is only a slower run
	}
	return h
}

// Hash returns the content hash of a file, or of a folder: the sha256 of its
// regular files' slash-separated relative paths and content hashes, sorted by
// path (symbolic links are followed; empty folders do not count).
func (h *FileHasher) Hash(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		return h.file(abs, st)
	}
	type entry struct{ rel, hash string }
	var files []entry
	err = walk(abs, "", func(rel string, st os.FileInfo) error {
		fh, err := h.file(filepath.Join(abs, rel), st)
		if err != nil {
			return err
		}
		files = append(files, entry{filepath.ToSlash(rel), fh})
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Slice(files, func(i, j int) bool { return files[i].rel < files[j].rel })
	d := sha256.New()
	for _, f := range files {
		fmt.Fprintf(d, "%d:%s %s\n", len(f.rel), f.rel, f.hash)
	}
	return "dir:" + sum(d), nil
}

// walk visits the regular files under root (following symbolic links, guarding
// against loops by depth).
func walk(root, rel string, fn func(rel string, st os.FileInfo) error) error {
	if strings.Count(rel, string(filepath.Separator)) > 64 {
		return fmt.Errorf("%s: folder nesting too deep (a symbolic link loop?)", filepath.Join(root, rel))
	}
	ents, err := os.ReadDir(filepath.Join(root, rel))
	if err != nil {
		return err
	}
	for _, e := range ents {
		r := filepath.Join(rel, e.Name())
		st, err := os.Stat(filepath.Join(root, r))
		if err != nil {
			return err
		}
		switch {
		case st.IsDir():
			if err := walk(root, r, fn); err != nil {
				return err
			}
		case st.Mode().IsRegular():
			if err := fn(r, st); err != nil {
				return err
			}
		}
	}
	return nil
}

func (h *FileHasher) file(abs string, st fs.FileInfo) (string, error) {
	key := statEntry{Size: st.Size(), MtimeNs: st.ModTime().UnixNano(), Inode: inode(st)}
	h.mu.Lock()
	e, ok := h.entries[abs]
	h.mu.Unlock()
	if ok && e.Size == key.Size && e.MtimeNs == key.MtimeNs && e.Inode == key.Inode {
		return e.Hash, nil
	}
	f, err := os.Open(abs)
	if err != nil {
		return "", err
	}
	defer f.Close()
	d := sha256.New()
	if _, err := io.Copy(d, f); err != nil {
		return "", fmt.Errorf("%s: %w", abs, err)
	}
	key.Hash = sum(d)
	if time.Since(st.ModTime()) > racyWindow {
		h.mu.Lock()
		h.entries[abs] = key
		h.dirty = true
		h.mu.Unlock()
	}
	return key.Hash, nil
}

func inode(st fs.FileInfo) uint64 {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return uint64(s.Ino)
	}
	return 0
}

// Save writes the stat cache back (atomically) if it changed. Readers such as
// `run status` may save too: the stat cache is a cache, the last writer wins.
func (h *FileHasher) Save() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.dirty {
		return nil
	}
	b, err := json.Marshal(h.entries)
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(h.fs, h.path, b, 0o644); err != nil {
		return err
	}
	h.dirty = false
	return nil
}
