package groundtruth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"

	"nmdyn/stages/recording"
	"nmdyn/stages/rnn"
	"nmdyn/stages/table"
)

// Generated is a simulated session and its truth.
type Generated struct {
	// Session is the session as an importer would return it: every unit
	// labelled good, spikes in memory (time order), photometry with signal and
	// control, events.
	Session *recording.Session
	Truth   Truth
	// Model is the generating network (Units = the session's unit ids).
	Model *rnn.Model
	// NE is the true level per bin (bin b starts at b * bin_ms).
	NE []float64
	// Tables are the truth tables (truth_neurons, truth_globals, truth_units,
	// truth_ne; SetRegimes adds truth_regime) and TruthJSON is truth.json: what
	// the session stage writes next to the session.
	Tables    map[string]*table.Table
	TruthJSON []byte
	// Sensor is the sensor occupancy (NE seen through the kinetics) at the
	// photometry sample times, for tests of the photometry correction.
	Sensor []float64
}

// Truth is what truth.json holds.
type Truth struct {
	Mechanism string `json:"mechanism"`
	SessionID string `json:"session_id"`
	Seed      uint64 `json:"seed"`
	// Units and Population: the population (1 or 2) of each unit.
	Units      []int64 `json:"units"`
	Population []int   `json:"population"`
	// PopulationRoles says what each population does.
	PopulationRoles map[string]string `json:"population_roles"`
	// The regime of the generating network along NE (inputs off).
	NEGrid             []float64 `json:"ne_grid"`
	Regime             []string  `json:"regime"`
	LineAttractorScore []float64 `json:"line_attractor_score"`
	SlowestTauS        []float64 `json:"slowest_tau_s"`
	Coupling           []float64 `json:"coupling"`
	// LineAttractorNERange is [lo, hi] over the grid levels labelled line
	// attractor, or null when there is none.
	LineAttractorNERange []float64 `json:"line_attractor_ne_range"`
	// RegimeMethod names the analysis that labelled the levels.
	RegimeMethod string `json:"regime_method"`
	// SlowFeedbackScale is the calibrated s (population 1's overlap n_1 . m_1).
	SlowFeedbackScale float64 `json:"slow_feedback_scale"`
	// What was generated.
	DurationS  float64        `json:"duration_s"`
	Spikes     int64          `json:"spikes"`
	MeanRateHz float64        `json:"mean_rate_hz"`
	Events     map[string]int `json:"events"`
	// NETable names the table holding the true NE per bin.
	NETable string `json:"ne_table"`
	Config  Config `json:"config"`
}

// RNG streams, one per part of the session, so that changing one part (e.g. the
// photometry settings) leaves the others' draws unchanged.
const (
	streamNetwork uint64 = iota + 1
	streamNE
	streamEvents
	streamNoise
	streamSpikes
	streamPhotometry
)

// burnInBins is how long the network runs (NE held at its first value, no
// events) before the recording starts, so that it starts in its stationary
// fluctuations rather than at rest.
const burnInBins = 100

// chunkBins is how many bins are simulated at a time (memory: chunk x N states).
const chunkBins = 1200

// Generate simulates the session cfg describes. The same cfg gives the same
// session, bit for bit.
func Generate(cfg Config) (*Generated, error) {
	if err := cfg.Check(); err != nil {
		return nil, fmt.Errorf("simulate: %v", err)
	}
	rng := func(stream uint64) *rand.Rand { return rand.New(rand.NewPCG(cfg.Seed, stream)) }
	nw, err := buildNetwork(&cfg, rng(streamNetwork))
	if err != nil {
		return nil, err
	}
	m := nw.model
	dt := cfg.BinMs / 1000
	T := cfg.bins()
	if T < 2 {
		return nil, fmt.Errorf("simulate: minutes = %v gives %d bins of %v ms: want at least 2", cfg.Minutes, T, cfg.BinMs)
	}
	nu := neProcess(&cfg.NE, T, dt, rng(streamNE))
	events, u := drawEvents(&cfg.Events, T, dt, rng(streamEvents))

	units, times, counts := simulateSpikes(&cfg, m, nu, u, rng(streamNoise), rng(streamSpikes))
	ph := simulatePhotometry(&cfg.Photometry, nu, dt, rng(streamPhotometry))

	g := &Generated{Model: m, NE: nu, Sensor: ph.Sensor}
	id := cfg.SessionID()
	sess := &recording.Session{
		ID:           id,
		Spikes:       &recording.MemorySpikes{Units: units, Times: times, Name: "simulated spikes (" + id + ")"},
		Photometry:   ph.rec,
		Events:       events,
		StartSeconds: 0,
		EndSeconds:   float64(T) * dt,
		Keep:         []string{"good"},
		Notes:        []string{fmt.Sprintf("simulated ground truth: mechanism %s, seed %d, %d neurons, %g min", cfg.Mechanism, cfg.Seed, cfg.Neurons, cfg.Minutes)},
	}
	for i, id := range m.Units {
		sess.Units = append(sess.Units, recording.Unit{ID: id, Label: "good", Spikes: counts[i]})
	}
	if err := recording.Check(sess); err != nil {
		return nil, fmt.Errorf("simulate: the generated session fails the importer's checks: %w", err)
	}
	g.Session = sess

	if err := g.fillTruth(&cfg, nw, int64(len(times))); err != nil {
		return nil, err
	}
	return g, nil
}

// simulateSpikes runs the network with its noise over the bins and draws
// Poisson spikes: counts y[i,t] ~ Poisson(dt exp(c_i r[i,t] + d_i)), each spike at
// a uniform time within its bin. After every Euler step the state gets
//
//	x += sqrt(alpha) ( shared_slow m_1 xi_1 + shared_fast sum_{r>=2} m_r xi_r + private xi_i )
//
// (xi independent standard normals), so that the shared fluctuations live in the
// latent directions and are amplified where the slow direction is slow.
func simulateSpikes(cfg *Config, m *rnn.Model, nu, u []float64, noiseRng, spikeRng *rand.Rand) (units []int64, times []float64, counts []int64) {
	n, R, E := m.N, m.R, m.E
	T := len(nu)
	dt := m.DtSeconds
	sa := math.Sqrt(m.Alpha())
	xi := make([]float64, R)
	noise := func(_ int, x []float64) {
		for r := range xi {
			xi[r] = noiseRng.NormFloat64()
		}
		for i := range x {
			v := cfg.Noise.SharedSlow * m.M[i*R] * xi[0]
			for r := 1; r < R; r++ {
				v += cfg.Noise.SharedFast * m.M[i*R+r] * xi[r]
			}
			x[i] += sa * (v + cfg.Noise.Private*noiseRng.NormFloat64())
		}
	}

	// Burn-in.
	burn := make([]float64, burnInBins+1)
	for t := range burn {
		burn[t] = nu[0]
	}
	X, _ := m.Trajectory(make([]float64, n), rnn.Inputs{Nu: burn}, noise)
	x0 := append([]float64(nil), X[burnInBins*n:]...)

	counts = make([]int64, n)
	type spike struct {
		t    float64
		unit int64
	}
	var buf []spike
	for s := 0; s < T; s += chunkBins {
		e := min(s+chunkBins, T)
		L := e - s
		if e < T {
			L++ // one more state: the next chunk's initial state
		}
		in := rnn.Inputs{Nu: nu[s : s+L], Events: u[s*E : (s+L)*E]}
		Xc, Rc := m.Trajectory(x0, in, noise)
		for b := s; b < e; b++ {
			r := Rc[(b-s)*n : (b-s+1)*n]
			buf = buf[:0]
			for i := 0; i < n; i++ {
				k := poisson(spikeRng, dt*math.Exp(m.C[i]*r[i]+m.D[i]))
				for j := 0; j < k; j++ {
					buf = append(buf, spike{t: spikeTime(b, dt, spikeRng.Float64()), unit: m.Units[i]})
				}
				counts[i] += int64(k)
			}
			sort.Slice(buf, func(a, c int) bool {
				if buf[a].t != buf[c].t {
					return buf[a].t < buf[c].t
				}
				return buf[a].unit < buf[c].unit
			})
			for _, sp := range buf {
				units = append(units, sp.unit)
				times = append(times, sp.t)
			}
		}
		if e < T {
			x0 = append(x0[:0], Xc[(L-1)*n:]...)
		}
	}
	return units, times, counts
}

// spikeTime places a spike at fraction f of bin b, kept 1e-6 bins away from the
// edges so that floor(t / dt) gives b back despite rounding.
func spikeTime(b int, dt, f float64) float64 {
	const edge = 1e-6
	return (float64(b) + edge + (1-2*edge)*f) * dt
}

// fillTruth builds Truth, the tables and truth.json (without the regime sweep:
// see SetRegimes).
func (g *Generated) fillTruth(cfg *Config, nw *network, spikes int64) error {
	m := nw.model
	dur := g.Session.EndSeconds - g.Session.StartSeconds
	tr := Truth{
		Mechanism:  cfg.Mechanism,
		SessionID:  cfg.SessionID(),
		Seed:       cfg.Seed,
		Units:      append([]int64(nil), m.Units...),
		Population: append([]int(nil), nw.population...),
		PopulationRoles: map[string]string{
			"1": "positive feedback along the slow latent direction (n_1 = +s m_1 + noise)",
			"2": "negative feedback along the slow latent direction (n_1 = -w s m_1 + noise)",
		},
		SlowFeedbackScale: nw.slowScale,
		DurationS:         dur,
		Spikes:            spikes,
		MeanRateHz:        float64(spikes) / dur / float64(m.N),
		Events:            map[string]int{},
		NETable:           "truth_ne",
		Config:            *cfg,
	}
	for _, e := range g.Session.Events {
		tr.Events[e.Label]++
	}
	g.Truth = tr

	neurons, globals := m.Tables()
	pop := make([]int64, m.N)
	for i, p := range nw.population {
		pop[i] = int64(p)
	}
	ts := make([]float64, len(g.NE))
	for b := range ts {
		ts[b] = float64(b) * m.DtSeconds
	}
	g.Tables = map[string]*table.Table{
		"truth_neurons": neurons,
		"truth_globals": globals,
		"truth_units":   table.New().AddInt("unit", append([]int64(nil), m.Units...)).AddInt("population", pop),
		"truth_ne":      table.New().AddFloat("t_s", ts).AddFloat("ne", append([]float64(nil), g.NE...)),
	}
	return g.marshal()
}

// marshal (re)writes TruthJSON from Truth.
func (g *Generated) marshal() error {
	js, err := marshalTruth(&g.Truth)
	if err != nil {
		return fmt.Errorf("simulate: truth.json: %v", err)
	}
	g.TruthJSON = js
	return nil
}

// SetRegimes records the generating network's regime along the NE grid: the
// Truth fields, the table truth_regime and truth.json. Generate leaves them out,
// so that this package does not depend on the fixed-point analysis (a change to
// the analysis must not make every simulated session stale); `run simulate`
// computes them with package dynamics (the analysis the pipeline applies to
// fitted networks, whose fixedpoints stage analyses the truth of a simulated
// session itself) and sets them here. lineRange is [lo, hi] or nil.
func (g *Generated) SetRegimes(levels []Level, lineRange []float64, method string) error {
	if method == "" {
		return fmt.Errorf("simulate: regimes without the name of the analysis that labelled them")
	}
	tr := &g.Truth
	tr.NEGrid, tr.Regime, tr.LineAttractorScore, tr.SlowestTauS, tr.Coupling = nil, nil, nil, nil, nil
	n := len(levels)
	fp, st := make([]int64, n), make([]int64, n)
	tau2 := make([]float64, n)
	for j, l := range levels {
		tr.NEGrid = append(tr.NEGrid, l.Nu)
		tr.Regime = append(tr.Regime, l.Regime)
		tr.LineAttractorScore = append(tr.LineAttractorScore, finiteOr0(l.Score))
		tr.SlowestTauS = append(tr.SlowestTauS, finiteOr0(l.Tau1S))
		tr.Coupling = append(tr.Coupling, finiteOr0(l.Coupling))
		fp[j], st[j], tau2[j] = int64(l.FixedPoints), int64(l.Stable), l.Tau2S
	}
	if lineRange != nil && len(lineRange) != 2 {
		return fmt.Errorf("simulate: line-attractor range %v is not [lo, hi]", lineRange)
	}
	tr.LineAttractorNERange = lineRange
	tr.RegimeMethod = method
	g.Tables["truth_regime"] = table.New().AddFloat("ne", tr.NEGrid).AddString("regime", tr.Regime).
		AddInt("fixed_points", fp).AddInt("stable", st).AddFloat("slowest_tau_s", tr.SlowestTauS).
		AddFloat("second_tau_s", tau2).AddFloat("line_attractor_score", tr.LineAttractorScore).AddFloat("coupling", tr.Coupling)
	return g.marshal()
}

// regimeKeys are the truth.json keys SetRegimes fills.
var regimeKeys = map[string]bool{"ne_grid": true, "regime": true, "line_attractor_score": true,
	"slowest_tau_s": true, "coupling": true, "line_attractor_ne_range": true, "regime_method": true}

// marshalTruth writes truth.json with one top-level key per line and each value
// compact (the per-unit and per-level lists stay on one line each), except the
// config, which is indented.
func marshalTruth(tr *Truth) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("{\n")
	wrote := false
	v := reflect.ValueOf(tr).Elem()
	for i := 0; i < v.NumField(); i++ {
		key := strings.Split(v.Type().Field(i).Tag.Get("json"), ",")[0]
		if tr.RegimeMethod == "" && regimeKeys[key] {
			continue // not computed (see SetRegimes)
		}
		var val []byte
		var err error
		if key == "config" {
			val, err = json.MarshalIndent(v.Field(i).Interface(), "  ", "  ")
		} else {
			val, err = json.Marshal(v.Field(i).Interface())
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", key, err)
		}
		if wrote {
			buf.WriteString(",\n")
		}
		fmt.Fprintf(&buf, "  %q: %s", key, val)
		wrote = true
	}
	buf.WriteString("\n}\n")
	return buf.Bytes(), nil
}

func finiteOr0(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}
