package groundtruth

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"

	"nmdyn/stages/recording"
)

// shortConfig is a 2-minute session, enough for shapes and rates.
func shortConfig(mech string, seed uint64) Config {
	c := Defaults()
	c.Mechanism, c.Minutes, c.Seed = mech, 2, seed
	return c
}

func generate(t *testing.T, cfg Config) *Generated {
	t.Helper()
	g, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestGenerateDeterministic: the same config gives the same files, byte for
// byte, whatever GOMAXPROCS (the regime sweep runs levels in parallel); another
// seed gives other spikes.
func TestGenerateDeterministic(t *testing.T) {
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	for i, seed := range []uint64{3, 3, 4} {
		procs := runtime.GOMAXPROCS(0)
		if i == 1 {
			runtime.GOMAXPROCS(1)
		}
		g := generate(t, shortConfig("postgain", seed))
		runtime.GOMAXPROCS(procs)
		if err := WriteSession(dirs[i], g); err != nil {
			t.Fatal(err)
		}
	}
	names, err := os.ReadDir(dirs[0])
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"events.parquet", "photometry.parquet", "session.yaml", "spikes.parquet", "truth.json",
		"truth_globals.parquet", "truth_ne.parquet", "truth_neurons.parquet", "truth_units.parquet"}
	var got []string
	for _, e := range names {
		got = append(got, e.Name())
	}
	if !equalStrings(got, want) {
		t.Fatalf("files %v, want %v", got, want)
	}
	for _, name := range want {
		a, _ := os.ReadFile(filepath.Join(dirs[0], name))
		b, _ := os.ReadFile(filepath.Join(dirs[1], name))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
	}
	a, _ := os.ReadFile(filepath.Join(dirs[0], "spikes.parquet"))
	c, _ := os.ReadFile(filepath.Join(dirs[2], "spikes.parquet"))
	if bytes.Equal(a, c) {
		t.Error("seeds 3 and 4 give the same spikes")
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestGenerateSession checks what a generated session holds against the config.
func TestGenerateSession(t *testing.T) {
	for _, mech := range []string{"none", "additive", "pregain", "postgain", "lowrank"} {
		cfg := shortConfig(mech, 1)
		g := generate(t, cfg)
		s := g.Session
		T := cfg.bins()
		dt := cfg.BinMs / 1000
		dur := float64(T) * dt
		if s.StartSeconds != 0 || s.EndSeconds != dur || s.ID != "sim-"+mech+"-seed1" {
			t.Errorf("%s: span %v-%v id %q, want 0-%v sim-%s-seed1", mech, s.StartSeconds, s.EndSeconds, s.ID, dur, mech)
		}
		if len(s.Units) != cfg.Neurons {
			t.Fatalf("%s: %d units, want %d", mech, len(s.Units), cfg.Neurons)
		}
		// Spikes: sorted, inside the recording, counted per unit as Units says.
		counts := map[int64]int64{}
		prev := -1.0
		var total int64
		s.Spikes.Scan(func(u []int64, tm []float64) error {
			for i := range u {
				if tm[i] < prev || tm[i] < 0 || tm[i] >= dur {
					t.Fatalf("%s: spike time %v after %v (recording 0-%v)", mech, tm[i], prev, dur)
				}
				prev = tm[i]
				counts[u[i]]++
				total++
			}
			return nil
		})
		var sum float64
		for i, u := range s.Units {
			if u.Label != "good" || u.ID != g.Model.Units[i] || u.Spikes != counts[u.ID] {
				t.Errorf("%s: unit %d label %q spikes %d (counted %d), model unit %d", mech, u.ID, u.Label, u.Spikes, counts[u.ID], g.Model.Units[i])
			}
			// exp(d) lies in [2, 15] Hz and c tanh(x) with c <= 4 and the state
			// within about +-0.6 (tanh 0.54) in this design: rates within
			// [2 e^-2.2, 15 e^2.2] = [0.22, 135] Hz.
			rate := float64(u.Spikes) / dur
			if rate < 0.22 || rate > 135 {
				t.Errorf("%s: unit %d fires at %.2f Hz", mech, u.ID, rate)
			}
			sum += rate
		}
		if mean := sum / float64(len(s.Units)); mean < 2 || mean > 20 {
			t.Errorf("%s: mean rate %.2f Hz, want 2-20", mech, mean)
		}
		if g.Truth.Spikes != total {
			t.Errorf("%s: truth says %d spikes, session has %d", mech, g.Truth.Spikes, total)
		}
		// Events every few seconds: intervals of at least min_interval_s, 1.5 s
		// on average (the renewal process's mean; its intervals 0.5 s +
		// Exp(1 s) have a standard deviation of 1 s, and the some 79 intervals
		// of 2 minutes give a standard error of 1 / sqrt(79) = 0.11 s).
		ev := s.Events
		if len(ev) < 10 {
			t.Fatalf("%s: %d events in %v s", mech, len(ev), dur)
		}
		labels := map[string]int{}
		for i, e := range ev {
			labels[e.Label]++
			if i > 0 && e.Time-ev[i-1].Time < cfg.Events.MinIntervalS {
				t.Errorf("%s: events %v s apart", mech, e.Time-ev[i-1].Time)
			}
		}
		mean := (ev[len(ev)-1].Time - ev[0].Time) / float64(len(ev)-1)
		if mean < 1.5-3*0.11 || mean > 1.5+3*0.11 {
			t.Errorf("%s: mean event interval %.2f s, want 1.5 +- 0.33", mech, mean)
		}
		if len(labels) != 2 || labels["stim_a"] == 0 || labels["stim_b"] == 0 {
			t.Errorf("%s: event labels %v", mech, labels)
		}
		// Photometry covers the recording at 20 Hz.
		p := s.Photometry
		if p == nil || len(p.Time) != int(math.Ceil(dur*20))+1 || p.Time[0] != 0 || p.Time[len(p.Time)-1] < dur || p.Control == nil {
			t.Errorf("%s: photometry %d samples, %v-%v s", mech, len(p.Time), p.Time[0], p.Time[len(p.Time)-1])
		}
		// Truth.
		if err := g.Model.Validate(); err != nil {
			t.Error(err)
		}
		if string(g.Model.Variant) != mech || g.Model.N != cfg.Neurons || g.Model.E != 2 || g.Model.DtSeconds != dt || g.Model.TauSeconds != cfg.TauMs/1000 {
			t.Errorf("%s: model %s N %d E %d dt %v tau %v", mech, g.Model.Variant, g.Model.N, g.Model.E, g.Model.DtSeconds, g.Model.TauSeconds)
		}
		for name, rows := range map[string]int{"truth_neurons": cfg.Neurons, "truth_globals": 1, "truth_units": cfg.Neurons, "truth_ne": T} {
			if tb := g.Tables[name]; tb == nil || tb.Len() != rows {
				t.Errorf("%s: table %s missing or not %d rows", mech, name, rows)
			}
		}
		pops, _ := g.Tables["truth_units"].Int("population")
		n1 := 0
		for _, p := range pops {
			if p == 1 {
				n1++
			}
		}
		if n1 != cfg.Neurons/2 {
			t.Errorf("%s: %d neurons in population 1, want %d", mech, n1, cfg.Neurons/2)
		}
		var tr map[string]any
		if err := json.Unmarshal(g.TruthJSON, &tr); err != nil {
			t.Fatalf("%s: truth.json: %v", mech, err)
		}
		if tr["mechanism"] != mech || len(tr["population"].([]any)) != cfg.Neurons {
			t.Errorf("%s: truth.json mechanism %v, %d populations", mech, tr["mechanism"], len(tr["population"].([]any)))
		}
		for key := range regimeKeys {
			if _, ok := tr[key]; ok {
				t.Errorf("%s: truth.json has %s before SetRegimes", mech, key)
			}
		}
	}
}

// TestEventInput: the network receives each event in the bin it falls in, as the
// preprocessing counts it (floor(t / dt)); label j kicks along (-1)^j m_1, plus
// fastKick m_2 in population 2.
func TestEventInput(t *testing.T) {
	cfg := shortConfig("postgain", 2)
	dt := cfg.BinMs / 1000
	T := cfg.bins()
	ev, u := drawEvents(&cfg.Events, T, dt, rand.New(rand.NewPCG(2, streamEvents)))
	want := make([]float64, len(u))
	for _, e := range ev {
		j := sort.SearchStrings([]string{"stim_a", "stim_b"}, e.Label)
		want[int(math.Floor(e.Time/dt))*2+j]++
	}
	for i := range u {
		if u[i] != want[i] {
			t.Fatalf("input %d = %v, want %v", i, u[i], want[i])
		}
	}
	g := generate(t, cfg)
	m := g.Model
	st := cfg.Events.Strength
	for i := 0; i < m.N; i++ {
		a, b, m1, m2 := m.B[i*2], m.B[i*2+1], m.M[i*2], m.M[i*2+1]
		if g.Truth.Population[i] == 1 {
			m2 = 0 // population 1 is not kicked along m_2
		}
		// B = strength (+-m_1 + fastKick m_2 + spread noise): the noise is
		// spread x strength = 0.03 per neuron, so 5 standard deviations is 0.15.
		if math.Abs(a-st*(m1+fastKick*m2)) > 5*cfg.Events.Spread*st || math.Abs(b-st*(-m1+fastKick*m2)) > 5*cfg.Events.Spread*st {
			t.Errorf("neuron %d: B = (%v, %v), m = (%v, %v)", i, a, b, m1, m2)
		}
	}
}

// TestSpikeTimesInBins: a spike placed anywhere in bin b is counted in bin b by
// floor(t / dt), for bins up to 3 hours of 50 ms.
func TestSpikeTimesInBins(t *testing.T) {
	for _, dt := range []float64{0.05, 0.01, 0.1} {
		for _, b := range []int{0, 1, 7, 999, 12345, 216000} {
			for _, f := range []float64{0, 1e-12, 0.5, 1 - 1e-12, math.Nextafter(1, 0)} {
				if got := binOf(spikeTime(b, dt, f), dt, 1<<30); got != b {
					t.Errorf("dt %v bin %d fraction %v: counted in bin %d", dt, b, f, got)
				}
			}
		}
	}
}

// TestPoisson: the sampler's mean and variance match mu (Poisson), within 4
// standard errors over 40000 draws (SE of the mean sqrt(mu / n), of the variance
// about mu sqrt(2 / n)).
func TestPoisson(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 9))
	const n = 40000
	for _, mu := range []float64{0.05, 0.8, 3, 17.5, 60} {
		var s, ss float64
		for i := 0; i < n; i++ {
			k := float64(poisson(rng, mu))
			s += k
			ss += k * k
		}
		mean := s / n
		v := ss/n - mean*mean
		if math.Abs(mean-mu) > 4*math.Sqrt(mu/n) || math.Abs(v-mu) > 4*mu*math.Sqrt(2.0/n)+4*math.Sqrt(mu/n) {
			t.Errorf("mu %v: mean %v variance %v", mu, mean, v)
		}
	}
	if poisson(rng, 0) != 0 || poisson(rng, -1) != 0 {
		t.Error("mean <= 0 must give 0")
	}
}

// TestNECoverage: over a 20-minute session the true NE level visits all of
// [0, 1] (Phi of the smoothed OU process divided by its exact standard deviation
// is uniform): every fifth of the range holds at least 8 % of the bins (20 %
// expected; 100 time constants of 12 s make the fractions vary by about +-6 %)
// and the extremes come within 0.03 of 0 and 1 (the level decorrelates in about
// 2 x 7.5 s, so 20 minutes hold some 80 independent values, whose minimum is
// under 0.03 with probability 1 - 0.97^80 = 0.91; seeds 1-5 all reach it).
func TestNECoverage(t *testing.T) {
	cfg := Defaults()
	for seed := uint64(1); seed <= 5; seed++ {
		nu := neProcess(&cfg.NE, cfg.bins(), cfg.BinMs/1000, rand.New(rand.NewPCG(seed, streamNE)))
		var frac [5]float64
		lo, hi := 1.0, 0.0
		for _, v := range nu {
			if v < 0 || v > 1 {
				t.Fatalf("seed %d: nu = %v", seed, v)
			}
			frac[min(int(v*5), 4)] += 1 / float64(len(nu))
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		for q, f := range frac {
			if f < 0.08 {
				t.Errorf("seed %d: %.1f %% of the bins in [%.1f, %.1f)", seed, 100*f, float64(q)/5, float64(q+1)/5)
			}
		}
		if lo > 0.03 || hi < 0.97 {
			t.Errorf("seed %d: nu spans [%v, %v]", seed, lo, hi)
		}
	}
}

// TestCheckedSession: the generated session passes the importer's checks
// (recording.Check) unchanged, so the session stage can use it as it is.
func TestCheckedSession(t *testing.T) {
	g := generate(t, shortConfig("additive", 5))
	before := len(g.Session.Events)
	if err := recording.Check(g.Session); err != nil {
		t.Fatal(err)
	}
	if len(g.Session.Events) != before || g.Session.EndSeconds != 120 {
		t.Errorf("Check changed the session: %d -> %d events, end %v", before, len(g.Session.Events), g.Session.EndSeconds)
	}
}
