package gmm

import "fmt"

// AdjustedRand is the adjusted Rand index of two partitions of the same items (Hubert
// & Arabie 1985, J. Classification 2:193), given as a label per item (any integers;
// only equality matters). With n_ij the contingency table, a_i and b_j its margins and
// C(m) = m (m - 1) / 2,
//
//	index    = sum_ij C(n_ij)
//	expected = sum_i C(a_i) sum_j C(b_j) / C(n)
//	max      = (sum_i C(a_i) + sum_j C(b_j)) / 2
//	ARI      = (index - expected) / (max - expected).
//
// The denominator vanishes only when both partitions are the single cluster or both
// are all singletons, i.e. identical: then, and for fewer than two items, the ARI is 1.
// Labels of different lengths are a programmer error.
func AdjustedRand(a, b []int) float64 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("gmm: partitions of %d and %d items", len(a), len(b)))
	}
	n := len(a)
	if n < 2 {
		return 1
	}
	ia, na := index(a)
	ib, nb := index(b)
	table := make([]int, na*nb)
	rows := make([]int, na)
	cols := make([]int, nb)
	for i := range a {
		table[ia[i]*nb+ib[i]]++
		rows[ia[i]]++
		cols[ib[i]]++
	}
	c2 := func(m int) float64 { return float64(m) * float64(m-1) / 2 }
	sumIJ, sumA, sumB := 0.0, 0.0, 0.0
	for _, v := range table {
		sumIJ += c2(v)
	}
	for _, v := range rows {
		sumA += c2(v)
	}
	for _, v := range cols {
		sumB += c2(v)
	}
	expected := sumA * sumB / c2(n)
	maxIndex := (sumA + sumB) / 2
	if maxIndex == expected {
		return 1
	}
	return (sumIJ - expected) / (maxIndex - expected)
}

// index maps labels to 0..m-1 in order of first appearance.
func index(labels []int) ([]int, int) {
	ids := make(map[int]int)
	out := make([]int, len(labels))
	for i, l := range labels {
		j, ok := ids[l]
		if !ok {
			j = len(ids)
			ids[l] = j
		}
		out[i] = j
	}
	return out, len(ids)
}
