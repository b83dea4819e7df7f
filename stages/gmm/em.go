package gmm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
)

// Settings tune Fit and Select. A nil *Settings means the defaults; a zero field
// means that field's default.
type Settings struct {
	// Restarts is the number of k-means++ starts (default 10).
	Restarts int
	// ShortIter is the length of the short runs of the small-EM strategy: every
	// restart runs ShortIter iterations, and only the best of them then runs to
	// convergence (default 20; negative: every restart runs to convergence).
	ShortIter int
	// MaxIter caps the EM iterations of one run (default 500).
	MaxIter int
	// Tol stops EM when the penalised log-likelihood gains less than Tol per point
	// over one iteration (default 1e-6).
	Tol float64
	// Ridge is the covariance regularisation relative to the data scale (see the
	// package doc; default 1e-3).
	Ridge float64
	// Covariance is the covariance model (default Full).
	Covariance Covariance
	// Seed seeds the restarts (restart r draws from PCG(Seed, r)).
	Seed uint64
	// Threads is how many restarts run at once (default 1). It does not change the
	// result.
	Threads int
	// Trace keeps the log-likelihood and the penalised objective after every
	// iteration of the winning restart.
	Trace bool
}

func (s *Settings) withDefaults() Settings {
	out := Settings{Restarts: 10, ShortIter: 20, MaxIter: 500, Tol: 1e-6, Ridge: 1e-3, Threads: 1}
	if s == nil {
		return out
	}
	if s.Restarts > 0 {
		out.Restarts = s.Restarts
	}
	if s.ShortIter != 0 {
		out.ShortIter = s.ShortIter
	}
	if s.MaxIter > 0 {
		out.MaxIter = s.MaxIter
	}
	if s.Tol > 0 {
		out.Tol = s.Tol
	}
	if s.Ridge > 0 {
		out.Ridge = s.Ridge
	}
	if s.Threads > 0 {
		out.Threads = s.Threads
	}
	out.Seed, out.Trace, out.Covariance = s.Seed, s.Trace, s.Covariance
	return out
}

// Result is a fitted mixture.
type Result struct {
	Mixture     *Mixture
	LogLik      float64   // sum_i log p(x_i) at the fitted parameters
	Objective   float64   // the penalised log-likelihood F that EM maximised
	Resp        []float64 // responsibilities, row-major n x K
	Labels      []int     // most probable component of each point
	Iterations  int       // EM iterations of the winning restart
	Converged   bool      // the winning restart met Tol before MaxIter
	Evaluations int       // EM iterations over all restarts (the cost of the fit)
	Restart     int       // index of the winning restart
	// Trace (when Settings.Trace): log-likelihood and objective of the winning
	// restart at its start and after every iteration.
	TraceLogLik, TraceObjective []float64
}

// Fit fits a k-component mixture (full covariances unless Settings say tied) to the
// n points of x (row-major n x d) by EM from several restarts (see the package doc). Errors: no
// points, k < 1 or k > n, or a value that is not finite.
func Fit(x []float64, d, k int, s *Settings) (*Result, error) {
	n := checkShape(x, d)
	if n == 0 {
		return nil, fmt.Errorf("gmm: no points")
	}
	if k < 1 || k > n {
		return nil, fmt.Errorf("gmm: cannot fit %d components to %d points", k, n)
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("gmm: point %d coordinate %d is %v", i/d, i%d, v)
		}
	}
	set := s.withDefaults()
	tied := set.Covariance == Tied
	if !tied && set.Covariance != Full {
		return nil, fmt.Errorf("gmm: unknown covariance model %d", set.Covariance)
	}
	// Psi = eps I: a ridge of Ridge * sbar on a covariance estimated from n / K
	// points (full) or from all n points (tied).
	eps := set.Ridge * dataScale(x, n, d) * float64(n)
	if !tied {
		eps /= float64(k)
	}

	// Small EM (Biernacki, Celeux & Govaert 2003, Comput. Stat. Data Anal. 41:561):
	// short runs from every start, then the best run continues to convergence.
	short := set.MaxIter
	if set.ShortIter > 0 && set.Restarts > 1 {
		short = min(set.ShortIter, set.MaxIter)
	}
	runs := make([]*emState, set.Restarts)
	start := func(r int) {
		rng := rand.New(rand.NewPCG(set.Seed, uint64(r)))
		runs[r] = newEM(x, n, d, k, eps, tied, kmeansPlusPlus(x, n, d, k, rng), set.Trace)
		runs[r].res.Restart = r
		runs[r].iterate(short, set.Tol)
	}
	if set.Threads <= 1 || set.Restarts == 1 {
		for r := range runs {
			start(r)
		}
	} else {
		var wg sync.WaitGroup
		next := make(chan int)
		for w := 0; w < min(set.Threads, set.Restarts); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := range next {
					start(r)
				}
			}()
		}
		for r := range runs {
			next <- r
		}
		close(next)
		wg.Wait()
	}
	best := runs[0]
	evaluations := 0
	for _, run := range runs {
		evaluations += run.res.Iterations
		if run.obj > best.obj {
			best = run
		}
	}
	if !best.res.Converged {
		before := best.res.Iterations
		best.iterate(set.MaxIter, set.Tol)
		evaluations += best.res.Iterations - before
	}
	res := best.finish()
	res.Evaluations = evaluations
	return res, nil
}

// dataScale is sbar = tr(S) / d, the mean variance of the coordinates (1 when every
// point is the same, so that the ridge stays positive).
func dataScale(x []float64, n, d int) float64 {
	tot := 0.0
	for a := 0; a < d; a++ {
		mean := 0.0
		for i := 0; i < n; i++ {
			mean += x[i*d+a]
		}
		mean /= float64(n)
		v := 0.0
		for i := 0; i < n; i++ {
			e := x[i*d+a] - mean
			v += e * e
		}
		tot += v / float64(n)
	}
	if !(tot > 0) {
		return 1
	}
	return tot / float64(d)
}

// emState is one EM run in progress.
type emState struct {
	x       []float64
	n       int
	eps     float64
	tied    bool
	mix     *Mixture
	resp    []float64
	obj, ll float64
	trace   bool
	res     *Result
}

// newEM starts EM from the hard assignment labels (each in 0..k-1): an M-step on
// them, then an E-step.
func newEM(x []float64, n, d, k int, eps float64, tied bool, labels []int, trace bool) *emState {
	e := &emState{x: x, n: n, eps: eps, tied: tied, mix: NewMixture(k, d), resp: make([]float64, n*k), trace: trace}
	for i, l := range labels {
		e.resp[i*k+l] = 1
	}
	mStep(e.mix, x, n, e.resp, eps, tied, true)
	e.res = &Result{Mixture: e.mix}
	e.obj, e.ll = eStep(e.mix, x, n, e.resp, eps, tied)
	e.record()
	return e
}

func (e *emState) record() {
	if e.trace {
		e.res.TraceLogLik = append(e.res.TraceLogLik, e.ll)
		e.res.TraceObjective = append(e.res.TraceObjective, e.obj)
	}
}

// iterate runs EM iterations until the run has done maxIter in all or the
// objective gains less than tol per point in one iteration.
func (e *emState) iterate(maxIter int, tol float64) {
	for e.res.Iterations < maxIter && !e.res.Converged {
		mStep(e.mix, e.x, e.n, e.resp, e.eps, e.tied, false)
		obj, ll := eStep(e.mix, e.x, e.n, e.resp, e.eps, e.tied)
		e.res.Iterations++
		gain := obj - e.obj
		e.obj, e.ll = obj, ll
		e.record()
		if gain < tol*float64(e.n) {
			e.res.Converged = true
		}
	}
}

// finish fills the result: objective, log-likelihood, responsibilities and labels.
func (e *emState) finish() *Result {
	res, k := e.res, e.mix.K
	res.Objective, res.LogLik, res.Resp = e.obj, e.ll, e.resp
	res.Labels = make([]int, e.n)
	for i := range res.Labels {
		r := e.resp[i*k : (i+1)*k]
		best := 0
		for c := range r {
			if r[c] > r[best] {
				best = c
			}
		}
		res.Labels[i] = best
	}
	return res
}

// eStep turns resp into the responsibilities under mix and returns the penalised
// objective F and the log-likelihood.
func eStep(mix *Mixture, x []float64, n int, resp []float64, eps float64, tied bool) (obj, logLik float64) {
	k, d := mix.K, mix.D
	z := make([]float64, d)
	for i := 0; i < n; i++ {
		r := resp[i*k : (i+1)*k]
		lx := mix.logJoint(x[i*d:(i+1)*d], r, z)
		logLik += lx
		for c := range r {
			r[c] = math.Exp(r[c] - lx)
		}
	}
	return logLik - 0.5*eps*traceInverses(mix, tied), logLik
}

// traceInverses is sum_k tr(Sigma_k^-1) over live components (only the first when
// the covariance is tied, as the prior is on the one shared matrix): tr(Sigma^-1) is
// the squared Frobenius norm of L^-1.
func traceInverses(mix *Mixture, tied bool) float64 {
	d := mix.D
	inv := make([]float64, d)
	tot := 0.0
	for k := 0; k < mix.K; k++ {
		if math.IsInf(mix.logNorm[k], -1) {
			continue
		}
		l := mix.chol[k*d*d : (k+1)*d*d]
		for c := 0; c < d; c++ { // column c of L^-1 by forward substitution on e_c
			for a := 0; a < d; a++ {
				s := 0.0
				if a == c {
					s = 1
				}
				for b := c; b < a; b++ {
					s -= l[a*d+b] * inv[b]
				}
				inv[a] = s / l[a*d+a]
				if a >= c {
					tot += inv[a] * inv[a]
				}
			}
		}
		if tied {
			break
		}
	}
	return tot
}

// deadWeight is the total responsibility (in points) under which a component is
// dropped: its covariance (S + Psi) / N_k would overflow as N_k -> 0.
const deadWeight = 1e-10

// mStep sets mix from the responsibilities (the exact maximiser of the penalised
// expected complete log-likelihood; see the package doc). A component whose total
// responsibility falls under deadWeight is dropped (weight 0). When init is true (hard
// k-means labels), an empty component keeps one point's worth of weight and takes the
// pooled covariance, so that every restart starts with K live components.
func mStep(mix *Mixture, x []float64, n int, resp []float64, eps float64, tied, init bool) {
	k, d := mix.K, mix.D
	nk := make([]float64, k)
	for i := 0; i < n; i++ {
		for c := 0; c < k; c++ {
			nk[c] += resp[i*k+c]
		}
	}
	for c := 0; c < k; c++ {
		if nk[c] < deadWeight {
			nk[c] = 0
		}
		mu := mix.Means[c*d : (c+1)*d]
		for a := range mu {
			mu[a] = 0
		}
		if nk[c] == 0 {
			continue
		}
		for i := 0; i < n; i++ {
			r := resp[i*k+c]
			if r == 0 {
				continue
			}
			xi := x[i*d : (i+1)*d]
			for a := range mu {
				mu[a] += r * xi[a]
			}
		}
		for a := range mu {
			mu[a] /= nk[c]
		}
	}
	dev := make([]float64, d)
	for c := 0; c < k; c++ {
		cov := mix.Covs[c*d*d : (c+1)*d*d]
		for a := range cov {
			cov[a] = 0
		}
		if !(nk[c] > 0) {
			continue
		}
		mu := mix.Means[c*d : (c+1)*d]
		for i := 0; i < n; i++ {
			r := resp[i*k+c]
			if r == 0 {
				continue
			}
			xi := x[i*d : (i+1)*d]
			for a := range dev {
				dev[a] = xi[a] - mu[a]
			}
			for a := 0; a < d; a++ {
				ra := r * dev[a]
				row := cov[a*d : a*d+a+1]
				for b := range row {
					row[b] += ra * dev[b]
				}
			}
		}
		if tied {
			continue // pooled below
		}
		for a := 0; a < d; a++ {
			cov[a*d+a] += eps
			for b := 0; b <= a; b++ {
				cov[a*d+b] /= nk[c]
				cov[b*d+a] = cov[a*d+b]
			}
		}
	}
	var pooled []float64
	if tied {
		// Sigma = ( sum_k S_k + Psi ) / sum_k N_k, shared by every component.
		pooled = make([]float64, d*d)
		tot := 0.0
		for c := 0; c < k; c++ {
			tot += nk[c]
			for a, v := range mix.Covs[c*d*d : (c+1)*d*d] {
				pooled[a] += v
			}
		}
		for a := 0; a < d; a++ {
			pooled[a*d+a] += eps
			for b := 0; b <= a; b++ {
				pooled[a*d+b] /= tot
				pooled[b*d+a] = pooled[a*d+b]
			}
		}
	}
	if init {
		initEmpty(mix, x, n, nk, eps)
	}
	if tied {
		for c := 0; c < k; c++ {
			copy(mix.Covs[c*d*d:(c+1)*d*d], pooled)
		}
	}
	for c := 0; c < k; c++ {
		mix.Weights[c] = nk[c] / float64(n)
	}
	if !mix.factor() {
		// Cannot happen with eps > 0 and finite data: Sigma_k >= eps / N_k I.
		panic("gmm: covariance not positive definite despite the ridge")
	}
}

// initEmpty gives each empty component of a k-means start (possible only with
// duplicated points) one point's worth of weight, a centre on a data point and the
// pooled covariance of the data, then renormalises the counts nk to sum to n.
func initEmpty(mix *Mixture, x []float64, n int, nk []float64, eps float64) {
	k, d := mix.K, mix.D
	empty := 0
	for c := range nk {
		if nk[c] == 0 {
			empty++
		}
	}
	if empty == 0 {
		return
	}
	pooled := make([]float64, d*d)
	mean := make([]float64, d)
	for i := 0; i < n; i++ {
		for a := 0; a < d; a++ {
			mean[a] += x[i*d+a] / float64(n)
		}
	}
	for i := 0; i < n; i++ {
		for a := 0; a < d; a++ {
			for b := 0; b < d; b++ {
				pooled[a*d+b] += (x[i*d+a] - mean[a]) * (x[i*d+b] - mean[b]) / float64(n)
			}
		}
	}
	for a := 0; a < d; a++ {
		pooled[a*d+a] += eps * float64(k) / float64(n)
	}
	j := 0
	for c := range nk {
		if nk[c] == 0 {
			copy(mix.Means[c*d:(c+1)*d], x[(j%n)*d:(j%n+1)*d])
			copy(mix.Covs[c*d*d:(c+1)*d*d], pooled)
			nk[c] = 1
			j++
		}
	}
	scale := float64(n) / (float64(n) + float64(empty))
	for c := range nk {
		nk[c] *= scale
	}
}

// kmeansPlusPlus picks k centres by k-means++ seeding (the first uniformly, each next
// with probability proportional to the squared distance to the nearest chosen centre;
// uniformly when every point coincides with a centre), refines them with a few Lloyd
// iterations, and returns the hard assignment of every point (ties to the lower index).
func kmeansPlusPlus(x []float64, n, d, k int, rng *rand.Rand) []int {
	centres := make([]float64, k*d)
	dist := make([]float64, n)
	first := rng.IntN(n)
	copy(centres, x[first*d:(first+1)*d])
	for i := 0; i < n; i++ {
		dist[i] = sqDist(x[i*d:(i+1)*d], centres[:d])
	}
	for c := 1; c < k; c++ {
		tot := 0.0
		for _, v := range dist {
			tot += v
		}
		pick := n - 1
		if tot > 0 {
			u := rng.Float64() * tot
			cum := 0.0
			for i, v := range dist {
				cum += v
				if u < cum {
					pick = i
					break
				}
			}
		} else {
			pick = rng.IntN(n)
		}
		copy(centres[c*d:(c+1)*d], x[pick*d:(pick+1)*d])
		for i := 0; i < n; i++ {
			if v := sqDist(x[i*d:(i+1)*d], centres[c*d:(c+1)*d]); v < dist[i] {
				dist[i] = v
			}
		}
	}
	labels := make([]int, n)
	counts := make([]int, k)
	sums := make([]float64, k*d)
	const lloydIterations = 10
	for it := 0; ; it++ {
		changed := false
		for i := 0; i < n; i++ {
			best, bestD := 0, math.Inf(1)
			for c := 0; c < k; c++ {
				if v := sqDist(x[i*d:(i+1)*d], centres[c*d:(c+1)*d]); v < bestD {
					best, bestD = c, v
				}
			}
			changed = changed || best != labels[i]
			labels[i] = best
		}
		if !changed || it == lloydIterations {
			break
		}
		for c := range counts {
			counts[c] = 0
		}
		for a := range sums {
			sums[a] = 0
		}
		for i, l := range labels {
			counts[l]++
			for a := 0; a < d; a++ {
				sums[l*d+a] += x[i*d+a]
			}
		}
		for c := 0; c < k; c++ {
			if counts[c] == 0 {
				continue // keep the old centre of an empty cluster
			}
			for a := 0; a < d; a++ {
				centres[c*d+a] = sums[c*d+a] / float64(counts[c])
			}
		}
	}
	return labels
}

func sqDist(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		e := a[i] - b[i]
		s += e * e
	}
	return s
}
