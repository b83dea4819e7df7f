package figures

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"

	"nmdyn/stages/plotting"
)

// ManifestName is the manifest's file name in figures/.
const ManifestName = plotting.ManifestName

// manifest is the MANIFEST of the outputs (plotting.Manifest).
func manifest(outs []output) []byte {
	files := make(map[string][]byte, len(outs))
	for _, o := range outs {
		files[o.name] = o.data
	}
	return plotting.Manifest(files)
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
