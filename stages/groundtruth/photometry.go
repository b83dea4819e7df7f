package groundtruth

import (
	"math"
	"math/rand/v2"

	"nmdyn/stages/recording"
)

// sensorSubsteps is how many steps per bin the sensor kinetics take.
const sensorSubsteps = 5

// photometryTrace is the simulated recording and its hidden parts.
type photometryTrace struct {
	rec *recording.Photometry
	// Sensor is the sensor's occupancy at the sample times (the NE level seen
	// through the kinetics, in [0, 1]); Motion is the relative artefact.
	Sensor, Motion []float64
}

// simulatePhotometry records the true NE level nu (one value per bin of dt s)
// through a GRAB-NE-like sensor:
//
//	sensor   s = nu filtered by two first-order stages (time constants rise_s and
//	           decay_s; impulse response (e^{-t/decay} - e^{-t/rise}) / (decay - rise),
//	           unit area, so a step of NE is followed fully after a few decay_s)
//	bleach   B(t) = 1 - a1 - a2 + a1 e^{-t/t1} + a2 e^{-t/t2}       (each channel its own)
//	motion   mo(t) = sum of raised-cosine dips + a slow OU wander     (shared)
//	signal   = F0s B_s(t) (1 + dff s(t)) (1 - mo(t)) + F0s noise_sd xi
//	control  = F0c B_c(t)               (1 - mo(t)) + F0c noise_sd xi'
//
// sampled at rate_hz from t = 0 until the end of the last bin. The control
// (isosbestic) channel sees bleaching and motion but not NE.
func simulatePhotometry(c *PhotometryConfig, nu []float64, dt float64, rng *rand.Rand) *photometryTrace {
	T := len(nu)
	dur := float64(T) * dt
	ns := int(math.Ceil(dur*c.RateHz)) + 1
	times := make([]float64, ns)
	for k := range times {
		times[k] = float64(k) / c.RateHz
	}

	// Sensor kinetics on a fine grid (h = dt / sensorSubsteps); the level is
	// constant within a bin (it is what the network sees), so the first stage is
	// updated exactly and the second takes the first's mean over the step.
	h := dt / sensorSubsteps
	fine := make([]float64, T*sensorSubsteps+1)
	kr, kd := 1-math.Exp(-h/c.RiseS), 1-math.Exp(-h/c.DecayS)
	s1, s2 := nu[0], nu[0]
	fine[0] = s2
	for t := 0; t < T; t++ {
		for j := 0; j < sensorSubsteps; j++ {
			prev := s1
			s1 += (nu[t] - s1) * kr
			s2 += (0.5*(prev+s1) - s2) * kd
			fine[t*sensorSubsteps+j+1] = s2
		}
	}
	sensor := make([]float64, ns)
	for k, tk := range times {
		x := tk / h
		j := int(math.Floor(x))
		if j >= len(fine)-1 {
			sensor[k] = fine[len(fine)-1]
			continue
		}
		f := x - float64(j)
		sensor[k] = (1-f)*fine[j] + f*fine[j+1]
	}

	// Motion: dips at random times, depth uniform in [depth/4, depth], duration
	// uniform in [0.5, 1.5] x motion_duration_s, plus the wander.
	motion := make([]float64, ns)
	if c.MotionPerMin > 0 {
		t := rng.ExpFloat64() / (c.MotionPerMin / 60)
		for t < dur {
			depth := c.MotionDepth * (0.25 + 0.75*rng.Float64())
			d := c.MotionDurationS * (0.5 + rng.Float64())
			k0 := max(int(math.Ceil(t*c.RateHz)), 0)
			for k := k0; k < ns && times[k] <= t+d; k++ {
				s := math.Sin(math.Pi * (times[k] - t) / d)
				motion[k] += depth * s * s
			}
			t += rng.ExpFloat64() / (c.MotionPerMin / 60)
		}
	}
	const wanderTauS = 10.0
	a := math.Exp(-1 / (c.RateHz * wanderTauS))
	w := c.MotionWander * rng.NormFloat64()
	for k := range motion {
		if k > 0 {
			w = a*w + c.MotionWander*math.Sqrt(1-a*a)*rng.NormFloat64()
		}
		motion[k] += w
	}

	bleach := func(p []float64, t float64) float64 {
		return 1 - p[0] - p[2] + p[0]*math.Exp(-t/p[1]) + p[2]*math.Exp(-t/p[3])
	}
	sig := make([]float64, ns)
	ctl := make([]float64, ns)
	for k, t := range times {
		sig[k] = c.SignalF0*bleach(c.SignalBleach, t)*(1+c.DFF*sensor[k])*(1-motion[k]) + c.SignalF0*c.NoiseSD*rng.NormFloat64()
		ctl[k] = c.ControlF0*bleach(c.ControlBleach, t)*(1-motion[k]) + c.ControlF0*c.NoiseSD*rng.NormFloat64()
	}
	return &photometryTrace{
		rec: &recording.Photometry{
			Time: times, Signal: sig, Control: ctl, RateHz: c.RateHz,
			Source:      "simulated photometry",
			SignalName:  "signal (simulated GRAB-NE, 470 nm)",
			ControlName: "control (simulated isosbestic, 415 nm)",
		},
		Sensor: sensor,
		Motion: motion,
	}
}
