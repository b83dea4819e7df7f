package figures

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// ManifestName is the manifest's file name in figures/.
const ManifestName = "MANIFEST"

// Manifested reports whether a figures output is listed in the MANIFEST: the
// figure tables (.csv), the SVGs and summary.json. PNGs and index.html are not:
// the PNG rasteriser's anti-aliasing runs on floating point whose last bits may
// differ between CPU architectures (fused multiply-add), which would make a
// byte comparison fail for no scientific reason, and both are drawn from files
// that are listed (the PNG from the same figure as its SVG, index.html from
// summary.json and the captions in the code).
func Manifested(name string) bool {
	return strings.HasSuffix(name, ".csv") || strings.HasSuffix(name, ".svg") || name == "summary.json"
}

// manifest lists `<sha256 hex>  <file name>` (two spaces, the format sha256sum
// writes and `sha256sum -c` checks) for every manifested output, sorted by name.
func manifest(outs []output) []byte {
	var lines []string
	for _, o := range outs {
		if Manifested(o.name) {
			h := sha256.Sum256(o.data)
			lines = append(lines, hex.EncodeToString(h[:])+"  "+o.name)
		}
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i][66:] < lines[j][66:] })
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// ManifestEntry is one line of a MANIFEST.
type ManifestEntry struct {
	SHA256 string // hex
	Name   string
}

// ParseManifest reads a MANIFEST (for `run verify`): one `<64 hex>  <name>` per
// line; an error names the line that is not of that form.
func ParseManifest(b []byte) ([]ManifestEntry, error) {
	var out []ManifestEntry
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" {
			continue
		}
		hash, name, ok := strings.Cut(line, "  ")
		if !ok || len(hash) != 64 || name == "" {
			return nil, fmt.Errorf("%s line %d: want <sha256 hex>  <file name>, got %q", ManifestName, n, line)
		}
		if _, err := hex.DecodeString(hash); err != nil {
			return nil, fmt.Errorf("%s line %d: %q is not hex", ManifestName, n, hash)
		}
		out = append(out, ManifestEntry{SHA256: hash, Name: name})
	}
	return out, sc.Err()
}
