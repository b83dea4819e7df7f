package mft

import (
	"math"
	"sort"
	"sync"

	"gonum.org/v1/gonum/integrate/quad"
)

// Averages are the Gaussian averages of phi = tanh and of its first three derivatives
// at one (mu, Delta):
//
//	Phi_k(mu, Delta) = E_z[ phi^(k)(mu + sqrt(Delta) z) ],  z ~ N(0, 1).
//
// They are related by the heat equation, d Phi_k / d mu = Phi_{k+1} and
// d Phi_k / d Delta = Phi_{k+2} / 2, which is how the Jacobian of the latent dynamics
// uses Phi_2 and Phi_3.
type Averages struct {
	Phi float64 // <phi>
	D1  float64 // <phi'>
	D2  float64 // <phi''>
	D3  float64 // <phi'''>
}

// Gauss returns the four Gaussian averages of tanh at (mu, delta), with an absolute
// error below 1e-12 for <phi> and <phi'> and below 1e-10 for <phi”> and <phi”'>
// when |mu| <= 3 (checked against adaptive Gauss-Kronrod quadrature in gauss_test.go;
// the error stays small for larger |mu|, where the averages saturate).
//
// Two quadratures share the work, chosen by delta:
//
//   - Small delta: Gauss-Hermite in z. The integrand tanh(mu + sqrt(Delta) z) is
//     analytic in the strip |Im z| < pi / (2 sqrt(Delta)), so a fixed rule converges
//     fast while that strip is wide; 16 to 40 nodes cover delta <= 0.22.
//
//   - Larger delta: in z the derivatives of phi are a peak of width 1/sqrt(Delta) at
//     z* = -mu / sqrt(Delta), which no fixed z-rule resolves. Substituting
//     y = mu + sqrt(Delta) z moves the peak to y = 0 with unit width and leaves a
//     broad Gaussian density N(y; mu, Delta). Integrating by parts puts every average
//     on the same kernel phi'(y) = sech^2(y):
//
//     Phi_0 = int sech^2(y) erf((mu - y) / sqrt(2 Delta)) / 2 dy
//     Phi_1 = int sech^2(y) N(y) dy
//     Phi_2 = int sech^2(y) N(y) (y - mu) / Delta dy
//     Phi_3 = int sech^2(y) N(y) ((y - mu)^2 - Delta) / Delta^2 dy
//
//     and y = sinh(s) with the trapezoidal rule in s (step 0.1 to 0.3, coarser as delta
//     grows, 29 to 81 nodes) integrates these to near machine precision: sech^2 decays
//     double-exponentially in s and the integrands are analytic in a strip around the
//     real s axis. The kernel weights sech^2(y) dy/ds are tabulated once, so one
//     average costs one exp and one erf per node.
//
// delta <= 0 gives phi^(k)(mu).
func Gauss(mu, delta float64) Averages { return gauss(mu, delta, true) }

// gauss is Gauss with Phi_0 optional: in the sinh rule Phi_0 costs an erf per node,
// more than the three others together, and the Jacobian does not need it.
func gauss(mu, delta float64, withPhi bool) Averages {
	if !(delta > 0) {
		t := math.Tanh(mu)
		d := 1 - t*t
		return Averages{t, d, -2 * t * d, -2 * d * (1 - 3*t*t)}
	}
	initRules()
	for i := range tiers {
		tr := &tiers[i]
		if delta > tr.maxDelta {
			continue
		}
		if tr.hermite {
			return hermiteAverages(&tr.rule, mu, delta)
		}
		return sinhAverages(&tr.rule, mu, delta, withPhi)
	}
	panic("unreachable: the last tier has no upper bound")
}

// Phi is <phi>(mu, delta) = E_z[tanh(mu + sqrt(delta) z)].
func Phi(mu, delta float64) float64 { return Gauss(mu, delta).Phi }

// DPhi is <phi'>(mu, delta) = E_z[1 - tanh^2(mu + sqrt(delta) z)].
func DPhi(mu, delta float64) float64 { return Gauss(mu, delta).D1 }

// quadRule holds nodes and weights: for Gauss-Hermite, z nodes and probability
// weights (summing to 1); for the sinh rule, y nodes and weights h cosh(s) sech^2(y).
type quadRule struct {
	x, w []float64
	cum  []float64 // cum[i] = w[0] + ... + w[i-1] (sinh rule only)
}

// tier is the rule used for delta up to maxDelta. The boundaries and node counts come
// from the error tables of TestGaussAccuracy (each tier is accurate to about 1e-12
// for Phi_0 and Phi_1 over its whole range).
type tier struct {
	maxDelta float64
	hermite  bool
	nodes    int     // Gauss-Hermite nodes
	step     float64 // sinh rule step in s
	rule     quadRule
}

var (
	rulesOnce sync.Once
	tiers     = []tier{
		{maxDelta: 0.05, hermite: true, nodes: 16},
		{maxDelta: 0.1, hermite: true, nodes: 24},
		{maxDelta: 0.22, hermite: true, nodes: 40},
		{maxDelta: 0.5, step: 0.08},
		{maxDelta: 1.5, step: 0.1},
		{maxDelta: 4, step: 0.15},
		{maxDelta: 12, step: 0.2},
		{maxDelta: 40, step: 0.25},
		{maxDelta: math.Inf(1), step: 0.3},
	}
)

// sinhYMax bounds the sinh rule: sech^2(21) < 3e-18, so nodes beyond |y| = 21 add
// nothing at double precision.
const sinhYMax = 21

func initRules() {
	rulesOnce.Do(func() {
		for i := range tiers {
			tr := &tiers[i]
			if tr.hermite {
				x := make([]float64, tr.nodes)
				w := make([]float64, tr.nodes)
				quad.Hermite{}.FixedLocations(x, w, math.Inf(-1), math.Inf(1))
				for j := range x { // weight e^{-x^2} -> standard normal
					x[j] *= math.Sqrt2
					w[j] /= math.SqrtPi
				}
				tr.rule = quadRule{x: x, w: w}
				continue
			}
			sMax := math.Asinh(sinhYMax)
			n := int(sMax / tr.step)
			for j := -n; j <= n; j++ {
				s := float64(j) * tr.step
				y := math.Sinh(s)
				c := 1 / math.Cosh(y)
				tr.rule.x = append(tr.rule.x, y)
				tr.rule.w = append(tr.rule.w, tr.step*math.Cosh(s)*c*c)
			}
			tr.rule.cum = make([]float64, len(tr.rule.w)+1)
			for j, w := range tr.rule.w {
				tr.rule.cum[j+1] = tr.rule.cum[j] + w
			}
		}
	})
}

func hermiteAverages(r *quadRule, mu, delta float64) Averages {
	sd := math.Sqrt(delta)
	var a Averages
	for i, z := range r.x {
		t := math.Tanh(mu + sd*z)
		d := 1 - t*t
		w := r.w[i]
		a.Phi += w * t
		a.D1 += w * d
		a.D2 += w * t * d
		a.D3 += w * d * (1 - 3*t*t)
	}
	a.D2 *= -2
	a.D3 *= -2
	return a
}

// sinhWindow is the half-width, in units of sqrt(delta), beyond which a node adds
// nothing but its weight: erf((mu - y) / sqrt(2 delta)) is +-1 to double precision
// (erfc(6) = 2e-17) and exp(-(y - mu)^2 / (2 delta)) < 3e-16 once |y - mu| >= 6 sqrt(2)
// sqrt(delta) = 8.49 sqrt(delta).
const sinhWindow = 8.5

func sinhAverages(r *quadRule, mu, delta float64, withPhi bool) Averages {
	inv2d := 1 / (2 * delta)
	invS2d := 1 / math.Sqrt(2*delta)
	half := sinhWindow * math.Sqrt(delta)
	// Nodes are sorted; only those within the window need exp and erf.
	lo := sort.SearchFloat64s(r.x, mu-half)
	hi := sort.SearchFloat64s(r.x, mu+half)
	var a Averages
	var g1, g2, g3 float64
	for i := lo; i < hi; i++ {
		w := r.w[i]
		u := r.x[i] - mu
		g := w * math.Exp(-u*u*inv2d)
		g1 += g
		g2 += g * u
		g3 += g * u * u
	}
	if withPhi {
		// Below the window erf = +1, above it -1.
		phi := r.cum[lo] - (r.cum[len(r.x)] - r.cum[hi])
		for i := lo; i < hi; i++ {
			phi -= r.w[i] * math.Erf((r.x[i]-mu)*invS2d)
		}
		a.Phi = 0.5 * phi
	}
	norm := 1 / math.Sqrt(2*math.Pi*delta)
	a.D1 = norm * g1
	a.D2 = norm * g2 / delta
	a.D3 = norm * (g3 - delta*g1) / (delta * delta)
	return a
}
