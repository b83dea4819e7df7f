package preprocess

import (
	"fmt"
	"sort"
)

// Split names, in the order of the split pattern.
var splitNames = [3]string{"train", "validation", "test"}

// assignSplits gives each block a split so that every split spans the whole NE
// range: blocks are ranked by their mean NE level, and each split's blocks are
// spread evenly over the ranks. With c_j blocks for split j out of n, split j takes
// the blocks nearest the rank targets
//
//	(k + 1/2) n / c_j,  k = 0 .. c_j - 1,
//
// i.e. systematic sampling of the NE-sorted blocks: the train, validation and test
// blocks each have their k-th smallest NE near the same quantile. The counts c_j
// apportion n by the pattern (default 6:2:2) with largest remainders, and every
// split with a non-zero weight gets at least one block when n >= 3. Ties between
// splits at the same target are broken by rotating the split order with k, so no
// split systematically gets the lower-NE block of a pair. It is deterministic: NE
// ties are broken by block index.
func assignSplits(neMean []float64, pattern [3]int) ([]string, error) {
	n := len(neMean)
	total := pattern[0] + pattern[1] + pattern[2]
	for _, w := range pattern {
		if w < 0 || total <= 0 {
			return nil, fmt.Errorf("split pattern %v: want three non-negative block counts (train, validation, test) with a positive sum", pattern)
		}
	}
	counts := apportion(n, pattern)
	type target struct {
		pos    float64
		tie, j int
	}
	var targets []target
	for j, c := range counts {
		for k := 0; k < c; k++ {
			targets = append(targets, target{pos: (float64(k) + 0.5) * float64(n) / float64(c), tie: (j + k) % 3, j: j})
		}
	}
	sort.SliceStable(targets, func(a, b int) bool {
		if targets[a].pos != targets[b].pos {
			return targets[a].pos < targets[b].pos
		}
		return targets[a].tie < targets[b].tie
	})
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return neMean[order[a]] < neMean[order[b]] })
	out := make([]string, n)
	for r, b := range order {
		out[b] = splitNames[targets[r].j]
	}
	return out, nil
}

// apportion splits n into three counts proportional to the weights by largest
// remainders (ties to the earlier split), then makes sure every split with a
// positive weight has a block when there are enough blocks, taking from the
// largest count.
func apportion(n int, w [3]int) [3]int {
	total := w[0] + w[1] + w[2]
	var c [3]int
	rem := make([]float64, 3)
	left := n
	for j := range w {
		exact := float64(n) * float64(w[j]) / float64(total)
		c[j] = int(exact)
		rem[j] = exact - float64(c[j])
		left -= c[j]
	}
	for ; left > 0; left-- {
		best := 0
		for j := 1; j < 3; j++ {
			if rem[j] > rem[best] {
				best = j
			}
		}
		c[best]++
		rem[best] = -1
	}
	positive := 0
	for _, x := range w {
		if x > 0 {
			positive++
		}
	}
	if n >= positive {
		for j := range c {
			if w[j] > 0 && c[j] == 0 {
				big := 0
				for k := 1; k < 3; k++ {
					if c[k] > c[big] {
						big = k
					}
				}
				c[big]--
				c[j]++
			}
		}
	}
	return c
}
