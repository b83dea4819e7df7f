package recording

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// readClusterLabels reads one phy cluster table (cluster_group.tsv,
// cluster_KSLabel.tsv or cluster_info.tsv): a tab-separated header naming the id
// column (cluster_id, or id in older cluster_info.tsv) and the label columns, then
// one row per cluster. The first of labelCols that is present and non-empty in a
// row gives that cluster's label (cluster_info.tsv has an empty `group` for clusters
// nobody curated, and its KSLabel then applies). A BOM and CRLF line ends are
// accepted; rows with no label are skipped.
func readClusterLabels(path string, labelCols ...string) (map[int64]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseClusterLabels(path, data, labelCols...)
}

func parseClusterLabels(path string, data []byte, labelCols ...string) (map[int64]string, error) {
	s := strings.TrimPrefix(string(data), "\ufeff")
	lines := strings.Split(s, "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], "\r")
	}
	if len(lines) == 0 || strings.TrimSpace(lines[0]) == "" {
		return nil, fmt.Errorf("%s: empty file (want a header such as cluster_id<TAB>group)", path)
	}
	header := strings.Split(lines[0], "\t")
	idCol := -1
	for i, h := range header {
		h = strings.TrimSpace(h)
		if h == "cluster_id" || (h == "id" && idCol < 0) {
			idCol = i
		}
	}
	if idCol < 0 {
		return nil, fmt.Errorf("%s: header %q has no cluster_id column", path, lines[0])
	}
	var cols []int
	for _, want := range labelCols {
		for i, h := range header {
			if strings.TrimSpace(h) == want {
				cols = append(cols, i)
			}
		}
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("%s: header %q has no label column (want one of %s)", path, lines[0], strings.Join(labelCols, ", "))
	}
	out := map[int64]string{}
	for i, line := range lines[1:] {
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if idCol >= len(f) {
			return nil, fmt.Errorf("%s line %d: %d fields, the header has %d", path, i+2, len(f), len(header))
		}
		id, err := strconv.ParseInt(strings.TrimSpace(f[idCol]), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: cluster id %q is not an integer", path, i+2, f[idCol])
		}
		for _, c := range cols {
			if c < len(f) {
				if lab := strings.TrimSpace(f[c]); lab != "" {
					out[id] = lab
					break
				}
			}
		}
	}
	return out, nil
}
