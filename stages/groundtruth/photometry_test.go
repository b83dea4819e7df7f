package groundtruth

import (
	"math"
	"math/rand/v2"
	"testing"

	"nmdyn/stages/photometry"
)

// quietPhotometry is the default sensor without noise, motion or bleaching.
func quietPhotometry() PhotometryConfig {
	c := Defaults().Photometry
	c.NoiseSD, c.MotionPerMin, c.MotionWander = 0, 0, 0
	c.SignalBleach = []float64{0, 1, 0, 1}
	c.ControlBleach = []float64{0, 1, 0, 1}
	return c
}

// TestSensorStepResponse: after a step of NE from 0 to 1 the sensor follows the
// cascade of two first-order filters,
//
//	s(t) = 1 - (decay e^{-t/decay} - rise e^{-t/rise}) / (decay - rise),
//
// (the integral of the unit-area impulse response), to 1e-4 (the second stage
// takes the first's mean over 10 ms steps); its half-rise time is 0.7984 s.
func TestSensorStepResponse(t *testing.T) {
	c := quietPhotometry()
	const dt, stepS = 0.05, 20.0
	nu := make([]float64, 1200) // 60 s
	for b := int(stepS / dt); b < len(nu); b++ {
		nu[b] = 1
	}
	ph := simulatePhotometry(&c, nu, dt, rand.New(rand.NewPCG(1, 1)))
	half := math.NaN()
	for k, tk := range ph.rec.Time {
		want := 0.0
		if s := tk - stepS; s > 0 {
			want = 1 - (c.DecayS*math.Exp(-s/c.DecayS)-c.RiseS*math.Exp(-s/c.RiseS))/(c.DecayS-c.RiseS)
		}
		if math.Abs(ph.Sensor[k]-want) > 1e-4 {
			t.Fatalf("t = %v s: sensor %v, want %v", tk, ph.Sensor[k], want)
		}
		if math.IsNaN(half) && ph.Sensor[k] >= 0.5 {
			half = tk - stepS
		}
		// Without motion, noise or bleaching the channels are exact.
		if sig := c.SignalF0 * (1 + c.DFF*ph.Sensor[k]); math.Abs(ph.rec.Signal[k]-sig) > 1e-12 {
			t.Fatalf("t = %v s: signal %v, want %v", tk, ph.rec.Signal[k], sig)
		}
		if ph.rec.Control[k] != c.ControlF0 {
			t.Fatalf("t = %v s: control %v sees NE (want %v)", tk, ph.rec.Control[k], c.ControlF0)
		}
	}
	// s(t) = 1/2 solved by bisection for rise 0.1 s, decay 1.0 s: t = 0.7984 s;
	// the first sample (every 50 ms) at or above it comes at 0.80 s.
	if half < 0.7984 || half > 0.7984+0.05 {
		t.Errorf("half-rise %v s, want the first sample after 0.7984 s", half)
	}
}

// TestBleachingAndMotion: each channel bleaches by its own double exponential,
// and motion scales both channels by the same factor (1 - mo(t)), which the
// control channel shows without NE.
func TestBleachingAndMotion(t *testing.T) {
	c := Defaults().Photometry
	c.NoiseSD = 0
	c.MotionPerMin = 6
	nu := make([]float64, 12000) // 10 minutes
	rng := rand.New(rand.NewPCG(2, 2))
	for b := range nu {
		nu[b] = 0.5 + 0.4*math.Sin(float64(b)/300)
	}
	ph := simulatePhotometry(&c, nu, 0.05, rng)
	bleach := func(p []float64, t float64) float64 {
		return 1 - p[0] - p[2] + p[0]*math.Exp(-t/p[1]) + p[2]*math.Exp(-t/p[3])
	}
	dips := 0
	for k, tk := range ph.rec.Time {
		ms := ph.rec.Signal[k] / (c.SignalF0 * bleach(c.SignalBleach, tk) * (1 + c.DFF*ph.Sensor[k]))
		mc := ph.rec.Control[k] / (c.ControlF0 * bleach(c.ControlBleach, tk))
		if math.Abs(ms-mc) > 1e-12 || math.Abs(1-mc-ph.Motion[k]) > 1e-12 {
			t.Fatalf("t = %v s: motion factor %v in the signal, %v in the control, 1 - %v expected", tk, ms, mc, ph.Motion[k])
		}
		if ph.Motion[k] > 0.01 && (k == 0 || ph.Motion[k-1] <= 0.01) {
			dips++
		}
	}
	// 6 dips a minute for 10 minutes, of depth >= 1 % (a quarter of 4 %) at their
	// middle: about 60, Poisson.
	if dips < 35 || dips > 85 {
		t.Errorf("%d motion dips, want about 60", dips)
	}
	n := len(ph.rec.Time) - 1
	for _, ch := range []struct {
		name   string
		f0     float64
		p      []float64
		values []float64
	}{{"control", c.ControlF0, c.ControlBleach, ph.rec.Control}} {
		// At t = 0 the bleach factor is 1; at 600 s 1 - a1 - a2 + ... (up to motion).
		want := ch.f0 * bleach(ch.p, ph.rec.Time[n]) * (1 - ph.Motion[n])
		if math.Abs(ch.values[n]-want) > 1e-12 || math.Abs(ch.values[0]-ch.f0*(1-ph.Motion[0])) > 1e-12 {
			t.Errorf("%s: %v at 0 s and %v at %v s", ch.name, ch.values[0], ch.values[n], ph.rec.Time[n])
		}
	}
}

// TestCorrectedPhotometryTracksNE: the pipeline's correction (package photometry,
// defaults) recovers the true NE from the simulated recording: on three seeds of
// the default 20-minute session the corrected dF/F, averaged on the 50 ms bins,
// correlates with the true level at r >= 0.9 at its best lag, and that lag is the
// sensor's delay (0.5-1.5 s: the step response above is half-way at 0.80 s and
// the mean delay of the two stages is rise + decay = 1.1 s; measured 1.00-1.05 s,
// r = 0.93-0.98).
func TestCorrectedPhotometryTracksNE(t *testing.T) {
	cfg := Defaults()
	T := cfg.bins()
	dt := cfg.BinMs / 1000
	edges := make([]float64, T+1)
	for b := range edges {
		edges[b] = float64(b) * dt
	}
	for seed := uint64(1); seed <= 3; seed++ {
		nu := neProcess(&cfg.NE, T, dt, rand.New(rand.NewPCG(seed, streamNE)))
		ph := simulatePhotometry(&cfg.Photometry, nu, dt, rand.New(rand.NewPCG(seed, streamPhotometry)))
		res, err := photometry.Correct(ph.rec.Time, ph.rec.Signal, ph.rec.Control, nil)
		if err != nil {
			t.Fatal(err)
		}
		dff := photometry.Resample(res.Time, res.DFF, edges)
		best, lag := -1.0, 0
		for l := 0; l <= 80; l++ {
			if r := correlation(dff[l:], nu[:T-l]); r > best {
				best, lag = r, l
			}
		}
		if best < 0.9 || float64(lag)*dt < 0.5 || float64(lag)*dt > 1.5 {
			t.Errorf("seed %d: r = %.3f at lag %.2f s", seed, best, float64(lag)*dt)
		}
		t.Logf("seed %d: r = %.3f at lag %.2f s, control fit slope %.3f", seed, best, float64(lag)*dt, res.Fit.Slope)
	}
}

func correlation(a, b []float64) float64 {
	n := float64(len(a))
	var ma, mb float64
	for i := range a {
		ma += a[i]
		mb += b[i]
	}
	ma /= n
	mb /= n
	var sab, saa, sbb float64
	for i := range a {
		sab += (a[i] - ma) * (b[i] - mb)
		saa += (a[i] - ma) * (a[i] - ma)
		sbb += (b[i] - mb) * (b[i] - mb)
	}
	return sab / math.Sqrt(saa*sbb)
}
