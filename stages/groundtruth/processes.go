package groundtruth

import (
	"math"
	"math/rand/v2"
	"sort"

	"nmdyn/stages/recording"
)

// neProcess draws the true NE level on the T bins of width dt (s):
//
//	z[t+1] = a z[t] + sqrt(1 - a^2) xi,  a = e^{-dt/tau}         (exact OU step, Var z = 1)
//	b[t+1] = e^{-dt/tau_b} b[t] + A * (burst in bin t+1)      (bursts: Poisson, rate r)
//	s[t+1] = c s[t] + (1 - c) (z[t] + b[t]),  c = e^{-dt/smooth}   (low-pass)
//	nu[t]  = Phi(s[t] / sd_s)
//
// sd_s^2 = (1 - c)(1 + a c) / ((1 - a c)(1 + c)) is the exact stationary variance
// of the smoothed AR(1) z (from Var s = c^2 Var s + (1 - c)^2 + 2 c (1 - c)
// Cov(s, z) and Cov(s, z) = a (1 - c) / (1 - a c)), so Phi maps it to a uniform
// level on [0, 1] and the recording visits low, intermediate and high NE alike.
// The low-pass makes the level smooth on the scale of the sensor's kinetics
// (tonic NE does not jump from one 50 ms bin to the next), so the photometry
// can follow it up to the sensor's delay.
func neProcess(c *NEConfig, T int, dt float64, rng *rand.Rand) []float64 {
	nu := make([]float64, T)
	a := math.Exp(-dt / c.TauS)
	sd := math.Sqrt(1 - a*a)
	ab := math.Exp(-dt / c.BurstDecayS)
	pBurst := 1 - math.Exp(-c.BurstPerMin/60*dt)
	cs := 0.0
	if c.SmoothS > 0 {
		cs = math.Exp(-dt / c.SmoothS)
	}
	sdS := math.Sqrt((1 - cs) * (1 + a*cs) / ((1 - a*cs) * (1 + cs)))
	z := rng.NormFloat64()
	b := 0.0
	s := z * sdS // start in the stationary distribution of s (approximately: s ~ z)
	for t := range nu {
		if t > 0 {
			s = cs*s + (1-cs)*(z+b)
			z = a*z + sd*rng.NormFloat64()
			b *= ab
			if rng.Float64() < pBurst {
				b += c.BurstAmplitude
			}
		}
		nu[t] = 0.5 * math.Erfc(-s/sdS/math.Sqrt2)
	}
	return nu
}

// drawEvents draws the behavioural events over [0, T dt): a renewal process with
// intervals min + Exp(mean - min), the first at a uniform time within the first
// interval, each with a label drawn uniformly from labels. It returns the events
// (sorted) and their bin counts u (T x E, row-major), the input the network
// receives: an event in bin t acts on the state of bin t+1, as the model's
// Euler step does with u[t].
func drawEvents(c *EventConfig, T int, dt float64, rng *rand.Rand) ([]recording.Event, []float64) {
	E := len(c.Labels)
	u := make([]float64, T*E)
	var ev []recording.Event
	end := float64(T) * dt
	t := rng.Float64() * c.MeanIntervalS
	for t < end {
		e := rng.IntN(E)
		b := binOf(t, dt, T)
		ev = append(ev, recording.Event{Time: t, Label: c.Labels[e]})
		u[b*E+e]++
		t += c.MinIntervalS + rng.ExpFloat64()*(c.MeanIntervalS-c.MinIntervalS)
	}
	sort.SliceStable(ev, func(i, j int) bool { return ev[i].Time < ev[j].Time })
	return ev, u
}

// binOf is the bin of time t the way the preprocessing computes it
// (floor(t / dt), start 0), clamped to [0, T-1].
func binOf(t, dt float64, T int) int {
	b := int(math.Floor(t / dt))
	return min(max(b, 0), T-1)
}

// poisson draws a Poisson count of mean mu by inversion; means above 10 are
// split into parts (a sum of Poisson counts is Poisson), which keeps the
// inversion's e^{-mu} far from underflow.
func poisson(rng *rand.Rand, mu float64) int {
	if !(mu > 0) {
		return 0
	}
	k := 0
	for mu > 10 {
		k += poisson(rng, 10)
		mu -= 10
	}
	p := math.Exp(-mu)
	f := p
	u := rng.Float64()
	j := 0
	for u > f && j < 200 {
		j++
		p *= mu / float64(j)
		f += p
	}
	return k + j
}
