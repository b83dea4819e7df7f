package mft

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"nmdyn/stages/gmm"
	"nmdyn/stages/rnn"
)

// FromGroups returns the Gaussian mixture whose population p (0 <= p < pops) has
// the weight N_p / N, the sample mean and the maximum-likelihood (1 / N_p) sample
// covariance of the parameter vectors theta (ParamNames order) of the neurons with
// groups[i] == p. With these moments the mixture's Gaussian averages see the same
// first and second moments per population as the network's own sums.
func FromGroups(m *rnn.Model, groups []int, pops int) (*Mixture, error) {
	if len(groups) != m.N {
		return nil, fmt.Errorf("mft: %d group labels for %d neurons", len(groups), m.N)
	}
	mx := &Mixture{Variant: m.Variant, R: m.R, K: m.K, Pops: make([]Population, pops)}
	dt := mx.ParamDim()
	counts := make([]int, pops)
	for i, g := range groups {
		if g < 0 || g >= pops {
			return nil, fmt.Errorf("mft: neuron %d has group %d, want 0..%d", i, g, pops-1)
		}
		counts[g]++
	}
	for p := range mx.Pops {
		if counts[p] == 0 {
			return nil, fmt.Errorf("mft: population %d has no neurons", p+1)
		}
		mx.Pops[p] = Population{Alpha: float64(counts[p]) / float64(m.N), Mean: make([]float64, dt), Cov: make([]float64, dt*dt)}
	}
	theta := make([]float64, dt)
	for i, g := range groups {
		theta = ParamVector(m, i, theta)
		for a, v := range theta {
			mx.Pops[g].Mean[a] += v
		}
	}
	for p := range mx.Pops {
		for a := range mx.Pops[p].Mean {
			mx.Pops[p].Mean[a] /= float64(counts[p])
		}
	}
	// Two passes (mean first) keep the covariance accurate when means are large.
	for i, g := range groups {
		theta = ParamVector(m, i, theta)
		mu, cov := mx.Pops[g].Mean, mx.Pops[g].Cov
		for a := 0; a < dt; a++ {
			da := theta[a] - mu[a]
			for b := 0; b <= a; b++ {
				cov[a*dt+b] += da * (theta[b] - mu[b])
			}
		}
	}
	for p := range mx.Pops {
		cov := mx.Pops[p].Cov
		for a := 0; a < dt; a++ {
			for b := 0; b <= a; b++ {
				cov[a*dt+b] /= float64(counts[p])
				cov[b*dt+a] = cov[a*dt+b]
			}
		}
	}
	return mx, mx.Validate()
}

// ReduceSettings tune Reduce. A nil *ReduceSettings means the defaults.
type ReduceSettings struct {
	// Grid is the NE levels at which the neurons' NE effects are compared (nil: 21
	// evenly spaced levels on [0, 1]).
	Grid []float64
	// Restarts is the number of k-means++ restarts (0: 20).
	Restarts int
	// Seed seeds the restarts (0: 1).
	Seed uint64
}

// Reduction is a network reduced to populations.
type Reduction struct {
	Mixture *Mixture
	Groups  []int  // population of each neuron, 0-based
	Basis   string // what the neurons were grouped by
}

// Reduce groups the neurons of m into pops populations by how NE modulates each of
// them and returns the Gaussian mixture of their parameters (FromGroups). The
// features compared are:
//
//	additive          the NE input curve a_i(nu) = beta_i . f(nu) on the grid
//	pregain/postgain  the log-gain curve l_i(nu) = gamma_i . f(nu) on the grid
//	lowrank           the NE connectivity loadings with the loadings they align with,
//	                  (m_i, n_i, p_i, q_i)
//	none              the connectivity loadings (m_i, n_i): no NE modulation to group by
//
// Curves rather than raw coefficients make the grouping independent of the basis. NE
// curves group by k-means (Lloyd iterations from k-means++ seeds, Restarts restarts
// from a PCG source seeded with Seed, the lowest within-cluster sum of squares kept,
// ties to the earlier restart). Loadings group by a Gaussian mixture with full
// covariances (package gmm, Restarts seeded starts): low-rank populations differ in
// how loadings covary (e.g. q_k along +m_1 in one population and along -m_1 in the
// other, both zero-mean), which k-means cannot see. Both are deterministic.
// Populations are numbered by their centroids in lexicographic order (for gain curves:
// by the log-gain at nu = 0).
func Reduce(m *rnn.Model, pops int, set *ReduceSettings) (*Reduction, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if pops < 1 || pops > m.N {
		return nil, fmt.Errorf("mft: cannot form %d populations from %d neurons", pops, m.N)
	}
	grid, restarts, seed := defaultGrid(21), 20, uint64(1)
	if set != nil {
		if set.Grid != nil {
			grid = set.Grid
		}
		if set.Restarts > 0 {
			restarts = set.Restarts
		}
		if set.Seed != 0 {
			seed = set.Seed
		}
	}
	feat, width, basis, byCov := features(m, grid)
	var groups []int
	var err error
	if byCov && pops > 1 {
		groups, err = mixtureGroups(feat, m.N, width, pops, restarts, seed)
	} else {
		groups, err = kmeans(feat, m.N, width, pops, restarts, seed)
	}
	if err != nil {
		return nil, fmt.Errorf("mft: grouping by %s: %w", basis, err)
	}
	mx, err := FromGroups(m, groups, pops)
	if err != nil {
		return nil, err
	}
	return &Reduction{Mixture: mx, Groups: groups, Basis: basis}, nil
}

func defaultGrid(n int) []float64 {
	g := make([]float64, n)
	for i := range g {
		g[i] = float64(i) / float64(n-1)
	}
	return g
}

// features returns the row-major n x width feature matrix Reduce groups by, and
// whether groups differ by covariance rather than by mean (grouped by a Gaussian
// mixture then, not k-means).
func features(m *rnn.Model, grid []float64) (feat []float64, width int, basis string, byCov bool) {
	f := make([]float64, m.K)
	switch m.Variant {
	case rnn.Additive, rnn.PreGain, rnn.PostGain:
		coef, name := m.Gamma, "log-gain curve gamma_i . f(nu)"
		if m.Variant == rnn.Additive {
			coef, name = m.Beta, "NE input curve beta_i . f(nu)"
		}
		width = len(grid)
		feat = make([]float64, m.N*width)
		for j, nu := range grid {
			rnn.Basis(nu, f)
			for i := 0; i < m.N; i++ {
				feat[i*width+j] = dot(coef[i*m.K:(i+1)*m.K], f)
			}
		}
		return feat, width, name, false
	case rnn.LowRank:
		width = 2*m.R + 2*m.K
		feat = make([]float64, m.N*width)
		for i := 0; i < m.N; i++ {
			row := feat[i*width : (i+1)*width]
			copy(row, m.M[i*m.R:(i+1)*m.R])
			copy(row[m.R:], m.Nv[i*m.R:(i+1)*m.R])
			copy(row[2*m.R:], m.P[i*m.K:(i+1)*m.K])
			copy(row[2*m.R+m.K:], m.Q[i*m.K:(i+1)*m.K])
		}
		return feat, width, "NE connectivity loadings with the loadings they align with (m_i, n_i, p_i, q_i), Gaussian mixture", true
	}
	width = 2 * m.R
	feat = make([]float64, m.N*width)
	for i := 0; i < m.N; i++ {
		copy(feat[i*width:], m.M[i*m.R:(i+1)*m.R])
		copy(feat[i*width+m.R:], m.Nv[i*m.R:(i+1)*m.R])
	}
	return feat, width, "connectivity loadings (m_i, n_i), Gaussian mixture (variant none: no NE modulation)", true
}

// mixtureGroups groups by a Gaussian mixture with full covariances (gmm.Fit, EM
// from restarts seeded k-means++ starts), for populations that differ in how their
// parameters covary rather than in their means: zero-mean low-rank populations
// (Beiran et al. 2021) such as lowrank NE loadings q aligned with m_1 in one
// population and against it in the other. Groups are numbered as in kmeans.
func mixtureGroups(x []float64, n, w, k, restarts int, seed uint64) ([]int, error) {
	if distinct(x, n, w, k) < k {
		return nil, fmt.Errorf("fewer than %d distinct neurons", k)
	}
	res, err := gmm.Fit(x, w, k, &gmm.Settings{Restarts: restarts, Seed: seed})
	if err != nil {
		return nil, err
	}
	counts := make([]int, k)
	for _, l := range res.Labels {
		counts[l]++
	}
	for q, c := range counts {
		if c == 0 {
			return nil, fmt.Errorf("the Gaussian mixture left component %d empty", q+1)
		}
	}
	return relabel(x, n, w, k, res.Labels), nil
}

// kmeans clusters n points of dimension w into k groups (see Reduce).
func kmeans(x []float64, n, w, k, restarts int, seed uint64) ([]int, error) {
	if distinct(x, n, w, k) < k {
		return nil, fmt.Errorf("fewer than %d distinct neurons", k)
	}
	rng := rand.New(rand.NewPCG(seed, 0x6b6d65616e73)) // "kmeans"
	var best []int
	bestCost := math.Inf(1)
	for r := 0; r < restarts; r++ {
		labels, cost := lloyd(x, n, w, k, plusPlus(x, n, w, k, rng))
		if cost < bestCost {
			best, bestCost = labels, cost
		}
	}
	return relabel(x, n, w, k, best), nil
}

// distinct counts distinct rows, stopping at limit.
func distinct(x []float64, n, w, limit int) int {
	var seen [][]float64
outer:
	for i := 0; i < n && len(seen) < limit; i++ {
		row := x[i*w : (i+1)*w]
		for _, s := range seen {
			if sqDist(s, row) == 0 {
				continue outer
			}
		}
		seen = append(seen, row)
	}
	return len(seen)
}

// plusPlus picks k initial centres by k-means++ (each next centre drawn with
// probability proportional to the squared distance to the nearest chosen one).
func plusPlus(x []float64, n, w, k int, rng *rand.Rand) []float64 {
	c := make([]float64, 0, k*w)
	i0 := rng.IntN(n)
	c = append(c, x[i0*w:(i0+1)*w]...)
	d2 := make([]float64, n)
	for j := 1; j < k; j++ {
		total := 0.0
		for i := 0; i < n; i++ {
			best := math.Inf(1)
			for q := 0; q < j; q++ {
				best = math.Min(best, sqDist(x[i*w:(i+1)*w], c[q*w:(q+1)*w]))
			}
			d2[i] = best
			total += best
		}
		u := rng.Float64() * total
		pick := n - 1
		for i := 0; i < n; i++ {
			u -= d2[i]
			if u < 0 && d2[i] > 0 {
				pick = i
				break
			}
		}
		for d2[pick] == 0 { // only reachable through rounding at the end of the scan
			pick--
		}
		c = append(c, x[pick*w:(pick+1)*w]...)
	}
	return c
}

// lloyd runs Lloyd iterations from centres c until the assignment stops changing
// (at most 300 iterations); an emptied cluster takes the point farthest from its
// centre. Returns the labels and the within-cluster sum of squares.
func lloyd(x []float64, n, w, k int, c []float64) ([]int, float64) {
	labels := make([]int, n)
	for i := range labels {
		labels[i] = -1
	}
	counts := make([]int, k)
	for it := 0; it < 300; it++ {
		changed := false
		for i := 0; i < n; i++ {
			best, bd := 0, math.Inf(1)
			for q := 0; q < k; q++ {
				if d := sqDist(x[i*w:(i+1)*w], c[q*w:(q+1)*w]); d < bd {
					best, bd = q, d
				}
			}
			if labels[i] != best {
				labels[i], changed = best, true
			}
		}
		centroids(x, w, k, labels, c, counts)
		for q := 0; q < k; q++ {
			if counts[q] > 0 {
				continue
			}
			far, fd := -1, -1.0
			for i, l := range labels {
				if d := sqDist(x[i*w:(i+1)*w], c[l*w:(l+1)*w]); counts[l] > 1 && d > fd {
					far, fd = i, d
				}
			}
			labels[far] = q
			centroids(x, w, k, labels, c, counts)
			changed = true
		}
		if !changed {
			break
		}
	}
	cost := 0.0
	for i, l := range labels {
		cost += sqDist(x[i*w:(i+1)*w], c[l*w:(l+1)*w])
	}
	return labels, cost
}

// centroids fills c (k x w) with the cluster means and counts with the sizes
// (an empty cluster keeps a zero centre).
func centroids(x []float64, w, k int, labels []int, c []float64, counts []int) {
	for q := range counts {
		counts[q] = 0
	}
	for i := range c {
		c[i] = 0
	}
	for i, l := range labels {
		counts[l]++
		for a := 0; a < w; a++ {
			c[l*w+a] += x[i*w+a]
		}
	}
	for q := 0; q < k; q++ {
		for a := 0; a < w && counts[q] > 0; a++ {
			c[q*w+a] /= float64(counts[q])
		}
	}
}

// relabel numbers clusters by their centroids in lexicographic order.
func relabel(x []float64, n, w, k int, labels []int) []int {
	cent := make([]float64, k*w)
	centroids(x, w, k, labels, cent, make([]int, k))
	order := make([]int, k)
	for q := range order {
		order[q] = q
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := cent[order[i]*w:(order[i]+1)*w], cent[order[j]*w:(order[j]+1)*w]
		for t := range a {
			if a[t] != b[t] {
				return a[t] < b[t]
			}
		}
		return false
	})
	newLabel := make([]int, k)
	for rank, q := range order {
		newLabel[q] = rank
	}
	out := make([]int, n)
	for i, l := range labels {
		out[i] = newLabel[l]
	}
	return out
}

func sqDist(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return s
}
