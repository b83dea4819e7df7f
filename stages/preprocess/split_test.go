package preprocess

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestApportion(t *testing.T) {
	for _, c := range []struct {
		n    int
		w    [3]int
		want [3]int
	}{
		{10, [3]int{6, 2, 2}, [3]int{6, 2, 2}},
		{20, [3]int{6, 2, 2}, [3]int{12, 4, 4}},
		{7, [3]int{6, 2, 2}, [3]int{4, 2, 1}}, // 4.2, 1.4, 1.4: the one left goes to the largest remainder, validation (tie with test)
		{3, [3]int{6, 2, 2}, [3]int{1, 1, 1}}, // 1.8, 0.6, 0.6 -> 2, 1, 0 -> every split one block
		{2, [3]int{6, 2, 2}, [3]int{1, 1, 0}}, // too few blocks for all three
		{5, [3]int{1, 0, 1}, [3]int{3, 0, 2}}, // 2.5, 0, 2.5: tie to the earlier split
	} {
		if got := apportion(c.n, c.w); got != c.want {
			t.Errorf("apportion(%d, %v) = %v, want %v", c.n, c.w, got, c.want)
		}
	}
}

func TestAssignSplitsSpansNE(t *testing.T) {
	// 40 blocks with NE means in random order: each split's blocks sorted by NE
	// must reach from the lowest tenth to the highest tenth of the NE ranks.
	rng := rand.New(rand.NewPCG(3, 4))
	ne := make([]float64, 40)
	for i := range ne {
		ne[i] = rng.Float64()
	}
	s, err := assignSplits(ne, [3]int{6, 2, 2})
	if err != nil {
		t.Fatal(err)
	}
	rank := make([]int, len(ne))
	for i := range ne {
		for j := range ne {
			if ne[j] < ne[i] {
				rank[i]++
			}
		}
	}
	lo, hi := map[string]int{}, map[string]int{}
	count := map[string]int{}
	for i, name := range s {
		count[name]++
		if _, ok := lo[name]; !ok || rank[i] < lo[name] {
			lo[name] = rank[i]
		}
		if rank[i] > hi[name] {
			hi[name] = rank[i]
		}
	}
	if fmt.Sprint(count) != "map[test:8 train:24 validation:8]" {
		t.Errorf("counts %v", count)
	}
	for name := range count {
		if lo[name] > 4 || hi[name] < 35 {
			t.Errorf("split %s spans NE ranks %d..%d of 0..39", name, lo[name], hi[name])
		}
	}
	// Deterministic.
	s2, _ := assignSplits(ne, [3]int{6, 2, 2})
	if fmt.Sprint(s) != fmt.Sprint(s2) {
		t.Error("two assignments differ")
	}
	if _, err := assignSplits(ne, [3]int{0, 0, 0}); err == nil {
		t.Error("pattern 0:0:0 accepted")
	}
}
