package dynamics

import "math"

// lbfgsMemory is the number of curvature pairs L-BFGS keeps.
const lbfgsMemory = 10

// lbfgs minimises f from x0 by limited-memory BFGS (Nocedal & Wright, Numerical
// Optimization, 2nd ed., algorithm 7.4: the two-loop recursion with the initial
// Hessian scaled by s^T y / y^T y) with a backtracking Armijo line search; pairs
// that violate the curvature condition s^T y > 0 are skipped. fg returns f(x) and
// fills grad. It stops after maxIter iterations, when the gradient vanishes, or when
// f has fallen by less than a relative 1e-6 over 25 iterations, or when f < fStop,
// and returns the best point and its value. (Written here rather than taken from gonum/optimize, whose
// package pulls in a module that go.sum does not hold.)
func lbfgs(x0 []float64, fg func(x, grad []float64) float64, maxIter int, fStop float64) ([]float64, float64) {
	n := len(x0)
	x := append([]float64(nil), x0...)
	g := make([]float64, n)
	f := fg(x, g)
	var sHist, yHist [][]float64
	var rho []float64
	dir := make([]float64, n)
	xn := make([]float64, n)
	gn := make([]float64, n)
	alpha := make([]float64, lbfgsMemory)
	fPrev := f // f 25 iterations ago
	for it := 0; it < maxIter; it++ {
		if f < fStop || f == 0 || norm(g) == 0 || math.IsNaN(f) {
			break
		}
		// Two-loop recursion: dir = -H g.
		copy(dir, g)
		for k := len(sHist) - 1; k >= 0; k-- {
			alpha[k] = rho[k] * dot(sHist[k], dir)
			for i := range dir {
				dir[i] -= alpha[k] * yHist[k][i]
			}
		}
		gamma := 1.0
		if m := len(sHist); m > 0 {
			gamma = dot(sHist[m-1], yHist[m-1]) / dot(yHist[m-1], yHist[m-1])
		} else {
			gamma = 1 / math.Max(norm(g), 1e-300) // first step of unit length
		}
		scaleVec(dir, gamma)
		for k := range sHist {
			b := rho[k] * dot(yHist[k], dir)
			for i := range dir {
				dir[i] += sHist[k][i] * (alpha[k] - b)
			}
		}
		scaleVec(dir, -1)
		slope := dot(g, dir)
		if !(slope < 0) {
			// Not a descent direction: restart from steepest descent.
			sHist, yHist, rho = nil, nil, nil
			copy(dir, g)
			scaleVec(dir, -1/math.Max(norm(g), 1e-300))
			slope = dot(g, dir)
		}
		t, accepted := 1.0, false
		var fn float64
		for k := 0; k < 40; k++ {
			for i := range xn {
				xn[i] = x[i] + t*dir[i]
			}
			fn = fg(xn, gn)
			if fn <= f+1e-4*t*slope {
				accepted = true
				break
			}
			t /= 2
		}
		if !accepted {
			break
		}
		s := make([]float64, n)
		y := make([]float64, n)
		for i := range s {
			s[i] = xn[i] - x[i]
			y[i] = gn[i] - g[i]
		}
		if sy := dot(s, y); sy > 1e-300 {
			if len(sHist) == lbfgsMemory {
				sHist, yHist, rho = sHist[1:], yHist[1:], rho[1:]
			}
			sHist = append(sHist, s)
			yHist = append(yHist, y)
			rho = append(rho, 1/sy)
		}
		copy(x, xn)
		copy(g, gn)
		f = fn
		if (it+1)%25 == 0 {
			if fPrev-f <= 1e-6*math.Abs(fPrev) {
				break
			}
			fPrev = f
		}
	}
	return x, f
}
