package groundtruth

import (
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"

	"nmdyn/stages/rnn"
)

// Config is a simulate.yaml: everything that defines a ground-truth session. Every
// field is optional; Defaults gives the values of absent fields. The same Config
// and seed always give the same session, byte for byte.
type Config struct {
	// Mechanism is how NE acts on the generating network: none, additive,
	// pregain, postgain or lowrank (the variants of package rnn).
	Mechanism string `yaml:"mechanism" json:"mechanism"`
	// ID names the session (default sim-<mechanism>-seed<seed>).
	ID      string  `yaml:"id" json:"id"`
	Neurons int     `yaml:"neurons" json:"neurons"`
	Minutes float64 `yaml:"minutes" json:"minutes"`
	Seed    uint64  `yaml:"seed" json:"seed"`
	// BinMs is the simulation step, equal to the model's bin (50 ms), so that
	// the generating network is exactly in the model class the fit searches.
	BinMs float64 `yaml:"bin_ms" json:"bin_ms"`
	TauMs float64 `yaml:"tau_ms" json:"tau_ms"`
	// Rank is the number of latent directions: the first is the slow one (line
	// attractor at intermediate NE), the others are fast.
	Rank int `yaml:"rank" json:"rank"`
	// BasisK is the number of NE basis functions (>= 2: the NE profiles use
	// f_1 and f_2).
	BasisK int `yaml:"basis_k" json:"basis_k"`
	// Populations are the fractions of neurons in population 1 (positive
	// feedback along the slow direction) and population 2 (negative feedback).
	Populations []float64 `yaml:"populations" json:"populations"`
	// NEGrid is the number of NE levels in [0, 1] at which `run simulate` labels
	// the truth's regime (package truthdyn; 21, as the fixedpoints stage). In the
	// pipeline the fixedpoints stage analyses the truth on its own grid
	// (fixedpoints.grid); this setting does not change the session's data.
	NEGrid int `yaml:"ne_grid" json:"ne_grid"`

	Network    NetworkConfig    `yaml:"network" json:"network"`
	Noise      NoiseConfig      `yaml:"noise" json:"noise"`
	Events     EventConfig      `yaml:"events" json:"events"`
	NE         NEConfig         `yaml:"ne" json:"ne"`
	Photometry PhotometryConfig `yaml:"photometry" json:"photometry"`
	Rates      RateConfig       `yaml:"rates" json:"rates"`
}

// NetworkConfig shapes the generating network (see the package comment).
type NetworkConfig struct {
	// PeakCoupling is the largest effective self-coupling of the slow direction
	// over NE (1 + the largest real part of the latent Jacobian's eigenvalues in
	// units of 1/tau): 0.98 makes the slowest time constant tau / 0.02 = 5 s.
	PeakCoupling float64 `yaml:"peak_coupling" json:"peak_coupling"`
	// NoneCoupling is the (NE-independent) coupling of the slow direction for
	// mechanism none: clearly below 1, so there is no line attractor.
	NoneCoupling float64 `yaml:"none_coupling" json:"none_coupling"`
	// FastCoupling is the coupling of the second latent direction at nu = 1/2:
	// a loop of population 2 alone (n_2 = (fast / a2) m_2 in population 2), which
	// relays population 2's output to every neuron.
	FastCoupling float64 `yaml:"fast_coupling" json:"fast_coupling"`
	// NEStrength scales every population mean of the NE parameters (1 = the
	// designed profiles; 0 removes the NE effect but keeps the variant).
	NEStrength float64 `yaml:"ne_strength" json:"ne_strength"`
	// LoadingNoise is the standard deviation of the part of the output loadings
	// n that is unrelated to the input loadings m.
	LoadingNoise float64 `yaml:"loading_noise" json:"loading_noise"`
	// ParamSpread is the per-neuron standard deviation of the NE parameters
	// around their population means.
	ParamSpread float64 `yaml:"param_spread" json:"param_spread"`
}

// NoiseConfig are the fluctuations added after each Euler step (scaled by
// sqrt(alpha), an Euler-Maruyama step of tau dx = drift dt + sigma sqrt(tau) dW).
type NoiseConfig struct {
	// SharedSlow and SharedFast are the standard deviations of the shared noise
	// along the slow direction m_1 and along each fast direction m_r, r >= 2.
	SharedSlow float64 `yaml:"shared_slow" json:"shared_slow"`
	SharedFast float64 `yaml:"shared_fast" json:"shared_fast"`
	// Private is the standard deviation of each neuron's own noise.
	Private float64 `yaml:"private" json:"private"`
}

// EventConfig are the behavioural events: a renewal process with intervals
// min_interval_s + Exp(mean_interval_s - min_interval_s), each event drawing one
// of Labels at random. Event label j kicks the state for one bin with input
// weights B = strength ((-1)^j m_1 + fastKick m_2 [population 2 only] + spread
// noise) (fastKick = 3; see the package comment).
type EventConfig struct {
	Labels        []string `yaml:"labels" json:"labels"`
	MeanIntervalS float64  `yaml:"mean_interval_s" json:"mean_interval_s"`
	MinIntervalS  float64  `yaml:"min_interval_s" json:"min_interval_s"`
	Strength      float64  `yaml:"strength" json:"strength"`
	Spread        float64  `yaml:"spread" json:"spread"`
}

// NEConfig is the true NE level: nu = Phi(s / sd_s), with s the sum of an
// Ornstein-Uhlenbeck process (unit variance, time constant tau_s) and phasic
// bursts b (at burst_per_min per minute on average, b jumps by burst_amplitude
// and decays with burst_decay_s), smoothed by a first-order low-pass of time
// constant smooth_s; sd_s is the smoothed OU's stationary standard deviation,
// so nu is uniform on [0, 1] without bursts (Phi the standard normal
// distribution function). The smoothing takes out the OU's fast wiggles, which
// the sensor's kinetics would hide from the photometry.
type NEConfig struct {
	TauS           float64 `yaml:"tau_s" json:"tau_s"`
	SmoothS        float64 `yaml:"smooth_s" json:"smooth_s"`
	BurstPerMin    float64 `yaml:"burst_per_min" json:"burst_per_min"`
	BurstAmplitude float64 `yaml:"burst_amplitude" json:"burst_amplitude"`
	BurstDecayS    float64 `yaml:"burst_decay_s" json:"burst_decay_s"`
}

// PhotometryConfig is the GRAB-NE-like recording (see photometry.go).
type PhotometryConfig struct {
	RateHz float64 `yaml:"rate_hz" json:"rate_hz"`
	// RiseS and DecayS are the sensor's kinetics: its response to a step of NE
	// is the cascade of two first-order filters with these time constants
	// (impulse response (e^{-t/decay} - e^{-t/rise}) / (decay - rise)).
	RiseS  float64 `yaml:"rise_s" json:"rise_s"`
	DecayS float64 `yaml:"decay_s" json:"decay_s"`
	// DFF is the sensor's dF/F at nu = 1 (a fraction).
	DFF float64 `yaml:"dff" json:"dff"`
	// SignalF0 and ControlF0 are the channels' fluorescence at t = 0 (a.u.).
	SignalF0  float64 `yaml:"signal_f0" json:"signal_f0"`
	ControlF0 float64 `yaml:"control_f0" json:"control_f0"`
	// SignalBleach and ControlBleach are double-exponential bleaching
	// [a1, t1_s, a2, t2_s]: F(t) = F0 (1 - a1 - a2 + a1 e^{-t/t1} + a2 e^{-t/t2}).
	SignalBleach  []float64 `yaml:"signal_bleach" json:"signal_bleach"`
	ControlBleach []float64 `yaml:"control_bleach" json:"control_bleach"`
	// NoiseSD is the measurement noise of each sample, relative to F0.
	NoiseSD float64 `yaml:"noise_sd" json:"noise_sd"`
	// Motion artefacts, multiplicative and shared by both channels: dips at
	// motion_per_min per minute of depth up to motion_depth (relative) lasting
	// about motion_duration_s, plus a slow wander of standard deviation
	// motion_wander (relative, 10 s time constant).
	MotionPerMin    float64 `yaml:"motion_per_min" json:"motion_per_min"`
	MotionDepth     float64 `yaml:"motion_depth" json:"motion_depth"`
	MotionDurationS float64 `yaml:"motion_duration_s" json:"motion_duration_s"`
	MotionWander    float64 `yaml:"motion_wander" json:"motion_wander"`
}

// RateConfig are the readouts: log rate = c r + d with exp(d) log-uniform in
// [min_hz, max_hz] and c uniform in modulation [lo, hi].
type RateConfig struct {
	MinHz      float64   `yaml:"min_hz" json:"min_hz"`
	MaxHz      float64   `yaml:"max_hz" json:"max_hz"`
	Modulation []float64 `yaml:"modulation" json:"modulation"`
}

// Defaults is the default session (the one data/default/simulate.yaml names).
func Defaults() Config {
	return Config{
		Mechanism:   string(rnn.PostGain),
		Neurons:     120,
		Minutes:     20,
		Seed:        1,
		BinMs:       50,
		TauMs:       100,
		Rank:        2,
		BasisK:      2,
		Populations: []float64{0.5, 0.5},
		NEGrid:      21,
		Network: NetworkConfig{
			PeakCoupling: 0.98,
			NoneCoupling: 0.6,
			FastCoupling: 0.1,
			NEStrength:   1,
			LoadingNoise: 0.5,
			ParamSpread:  0.15,
		},
		Noise: NoiseConfig{SharedSlow: 0.015, SharedFast: 0.1, Private: 0.05},
		Events: EventConfig{
			Labels:        []string{"stim_a", "stim_b"},
			MeanIntervalS: 1.5,
			MinIntervalS:  0.5,
			Strength:      0.3,
			Spread:        0.1,
		},
		NE: NEConfig{TauS: 12, SmoothS: 3, BurstPerMin: 0.5, BurstAmplitude: 1.5, BurstDecayS: 4},
		Photometry: PhotometryConfig{
			RateHz:          20,
			RiseS:           0.1,
			DecayS:          1.0,
			DFF:             0.08,
			SignalF0:        1,
			ControlF0:       0.6,
			SignalBleach:    []float64{0.08, 120, 0.12, 900},
			ControlBleach:   []float64{0.06, 150, 0.12, 1000},
			NoiseSD:         0.003,
			MotionPerMin:    2,
			MotionDepth:     0.04,
			MotionDurationS: 1,
			MotionWander:    0.002,
		},
		Rates: RateConfig{MinHz: 2, MaxHz: 15, Modulation: []float64{3, 4}},
	}
}

// LoadConfig reads a simulate.yaml over the defaults. Unknown keys are errors
// (a misspelt key would otherwise be silently ignored), and every error names the
// file and, for YAML errors, the line and column.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	return ParseConfig(path, data)
}

// ParseConfig parses simulate.yaml content over the defaults; path names the
// file in errors.
func ParseConfig(path string, data []byte) (Config, error) {
	cfg := Defaults()
	data = []byte(strings.TrimPrefix(string(data), "\ufeff"))
	// A file with nothing but comments is a null document, which the decoder
	// would take as "zero every field": only a non-empty mapping is applied.
	var probe map[string]any
	if err := yaml.Unmarshal(data, &probe); err != nil || probe != nil {
		if err := yaml.UnmarshalWithOptions(data, &cfg, yaml.Strict()); err != nil {
			return Config{}, fmt.Errorf("%s: %s", path, yaml.FormatError(err, false, false))
		}
	}
	if err := cfg.Check(); err != nil {
		where := ""
		if ke, ok := err.(*keyError); ok {
			where = position(data, ke.key)
		}
		return Config{}, fmt.Errorf("%s: %s%v", path, where, err)
	}
	return cfg, nil
}

// keyError is a bad value of one key of simulate.yaml (dotted path).
type keyError struct {
	key, msg string
}

func (e *keyError) Error() string { return e.msg }

func keyErr(key, format string, args ...any) error {
	return &keyError{key: key, msg: fmt.Sprintf(format, args...)}
}

// position finds the line and column of a dotted key in YAML data ("" when the
// key is not in the file, e.g. a default that the other keys make invalid).
func position(data []byte, key string) string {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return ""
	}
	p, err := yaml.PathString("$." + key)
	if err != nil {
		return ""
	}
	n, err := p.FilterFile(f)
	if err != nil || n == nil || n.GetToken() == nil {
		return ""
	}
	pos := n.GetToken().Position
	return fmt.Sprintf("[%d:%d] ", pos.Line, pos.Column)
}

// SessionID is the ID, or sim-<mechanism>-seed<seed> when it is empty.
func (c *Config) SessionID() string {
	if c.ID != "" {
		return c.ID
	}
	return fmt.Sprintf("sim-%s-seed%d", c.Mechanism, c.Seed)
}

// Check rejects values that parse but make no sense; the message names the key.
func (c *Config) Check() error {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	pos := func(key string, v float64) error {
		if !(v > 0) || !finite(v) {
			return keyErr(key, "%s = %v: want a positive number", key, v)
		}
		return nil
	}
	nonneg := func(key string, v float64) error {
		if !(v >= 0) || !finite(v) {
			return keyErr(key, "%s = %v: want a number >= 0", key, v)
		}
		return nil
	}
	if _, err := rnn.ParseVariant(c.Mechanism); err != nil {
		return keyErr("mechanism", "mechanism: %v", err)
	}
	if c.Rank < 1 {
		return keyErr("rank", "rank = %d: want >= 1", c.Rank)
	}
	if c.BasisK < 2 {
		return keyErr("basis_k", "basis_k = %d: want >= 2 (the NE profiles use f_1 and f_2)", c.BasisK)
	}
	if len(c.Populations) != 2 {
		return keyErr("populations", "populations = %v: want the fractions of the two populations", c.Populations)
	}
	if !(c.Populations[0] > 0 && c.Populations[1] > 0) || math.Abs(c.Populations[0]+c.Populations[1]-1) > 1e-9 {
		return keyErr("populations", "populations = %v: want two positive fractions summing to 1", c.Populations)
	}
	// Each population needs room for its 2 R orthogonalised loading columns.
	for p, f := range c.Populations {
		if n := int(math.Round(f * float64(c.Neurons))); n < 2*c.Rank+2 {
			return keyErr("neurons", "neurons = %d: population %d would have %d neurons, want >= %d (2 rank + 2)", c.Neurons, p+1, n, 2*c.Rank+2)
		}
	}
	if c.NEGrid < 3 {
		return keyErr("ne_grid", "ne_grid = %d: want >= 3 levels", c.NEGrid)
	}
	for _, e := range []error{
		pos("minutes", c.Minutes), pos("bin_ms", c.BinMs), pos("tau_ms", c.TauMs),
		pos("network.peak_coupling", c.Network.PeakCoupling), nonneg("network.ne_strength", c.Network.NEStrength),
		nonneg("network.loading_noise", c.Network.LoadingNoise), nonneg("network.param_spread", c.Network.ParamSpread),
		nonneg("noise.shared_slow", c.Noise.SharedSlow), nonneg("noise.shared_fast", c.Noise.SharedFast), nonneg("noise.private", c.Noise.Private),
		pos("events.mean_interval_s", c.Events.MeanIntervalS), nonneg("events.min_interval_s", c.Events.MinIntervalS),
		nonneg("events.strength", c.Events.Strength), nonneg("events.spread", c.Events.Spread),
		pos("ne.tau_s", c.NE.TauS), nonneg("ne.smooth_s", c.NE.SmoothS), nonneg("ne.burst_per_min", c.NE.BurstPerMin), nonneg("ne.burst_amplitude", c.NE.BurstAmplitude),
		pos("ne.burst_decay_s", c.NE.BurstDecayS),
		pos("photometry.rate_hz", c.Photometry.RateHz), pos("photometry.rise_s", c.Photometry.RiseS), pos("photometry.decay_s", c.Photometry.DecayS),
		pos("photometry.dff", c.Photometry.DFF), pos("photometry.signal_f0", c.Photometry.SignalF0), pos("photometry.control_f0", c.Photometry.ControlF0),
		nonneg("photometry.noise_sd", c.Photometry.NoiseSD), nonneg("photometry.motion_per_min", c.Photometry.MotionPerMin),
		nonneg("photometry.motion_depth", c.Photometry.MotionDepth), pos("photometry.motion_duration_s", c.Photometry.MotionDurationS),
		nonneg("photometry.motion_wander", c.Photometry.MotionWander),
		pos("rates.min_hz", c.Rates.MinHz), pos("rates.max_hz", c.Rates.MaxHz),
	} {
		if e != nil {
			return e
		}
	}
	if c.Neurons < 1 {
		return keyErr("neurons", "neurons = %d: want >= 1", c.Neurons)
	}
	if !(c.Network.PeakCoupling < 1) {
		return keyErr("network.peak_coupling", "network.peak_coupling = %v: want < 1 (at 1 the slow direction turns bistable)", c.Network.PeakCoupling)
	}
	if !(c.Network.NoneCoupling < 1) || !finite(c.Network.NoneCoupling) {
		return keyErr("network.none_coupling", "network.none_coupling = %v: want < 1", c.Network.NoneCoupling)
	}
	// Discrete-time stability of the fast directions: their eigenvalue
	// -1 + fast_coupling (times the gains) must keep |1 + alpha lambda| < 1.
	if alpha := c.BinMs / c.TauMs; !(c.Network.FastCoupling < 1) || alpha*(1-c.Network.FastCoupling) >= 2 || !finite(c.Network.FastCoupling) {
		return keyErr("network.fast_coupling", "network.fast_coupling = %v: want < 1 and alpha (1 - fast_coupling) < 2 (alpha = bin_ms / tau_ms = %g)", c.Network.FastCoupling, alpha)
	}
	if c.BinMs/c.TauMs > 1 {
		return keyErr("bin_ms", "bin_ms = %v > tau_ms = %v: the Euler step alpha = bin / tau must be <= 1", c.BinMs, c.TauMs)
	}
	if len(c.Events.Labels) == 0 {
		return keyErr("events.labels", "events.labels is empty: want at least one label")
	}
	seen := map[string]bool{}
	for _, l := range c.Events.Labels {
		if l == "" || strings.ContainsAny(l, ", \t\n") {
			return keyErr("events.labels", "events.labels: %q is not a usable label (empty, or holds a comma or space)", l)
		}
		if seen[l] {
			return keyErr("events.labels", "events.labels: %q appears twice", l)
		}
		seen[l] = true
	}
	if c.Events.MinIntervalS >= c.Events.MeanIntervalS {
		return keyErr("events.min_interval_s", "events.min_interval_s = %v must be below events.mean_interval_s = %v", c.Events.MinIntervalS, c.Events.MeanIntervalS)
	}
	if c.Photometry.DecayS <= c.Photometry.RiseS {
		return keyErr("photometry.decay_s", "photometry.decay_s = %v must exceed photometry.rise_s = %v", c.Photometry.DecayS, c.Photometry.RiseS)
	}
	if c.Photometry.MotionDepth >= 0.5 {
		return keyErr("photometry.motion_depth", "photometry.motion_depth = %v: want < 0.5 (a relative dip)", c.Photometry.MotionDepth)
	}
	for _, b := range []struct {
		key string
		v   []float64
	}{{"photometry.signal_bleach", c.Photometry.SignalBleach}, {"photometry.control_bleach", c.Photometry.ControlBleach}} {
		if len(b.v) != 4 || !(b.v[0] >= 0 && b.v[2] >= 0 && b.v[0]+b.v[2] < 1 && b.v[1] > 0 && b.v[3] > 0) {
			return keyErr(b.key, "%s = %v: want [a1, t1_s, a2, t2_s] with a1, a2 >= 0, a1 + a2 < 1 and t1, t2 > 0", b.key, b.v)
		}
	}
	if c.Rates.MaxHz < c.Rates.MinHz {
		return keyErr("rates.max_hz", "rates.max_hz = %v is below rates.min_hz = %v", c.Rates.MaxHz, c.Rates.MinHz)
	}
	if m := c.Rates.Modulation; len(m) != 2 || !(m[0] >= 0 && m[1] >= m[0]) || !finite(m[1]) {
		return keyErr("rates.modulation", "rates.modulation = %v: want [lo, hi] with 0 <= lo <= hi", m)
	}
	return nil
}

// bins is the number of simulation bins.
func (c *Config) bins() int { return int(math.Round(c.Minutes * 60 * 1000 / c.BinMs)) }
