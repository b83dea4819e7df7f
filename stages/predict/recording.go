package predict

import (
	"fmt"
	"math"
	"sort"
)

// Recording is what the data-side analysis reads: spike counts on a uniform bin
// grid, the NE level of each bin, the bins holding behavioural events, and the time
// chunks the bootstrap resamples.
type Recording struct {
	DtSeconds float64
	N         int       // neurons
	Y         []float32 // T x N spike counts, row-major by bin
	Nu        []float64 // T NE levels
	// Events holds, per event label, the bins where an event of that label
	// occurred (a bin with several events counts once).
	Events [][]int
	Labels []string
	// Chunk is each bin's resampling unit (e.g. the preprocess sub-block);
	// nil cuts the recording into Settings.ChunkS chunks.
	Chunk []int
	// SlowDir is the slow mode's direction in the space of z-scored counts (N
	// weights, any scale; see SlowDirection), or nil to skip the slow-mode
	// measures.
	SlowDir []float64
}

// T is the number of bins.
func (r *Recording) T() int { return len(r.Nu) }

func (r *Recording) check() error {
	T := r.T()
	switch {
	case !(r.DtSeconds > 0):
		return fmt.Errorf("predict: bin width %v s", r.DtSeconds)
	case r.N <= 0 || len(r.Y) != T*r.N:
		return fmt.Errorf("predict: %d counts for %d bins x %d neurons", len(r.Y), T, r.N)
	case r.Chunk != nil && len(r.Chunk) != T:
		return fmt.Errorf("predict: %d chunk labels for %d bins", len(r.Chunk), T)
	case r.SlowDir != nil && len(r.SlowDir) != r.N:
		return fmt.Errorf("predict: slow direction has %d weights for %d neurons", len(r.SlowDir), r.N)
	case len(r.Labels) != len(r.Events):
		return fmt.Errorf("predict: %d event labels for %d event lists", len(r.Labels), len(r.Events))
	}
	for t, v := range r.Nu {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("predict: NE level %v at bin %d", v, t)
		}
	}
	for l, ev := range r.Events {
		for i, b := range ev {
			if b < 0 || b >= T || (i > 0 && b <= ev[i-1]) {
				return fmt.Errorf("predict: events of label %s: bin %d out of range or not increasing", r.Labels[l], b)
			}
		}
	}
	return nil
}

// neBinning assigns every NE sample to one of nb quantile bins by its rank (ties
// broken by time), so the bins hold equal numbers of samples even when the NE level
// has point masses (a normalised trace clipped at 0 or 1). A circular shift of the
// NE trace moves samples, not ranks, so the assignment of shifted samples is a
// lookup in the same table.
type neBinning struct {
	label  []int     // T: NE bin of sample t
	lo, hi []float64 // nb: smallest and largest NE level of each bin
	mid    []float64 // nb: mean NE level of each bin (the x of the fits)
	count  []int     // nb: samples per bin
}

func newNEBinning(nu []float64, nb int) neBinning {
	T := len(nu)
	idx := make([]int, T)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return nu[idx[a]] < nu[idx[b]] })
	q := neBinning{label: make([]int, T), lo: make([]float64, nb), hi: make([]float64, nb),
		mid: make([]float64, nb), count: make([]int, nb)}
	for j := range q.lo {
		q.lo[j], q.hi[j] = math.Inf(1), math.Inf(-1)
	}
	for p, t := range idx {
		j := p * nb / T
		q.label[t] = j
		q.lo[j] = math.Min(q.lo[j], nu[t])
		q.hi[j] = math.Max(q.hi[j], nu[t])
		q.mid[j] += nu[t]
		q.count[j]++
	}
	for j := range q.mid {
		q.mid[j] /= float64(q.count[j])
	}
	return q
}
