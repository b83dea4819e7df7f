package predict

import (
	"math"
	"math/rand/v2"
)

// synthConfig shapes a synthetic recording with a known NE dependence.
type synthConfig struct {
	seed    uint64
	minutes float64
	neurons int
	// kick(nu) is the size of an event's kick of the response variable, and
	// slowSD(nu) the stationary sd of the shared slow fluctuation, at NE level nu.
	kick, slowSD func(nu float64) float64
	noEvents     bool
}

// bump is 1 at nu = 1/2 and 0 at nu = 0 and 1.
func bump(nu float64) float64 { return 4 * nu * (1 - nu) }

// synthRecording draws a recording whose neurons fire Poisson spikes at
//
//	lambda_i(t) = base_i exp( load_i (s(t) + e(t)) ),
//
// with s an AR(1) shared fluctuation (time constant 2 s, stationary sd
// slowSD(nu(t))), e the event response (jumps by kick(nu) one bin after an
// event, decays with 0.3 s), load_i = +-0.5 at random and base_i uniform in
// [3, 10] Hz. NE is Phi(z), z an AR(1) process of unit variance and time constant
// 15 s, so nu is uniform on [0, 1]. Events come every 1.5 s + Exp(2.5 s). The slow
// direction is the true one in z-score space, load_i sqrt(base_i count_s).
func synthRecording(c synthConfig) *Recording {
	const dt = 0.05
	rng := rand.New(rand.NewPCG(c.seed, 99))
	T := int(c.minutes * 60 / dt)
	n := c.neurons
	rec := &Recording{DtSeconds: dt, N: n, Y: make([]float32, T*n), Nu: make([]float64, T), Labels: []string{"stim"}}
	aNE := math.Exp(-dt / 15)
	z := rng.NormFloat64()
	for t := range rec.Nu {
		rec.Nu[t] = 0.5 * math.Erfc(-z/math.Sqrt2)
		z = aNE*z + math.Sqrt(1-aNE*aNE)*rng.NormFloat64()
	}
	var evBins []int
	if !c.noEvents {
		for tt := 1.0; tt < float64(T)*dt-1; tt += 1.5 + 2.5*rng.ExpFloat64() {
			evBins = append(evBins, int(tt/dt))
		}
	}
	rec.Events = [][]int{evBins}
	base, load := make([]float64, n), make([]float64, n)
	rec.SlowDir = make([]float64, n)
	for i := 0; i < n; i++ {
		base[i] = 3 + 7*rng.Float64()
		load[i] = 0.5
		if rng.IntN(2) == 0 {
			load[i] = -0.5
		}
		rec.SlowDir[i] = load[i] * math.Sqrt(base[i]*0.5)
	}
	aS, aE := math.Exp(-dt/2), math.Exp(-dt/0.3)
	s, e := 0.0, 0.0
	next := 0
	for t := 0; t < T; t++ {
		for i := 0; i < n; i++ {
			rec.Y[t*n+i] = float32(poissonDraw(rng, dt*base[i]*math.Exp(load[i]*(s+e))))
		}
		s = aS*s + math.Sqrt(1-aS*aS)*c.slowSD(rec.Nu[t])*rng.NormFloat64()
		e *= aE
		if next < len(evBins) && evBins[next] == t {
			e += c.kick(rec.Nu[t])
			next++
		}
	}
	return rec
}

// poissonDraw draws a Poisson count of mean mu (small) by inversion.
func poissonDraw(rng *rand.Rand, mu float64) int {
	u := rng.Float64()
	p := math.Exp(-mu)
	k, cdf := 0, p
	for u > cdf && k < 1000 {
		k++
		p *= mu / float64(k)
		cdf += p
	}
	return k
}

// testSettings are the defaults (500 shifts, 1000 bootstrap replicates).
func testSettings() Settings { return Defaults() }
