package photometry

import (
	"errors"
	"math"
)

// Bleaching methods.
const (
	BleachDoubleExp = "dexp"     // subtract a double-exponential fit
	BleachHighpass  = "highpass" // keep what lies above a high-pass cut-off
)

// DoubleExp is the bleaching trend
//
//	f(t) = C + A1 exp(-(t - T0) / Tau1) + A2 exp(-(t - T0) / Tau2),  Tau1 <= Tau2,
//
// with C, A1, A2 >= 0 (bleaching only decays, towards a non-negative floor).
type DoubleExp struct {
	C, A1, A2, Tau1, Tau2, T0 float64
}

// At evaluates the trend at time t (seconds).
func (d DoubleExp) At(t float64) float64 {
	u := t - d.T0
	return d.C + d.A1*math.Exp(-u/d.Tau1) + d.A2*math.Exp(-u/d.Tau2)
}

// BleachTauMaxS bounds the bleaching time constants from above: 10 h, the bound of
// the reference recipe (Akam & Walton's photometry_preprocessing). Beyond a few
// recording lengths an exponential is a straight line and the bound decides how
// curved the slow trend may be; with r ~ 0.2 between the detrended channels the
// control slope of a real recording moves by a few % with this choice (0.2287 at
// 10 h, 0.2392 at 3 recording lengths, on the pyPhotometry test file).
const BleachTauMaxS = 36000.0

// fitPoints bounds the number of points the bleaching fit works on: bleaching is
// slow, so block means of the trace lose nothing and make the search cheap.
const fitPoints = 4000

// FitDoubleExp fits a DoubleExp to (t, y) by least squares. The model is linear in
// (C, A1, A2) for fixed time constants, so those are solved exactly (with A1, A2 >= 0
// by enumerating the faces of this 3-variable non-negative problem: the trend
// decays towards a non-negative floor) and only (log Tau1, log Tau2) are searched:
// a 24 x 24 grid over [max(T/200, 1 s), max(10 h, 2T)] (T the trace duration) and
// then Nelder-Mead from the best grid point, Tau1 <= Tau2 kept by swapping. The fit
// uses block means of at most 4000 points.
func FitDoubleExp(t, y []float64) (DoubleExp, error) {
	n := len(t)
	if n < 8 {
		return DoubleExp{}, errors.New("bleaching fit needs at least 8 samples")
	}
	dur := t[n-1] - t[0]
	if !(dur > 0) {
		return DoubleExp{}, errors.New("bleaching fit: the trace has no duration")
	}
	bt, by := blockMeans(t, y, fitPoints)
	t0 := t[0]
	for i := range bt {
		bt[i] -= t0
	}
	lo, hi := math.Log(max(dur/200, 1)), math.Log(math.Max(BleachTauMaxS, 2*dur))
	const grid = 24
	cols := make([][]float64, grid)
	taus := make([]float64, grid)
	for g := range cols {
		taus[g] = math.Exp(lo + (hi-lo)*float64(g)/(grid-1))
		cols[g] = make([]float64, len(bt))
		for i, v := range bt {
			cols[g][i] = math.Exp(-v / taus[g])
		}
	}
	best := math.Inf(1)
	var bu [2]float64
	for g1 := 0; g1 < grid; g1++ {
		for g2 := g1 + 1; g2 < grid; g2++ {
			_, sse := solveDexp(by, cols[g1], cols[g2])
			if sse < best {
				best, bu = sse, [2]float64{math.Log(taus[g1]), math.Log(taus[g2])}
			}
		}
	}
	e1 := make([]float64, len(bt))
	e2 := make([]float64, len(bt))
	clampU := func(u float64) float64 { return math.Max(lo, math.Min(hi, u)) }
	eval := func(u []float64) ([3]float64, float64, float64, float64) {
		u1, u2 := clampU(u[0]), clampU(u[1])
		if u1 > u2 {
			u1, u2 = u2, u1
		}
		tau1, tau2 := math.Exp(u1), math.Exp(u2)
		for i, v := range bt {
			e1[i] = math.Exp(-v / tau1)
			e2[i] = math.Exp(-v / tau2)
		}
		coef, sse := solveDexp(by, e1, e2)
		// Outside the box the objective grows with the distance, so the simplex
		// walks back in.
		pen := (u[0] - clampU(u[0])) * (u[0] - clampU(u[0]))
		pen += (u[1] - clampU(u[1])) * (u[1] - clampU(u[1]))
		return coef, sse * (1 + pen), tau1, tau2
	}
	step := (hi - lo) / (grid - 1)
	u, f := nelderMead2(func(u [2]float64) float64 { _, f, _, _ := eval(u[:]); return f }, bu, step, 300)
	if !(f < best) {
		u = bu
	}
	coef, _, tau1, tau2 := eval(u[:])
	return DoubleExp{C: coef[0], A1: coef[1], A2: coef[2], Tau1: tau1, Tau2: tau2, T0: t0}, nil
}

// solveDexp solves min |y - c - a1 e1 - a2 e2|^2 with c, a1, a2 >= 0 and returns
// (c, a1, a2) and the sum of squares. The problem is convex, so its optimum is the
// unconstrained optimum on one face of the constraint set (some variables free, the
// others at 0): the best feasible one of the 8 faces.
func solveDexp(y, e1, e2 []float64) ([3]float64, float64) {
	// Gram matrix G and moments b of the columns (1, e1, e2).
	var g [3][3]float64
	var b [3]float64
	var yy float64
	for i := range y {
		v := [3]float64{1, e1[i], e2[i]}
		for r := 0; r < 3; r++ {
			for c := r; c < 3; c++ {
				g[r][c] += v[r] * v[c]
			}
			b[r] += v[r] * y[i]
		}
		yy += y[i] * y[i]
	}
	for r := 0; r < 3; r++ {
		for c := 0; c < r; c++ {
			g[r][c] = g[c][r]
		}
	}
	best := [3]float64{}
	bestSSE := yy
	for mask := 1; mask < 8; mask++ {
		var idx []int
		for k := 0; k < 3; k++ {
			if mask&(1<<k) != 0 {
				idx = append(idx, k)
			}
		}
		x, ok := solveSmall(g, b, idx)
		if !ok {
			continue
		}
		feasible := true
		var coef [3]float64
		for j, k := range idx {
			if x[j] < 0 || math.IsNaN(x[j]) {
				feasible = false
			}
			coef[k] = x[j]
		}
		if !feasible {
			continue
		}
		// SSE = yy - 2 coef.b + coef' G coef
		sse := yy
		for r := 0; r < 3; r++ {
			sse -= 2 * coef[r] * b[r]
			for c := 0; c < 3; c++ {
				sse += coef[r] * g[r][c] * coef[c]
			}
		}
		if sse < bestSSE {
			best, bestSSE = coef, sse
		}
	}
	return best, math.Max(bestSSE, 0)
}

// solveSmall solves the normal equations restricted to the columns idx by Gaussian
// elimination with partial pivoting; ok is false when they are (nearly) singular.
func solveSmall(g [3][3]float64, b [3]float64, idx []int) ([3]float64, bool) {
	n := len(idx)
	var a [3][4]float64
	for r, i := range idx {
		for c, j := range idx {
			a[r][c] = g[i][j]
		}
		a[r][n] = b[i]
	}
	scale := 0.0
	for r := 0; r < n; r++ {
		scale = math.Max(scale, math.Abs(a[r][r]))
	}
	for col := 0; col < n; col++ {
		p := col
		for r := col + 1; r < n; r++ {
			if math.Abs(a[r][col]) > math.Abs(a[p][col]) {
				p = r
			}
		}
		if math.Abs(a[p][col]) <= 1e-13*scale {
			return [3]float64{}, false
		}
		a[col], a[p] = a[p], a[col]
		for r := col + 1; r < n; r++ {
			f := a[r][col] / a[col][col]
			for c := col; c <= n; c++ {
				a[r][c] -= f * a[col][c]
			}
		}
	}
	var x [3]float64
	for r := n - 1; r >= 0; r-- {
		v := a[r][n]
		for c := r + 1; c < n; c++ {
			v -= a[r][c] * x[c]
		}
		x[r] = v / a[r][r]
	}
	return x, true
}

// blockMeans averages (t, y) over consecutive blocks so that at most maxPoints
// remain.
func blockMeans(t, y []float64, maxPoints int) (bt, by []float64) {
	n := len(t)
	k := (n + maxPoints - 1) / maxPoints
	for i := 0; i < n; i += k {
		j := min(i+k, n)
		var st, sy float64
		for m := i; m < j; m++ {
			st += t[m]
			sy += y[m]
		}
		bt = append(bt, st/float64(j-i))
		by = append(by, sy/float64(j-i))
	}
	return bt, by
}

// nelderMead2 minimises f over the plane from x0 with an initial simplex of size
// step, for at most maxEval evaluations (standard coefficients: reflection 1,
// expansion 2, contraction 1/2, shrink 1/2). It returns the best point and value.
func nelderMead2(f func([2]float64) float64, x0 [2]float64, step float64, maxEval int) ([2]float64, float64) {
	type vertex struct {
		x [2]float64
		f float64
	}
	s := [3]vertex{{x: x0}, {x: [2]float64{x0[0] + step, x0[1]}}, {x: [2]float64{x0[0], x0[1] + step}}}
	evals := 0
	eval := func(x [2]float64) float64 { evals++; return f(x) }
	for i := range s {
		s[i].f = eval(s[i].x)
	}
	at := func(c [2]float64, w float64, x [2]float64) [2]float64 {
		return [2]float64{c[0] + w*(x[0]-c[0]), c[1] + w*(x[1]-c[1])}
	}
	for evals < maxEval {
		// Order best..worst (insertion sort keeps ties stable, so the run is
		// deterministic).
		for i := 1; i < 3; i++ {
			for j := i; j > 0 && s[j].f < s[j-1].f; j-- {
				s[j], s[j-1] = s[j-1], s[j]
			}
		}
		if math.Abs(s[2].f-s[0].f) <= 1e-12*(math.Abs(s[0].f)+1e-300) &&
			math.Abs(s[2].x[0]-s[0].x[0])+math.Abs(s[2].x[1]-s[0].x[1]) < 1e-9 {
			break
		}
		c := [2]float64{(s[0].x[0] + s[1].x[0]) / 2, (s[0].x[1] + s[1].x[1]) / 2}
		xr := at(c, -1, s[2].x)
		fr := eval(xr)
		switch {
		case fr < s[0].f:
			xe := at(c, -2, s[2].x)
			if fe := eval(xe); fe < fr {
				s[2] = vertex{xe, fe}
			} else {
				s[2] = vertex{xr, fr}
			}
		case fr < s[1].f:
			s[2] = vertex{xr, fr}
		default:
			var xc [2]float64
			if fr < s[2].f {
				xc = at(c, -0.5, s[2].x) // outside contraction
			} else {
				xc = at(c, 0.5, s[2].x) // inside contraction
			}
			if fc := eval(xc); fc < math.Min(fr, s[2].f) {
				s[2] = vertex{xc, fc}
			} else {
				for i := 1; i < 3; i++ {
					s[i].x = at(s[0].x, 0.5, s[i].x)
					s[i].f = eval(s[i].x)
				}
			}
		}
	}
	best := s[0]
	for _, v := range s[1:] {
		if v.f < best.f {
			best = v
		}
	}
	return best.x, best.f
}
