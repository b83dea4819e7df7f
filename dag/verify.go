package dag

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/afero"

	"nmdyn/stages/table"
)

// ManifestFile is the file a publish directory's producer (the figures stage)
// writes to list its files: one line per file, "sha256  path" (sha256sum's
// format, path relative to the directory).
const ManifestFile = "MANIFEST"

// DefaultRelTol is the relative tolerance for table values in ComparePublished:
// a task gives bit-identical outputs on one machine, but floating-point results
// may differ in the last bits across CPUs and math libraries.
const DefaultRelTol = 1e-9

// ComparePublished compares a regenerated publish directory (fresh) with the
// committed one (committed), using committed/MANIFEST: tables (.csv, .parquet)
// must hold the same columns and rows, floats within relTol relative difference
// (table.Compare's rule); every other file (.svg, .png, .json, …) must have
// exactly the bytes MANIFEST names. It returns one line per difference: files
// missing on either side, files not in MANIFEST, committed files that no longer
// match their MANIFEST line. With no MANIFEST, it compares every file the engine
// published (.published) byte for byte.
func ComparePublished(fsys afero.Fs, committed, fresh string, relTol float64) ([]string, error) {
	want, err := readManifestFile(fsys, filepath.Join(committed, ManifestFile))
	if os.IsNotExist(err) {
		return comparePublishedLists(fsys, committed, fresh)
	}
	if err != nil {
		return nil, err
	}
	got, err := readManifestFile(fsys, filepath.Join(fresh, ManifestFile))
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	var diffs []string
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		wantHash := want[name]
		cpath := filepath.Join(committed, filepath.FromSlash(name))
		fpath := filepath.Join(fresh, filepath.FromSlash(name))
		fh, ferr := fileSHA256(fsys, fpath)
		if ferr != nil {
			diffs = append(diffs, fmt.Sprintf("%s: not regenerated", name))
			continue
		}
		ch, cerr := fileSHA256(fsys, cpath)
		switch {
		case cerr != nil:
			diffs = append(diffs, fmt.Sprintf("%s: listed in MANIFEST but missing from %s", name, committed))
		case ch != wantHash:
			diffs = append(diffs, fmt.Sprintf("%s: the committed file does not match its MANIFEST line (sha256 %.12s, MANIFEST %.12s)", name, ch, wantHash))
		}
		if fh == wantHash {
			continue
		}
		if isTableFile(name) && cerr == nil {
			lines, err := compareTables(fsys, cpath, fpath, relTol)
			if err != nil {
				diffs = append(diffs, fmt.Sprintf("%s: %v", name, err))
				continue
			}
			for _, l := range lines {
				diffs = append(diffs, fmt.Sprintf("%s: %s", name, l))
			}
			continue
		}
		diffs = append(diffs, fmt.Sprintf("%s: bytes differ (regenerated sha256 %.12s, MANIFEST %.12s)", name, fh, wantHash))
	}
	var extra []string
	for n := range got {
		if _, ok := want[n]; !ok {
			extra = append(extra, fmt.Sprintf("%s: regenerated but not in the committed MANIFEST", n))
		}
	}
	sort.Strings(extra)
	return append(diffs, extra...), nil
}

func isTableFile(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv", ".parquet":
		return true
	}
	return false
}

func compareTables(fsys afero.Fs, a, b string, relTol float64) ([]string, error) {
	ta, err := readTableFile(fsys, a)
	if err != nil {
		return nil, fmt.Errorf("committed: %w", err)
	}
	tb, err := readTableFile(fsys, b)
	if err != nil {
		return nil, fmt.Errorf("regenerated: %w", err)
	}
	return table.Compare(ta, tb, relTol), nil
}

func readTableFile(fsys afero.Fs, p string) (*table.Table, error) {
	data, err := afero.ReadFile(fsys, p)
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(filepath.Ext(p), ".csv") {
		return table.ReadCSV(bytes.NewReader(data))
	}
	return table.ReadParquet(bytes.NewReader(data), int64(len(data)))
}

// readManifestFile reads "sha256  path" lines.
func readManifestFile(fsys afero.Fs, p string) (map[string]string, error) {
	b, err := afero.ReadFile(fsys, p)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for ln := 1; sc.Scan(); ln++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		h, name, ok := strings.Cut(line, " ")
		name = strings.TrimLeft(strings.TrimSpace(name), "*") // sha256sum's binary marker
		if !ok || len(h) != 64 || name == "" {
			return nil, fmt.Errorf("%s:%d: want \"sha256  path\"", p, ln)
		}
		out[name] = strings.ToLower(h)
	}
	return out, sc.Err()
}

// comparePublishedLists compares the files listed in both .published lists byte
// for byte (a publish directory without MANIFEST).
func comparePublishedLists(fsys afero.Fs, committed, fresh string) ([]string, error) {
	want := readPublished(fsys, filepath.Join(committed, PublishedList))
	got := readPublished(fsys, filepath.Join(fresh, PublishedList))
	if want == nil {
		return nil, fmt.Errorf("%s has neither %s nor %s: nothing to compare against", committed, ManifestFile, PublishedList)
	}
	var diffs []string
	inGot := map[string]bool{}
	for _, n := range got {
		inGot[n] = true
	}
	for _, n := range want {
		if !inGot[n] {
			diffs = append(diffs, n+": not regenerated")
			continue
		}
		delete(inGot, n)
		a, errA := fileSHA256(fsys, filepath.Join(committed, filepath.FromSlash(n)))
		b, errB := fileSHA256(fsys, filepath.Join(fresh, filepath.FromSlash(n)))
		if errA != nil || errB != nil || a != b {
			diffs = append(diffs, n+": bytes differ")
		}
	}
	var extra []string
	for n := range inGot {
		extra = append(extra, n+": regenerated but not in the committed directory")
	}
	sort.Strings(extra)
	return append(diffs, extra...), nil
}
