package dynamics

import (
	"fmt"
	"sync"

	"nmdyn/stages/rnn"
)

// DefaultGrid returns n NE levels evenly spaced on [0, 1] (i / (n - 1)); n < 2 gives
// the default 21.
func DefaultGrid(n int) []float64 {
	if n < 2 {
		n = 21
	}
	g := make([]float64, n)
	for i := range g {
		g[i] = float64(i) / float64(n-1)
	}
	return g
}

// Sweep analyses the exact latent system of m at every NE level of grid (nil means
// DefaultGrid(21)), with inputs off, on s.Threads goroutines (levels are independent,
// so the result does not depend on the count). TauSeconds comes from the model.
func Sweep(m *rnn.Model, grid []float64, s *Settings) ([]Level, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if grid == nil {
		grid = DefaultGrid(21)
	}
	set := s.withDefaults()
	set.TauSeconds = m.TauSeconds
	out := make([]Level, len(grid))
	errs := make([]error, len(grid))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(set.Threads, len(grid)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				lv, err := AnalyzeLatent(LatentOf(m, grid[j]), &set)
				if err != nil {
					errs[j] = fmt.Errorf("NE level %v: %w", grid[j], err)
					continue
				}
				lv.Nu = grid[j]
				out[j] = lv
			}
		}()
	}
	for j := range grid {
		jobs <- j
	}
	close(jobs)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// LineAttractorRange returns the NE range [lo, hi] of the longest run of consecutive
// levels labelled RegimeLine (the first such run among equals); ok is false when no
// level is. Levels are taken in the given order (Sweep's: the grid's).
func LineAttractorRange(levels []Level) (lo, hi float64, ok bool) {
	bestLen, runStart := 0, -1
	var bestStart int
	for i := 0; i <= len(levels); i++ {
		if i < len(levels) && levels[i].Regime == RegimeLine {
			if runStart < 0 {
				runStart = i
			}
			continue
		}
		if runStart >= 0 {
			if n := i - runStart; n > bestLen {
				bestLen, bestStart = n, runStart
			}
			runStart = -1
		}
	}
	if bestLen == 0 {
		return 0, 0, false
	}
	return levels[bestStart].Nu, levels[bestStart+bestLen-1].Nu, true
}
