package photometry

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// Fit methods.
const (
	MethodIRLS = "irls" // iteratively reweighted least squares, Tukey bisquare
	MethodOLS  = "ols"  // ordinary least squares
	MethodNone = "none" // no control channel: nothing fitted
)

// TukeyC is the bisquare tuning constant giving 95 % efficiency at the normal
// distribution (Holland & Welsch 1977).
const TukeyC = 4.685

// madToSigma converts a median absolute deviation to a normal standard deviation:
// 1 / Phi^-1(3/4) = 1 / 0.6745.
const madToSigma = 1 / 0.6745

// ControlFit is the regression of the signal on the control channel,
//
//	signal ~ Intercept + Slope * control.
type ControlFit struct {
	Method           string
	Slope, Intercept float64
	// R is the Pearson correlation of the two channels over all samples.
	R float64
	// N is the number of samples that carry weight in the fit: all of them for OLS,
	// those with a non-zero bisquare weight for IRLS.
	N int
	// Iterations of IRLS (0 for OLS); Converged is false when IRLS stopped at its
	// iteration limit.
	Iterations int
	Converged  bool
	// Scale is the robust residual scale MAD / 0.6745 at the solution (IRLS), or
	// the residual standard deviation (OLS).
	Scale float64
	// OutlierFraction is the fraction of samples with zero bisquare weight (IRLS).
	OutlierFraction float64
}

// FitControl regresses y (the signal) on x (the control) by method (MethodIRLS or
// MethodOLS; "" means IRLS). x and y must have equal length (it panics otherwise).
//
// IRLS minimises sum_i rho(r_i / (c s)) with Tukey's bisquare
//
//	rho'(u)/u = w(u) = (1 - u^2)^2 for |u| < 1, 0 otherwise,  c = 4.685,
//
// by weighted least squares with weights w(r_i / (c s)), where the scale s =
// MAD(r) / 0.6745 is re-estimated from the residuals at every iteration. The
// bisquare has local minima and M-estimators are not robust to high-leverage
// points (gross outliers in x), so the iterations start not from OLS (which such
// points pull towards themselves) but from a Theil-Sen-type estimate: the median of
// the slopes between samples i and i + n/2, which a few outliers cannot move. It
// stops when slope and intercept change by less than 1e-10 relative, or after 100
// iterations.
func FitControl(x, y []float64, method string) (ControlFit, error) {
	if len(x) != len(y) {
		panic("photometry: FitControl: x and y differ in length")
	}
	n := len(x)
	if n < 3 {
		return ControlFit{}, fmt.Errorf("control fit needs at least 3 samples, have %d", n)
	}
	for i := range x {
		if math.IsNaN(x[i]) || math.IsInf(x[i], 0) || math.IsNaN(y[i]) || math.IsInf(y[i], 0) {
			return ControlFit{}, fmt.Errorf("control fit: sample %d is not finite (control %v, signal %v)", i, x[i], y[i])
		}
	}
	r := pearson(x, y)
	switch method {
	case MethodOLS:
		a, b, ok := weightedLine(x, y, nil)
		if !ok {
			return ControlFit{}, errors.New("control fit: the control channel is constant")
		}
		var ss float64
		for i := range x {
			e := y[i] - a - b*x[i]
			ss += e * e
		}
		return ControlFit{Method: MethodOLS, Slope: b, Intercept: a, R: r, N: n, Converged: true,
			Scale: math.Sqrt(ss / float64(max(n-2, 1)))}, nil
	case MethodIRLS, "":
	default:
		return ControlFit{}, fmt.Errorf("unknown control fit method %q (want irls or ols)", method)
	}
	a, b, ok := theilSenStart(x, y)
	if !ok {
		return ControlFit{}, errors.New("control fit: the control channel is constant")
	}
	w := make([]float64, n)
	res := make([]float64, n)
	scratch := make([]float64, n)
	fit := ControlFit{Method: MethodIRLS, R: r}
	var s float64
	for it := 1; it <= 100; it++ {
		for i := range x {
			res[i] = y[i] - a - b*x[i]
		}
		s = madScale(res, scratch)
		if s == 0 {
			// More than half the points lie exactly on the line: it is the fit.
			fit.Converged = true
			fit.Iterations = it - 1
			break
		}
		for i, e := range res {
			u := e / (TukeyC * s)
			if u > -1 && u < 1 {
				v := 1 - u*u
				w[i] = v * v
			} else {
				w[i] = 0
			}
		}
		na, nb, ok := weightedLine(x, y, w)
		if !ok {
			return ControlFit{}, errors.New("control fit: IRLS weights left no spread in the control channel")
		}
		da, db := na-a, nb-b
		a, b = na, nb
		fit.Iterations = it
		if math.Abs(da)+math.Abs(db) <= 1e-10*(1+math.Abs(a)+math.Abs(b)) {
			fit.Converged = true
			break
		}
	}
	for i := range x {
		res[i] = y[i] - a - b*x[i]
	}
	s = madScale(res, scratch)
	used := 0
	for _, e := range res {
		if s == 0 || math.Abs(e) < TukeyC*s {
			used++
		}
	}
	fit.Slope, fit.Intercept, fit.Scale = b, a, s
	fit.N = used
	fit.OutlierFraction = float64(n-used) / float64(n)
	return fit, nil
}

// weightedLine solves weighted least squares for y = a + b x (w nil = all ones),
// centring first for accuracy. ok is false when x has no weighted spread.
func weightedLine(x, y, w []float64) (a, b float64, ok bool) {
	var sw, sx, sy float64
	for i := range x {
		wi := 1.0
		if w != nil {
			wi = w[i]
		}
		sw += wi
		sx += wi * x[i]
		sy += wi * y[i]
	}
	if sw == 0 {
		return 0, 0, false
	}
	mx, my := sx/sw, sy/sw
	var sxx, sxy float64
	for i := range x {
		wi := 1.0
		if w != nil {
			wi = w[i]
		}
		dx := x[i] - mx
		sxx += wi * dx * dx
		sxy += wi * dx * (y[i] - my)
	}
	if !(sxx > 0) {
		return 0, 0, false
	}
	b = sxy / sxx
	return my - b*mx, b, true
}

// theilSenStart is a robust starting line: slope = median over i < n/2 of the
// slopes between samples i and i + n/2 (pairs with equal x skipped), intercept =
// median of y - slope x. Each sample enters one pair, so k outliers spoil at most
// k of the n/2 slopes.
func theilSenStart(x, y []float64) (a, b float64, ok bool) {
	h := len(x) / 2
	slopes := make([]float64, 0, h)
	for i := 0; i < h; i++ {
		dx := x[i+h] - x[i]
		if dx != 0 {
			slopes = append(slopes, (y[i+h]-y[i])/dx)
		}
	}
	if len(slopes) == 0 {
		return 0, 0, false
	}
	b = Median(slopes)
	res := make([]float64, len(x))
	for i := range x {
		res[i] = y[i] - b*x[i]
	}
	return Median(res), b, true
}

// madScale is MAD(r) / 0.6745 = median(|r - median(r)|) / 0.6745, a normal-consistent
// scale that half the data may contaminate without breaking it. scratch must have
// len(r).
func madScale(r, scratch []float64) float64 {
	copy(scratch, r)
	m := Median(scratch)
	for i, v := range r {
		scratch[i] = math.Abs(v - m)
	}
	return Median(scratch) * madToSigma
}

// Median returns the median of x (the mean of the two middle values for even
// length), reordering x in place; NaN for an empty slice. Quickselect with a
// median-of-three pivot, so O(n) on average.
func Median(x []float64) float64 {
	n := len(x)
	if n == 0 {
		return math.NaN()
	}
	hi := selectK(x, n/2)
	if n%2 == 1 {
		return hi
	}
	// The lower middle is the largest value left of position n/2.
	lo := x[0]
	for _, v := range x[1 : n/2] {
		lo = math.Max(lo, v)
	}
	return (lo + hi) / 2
}

// selectK reorders x so that x[k] is the k-th smallest value, every value before it
// is <= and every value after it >=, and returns x[k].
func selectK(x []float64, k int) float64 {
	lo, hi := 0, len(x)-1
	for hi > lo {
		if hi-lo < 16 {
			sort.Float64s(x[lo : hi+1])
			return x[k]
		}
		mid := lo + (hi-lo)/2
		// Median of three as pivot, moved to x[hi].
		if x[mid] < x[lo] {
			x[mid], x[lo] = x[lo], x[mid]
		}
		if x[hi] < x[lo] {
			x[hi], x[lo] = x[lo], x[hi]
		}
		if x[mid] < x[hi] {
			x[mid], x[hi] = x[hi], x[mid]
		}
		p := x[hi]
		// Three-way partition (Dijkstra), so runs of equal values terminate.
		lt, i, gt := lo, lo, hi
		for i <= gt {
			switch {
			case x[i] < p:
				x[lt], x[i] = x[i], x[lt]
				lt++
				i++
			case x[i] > p:
				x[i], x[gt] = x[gt], x[i]
				gt--
			default:
				i++
			}
		}
		switch {
		case k < lt:
			hi = lt - 1
		case k > gt:
			lo = gt + 1
		default:
			return x[k]
		}
	}
	return x[k]
}

func pearson(x, y []float64) float64 {
	n := float64(len(x))
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= n
	my /= n
	var sxx, syy, sxy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxx += dx * dx
		syy += dy * dy
		sxy += dx * dy
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return sxy / math.Sqrt(sxx*syy)
}
