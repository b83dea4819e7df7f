package gmm

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// draw samples n points from the mixture given by weights, means and covariances
// (through Mixture.Sample) with a fixed seed.
func draw(t testing.TB, n int, seed uint64, weights []float64, means [][]float64, covs [][]float64) ([]float64, []int, *Mixture) {
	t.Helper()
	k, d := len(weights), len(means[0])
	m := NewMixture(k, d)
	copy(m.Weights, weights)
	for c := range means {
		copy(m.Mean(c), means[c])
		copy(m.Cov(c), covs[c])
	}
	if err := m.Prepare(); err != nil {
		t.Fatal(err)
	}
	x, labels := m.Sample(n, rand.New(rand.NewPCG(seed, 7)))
	return x, labels, m
}

func eye(d int, s float64) []float64 {
	c := make([]float64, d*d)
	for a := 0; a < d; a++ {
		c[a*d+a] = s
	}
	return c
}

func TestAdjustedRandReference(t *testing.T) {
	// Every expected value is computed by hand from the contingency table with the
	// formula of the AdjustedRand doc; the first four are also the values printed in
	// scikit-learn's adjusted_rand_score documentation.
	for _, c := range []struct {
		name string
		a, b []int
		want float64
	}{
		{"identical", []int{0, 0, 1, 1}, []int{0, 0, 1, 1}, 1},
		{"relabelled", []int{0, 0, 1, 1}, []int{1, 1, 0, 0}, 1},
		// n_ij: {2},{1,1}: index 1; sum C(a)=2, sum C(b)=1, C(4)=6: expected 1/3,
		// max 3/2: (1 - 1/3) / (3/2 - 1/3) = 4/7.
		{"split", []int{0, 0, 1, 1}, []int{0, 0, 1, 2}, 4.0 / 7},
		// index 0, expected 0, max 3.
		{"one vs singletons", []int{0, 0, 0, 0}, []int{0, 1, 2, 3}, 0},
		// index 0; sum C(a) = sum C(b) = 2, C(4) = 6: expected 2/3, max 2: -1/2.
		{"crossed", []int{0, 0, 1, 1}, []int{0, 1, 0, 1}, -0.5},
		// n_ij: {2,1},{1,2}: index 2; sum C(a) = 6, sum C(b) = 3, C(6) = 15:
		// expected 6*3/15 = 1.2, max 4.5: 0.8 / 3.3 = 8/33.
		{"six", []int{0, 0, 0, 1, 1, 1}, []int{0, 0, 1, 1, 2, 2}, 8.0 / 33},
		// n_ij: {2,1,0},{0,2,1},{0,0,3}: index 1+1+3 = 5; sum C(a) = 9, sum C(b) =
		// 1+3+6 = 10, C(9) = 36: expected 2.5, max 9.5: 2.5 / 7 = 5/14.
		{"nine", []int{1, 1, 1, 2, 2, 2, 3, 3, 3}, []int{1, 1, 2, 2, 2, 3, 3, 3, 3}, 5.0 / 14},
		{"both single cluster", []int{4, 4, 4}, []int{7, 7, 7}, 1},
		{"both singletons", []int{1, 2, 3}, []int{3, 1, 2}, 1},
		{"one item", []int{1}, []int{2}, 1},
	} {
		got := AdjustedRand(c.a, c.b)
		if math.Abs(got-c.want) > 1e-14 {
			t.Errorf("%s: ARI = %.16g, want %.16g", c.name, got, c.want)
		}
		if back := AdjustedRand(c.b, c.a); back != got {
			t.Errorf("%s: not symmetric: %v vs %v", c.name, got, back)
		}
	}
}

func TestAdjustedRandRandomPartitionsNearZero(t *testing.T) {
	// The ARI has expectation 0 under random labelling with fixed margins (Hubert &
	// Arabie 1985): the mean over 200 independent random labelings of 500 items
	// against a fixed 3-cluster partition must be within 4 standard errors of 0.
	rng := rand.New(rand.NewPCG(3, 4))
	n, reps := 500, 200
	fixed := make([]int, n)
	for i := range fixed {
		fixed[i] = i % 3
	}
	var sum, sumSq float64
	for r := 0; r < reps; r++ {
		other := make([]int, n)
		for i := range other {
			other[i] = rng.IntN(4)
		}
		v := AdjustedRand(fixed, other)
		if math.Abs(v) > 0.05 {
			t.Fatalf("replicate %d: ARI %v far from 0", r, v)
		}
		sum += v
		sumSq += v * v
	}
	mean := sum / float64(reps)
	se := math.Sqrt((sumSq/float64(reps) - mean*mean) / float64(reps))
	if math.Abs(mean) > 4*se {
		t.Errorf("mean ARI of random partitions %v, standard error %v", mean, se)
	}
}

// threeClusters is a well-separated anisotropic mixture in 2-D (means 10 sd apart).
func threeClusters(t testing.TB, n int, seed uint64) ([]float64, []int, *Mixture) {
	return draw(t, n, seed, []float64{0.5, 0.3, 0.2},
		[][]float64{{0, 0}, {12, 0}, {0, 12}},
		[][]float64{{1, 0.6, 0.6, 1}, {2, -0.5, -0.5, 0.5}, {0.3, 0, 0, 1.5}})
}

func TestFitRecoversSeparatedClusters(t *testing.T) {
	x, truth, gen := threeClusters(t, 600, 1)
	res, err := Fit(x, 2, 3, &Settings{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if ari := AdjustedRand(truth, res.Labels); ari != 1 {
		t.Fatalf("ARI with the generating labels = %v, want 1", ari)
	}
	if !res.Converged {
		t.Errorf("EM did not converge in %d iterations", res.Iterations)
	}
	// Match components by nearest mean; with 600 points the sample means of the
	// generating clusters are within a few sd / sqrt(n_k) ~ 0.2 of the truth.
	for c := 0; c < 3; c++ {
		got := res.Mixture.Mean(res.Labels[indexOf(truth, c)])
		want := gen.Mean(c)
		for a := range want {
			if math.Abs(got[a]-want[a]) > 0.3 {
				t.Errorf("component %d mean %v, generating %v", c, got, want)
			}
		}
	}
	// The fitted log-likelihood is what an independent evaluation with
	// gonum's LU inverse gives at the fitted parameters.
	if ref := refLogLik(t, res.Mixture, x); math.Abs(ref-res.LogLik) > 1e-9*math.Abs(ref) {
		t.Errorf("LogLik %v, distmv evaluation %v", res.LogLik, ref)
	}
	if ll := res.Mixture.LogLikelihood(x); math.Abs(ll-res.LogLik) > 1e-9*math.Abs(ll) {
		t.Errorf("LogLikelihood %v vs Fit %v", ll, res.LogLik)
	}
}

func indexOf(s []int, v int) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// refLogLik evaluates sum_i log sum_k w_k N(x_i; mu_k, Sigma_k) independently of the
// package's Cholesky path: the inverse and log-determinant come from gonum's LU
// (mat.Inverse, mat.LogDet).
func refLogLik(t testing.TB, m *Mixture, x []float64) float64 {
	t.Helper()
	d := m.D
	invs := make([]*mat.Dense, m.K)
	logDets := make([]float64, m.K)
	for c := 0; c < m.K; c++ {
		cov := mat.NewDense(d, d, append([]float64(nil), m.Cov(c)...))
		var inv mat.Dense
		if err := inv.Inverse(cov); err != nil {
			t.Fatalf("component %d: %v", c, err)
		}
		invs[c] = &inv
		logDets[c], _ = mat.LogDet(cov)
	}
	tot := 0.0
	lp := make([]float64, m.K)
	for i := 0; i < len(x)/d; i++ {
		best := math.Inf(-1)
		for c := range invs {
			dev := mat.NewVecDense(d, nil)
			for a := 0; a < d; a++ {
				dev.SetVec(a, x[i*d+a]-m.Mean(c)[a])
			}
			maha := mat.Inner(dev, invs[c], dev)
			lp[c] = math.Log(m.Weights[c]) - 0.5*(float64(d)*math.Log(2*math.Pi)+logDets[c]+maha)
			best = math.Max(best, lp[c])
		}
		s := 0.0
		for _, v := range lp {
			s += math.Exp(v - best)
		}
		tot += best + math.Log(s)
	}
	return tot
}

func TestSingleComponentIsRegularisedMLE(t *testing.T) {
	// With K = 1, EM lands in one step on mean = sample mean and Sigma = S/n + Ridge
	// sbar I (the package doc's M-step with N_1 = n and Psi = Ridge sbar n I).
	x, _, _ := threeClusters(t, 300, 2)
	ridge := 0.01
	res, err := Fit(x, 2, 1, &Settings{Ridge: ridge})
	if err != nil {
		t.Fatal(err)
	}
	n := len(x) / 2
	mean := []float64{0, 0}
	for i := 0; i < n; i++ {
		mean[0] += x[2*i] / float64(n)
		mean[1] += x[2*i+1] / float64(n)
	}
	cov := make([]float64, 4)
	for i := 0; i < n; i++ {
		for a := 0; a < 2; a++ {
			for b := 0; b < 2; b++ {
				cov[a*2+b] += (x[2*i+a] - mean[a]) * (x[2*i+b] - mean[b]) / float64(n)
			}
		}
	}
	sbar := (cov[0] + cov[3]) / 2
	cov[0] += ridge * sbar
	cov[3] += ridge * sbar
	for a := range mean {
		if math.Abs(res.Mixture.Means[a]-mean[a]) > 1e-12*(1+math.Abs(mean[a])) {
			t.Errorf("mean %v, want %v", res.Mixture.Means, mean)
		}
	}
	for a := range cov {
		if math.Abs(res.Mixture.Covs[a]-cov[a]) > 1e-12*(1+math.Abs(cov[a])) {
			t.Errorf("cov %v, want %v", res.Mixture.Covs, cov)
		}
	}
}

func TestBICPicksTrueNumberOfClusters(t *testing.T) {
	// Mixtures of 1..4 components in 3-D, means 8 sd apart, 400 points: BIC must
	// choose the generating number of components out of 1..6.
	means := [][]float64{{0, 0, 0}, {8, 0, 0}, {0, 8, 0}, {0, 0, 8}}
	covs := [][]float64{
		{1, 0.3, 0, 0.3, 1, 0, 0, 0, 1},
		eye(3, 1.5),
		{1, 0, 0, 0, 0.5, 0.2, 0, 0.2, 1},
		eye(3, 0.7),
	}
	for k := 1; k <= 4; k++ {
		w := make([]float64, k)
		for c := range w {
			w[c] = 1 / float64(k)
		}
		x, truth, _ := draw(t, 400, uint64(10+k), w, means[:k], covs[:k])
		sel, err := Select(x, 3, 6, &Settings{Seed: 1, Restarts: 3})
		if err != nil {
			t.Fatal(err)
		}
		if sel.K != k {
			t.Errorf("true K = %d: BIC chose %d (BIC %v)", k, sel.K, sel.BIC)
			continue
		}
		if ari := AdjustedRand(truth, sel.Best().Labels); ari < 0.99 {
			t.Errorf("true K = %d: ARI %v", k, ari)
		}
		// BIC is -2 logL + p log n with p counted for full covariances: p(k, 3) =
		// (k-1) + 3k + 6k = 10k - 1.
		if p := NumParams(k, 3); p != 10*k-1 {
			t.Errorf("NumParams(%d, 3) = %d, want %d", k, p, 10*k-1)
		}
		want := -2*sel.Best().LogLik + float64(10*k-1)*math.Log(400)
		if math.Abs(sel.BIC[k-1]-want) > 1e-9*math.Abs(want) {
			t.Errorf("BIC %v, want %v", sel.BIC[k-1], want)
		}
	}
}

func TestEMObjectiveIncreasesMonotonically(t *testing.T) {
	// Overlapping clusters make EM take many small steps. EM maximises the
	// penalised objective F exactly, so F may not decrease beyond round-off; the
	// plain log-likelihood differs from F by a term of order Ridge and must not
	// decrease either at these sizes (checked to round-off as well).
	x, _, _ := draw(t, 500, 5, []float64{0.4, 0.35, 0.25},
		[][]float64{{0, 0, 0}, {1.5, 0.5, 0}, {0, 1.5, 1}},
		[][]float64{eye(3, 1), {1, 0.5, 0, 0.5, 1, 0, 0, 0, 1}, eye(3, 0.6)})
	for seed := uint64(1); seed <= 3; seed++ {
		res, err := Fit(x, 3, 3, &Settings{Seed: seed, Restarts: 1, Trace: true, Tol: 1e-12, MaxIter: 2000})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.TraceObjective) < 10 {
			t.Fatalf("seed %d: only %d iterations: the test needs a slow EM", seed, len(res.TraceObjective))
		}
		for it := 1; it < len(res.TraceObjective); it++ {
			f0, f1 := res.TraceObjective[it-1], res.TraceObjective[it]
			if f1 < f0-1e-12*math.Abs(f0) {
				t.Errorf("seed %d iteration %d: objective fell from %.15g to %.15g", seed, it, f0, f1)
			}
			l0, l1 := res.TraceLogLik[it-1], res.TraceLogLik[it]
			if l1 < l0-1e-9*math.Abs(l0) {
				t.Errorf("seed %d iteration %d: log-likelihood fell from %.15g to %.15g", seed, it, l0, l1)
			}
		}
		t.Logf("seed %d: %d iterations, logL %.6f -> %.6f", seed, res.Iterations,
			res.TraceLogLik[0], res.TraceLogLik[len(res.TraceLogLik)-1])
	}
}

func TestDegenerateInputs(t *testing.T) {
	// Duplicated points, a single repeated point, and fewer points than dimensions:
	// the ridge keeps every covariance positive definite, so fits return finite
	// log-likelihoods and labels in range instead of crashing.
	rng := rand.New(rand.NewPCG(8, 9))
	same := make([]float64, 20*3)
	for i := range same {
		same[i] = 2.5
	}
	few := make([]float64, 3*6) // n = 3 < d = 6
	for i := range few {
		few[i] = rng.NormFloat64()
	}
	dup := make([]float64, 0, 40*2)
	for i := 0; i < 10; i++ {
		p := []float64{rng.NormFloat64(), rng.NormFloat64()}
		for j := 0; j < 4; j++ { // each point four times
			dup = append(dup, p...)
		}
	}
	for _, c := range []struct {
		name string
		x    []float64
		d    int
		ks   []int
	}{
		{"all identical", same, 3, []int{1, 2, 3}},
		{"n < d", few, 6, []int{1, 2, 3}},
		{"duplicates", dup, 2, []int{1, 2, 5, 10}},
	} {
		for _, k := range c.ks {
			res, err := Fit(c.x, c.d, k, &Settings{Seed: 1, Restarts: 3})
			if err != nil {
				t.Fatalf("%s K=%d: %v", c.name, k, err)
			}
			if math.IsNaN(res.LogLik) || math.IsInf(res.LogLik, 0) {
				t.Errorf("%s K=%d: log-likelihood %v", c.name, k, res.LogLik)
			}
			for _, l := range res.Labels {
				if l < 0 || l >= k {
					t.Fatalf("%s K=%d: label %d", c.name, k, l)
				}
			}
		}
		if _, err := Select(c.x, c.d, 6, &Settings{Seed: 1, Restarts: 2}); err != nil {
			t.Errorf("%s: Select: %v", c.name, err)
		}
	}
	if _, err := Fit(few, 6, 4, nil); err == nil {
		t.Error("4 components for 3 points: no error")
	}
	if _, err := Fit([]float64{1, math.NaN()}, 2, 1, nil); err == nil {
		t.Error("NaN coordinate: no error")
	}
}

func TestFitDeterministicAcrossThreads(t *testing.T) {
	x, _, _ := threeClusters(t, 400, 3)
	a, err := Fit(x, 2, 4, &Settings{Seed: 2, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Fit(x, 2, 4, &Settings{Seed: 2, Threads: 3})
	if err != nil {
		t.Fatal(err)
	}
	if a.Objective != b.Objective || a.Restart != b.Restart {
		t.Fatalf("threads change the fit: %v (restart %d) vs %v (restart %d)", a.Objective, a.Restart, b.Objective, b.Restart)
	}
	for i := range a.Mixture.Covs {
		if a.Mixture.Covs[i] != b.Mixture.Covs[i] {
			t.Fatal("threads change the covariances")
		}
	}
}

func TestLogLikelihoodFarPoints(t *testing.T) {
	// A point 1000 sd from every component has density exp(-5e5): log-sum-exp keeps
	// its log-density finite and equal to the LU evaluation.
	m := NewMixture(2, 1)
	copy(m.Weights, []float64{0.5, 0.5})
	copy(m.Means, []float64{0, 1})
	copy(m.Covs, []float64{1, 1})
	if err := m.Prepare(); err != nil {
		t.Fatal(err)
	}
	x := []float64{1000}
	got := m.LogLikelihood(x)
	want := refLogLik(t, m, x)
	if math.IsInf(got, 0) || math.Abs(got-want) > 1e-12*math.Abs(want) {
		t.Errorf("log p(1000) = %v, want %v", got, want)
	}
}

func TestSampleMatchesMixture(t *testing.T) {
	// 40000 draws: component frequencies within 4 binomial sd of the weights, and
	// the sample covariance of component 0 within 4 % of the given one.
	n := 40000
	x, labels, _ := draw(t, n, 11, []float64{0.7, 0.3},
		[][]float64{{1, -1}, {5, 5}}, [][]float64{{2, 0.8, 0.8, 1}, eye(2, 0.5)})
	cnt := 0
	var s [4]float64
	for i, l := range labels {
		if l == 0 {
			cnt++
			dx, dy := x[2*i]-1, x[2*i+1]+1
			s[0] += dx * dx
			s[1] += dx * dy
			s[3] += dy * dy
		}
	}
	sd := math.Sqrt(float64(n) * 0.7 * 0.3)
	if math.Abs(float64(cnt)-0.7*float64(n)) > 4*sd {
		t.Errorf("component 0 drawn %d times of %d", cnt, n)
	}
	for _, c := range []struct{ got, want float64 }{{s[0] / float64(cnt), 2}, {s[1] / float64(cnt), 0.8}, {s[3] / float64(cnt), 1}} {
		if math.Abs(c.got-c.want) > 0.04*c.want {
			t.Errorf("sample covariance entry %v, want %v", c.got, c.want)
		}
	}
}

func BenchmarkFit1000x8K2(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	d, n := 8, 1000
	x := make([]float64, n*d)
	for i := range x {
		x[i] = rng.NormFloat64()
		if i/d < n/2 && i%d == 0 {
			x[i] += 4
		}
	}
	for b.Loop() {
		if _, err := Fit(x, d, 2, &Settings{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestTiedCovariance(t *testing.T) {
	// Two separated clusters with the same covariance: the tied fit's shared
	// covariance is the pooled within-cluster covariance (its exact M-step, the
	// clusters being separated so that responsibilities are 0 or 1 to round-off)
	// plus the ridge Ridge * sbar, and its parameter count is (k-1) + k d + d(d+1)/2.
	shared := []float64{1, 0.5, 0.5, 2}
	x, truth, _ := draw(t, 400, 21, []float64{0.5, 0.5}, [][]float64{{0, 0}, {15, 15}}, [][]float64{shared, shared})
	ridge := 1e-3
	res, err := Fit(x, 2, 2, &Settings{Seed: 1, Covariance: Tied, Ridge: ridge, Trace: true})
	if err != nil {
		t.Fatal(err)
	}
	if ari := AdjustedRand(truth, res.Labels); ari != 1 {
		t.Fatalf("ARI %v, want 1", ari)
	}
	n := len(truth)
	var sums [2][2]float64
	var counts [2]float64
	for i, l := range truth {
		sums[l][0] += x[2*i]
		sums[l][1] += x[2*i+1]
		counts[l]++
	}
	pooled := make([]float64, 4)
	for i, l := range truth {
		dx, dy := x[2*i]-sums[l][0]/counts[l], x[2*i+1]-sums[l][1]/counts[l]
		pooled[0] += dx * dx / float64(n)
		pooled[1] += dx * dy / float64(n)
		pooled[3] += dy * dy / float64(n)
	}
	pooled[2] = pooled[1]
	sbar := dataScale(x, n, 2)
	pooled[0] += ridge * sbar
	pooled[3] += ridge * sbar
	for c := 0; c < 2; c++ {
		for a := range pooled {
			if got := res.Mixture.Cov(c)[a]; math.Abs(got-pooled[a]) > 1e-9 {
				t.Errorf("component %d covariance %v, want %v", c, res.Mixture.Cov(c), pooled)
				break
			}
		}
	}
	for it := 1; it < len(res.TraceObjective); it++ {
		if res.TraceObjective[it] < res.TraceObjective[it-1]-1e-12*math.Abs(res.TraceObjective[it-1]) {
			t.Errorf("tied objective fell at iteration %d", it)
		}
	}
	if p := Tied.NumParams(3, 4); p != 2+12+10 {
		t.Errorf("Tied.NumParams(3, 4) = %d, want 24", p)
	}
	// One component: tied and full are the same model.
	a, _ := Fit(x, 2, 1, &Settings{Covariance: Tied})
	b, _ := Fit(x, 2, 1, &Settings{Covariance: Full})
	if a.LogLik != b.LogLik {
		t.Errorf("K = 1: tied logL %v, full %v", a.LogLik, b.LogLik)
	}
}

func TestSampleMatchedMoments(t *testing.T) {
	// Component shares by largest remainder: 0.55 * 33 = 18.15, 0.45 * 33 = 14.85:
	// floors 18 and 14, the remaining point to the larger remainder (component 1).
	// Each component's sample mean and 1/n_k covariance equal its parameters to
	// round-off. In a second mixture, a component of weight 0.1 gets 3 of 30 points,
	// not more than D = 3: plain draws for it, no crash.
	_, _, m := draw(t, 1, 1, []float64{0.55, 0.45}, [][]float64{{1, 2, 3}, {-4, 0, 4}},
		[][]float64{{2, 0.5, 0.1, 0.5, 1, -0.3, 0.1, -0.3, 0.7}, eye(3, 0.2)})
	x, labels := m.SampleMatched(33, rand.New(rand.NewPCG(4, 4)))
	counts := []int{0, 0}
	for _, l := range labels {
		counts[l]++
	}
	if counts[0] != 18 || counts[1] != 15 {
		t.Fatalf("component counts %v, want [18 15]", counts)
	}
	for k := 0; k < 2; k++ {
		var rows []float64
		for i, l := range labels {
			if l == k {
				rows = append(rows, x[3*i:3*i+3]...)
			}
		}
		c := float64(counts[k])
		mean := make([]float64, 3)
		for i := 0; i < counts[k]; i++ {
			for a := 0; a < 3; a++ {
				mean[a] += rows[3*i+a] / c
			}
		}
		for a := 0; a < 3; a++ {
			if math.Abs(mean[a]-m.Mean(k)[a]) > 1e-12 {
				t.Errorf("component %d sample mean %v, want %v", k, mean, m.Mean(k))
			}
			for b := 0; b < 3; b++ {
				s := 0.0
				for i := 0; i < counts[k]; i++ {
					s += (rows[3*i+a] - mean[a]) * (rows[3*i+b] - mean[b]) / c
				}
				if math.Abs(s-m.Cov(k)[a*3+b]) > 1e-12 {
					t.Errorf("component %d sample cov[%d,%d] %v, want %v", k, a, b, s, m.Cov(k)[a*3+b])
				}
			}
		}
	}
	_, _, small := draw(t, 1, 1, []float64{0.9, 0.1}, [][]float64{{0, 0, 0}, {1, 1, 1}}, [][]float64{eye(3, 1), eye(3, 1)})
	x, labels = small.SampleMatched(30, rand.New(rand.NewPCG(5, 5)))
	if len(x) != 90 || labels[29] != 1 || labels[27] != 1 || labels[26] != 0 {
		t.Errorf("small component: %d values, labels %v", len(x), labels)
	}
	for _, v := range x {
		if math.IsNaN(v) {
			t.Fatal("NaN in plain draws")
		}
	}
}
