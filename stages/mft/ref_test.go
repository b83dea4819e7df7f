package mft

import (
	"math"
	"strconv"
)

// Gauss-Kronrod 7-15 abscissae and weights (Piessens et al., QUADPACK).
var (
	gkX = [8]float64{0.991455371120812639206854697526329, 0.949107912342758524526189684047851, 0.864864423359769072789712788640926, 0.741531185599394439863864773280788, 0.586087235467691130294144845693013, 0.405845151377397166906606412076961, 0.207784955007898467600689403773245, 0}
	gkW = [8]float64{0.022935322010529224963732008058970, 0.063092092629978553290700663189204, 0.104790010322250183839876322541518, 0.140653259715525918745189590510238, 0.169004726639267902826583426598550, 0.190350578064785409913256402421014, 0.204432940075298892414161999234649, 0.209482141084727828012999174891714}
	gW  = [4]float64{0.129484966168869693270611432679082, 0.279705391489276667901467771423780, 0.381830050505118944950369775488975, 0.417959183673469387755102040816327}
)

// gk15 returns the Kronrod estimate on [a, b] and its difference to the Gauss one.
func gk15(f func(float64) float64, a, b float64) (k, err float64) {
	c, h := (a+b)/2, (b-a)/2
	fc := f(c)
	k = gkW[7] * fc
	g := gW[3] * fc
	for i := 0; i < 7; i++ {
		f1, f2 := f(c-h*gkX[i]), f(c+h*gkX[i])
		k += gkW[i] * (f1 + f2)
		if i%2 == 1 {
			g += gW[i/2] * (f1 + f2)
		}
	}
	return k * h, math.Abs((k - g) * h)
}

// adaptive integrates f on [a, b] by recursive bisection until the Gauss-Kronrod
// difference on each piece is under tol times its share of the interval.
func adaptive(f func(float64) float64, a, b, tol float64, depth int) float64 {
	k, e := gk15(f, a, b)
	if e <= tol || depth > 60 {
		return k
	}
	m := (a + b) / 2
	return adaptive(f, a, m, tol/2, depth+1) + adaptive(f, m, b, tol/2, depth+1)
}

// refAverage is E_z[f(mu + sqrt(delta) z)] by adaptive Gauss-Kronrod in z over
// [-14, 14] (the Gaussian mass outside is below 1e-43), split at the peak of phi's
// derivatives z* = -mu / sqrt(delta) and one and five widths 1/sqrt(delta) either side.
func refAverage(f func(float64) float64, mu, delta float64) float64 {
	sd := math.Sqrt(delta)
	g := func(z float64) float64 {
		return f(mu+sd*z) * math.Exp(-z*z/2) / math.Sqrt(2*math.Pi)
	}
	zs := -mu / sd
	cuts := []float64{-14}
	for _, c := range []float64{zs - 5/sd, zs - 1/sd, zs, zs + 1/sd, zs + 5/sd} {
		if c > cuts[len(cuts)-1] && c < 14 {
			cuts = append(cuts, c)
		}
	}
	cuts = append(cuts, 14)
	s := 0.0
	for i := 0; i+1 < len(cuts); i++ {
		s += adaptive(g, cuts[i], cuts[i+1], 1e-15, 0)
	}
	return s
}

func phi0(y float64) float64 { return math.Tanh(y) }
func phi1(y float64) float64 { t := math.Tanh(y); return 1 - t*t }
func phi2(y float64) float64 { t := math.Tanh(y); return -2 * t * (1 - t*t) }
func phi3(y float64) float64 { t := math.Tanh(y); return -2 * (1 - t*t) * (1 - 3*t*t) }

func ftoa(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
