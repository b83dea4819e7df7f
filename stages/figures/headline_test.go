package figures

import (
	"strings"
	"testing"
)

// The row comparing the clusters with the simulator's populations is shown only when
// the cluster stage checked against a generating network, with its four numbers.
func TestHeadlineTruthClusteringRow(t *testing.T) {
	const label = "Against the simulator's populations"
	find := func(rows []headlineRow) (string, bool) {
		for _, r := range rows {
			if strings.HasPrefix(r.Name, label) {
				return r.Value, true
			}
		}
		return "", false
	}
	sum := map[string]any{"clustering": map[string]any{"n_clusters": 2.0, "ari_with_truth": nil,
		"truth_separability": nil, "truth_network": nil}}
	if v, ok := find(headline(sum)); ok {
		t.Errorf("real session (no generating network): row %q shown", v)
	}
	sum["clustering"] = map[string]any{"n_clusters": 2.0, "ari_with_truth": 0.0765, "truth_separability": 0.7083,
		"truth_network": map[string]any{"n_clusters": 2.0, "ari_with_truth": 1.0}}
	v, ok := find(headline(sum))
	if want := "0.08; 71 %; 2; 1.00"; !ok || v != want {
		t.Errorf("row %q (shown %v), want %q", v, ok, want)
	}
}
