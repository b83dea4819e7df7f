package meanfield

import (
	"math"
	"testing"
)

func TestHausdorff(t *testing.T) {
	for _, c := range []struct {
		a, b [][]float64
		want float64
	}{
		{[][]float64{{0, 0}}, [][]float64{{3, 4}}, 5},
		// b's extra point (10, 0) is 9 from a's nearest (1, 0).
		{[][]float64{{1, 0}, {-1, 0}}, [][]float64{{1, 0}, {-1, 0.5}, {10, 0}}, 9},
		{[][]float64{{1, 0}}, nil, math.NaN()},
		// Only the common leading coordinates count (a network with a lowrank
		// variant has more latent coordinates than R).
		{[][]float64{{1, 2, 7}}, [][]float64{{1, 2}}, 0},
	} {
		got := hausdorff(c.a, c.b)
		if !(got == c.want || math.IsNaN(got) && math.IsNaN(c.want)) {
			t.Errorf("hausdorff(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

// TestCompareMatchesLevels: levels pair by nu within 1e-9, unmatched levels of
// either side are skipped, and offBoundary counts only disagreements inside a run of
// equal network regimes.
func TestCompareMatchesLevels(t *testing.T) {
	mk := func(nu float64, regime string) Level {
		return Level{Nu: nu, Analysis: Analysis{Regime: regime}}
	}
	sweep := []Level{mk(0, "a"), mk(0.25, "a"), mk(0.5, "b"), mk(0.75, "a"), mk(1, "a")}
	net := []rnnLevel{{nu: 0, regime: "a"}, {nu: 0.25 + 1e-12, regime: "b"}, {nu: 0.5, regime: "b"},
		{nu: 0.75, regime: "b"}, {nu: 0.9, regime: "b"}}
	cmp := compare(sweep, net)
	if len(cmp) != 4 {
		t.Fatalf("%d compared levels, want 4 (nu = 1 has no partner)", len(cmp))
	}
	var agree []bool
	for _, c := range cmp {
		agree = append(agree, c.agree)
	}
	if want := []bool{true, false, true, false}; !equalBools(agree, want) {
		t.Errorf("agree %v, want %v", agree, want)
	}
	// nu = 0.25: the network changes regime from 0 to 0.25 (boundary); nu = 0.75: the
	// network is "b" at 0.5 and 0.75 and nothing compared follows: also a run
	// interior on one side only, and its neighbour 0.5 has the same regime -> off.
	if n := offBoundary(cmp); n != 1 {
		t.Errorf("offBoundary = %d, want 1", n)
	}
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
