package dynamics

import (
	"math"
)

// box returns half-widths of a box holding every fixed point of sys: the system's own
// (Boxed) or, failing that, the largest |F_r| = |v_r + kappa_r| over 64 Halton
// points in [-10, 10]^d and the origin, times 1.1 (F is bounded, so every fixed
// point kappa = F(kappa) lies inside). Each half-width is at least 1e-3 times the
// largest, and never zero.
func box(sys LatentSystem) []float64 {
	d := sys.Dim()
	half := make([]float64, d)
	if b, ok := sys.(Boxed); ok {
		b.Box(half)
	} else {
		k := make([]float64, d)
		v := make([]float64, d)
		for j := 0; j <= 64; j++ {
			if j > 0 {
				halton(j, k)
				for a := range k {
					k[a] = -10 + 20*k[a]
				}
			}
			sys.Velocity(k, v)
			for a := range v {
				half[a] = math.Max(half[a], 1.1*math.Abs(v[a]+k[a]))
			}
		}
	}
	big := 0.0
	for _, h := range half {
		if !math.IsNaN(h) && !math.IsInf(h, 0) {
			big = math.Max(big, h)
		}
	}
	if big == 0 {
		big = 1
	}
	for a := range half {
		if !(half[a] >= 1e-3*big) || math.IsInf(half[a], 0) {
			half[a] = math.Max(1e-3*big, math.Min(math.Abs(half[a]), big))
			if math.IsNaN(half[a]) {
				half[a] = big
			}
		}
	}
	return half
}

// haltonPrimes are the bases of the Halton sequence, one per dimension.
var haltonPrimes = []int{2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71}

// halton fills u (each in [0, 1)) with the j-th point of the Halton sequence; beyond
// 20 dimensions the bases repeat with an offset index.
func halton(j int, u []float64) {
	for a := range u {
		base := haltonPrimes[a%len(haltonPrimes)]
		i := j + a/len(haltonPrimes)*7919
		f, r := 1.0, 0.0
		for i > 0 {
			f /= float64(base)
			r += f * float64(i%base)
			i /= base
		}
		u[a] = r
	}
}

// starts returns the deterministic Newton starts in the box: the origin, F(0), and a
// regular grid of GridPerDim points per axis (d <= 3) or HaltonStarts Halton points
// (d >= 4), inset by half a cell so that no start sits on the box's boundary.
func starts(sys LatentSystem, half []float64, s *Settings) [][]float64 {
	d := sys.Dim()
	out := [][]float64{make([]float64, d)}
	f0 := make([]float64, d)
	sys.Velocity(out[0], f0) // F(0) = v(0) + 0
	out = append(out, f0)
	if d <= 3 {
		per := s.gridPerDim(d)
		idx := make([]int, d)
		for {
			x := make([]float64, d)
			for a := range x {
				x[a] = half[a] * (-1 + (2*float64(idx[a])+1)/float64(per))
			}
			out = append(out, x)
			a := 0
			for ; a < d; a++ {
				idx[a]++
				if idx[a] < per {
					break
				}
				idx[a] = 0
			}
			if a == d {
				break
			}
		}
		return out
	}
	for j := 1; j <= s.HaltonStarts; j++ {
		x := make([]float64, d)
		halton(j, x)
		for a := range x {
			x[a] = half[a] * (2*x[a] - 1)
		}
		out = append(out, x)
	}
	return out
}

// newtonSolver finds zeros of the velocity by damped Newton steps, falling back to
// Levenberg-Marquardt steps on |v|^2 / 2 where the Jacobian is singular (as along a
// continuous attractor) or the Newton direction does not decrease the speed.
type newtonSolver struct {
	ev    *evaluator
	d     int
	half  []float64
	tol   float64
	maxIt int
	// scratch
	v, vt, y, step, jac, a, g []float64
}

func newNewtonSolver(ev *evaluator, half []float64, tol float64, maxIt int) *newtonSolver {
	d := ev.d
	return &newtonSolver{ev: ev, d: d, half: half, tol: tol, maxIt: maxIt,
		v: make([]float64, d), vt: make([]float64, d), y: make([]float64, d), step: make([]float64, d),
		jac: make([]float64, d*d), a: make([]float64, d*d), g: make([]float64, d)}
}

// solve runs from start and returns the point reached, its speed, and whether it
// converged (speed below tol) inside three times the box.
func (ns *newtonSolver) solve(start []float64) (x []float64, speed float64, ok bool) {
	d := ns.d
	x = append([]float64(nil), start...)
	ns.ev.both(x, ns.v, ns.jac)
	f := norm(ns.v)
	mu := 0.0
	slow := 0 // consecutive steps that cut the speed by less than 10 %
	for it := 0; it < ns.maxIt && f >= ns.tol; it++ {
		accepted := false
		// Newton direction.
		copy(ns.a, ns.jac)
		for a := 0; a < d; a++ {
			ns.step[a] = -ns.v[a]
		}
		if solve(d, ns.a, ns.step) {
			ns.clampStep()
			t := 1.0
			for k := 0; k < 12; k++ {
				for a := range ns.y {
					ns.y[a] = x[a] + t*ns.step[a]
				}
				if g := ns.ev.speed(ns.y, ns.vt); g < (1-1e-4*t)*f {
					accepted = true
					break
				}
				t /= 2
			}
		}
		// Levenberg-Marquardt on |v|^2 / 2 otherwise: (J^T J + mu I) step = -J^T v.
		if !accepted {
			if mu == 0 {
				mu = 1e-8
				for a := 0; a < d; a++ {
					for b := 0; b < d; b++ {
						mu = math.Max(mu, 1e-8*ns.jac[a*d+b]*ns.jac[a*d+b])
					}
				}
			}
			for k := 0; k < 16 && !accepted; k++ {
				for a := 0; a < d; a++ {
					for b := 0; b < d; b++ {
						s := 0.0
						for c := 0; c < d; c++ {
							s += ns.jac[c*d+a] * ns.jac[c*d+b]
						}
						ns.a[a*d+b] = s
					}
					ns.a[a*d+a] += mu
					s := 0.0
					for c := 0; c < d; c++ {
						s += ns.jac[c*d+a] * ns.v[c]
					}
					ns.step[a] = -s
				}
				if solve(d, ns.a, ns.step) {
					ns.clampStep()
					for a := range ns.y {
						ns.y[a] = x[a] + ns.step[a]
					}
					if g := ns.ev.speed(ns.y, ns.vt); g < f {
						accepted = true
						mu = math.Max(mu/10, 1e-300)
						break
					}
				}
				mu *= 10
			}
		}
		if !accepted {
			return x, f, false
		}
		copy(x, ns.y)
		for a := range x {
			if math.Abs(x[a]) > 3*ns.half[a] || math.IsNaN(x[a]) {
				return x, f, false
			}
		}
		ns.ev.both(x, ns.v, ns.jac)
		g := norm(ns.v)
		if g > 0.9*f {
			slow++
		} else {
			slow = 0
		}
		f = g
		if slow == 6 {
			// A local minimum of the speed that is no zero (a slow point), or a
			// crawl along a nearly singular direction: give up here; the slow
			// manifold's speed minima restart Newton nearer the zeros.
			break
		}
	}
	return x, f, f < ns.tol
}

// clampStep shortens the step to at most the box's half-diagonal.
func (ns *newtonSolver) clampStep() {
	lim := norm(ns.half)
	if n := norm(ns.step); n > lim {
		scaleVec(ns.step, lim/n)
	}
}
