package meanfield

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"

	"nmdyn/stages/mft"
)

// Analysis is what the stage keeps of a fixed-point analysis at one NE level.
type Analysis struct {
	Regime       string
	FixedPoints  []FixedPoint
	NStable      int
	Tau1S, Tau2S float64 // slowest and second slowest time constants (s)
	Score        float64 // log2(tau1 / tau2)
}

// FixedPoint is one fixed point in latent coordinates.
type FixedPoint struct {
	Kappa  []float64
	Stable bool
	Speed  float64 // |velocity| at the point
	MaxRe  float64 // largest real part of the Jacobian's eigenvalues (units 1/tau)
}

// analyze runs the fixed-point analysis on the mean-field system.
//
// TEMPORARY: a stand-in until package dynamics (AnalyzeLatent) lands; it will then
// call dynamics.AnalyzeLatent so that the mean-field and network regimes are labelled
// by one rule.
var analyze = func(sys latentSystem, tauSeconds float64) (Analysis, error) {
	return localAnalyze(sys, tauSeconds), nil
}

// latentSystem is the latent dynamics an analysis needs (mft.System, mft.Network).
type latentSystem interface {
	Dim() int
	Velocity(kappa, dst []float64)
	Jacobian(kappa, dst []float64)
}

var _ latentSystem = (*mft.System)(nil)

// localAnalyze finds fixed points by damped Newton from a grid of starts.
func localAnalyze(sys latentSystem, tauSeconds float64) Analysis {
	d := sys.Dim()
	var starts [][]float64
	const per = 9
	idx := make([]int, d)
	for {
		x := make([]float64, d)
		for a := range x {
			x[a] = -3 + 6*float64(idx[a])/float64(per-1)
		}
		starts = append(starts, x)
		a := 0
		for a < d {
			idx[a]++
			if idx[a] < per {
				break
			}
			idx[a] = 0
			a++
		}
		if a == d {
			break
		}
		if len(starts) > 2000 {
			break
		}
	}
	var fps []FixedPoint
	v := make([]float64, d)
	jac := make([]float64, d*d)
	for _, x := range starts {
		ok := false
		for it := 0; it < 60; it++ {
			sys.Velocity(x, v)
			if norm(v) < 1e-11 {
				ok = true
				break
			}
			sys.Jacobian(x, jac)
			var J mat.Dense
			J.CloneFrom(mat.NewDense(d, d, append([]float64(nil), jac...)))
			var step mat.VecDense
			if err := step.SolveVec(&J, mat.NewVecDense(d, append([]float64(nil), v...))); err != nil {
				break
			}
			f0 := norm(v)
			t := 1.0
			for k := 0; k < 30; k++ {
				y := make([]float64, d)
				for a := range y {
					y[a] = x[a] - t*step.AtVec(a)
				}
				sys.Velocity(y, v)
				if norm(v) < f0 || k == 29 {
					x = y
					break
				}
				t /= 2
			}
		}
		if !ok {
			continue
		}
		dup := false
		for _, f := range fps {
			s := 0.0
			for a := range x {
				s += (x[a] - f.Kappa[a]) * (x[a] - f.Kappa[a])
			}
			if math.Sqrt(s) < 1e-6 {
				dup = true
			}
		}
		if dup {
			continue
		}
		sys.Jacobian(x, jac)
		var eig mat.Eigen
		eig.Factorize(mat.NewDense(d, d, append([]float64(nil), jac...)), mat.EigenNone)
		maxRe := math.Inf(-1)
		for _, e := range eig.Values(nil) {
			maxRe = math.Max(maxRe, real(e))
		}
		sys.Velocity(x, v)
		fps = append(fps, FixedPoint{Kappa: x, Stable: maxRe < 0, Speed: norm(v), MaxRe: maxRe})
	}
	sort.SliceStable(fps, func(i, j int) bool { return fps[i].Kappa[0] < fps[j].Kappa[0] })
	an := Analysis{FixedPoints: fps, Tau1S: math.NaN(), Tau2S: math.NaN(), Score: math.NaN()}
	for _, f := range fps {
		if f.Stable {
			an.NStable++
		}
	}
	if fp := nearestStable(fps); fp != nil {
		sys.Jacobian(fp, jac)
		var eig mat.Eigen
		eig.Factorize(mat.NewDense(d, d, jac), mat.EigenNone)
		var taus []float64
		for _, e := range eig.Values(nil) {
			taus = append(taus, tauSeconds/math.Abs(real(e)))
		}
		sort.Sort(sort.Reverse(sort.Float64Slice(taus)))
		an.Tau1S = taus[0]
		if len(taus) > 1 {
			an.Tau2S = taus[1]
			an.Score = math.Log2(taus[0] / taus[1])
		}
	}
	switch {
	case an.NStable == 1 && an.Score > 2:
		an.Regime = "line attractor"
	case an.NStable == 1:
		an.Regime = "single fixed point"
	case an.NStable > 1:
		an.Regime = "multistable"
	default:
		an.Regime = "other"
	}
	return an
}
