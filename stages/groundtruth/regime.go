package groundtruth

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"

	"nmdyn/stages/latent"
	"nmdyn/stages/rnn"
)

// Regime labels, those of package dynamics (TestRegimeLabels checks that they
// are the same; this package does not import dynamics, see SetRegimes).
const (
	RegimeSingle      = "single fixed point"
	RegimeLine        = "line attractor"
	RegimeMultistable = "multistable"
	RegimeOther       = "other"
)

// Level is the truth's dynamics at one NE level, inputs off.
type Level struct {
	Nu     float64 `json:"ne"`
	Regime string  `json:"regime"`
	// FixedPoints and Stable count the fixed points found and the stable ones.
	FixedPoints int `json:"fixed_points"`
	Stable      int `json:"stable"`
	// Tau1S and Tau2S are the slowest and second slowest time constants at the
	// stable fixed point (s); the N - d directions off the latent space relax
	// with tau, so Tau2S <= tau.
	Tau1S float64 `json:"slowest_tau_s"`
	Tau2S float64 `json:"second_tau_s"`
	// Score is the line-attractor score log2(Tau1S / Tau2S).
	Score float64 `json:"line_attractor_score"`
	// Coupling is the effective slow coupling 1 + max Re(eigenvalue) of the latent
	// Jacobian (in 1/tau): 1 would be a perfect line attractor.
	Coupling float64 `json:"coupling"`
}

// latentSystem is the exact latent dynamics of a network at one NE level.
type latentSystem interface {
	Dim() int
	Velocity(kappa, dst []float64)
	Jacobian(kappa, dst []float64)
}

// newton runs damped Newton on the latent velocity from start; ok when the speed
// falls under 1e-12.
func newton(sys latentSystem, start []float64) ([]float64, bool) {
	d := sys.Dim()
	x := append([]float64(nil), start...)
	v := make([]float64, d)
	y := make([]float64, d)
	jac := make([]float64, d*d)
	sys.Velocity(x, v)
	f := norm(v)
	for it := 0; it < 100; it++ {
		if f < 1e-12 {
			return x, true
		}
		sys.Jacobian(x, jac)
		var step mat.VecDense
		if err := step.SolveVec(mat.NewDense(d, d, jac), mat.NewVecDense(d, append([]float64(nil), v...))); err != nil {
			return x, false
		}
		t := 1.0
		accepted := false
		for k := 0; k < 40; k++ {
			for a := range y {
				y[a] = x[a] - t*step.AtVec(a)
			}
			sys.Velocity(y, v)
			if g := norm(v); g < f {
				copy(x, y)
				f = g
				accepted = true
				break
			}
			t /= 2
		}
		if !accepted {
			return x, f < 1e-12
		}
	}
	return x, f < 1e-12
}

// eigenRe returns the real parts of the eigenvalues of the latent Jacobian at
// kappa, largest first.
func eigenRe(sys latentSystem, kappa []float64) []float64 {
	d := sys.Dim()
	jac := make([]float64, d*d)
	sys.Jacobian(kappa, jac)
	var eig mat.Eigen
	if !eig.Factorize(mat.NewDense(d, d, jac), mat.EigenNone) {
		return nil
	}
	vals := eig.Values(nil)
	re := make([]float64, len(vals))
	for i, c := range vals {
		re[i] = real(c)
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(re)))
	return re
}

// couplingFromOrigin is 1 + the largest real part of the latent Jacobian's
// eigenvalues at the fixed point Newton reaches from kappa = 0 (the calibration
// measure; the origin is itself the fixed point unless the mechanism is
// additive).
func couplingFromOrigin(m *rnn.Model, nu float64) (float64, bool) {
	sys := latent.New(m, nu)
	kappa, ok := newton(sys, make([]float64, sys.Dim()))
	if !ok {
		return 0, false
	}
	re := eigenRe(sys, kappa)
	if re == nil {
		return 0, false
	}
	return 1 + re[0], true
}

func norm(v []float64) float64 { return math.Sqrt(dot(v, v)) }

func dist(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += (a[i] - b[i]) * (a[i] - b[i])
	}
	return math.Sqrt(s)
}
