package rnn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// InitSettings controls the starting point of a fit. Zero fields mean defaults.
type InitSettings struct {
	SmoothSeconds float64 // Gaussian smoothing of the counts for the state estimate (0.1 s)
	Ridge         float64 // ridge of the teacher-forced regression, relative to the mean feature variance (0.01)
	MaxBins       int     // regression rows used at most, evenly spaced (20000)
	Jitter        float64 // seed-dependent perturbation of the loadings, relative to their scale (0.05)
	// Components is how many principal components of the smoothed rates are kept to
	// denoise them (0: max(6, 2R + E + K); negative: no denoising).
	Components int
	// Simple replaces the regression by a data-free start (readout from mean rates,
	// small random loadings): the baseline the regression is measured against.
	Simple bool
}

// Initialise builds the starting model of a fit by a convex teacher-forced regression:
//
//  1. each neuron's smoothed log rate l_i(t) gives a readout (d_i = median, c_i = spread)
//     and an activity estimate r_i(t) = clip((l_i - d_i) / c_i), x_i(t) = atanh(r_i);
//  2. the one-step dynamics x(t+1) = (1 - alpha) x(t) + alpha (J r(t) + h + B u(t)) are
//     solved for J, h, B by ridge regression on consecutive training bins;
//  3. J is truncated to rank R by SVD: M = U sqrt(N S), Nv = V sqrt(N S), so that
//     M Nv^T / N = U S V^T;
//  4. the initial-state map x0 = X0W z + X0B is regressed per neuron on the window
//     statistics of the training windows.
//
// NE parameters start at zero (the `none` solution, so every variant starts from the
// same network), except the lowrank P and Q, which start small and random because
// P = Q = 0 is a stationary point of the likelihood. The seed perturbs the loadings so
// that seeds explore different basins.
func Initialise(v Variant, d *Data, useBin func(t int) bool, train []Window, r, k int, tauSeconds float64, seed uint64, s *InitSettings) (*Model, error) {
	set := InitSettings{}
	if s != nil {
		set = *s
	}
	if set.SmoothSeconds <= 0 {
		set.SmoothSeconds = 0.1
	}
	if set.Ridge <= 0 {
		set.Ridge = 0.01
	}
	if set.MaxBins <= 0 {
		set.MaxBins = 20000
	}
	if set.Jitter < 0 {
		set.Jitter = 0
	} else if set.Jitter == 0 {
		set.Jitter = 0.05
	}
	n, e, T := d.N, d.E, d.T
	if r > n {
		return nil, fmt.Errorf("rnn: rank %d exceeds %d neurons", r, n)
	}
	m := New(v, n, r, k, e, d.DtSeconds, tauSeconds)
	alpha := m.Alpha()
	if set.Simple {
		return simpleInit(m, d, useBin, train, seed)
	}

	// 1. Smoothed log rates, denoised by projection on their leading principal
	// components (single-neuron rates at this resolution are dominated by Poisson
	// noise, which would inflate the readout slopes), and the activity estimate.
	sm := smoothCounts(d, set.SmoothSeconds, useBin)
	if set.Components >= 0 {
		q := set.Components
		if q == 0 {
			q = min(n, max(6, 2*r+e+k))
		}
		if err := denoise(sm, n, T, useBin, q, set.MaxBins); err != nil {
			return nil, err
		}
	}
	rhat := make([]float64, T*n)
	col := make([]float64, 0, T)
	for i := 0; i < n; i++ {
		col = col[:0]
		mean, cnt := 0.0, 0
		for t := 0; t < T; t++ {
			if useBin(t) {
				mean += sm[t*n+i]
				cnt++
			}
		}
		mean /= math.Max(1, float64(cnt))
		floor := math.Max(0.1*mean, 1e-3)
		for t := 0; t < T; t++ {
			l := math.Log((sm[t*n+i] + floor) / d.DtSeconds)
			rhat[t*n+i] = l
			if useBin(t) {
				col = append(col, l)
			}
		}
		if len(col) == 0 {
			return nil, fmt.Errorf("rnn: no training bins")
		}
		sort.Float64s(col)
		med := quantileSorted(col, 0.5)
		spread := math.Max(quantileSorted(col, 0.98)-med, med-quantileSorted(col, 0.02))
		c := math.Max(spread/0.8, 0.05)
		m.D[i], m.C[i] = med, c
		for t := 0; t < T; t++ {
			rhat[t*n+i] = math.Max(-0.9, math.Min(0.9, (rhat[t*n+i]-med)/c))
		}
	}

	// 2. Teacher-forced regression on pairs of consecutive training bins.
	var rows []int
	for t := 0; t+1 < T; t++ {
		if useBin(t) && useBin(t+1) {
			rows = append(rows, t)
		}
	}
	if len(rows) > set.MaxBins {
		picked := make([]int, set.MaxBins)
		for j := range picked {
			picked[j] = rows[j*len(rows)/set.MaxBins]
		}
		rows = picked
	}
	if len(rows) < n+e+1 {
		return nil, fmt.Errorf("rnn: %d training bin pairs cannot determine %d neurons' inputs", len(rows), n)
	}
	p := n + e + 1
	X := mat.NewDense(len(rows), p, nil)
	Y := mat.NewDense(len(rows), n, nil)
	for a, t := range rows {
		xr := X.RawRowView(a)
		yr := Y.RawRowView(a)
		for i := 0; i < n; i++ {
			xr[i] = rhat[t*n+i]
			xt := math.Atanh(rhat[t*n+i])
			xt1 := math.Atanh(rhat[(t+1)*n+i])
			yr[i] = (xt1 - (1-alpha)*xt) / alpha
		}
		for j := 0; j < e; j++ {
			xr[n+j] = d.U[t*e+j]
		}
		xr[p-1] = 1
	}
	var xtx mat.SymDense
	xtx.SymOuterK(1, X.T())
	tr := 0.0
	for i := 0; i < p-1; i++ {
		tr += xtx.At(i, i)
	}
	lambda := set.Ridge * tr / float64(p-1)
	for i := 0; i < p-1; i++ { // the intercept is not penalised
		xtx.SetSym(i, i, xtx.At(i, i)+lambda)
	}
	var xty mat.Dense
	xty.Mul(X.T(), Y)
	var chol mat.Cholesky
	if ok := chol.Factorize(&xtx); !ok {
		return nil, fmt.Errorf("rnn: teacher-forced regression is singular")
	}
	var coef mat.Dense // p x n: column i holds neuron i's weights
	if err := chol.SolveTo(&coef, &xty); err != nil {
		return nil, fmt.Errorf("rnn: teacher-forced regression: %v", err)
	}

	// 3. Rank-R truncation of J (J[i][j] = coef[j][i]).
	J := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			J.Set(i, j, coef.At(j, i))
		}
		for j := 0; j < e; j++ {
			m.B[i*e+j] = coef.At(n+j, i)
		}
		m.H[i] = coef.At(p-1, i)
	}
	var svd mat.SVD
	if ok := svd.Factorize(J, mat.SVDThin); !ok {
		return nil, fmt.Errorf("rnn: SVD of the regression connectivity failed")
	}
	sv := svd.Values(nil)
	var U, V mat.Dense
	svd.UTo(&U)
	svd.VTo(&V)
	rng := rand.New(rand.NewPCG(seed, 0x1a17))
	for j := 0; j < r; j++ {
		scale := math.Sqrt(float64(n) * sv[j])
		// Fix the sign so that the largest loading of M is positive: SVD signs are
		// arbitrary and would otherwise make fits less reproducible across libraries.
		sign := 1.0
		big := 0.0
		for i := 0; i < n; i++ {
			if a := math.Abs(U.At(i, j)); a > big {
				big, sign = a, math.Copysign(1, U.At(i, j))
			}
		}
		for i := 0; i < n; i++ {
			m.M[i*r+j] = sign * U.At(i, j) * scale
			m.Nv[i*r+j] = sign * V.At(i, j) * scale
		}
	}
	if set.Jitter > 0 {
		jitter(m.M, set.Jitter, rng)
		jitter(m.Nv, set.Jitter, rng)
	}
	if v == LowRank {
		for i := range m.P {
			m.P[i] = 0.1 * rng.NormFloat64()
			m.Q[i] = 0.1 * rng.NormFloat64()
		}
	}

	// 4. Initial-state map from the window statistics.
	for i := 0; i < n; i++ {
		var sz, sx, szz, szx, cnt float64
		for _, w := range train {
			z := w.Z[i]
			x := math.Atanh(rhat[w.Start*n+i])
			sz += z
			sx += x
			szz += z * z
			szx += z * x
			cnt++
		}
		if cnt < 2 {
			continue
		}
		vz := szz/cnt - (sz/cnt)*(sz/cnt)
		if vz > 1e-12 {
			m.X0W[i] = (szx/cnt - (sz/cnt)*(sx/cnt)) / vz
		} else {
			m.X0W[i] = 0
		}
		m.X0B[i] = sx/cnt - m.X0W[i]*sz/cnt
	}
	return m, m.Validate()
}

// jitter adds Gaussian noise of relative size rel (to the block's RMS) to s.
func jitter(s []float64, rel float64, rng *rand.Rand) {
	ss := 0.0
	for _, v := range s {
		ss += v * v
	}
	rms := math.Sqrt(ss / math.Max(1, float64(len(s))))
	for i := range s {
		s[i] += rel * rms * rng.NormFloat64()
	}
}

// smoothCounts convolves each neuron's counts with a Gaussian of the given width
// (truncated at 4 sd), over the bins where useBin is true only (renormalised), so that
// no held-out spike enters the smoothed training rates.
func smoothCounts(d *Data, sdSeconds float64, useBin func(int) bool) []float64 {
	n, T := d.N, d.T
	sdBins := sdSeconds / d.DtSeconds
	half := int(math.Ceil(4 * sdBins))
	kern := make([]float64, 2*half+1)
	for j := range kern {
		x := float64(j-half) / math.Max(sdBins, 1e-9)
		kern[j] = math.Exp(-0.5 * x * x)
	}
	out := make([]float64, T*n)
	for t := 0; t < T; t++ {
		o := out[t*n : (t+1)*n]
		wsum := 0.0
		for j := -half; j <= half; j++ {
			s := t + j
			if s < 0 || s >= T || !useBin(s) {
				continue
			}
			w := kern[j+half]
			wsum += w
			for i, y := range d.Y[s*n : (s+1)*n] {
				o[i] += w * float64(y)
			}
		}
		if wsum == 0 {
			continue // no training bin within reach: left at 0 (not used)
		}
		for i := range o {
			o[i] /= wsum
		}
	}
	return out
}

func quantileSorted(s []float64, q float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(s)-1)
	f := pos - float64(lo)
	return s[lo]*(1-f) + s[hi]*f
}

// simpleInit starts from the mean rates (d = log rate, c = 1), small random loadings
// and no inputs; the initial-state map is the identity on z scaled by 0.5.
func simpleInit(m *Model, d *Data, useBin func(int) bool, train []Window, seed uint64) (*Model, error) {
	rng := rand.New(rand.NewPCG(seed, 0x51))
	rates := NullRates(d, useBin)
	for i := 0; i < m.N; i++ {
		m.D[i] = math.Log(rates[i])
		m.C[i] = 1
		m.X0W[i] = 0.5
	}
	for i := range m.M {
		m.M[i] = 0.5 * rng.NormFloat64()
		m.Nv[i] = 0.5 * rng.NormFloat64()
	}
	for i := range m.P {
		m.P[i] = 0.1 * rng.NormFloat64()
		m.Q[i] = 0.1 * rng.NormFloat64()
	}
	return m, m.Validate()
}

// denoise replaces the smoothed counts (T x N) by their projection on the q leading
// principal components of the standardised counts over the training bins.
func denoise(sm []float64, n, T int, useBin func(int) bool, q, maxRows int) error {
	mean := make([]float64, n)
	sd := make([]float64, n)
	var rows []int
	for t := 0; t < T; t++ {
		if useBin(t) {
			rows = append(rows, t)
		}
	}
	if len(rows) < 2 {
		return fmt.Errorf("rnn: no training bins")
	}
	for _, t := range rows {
		for i := 0; i < n; i++ {
			mean[i] += sm[t*n+i]
		}
	}
	for i := range mean {
		mean[i] /= float64(len(rows))
	}
	for _, t := range rows {
		for i := 0; i < n; i++ {
			dv := sm[t*n+i] - mean[i]
			sd[i] += dv * dv
		}
	}
	for i := range sd {
		sd[i] = math.Sqrt(sd[i] / float64(len(rows)))
		if sd[i] == 0 {
			sd[i] = 1
		}
	}
	if len(rows) > maxRows {
		picked := make([]int, maxRows)
		for j := range picked {
			picked[j] = rows[j*len(rows)/maxRows]
		}
		rows = picked
	}
	Z := mat.NewDense(len(rows), n, nil)
	for a, t := range rows {
		zr := Z.RawRowView(a)
		for i := 0; i < n; i++ {
			zr[i] = (sm[t*n+i] - mean[i]) / sd[i]
		}
	}
	var cov mat.SymDense
	cov.SymOuterK(1/float64(len(rows)), Z.T())
	var eig mat.EigenSym
	if ok := eig.Factorize(&cov, true); !ok {
		return fmt.Errorf("rnn: eigendecomposition of the rate covariance failed")
	}
	var vec mat.Dense
	eig.VectorsTo(&vec)
	// Eigenvalues come in ascending order: the last q columns lead.
	U := vec.Slice(0, n, n-q, n)
	z := make([]float64, n)
	proj := make([]float64, q)
	for t := 0; t < T; t++ {
		row := sm[t*n : (t+1)*n]
		for i := range z {
			z[i] = (row[i] - mean[i]) / sd[i]
		}
		for j := 0; j < q; j++ {
			s := 0.0
			for i := 0; i < n; i++ {
				s += U.At(i, j) * z[i]
			}
			proj[j] = s
		}
		for i := 0; i < n; i++ {
			s := 0.0
			for j := 0; j < q; j++ {
				s += U.At(i, j) * proj[j]
			}
			row[i] = math.Max(0, mean[i]+sd[i]*s)
		}
	}
	return nil
}
