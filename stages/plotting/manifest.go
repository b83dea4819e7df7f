package plotting

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
)

// ManifestName is the name of the MANIFEST file in a publish directory (what
// `run verify` reads; dag.ManifestFile).
const ManifestName = "MANIFEST"

// Manifested reports whether a published file is listed in a MANIFEST (what `run
// verify` compares): the figure tables (.csv), the SVGs and summary.json. PNGs and
// index.html are not: the PNG rasteriser's anti-aliasing runs on floating point
// whose last bits may differ between CPU architectures (fused multiply-add), which
// would make a byte comparison fail for no scientific reason, and both are drawn
// from files that are listed (the PNG from the same figure as its SVG, index.html
// from summary.json and the captions in the code).
func Manifested(name string) bool {
	return strings.HasSuffix(name, ".csv") || strings.HasSuffix(name, ".svg") || name == "summary.json"
}

// Manifest lists `<sha256 hex>  <file name>` (two spaces, the format sha256sum
// writes and `sha256sum -c` checks) for every manifested file, sorted by name.
func Manifest(files map[string][]byte) []byte {
	var lines []string
	for name, data := range files {
		if Manifested(name) {
			h := sha256.Sum256(data)
			lines = append(lines, hex.EncodeToString(h[:])+"  "+name)
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
