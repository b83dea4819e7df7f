package predict

import (
	"math"
	"math/rand/v2"
)

// binStats are the sufficient statistics of one NE bin (or of one time chunk within
// it): enough to compute every measure, and additive over chunks, so a bootstrap
// replicate is a weighted sum of per-chunk statistics.
type binStats struct {
	nEv, sRho, sRho2 float64   // events and their population responses
	nWin, sP, sP2    float64   // counting windows and their slow-mode projections
	sC, sC2          []float64 // N: per-neuron sums of window counts and their squares
}

func newBinStats(n int) binStats {
	return binStats{sC: make([]float64, n), sC2: make([]float64, n)}
}

func (s *binStats) reset() {
	s.nEv, s.sRho, s.sRho2, s.nWin, s.sP, s.sP2 = 0, 0, 0, 0, 0, 0
	clear(s.sC)
	clear(s.sC2)
}

// addScaled adds k times o.
func (s *binStats) addScaled(o *binStats, k float64) {
	s.nEv += k * o.nEv
	s.sRho += k * o.sRho
	s.sRho2 += k * o.sRho2
	s.nWin += k * o.nWin
	s.sP += k * o.sP
	s.sP2 += k * o.sP2
	for i := range s.sC {
		s.sC[i] += k * o.sC[i]
		s.sC2[i] += k * o.sC2[i]
	}
}

func (s *binStats) addEvent(rho float64) {
	s.nEv++
	s.sRho += rho
	s.sRho2 += rho * rho
}

func (s *binStats) addWindow(counts []float64, p float64) {
	s.nWin++
	s.sP += p
	s.sP2 += p * p
	for i, c := range counts {
		s.sC[i] += c
		s.sC2[i] += c * c
	}
}

// binValues are the measures of every NE bin: values[m][j] is measure m (in the
// order of `measures`) of NE bin j.
type binValues struct {
	values  [][]float64
	fanoRaw []float64 // Fano factor of all neurons, without mean matching
	matched []int     // neurons kept by the mean matching in each NE bin
}

// meanVar is the mean and the unbiased variance of n values from their sum and
// sum of squares (NaN variance when n < 2).
func meanVar(n, s, s2 float64) (mean, variance float64) {
	if n < 1 {
		return math.NaN(), math.NaN()
	}
	mean = s / n
	if n < 2 {
		return mean, math.NaN()
	}
	return mean, math.Max(0, (s2-s*mean)/(n-1))
}

// finalize turns the statistics of the NE bins into the measures:
//
//	responsiveness_j = mean of the events' population responses rho_e in bin j
//	fano_mm_j        = mean-matched Fano factor (see meanMatchedFano)
//	slow_var_j       = variance over the counting windows of bin j of the projection
//	                   p = sum_i w_i z_i onto the unit slow direction w
//	slow_shared_j    = slow_var_j - sum_i w_i^2 var_j(z_i): the part of it carried by
//	                   covariances between neurons, which excludes private and Poisson
//	                   variance (so it does not move with the firing rates alone)
//
// with z_i the window count of neuron i z-scored by its mean and sd over the whole
// recording (w2z[i] = w_i^2 / sd_i^2). rng draws the mean matching.
func finalize(st []binStats, w2z []float64, set *Settings, rng *rand.Rand) binValues {
	nb := len(st)
	bv := binValues{values: make([][]float64, len(measures)), fanoRaw: make([]float64, nb), matched: make([]int, nb)}
	for m := range bv.values {
		bv.values[m] = make([]float64, nb)
	}
	n := len(st[0].sC)
	means := make([][]float64, nb)
	vars := make([][]float64, nb)
	for j := range st {
		s := &st[j]
		bv.values[0][j], _ = meanVar(s.nEv, s.sRho, s.sRho2)
		means[j], vars[j] = make([]float64, n), make([]float64, n)
		var sm, sv float64
		for i := 0; i < n; i++ {
			means[j][i], vars[j][i] = meanVar(s.nWin, s.sC[i], s.sC2[i])
			sm += means[j][i]
			sv += vars[j][i]
		}
		bv.fanoRaw[j] = sv / sm
		_, pv := meanVar(s.nWin, s.sP, s.sP2)
		if w2z == nil {
			pv = math.NaN()
		}
		bv.values[2][j] = pv
		priv := 0.0
		for i, k := range w2z {
			if k != 0 {
				priv += k * vars[j][i]
			}
		}
		bv.values[3][j] = pv - priv
	}
	bv.values[1], bv.matched = meanMatchedFano(means, vars, set.MatchBins, set.MatchRepeats, rng)
	return bv
}

// meanMatchedFano is the mean-matched Fano factor of Churchland et al. (2010,
// Nat Neurosci 13:369, "Stimulus onset quenches neural variability"), with NE bins
// in the role of their time points. means[j][i] and vars[j][i] are neuron i's mean
// and variance of window counts in NE bin j. The mean counts are histogrammed on
// common edges (nHist equal bins from 0 to the largest mean); the greatest common
// distribution takes, in every histogram bin, the smallest count over the NE bins;
// in each NE bin, neurons are discarded at random from every histogram bin down to
// that count, and the Fano factor of the kept neurons is the slope through the
// origin of variance against mean, weighted by 1 / mean (the Poisson scaling of a
// count's variance), that is sum(var) / sum(mean). The random discarding is repeated
// `repeats` times and the factors averaged. Without matching, a change of rates
// across NE would change the Fano factor of neurons whose variance grows faster
// than their mean; with it, every NE bin is judged on the same rate distribution.
// Neurons with an undefined mean or variance in any NE bin are left out.
// kept[j] is the number of neurons kept in NE bin j (the same for every j).
func meanMatchedFano(means, vars [][]float64, nHist, repeats int, rng *rand.Rand) (fano []float64, kept []int) {
	nb := len(means)
	fano = make([]float64, nb)
	kept = make([]int, nb)
	n := len(means[0])
	ok := make([]bool, n)
	maxM := 0.0
	for i := 0; i < n; i++ {
		ok[i] = true
		for j := 0; j < nb; j++ {
			if math.IsNaN(means[j][i]) || math.IsNaN(vars[j][i]) {
				ok[i] = false
			}
		}
		if ok[i] {
			for j := 0; j < nb; j++ {
				maxM = math.Max(maxM, means[j][i])
			}
		}
	}
	if !(maxM > 0) {
		for j := range fano {
			fano[j] = math.NaN()
		}
		return fano, kept
	}
	width := maxM / float64(nHist)
	members := make([][][]int, nb) // NE bin -> histogram bin -> neurons
	for j := 0; j < nb; j++ {
		members[j] = make([][]int, nHist)
		for i := 0; i < n; i++ {
			if !ok[i] {
				continue
			}
			k := min(int(means[j][i]/width), nHist-1)
			members[j][k] = append(members[j][k], i)
		}
	}
	common := make([]int, nHist)
	for k := range common {
		common[k] = len(members[0][k])
		for j := 1; j < nb; j++ {
			common[k] = min(common[k], len(members[j][k]))
		}
	}
	total := 0
	for _, c := range common {
		total += c
	}
	for j := range kept {
		kept[j] = total
	}
	for r := 0; r < repeats; r++ {
		for j := 0; j < nb; j++ {
			var sm, sv float64
			for k := 0; k < nHist; k++ {
				mem := members[j][k]
				// Partial Fisher-Yates: the first common[k] of a random
				// permutation are kept.
				for a := 0; a < common[k]; a++ {
					b := a + rng.IntN(len(mem)-a)
					mem[a], mem[b] = mem[b], mem[a]
					sm += means[j][mem[a]]
					sv += vars[j][mem[a]]
				}
			}
			fano[j] += sv / sm / float64(repeats)
		}
	}
	return fano, kept
}
