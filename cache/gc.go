package cache

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/afero"
)

// GCStats says what gc removed.
type GCStats struct {
	Manifests, Objects, Refs, Temps int
	Bytes                           int64 // object bytes freed
	KeptManifests, KeptObjects      int
}

// GC removes what no current task reaches: manifests whose key is not in keep,
// objects no kept manifest names, refs of (stage, item) pairs not in keepRefs
// (keyed stage + "\x00" + canonical item), temp files left by crashes,
// quarantined files and job descriptions. The caller holds the lock, so no writer
// is running and every temp file is garbage.
func (s *Store) GC(keep map[string]bool, keepRefs map[string]bool) (GCStats, error) {
	var st GCStats
	fs := s.fs
	reached := map[string]bool{}
	var errs []error

	// Manifests first: what they name is what objects are kept.
	err := afero.Walk(fs, filepath.Join(s.root, dirManifests), func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		if isTemp(p) {
			st.Temps++
			return fs.Remove(p)
		}
		key := strings.TrimSuffix(filepath.Base(p), ".json")
		if !keep[key] {
			st.Manifests++
			return fs.Remove(p)
		}
		m, err := s.ReadManifest(key)
		if err != nil {
			// Damaged: ReadManifest quarantined it; the task will rerun.
			return nil
		}
		st.KeptManifests++
		for _, o := range m.Outputs {
			reached[o.Hash] = true
		}
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}

	err = afero.Walk(fs, filepath.Join(s.root, dirObjects), func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		name := filepath.Base(p)
		switch {
		case isTemp(p):
			st.Temps++
		case reached[name]:
			st.KeptObjects++
			return nil
		default:
			st.Objects++
			st.Bytes += info.Size()
		}
		return fs.Remove(p)
	})
	if err != nil {
		errs = append(errs, err)
	}

	keepPaths := map[string]bool{}
	for k := range keepRefs {
		if i := strings.IndexByte(k, 0); i >= 0 {
			keepPaths[s.refPath(k[:i], k[i+1:])] = true
		}
	}
	err = afero.Walk(fs, filepath.Join(s.root, dirRefs), func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		if isTemp(p) {
			st.Temps++
			return fs.Remove(p)
		}
		if !keepPaths[p] {
			st.Refs++
			return fs.Remove(p)
		}
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}

	for _, d := range []string{dirQuarantine, dirJobs} {
		if err := fs.RemoveAll(filepath.Join(s.root, d)); err != nil {
			errs = append(errs, err)
		}
	}
	// Temp files of the store's own small files (stat cache, lock refresh).
	if ents, err := afero.ReadDir(fs, s.root); err == nil {
		for _, e := range ents {
			if isTemp(e.Name()) {
				st.Temps++
				fs.Remove(filepath.Join(s.root, e.Name()))
			}
		}
	}
	return st, errors.Join(errs...)
}
