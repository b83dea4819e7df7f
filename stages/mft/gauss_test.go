package mft

import (
	"math"
	"testing"
)

// TestGaussReference checks the values quoted in issue 7 (computed there with
// scipy.integrate.quad; our independent adaptive Gauss-Kronrod gives the same to
// the six digits quoted).
func TestGaussReference(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"<phi'>(0, 1)", DPhi(0, 1), 0.605706},
		{"<phi'>(0, 4)", DPhi(0, 4), 0.364739},
		{"<phi>(1, 1)", Phi(1, 1), 0.550400},
	} {
		if math.Abs(c.got-c.want) > 5e-7 {
			t.Errorf("%s = %.7f, want %.6f", c.name, c.got, c.want)
		}
	}
}

// TestGaussAccuracy compares Gauss with adaptive Gauss-Kronrod quadrature in z
// (refAverage, tolerance 1e-15, a method independent of the two rules under test) on
// a grid of mu in [-3, 3] and delta from 1e-6 to 400, including both sides of every
// tier boundary. The issue asks for 1e-9; the rules do better, and the tighter bounds
// here guard the tier table against a regression.
func TestGaussAccuracy(t *testing.T) {
	deltas := []float64{1e-6, 1e-3, 0.02, 0.3, 0.7, 1, 2, 4, 7, 20, 60, 150, 400}
	initRules()
	for _, tr := range tiers {
		if !math.IsInf(tr.maxDelta, 0) {
			deltas = append(deltas, tr.maxDelta*0.999, tr.maxDelta*1.001)
		}
	}
	tol := [4]float64{1e-12, 1e-12, 1e-11, 1e-10}
	mus := -3.0
	var worst [4]float64
	for _, d := range deltas {
		for i := 0; i <= 48; i++ {
			mu := mus + 0.125*float64(i)
			a := Gauss(mu, d)
			got := [4]float64{a.Phi, a.D1, a.D2, a.D3}
			for k, f := range []func(float64) float64{phi0, phi1, phi2, phi3} {
				e := math.Abs(got[k] - refAverage(f, mu, d))
				worst[k] = math.Max(worst[k], e)
				if e > tol[k] {
					t.Errorf("Phi_%d(%v, %v): error %.2g > %.0g", k, mu, d, e, tol[k])
				}
			}
		}
	}
	t.Logf("worst absolute errors Phi_0..Phi_3: %.2g", worst)
}

// TestGaussLargeMu checks that accuracy degrades gracefully outside the specified
// range (the solver may visit |mu| up to 12): 1e-9 on Phi_0 and Phi_1.
func TestGaussLargeMu(t *testing.T) {
	if testing.Short() {
		t.Skip("slow reference quadrature")
	}
	for _, d := range []float64{0.01, 0.15, 0.23, 0.45, 0.51, 1.6, 5, 50, 400} {
		for _, mu := range []float64{-12, -8, -5, 4, 6, 9, 12} {
			a := Gauss(mu, d)
			if e := math.Abs(a.Phi - refAverage(phi0, mu, d)); e > 1e-9 {
				t.Errorf("<phi>(%v, %v) error %.2g", mu, d, e)
			}
			if e := math.Abs(a.D1 - refAverage(phi1, mu, d)); e > 1e-9 {
				t.Errorf("<phi'>(%v, %v) error %.2g", mu, d, e)
			}
		}
	}
}

// TestGaussLimits: delta = 0 is phi itself, and for delta -> infinity
// <phi'> ~ 2 / sqrt(2 pi delta) (the integral of sech^2 is 2) and <phi>(mu) ~
// erf(mu / sqrt(2 delta)).
func TestGaussLimits(t *testing.T) {
	a := Gauss(0.7, 0)
	if a.Phi != math.Tanh(0.7) || a.D1 != 1-math.Tanh(0.7)*math.Tanh(0.7) {
		t.Errorf("delta = 0: got %v", a)
	}
	d := 1e8
	if got, want := DPhi(0, d), 2/math.Sqrt(2*math.Pi*d); math.Abs(got/want-1) > 1e-6 {
		t.Errorf("<phi'>(0, 1e8) = %g, want %g", got, want)
	}
	if got, want := Phi(3000, d), math.Erf(3000/math.Sqrt(2*d)); math.Abs(got-want) > 1e-6 {
		t.Errorf("<phi>(3000, 1e8) = %g, want %g", got, want)
	}
}

// TestGaussHeatEquation checks the identities the Jacobian relies on:
// d Phi_k / d mu = Phi_{k+1} and d Phi_k / d delta = Phi_{k+2} / 2, by central
// differences (step 1e-4, truncation error ~1e-9).
func TestGaussHeatEquation(t *testing.T) {
	const h = 1e-4
	for _, p := range [][2]float64{{0.3, 0.04}, {-1.2, 0.3}, {0.5, 1}, {2, 3}, {-0.4, 30}, {1.5, 300}} {
		mu, d := p[0], p[1]
		a := Gauss(mu, d)
		up, dn := Gauss(mu+h, d), Gauss(mu-h, d)
		for _, c := range []struct {
			name      string
			got, want float64
		}{
			{"dPhi0/dmu", (up.Phi - dn.Phi) / (2 * h), a.D1},
			{"dPhi1/dmu", (up.D1 - dn.D1) / (2 * h), a.D2},
			{"dPhi2/dmu", (up.D2 - dn.D2) / (2 * h), a.D3},
			{"dPhi1/ddelta", (Gauss(mu, d+h).D1 - Gauss(mu, d-h).D1) / (2 * h), a.D3 / 2},
		} {
			if math.Abs(c.got-c.want) > 1e-7 {
				t.Errorf("(%v, %v) %s: %.10f, want %.10f", mu, d, c.name, c.got, c.want)
			}
		}
	}
}

func BenchmarkGauss(b *testing.B) {
	for _, d := range []float64{0.03, 0.2, 0.4, 1, 3, 10, 100} {
		b.Run("delta="+ftoa(d), func(b *testing.B) {
			s := 0.0
			for i := 0; i < b.N; i++ {
				s += Gauss(0.3, d).D1
			}
			_ = s
		})
	}
}
