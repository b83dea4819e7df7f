package dag

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/afero"

	"nmdyn/cache"
)

// PublishedList is the file, in a publish directory, listing what the engine
// published there (one slash path per line, sorted). The engine removes a file it
// published before that is no longer an output, and never touches files it did
// not publish.
const PublishedList = ".published"

// PublishStats says what Publish did.
type PublishStats struct {
	Dir                         string
	Written, Unchanged, Removed int
}

func (s PublishStats) String() string {
	return fmt.Sprintf("%s: %d written, %d unchanged, %d removed", s.Dir, s.Written, s.Unchanged, s.Removed)
}

// Publish copies a task's outputs into root/dir: a file whose bytes already match
// is left alone (so timestamps and git stay quiet), others are written
// atomically (temp, fsync, rename, directory fsync); files published earlier and
// no longer outputs are removed. The list of published files is kept in
// dir/.published. Objects are verified as they are read.
func Publish(fsys afero.Fs, root, dir string, store *cache.Store, m *cache.Manifest) (PublishStats, error) {
	st := PublishStats{Dir: dir}
	full := filepath.Join(root, filepath.FromSlash(dir))
	if err := fsys.MkdirAll(full, 0o755); err != nil {
		return st, err
	}
	var names []string
	for _, o := range m.Outputs {
		target := filepath.Join(full, filepath.FromSlash(o.Name))
		names = append(names, o.Name)
		if h, err := fileSHA256(fsys, target); err == nil && h == o.Hash {
			st.Unchanged++
			continue
		}
		b, err := store.ReadObject(o.Object)
		if err != nil {
			return st, err
		}
		if err := cache.WriteFileAtomic(fsys, target, b, 0o644); err != nil {
			return st, err
		}
		st.Written++
	}
	listPath := filepath.Join(full, PublishedList)
	current := map[string]bool{}
	for _, n := range names {
		current[n] = true
	}
	for _, old := range readPublished(fsys, listPath) {
		if current[old] || !validPublishedName(old) {
			continue
		}
		err := fsys.Remove(filepath.Join(full, filepath.FromSlash(old)))
		if err == nil {
			st.Removed++
		}
	}
	sort.Strings(names)
	list := strings.Join(names, "\n")
	if list != "" {
		list += "\n"
	}
	if old, err := afero.ReadFile(fsys, listPath); err != nil || string(old) != list {
		if err := cache.WriteFileAtomic(fsys, listPath, []byte(list), 0o644); err != nil {
			return st, err
		}
	}
	return st, nil
}

// validPublishedName guards removals: only clean relative paths inside the directory.
func validPublishedName(n string) bool {
	return n != "" && path.Clean(n) == n && !strings.HasPrefix(n, "../") && n != ".." && !path.IsAbs(n)
}

func readPublished(fsys afero.Fs, p string) []string {
	b, err := afero.ReadFile(fsys, p)
	if err != nil {
		return nil
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func fileSHA256(fsys afero.Fs, p string) (string, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
