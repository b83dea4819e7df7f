package predict

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"nmdyn/stages/table"
)

func TestMeanMatchedFanoExact(t *testing.T) {
	// Means sit at histogram bin centres (max 9.5, 10 bins of width 0.95... the
	// values 0.5, 4.5, 9.5 fall in bins 0, 4 and 9), and every neuron has
	// variance m + 0.2 m^2 (supra-Poisson, growing faster than the mean), so the
	// raw Fano factor rises with the share of high-rate neurons. NE bin 0 has
	// 4/2/1 neurons at the three means, bin 1 has 1/2/4: the greatest common
	// distribution is 1/2/1, and every matched draw keeps neurons with the same
	// means, so both bins' matched factor is exactly
	//   (0.5 + 0.05 + 2 (4.5 + 4.05) + 9.5 + 18.05) / (0.5 + 2 * 4.5 + 9.5) = 45.2 / 19.
	vals := [][]float64{{0.5, 0.5, 0.5, 0.5, 4.5, 4.5, 9.5}, {0.5, 4.5, 4.5, 9.5, 9.5, 9.5, 9.5}}
	means := make([][]float64, 2)
	vars := make([][]float64, 2)
	for j, v := range vals {
		means[j] = v
		for _, m := range v {
			vars[j] = append(vars[j], m+0.2*m*m)
		}
	}
	fano, kept := meanMatchedFano(means, vars, 10, 7, rand.New(rand.NewPCG(1, 2)))
	want := 45.2 / 19
	for j := range fano {
		if math.Abs(fano[j]-want) > 1e-12 || kept[j] != 4 {
			t.Errorf("NE bin %d: matched Fano %v from %d neurons, want %v from 4", j, fano[j], kept[j], want)
		}
	}
	// Raw factors differ: bin 0 (sum var / sum mean) = (4*0.55 + 2*8.55 + 27.55) / 20.5.
	raw0 := (4*0.55 + 2*8.55 + 27.55) / 20.5
	raw1 := (0.55 + 2*8.55 + 4*27.55) / 47.5
	if math.Abs(raw0-raw1) < 0.3 { // 2.285 vs 2.692
		t.Fatalf("the example does not separate the raw factors (%v vs %v)", raw0, raw1)
	}
}

func TestFanoPoissonIsOne(t *testing.T) {
	// Constant-rate Poisson neurons (no shared fluctuation, no event effect): the
	// Fano factor of a Poisson count is 1 (its variance equals its mean), and the
	// z-scored projection on any unit direction has variance 1 with no shared part.
	rec := synthRecording(synthConfig{seed: 3, minutes: 12, neurons: 40,
		kick: func(float64) float64 { return 0 }, slowSD: func(float64) float64 { return 0 }})
	res, err := Analyze(context.Background(), rec, testSettings(), 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	for j, b := range res.Bins {
		for _, c := range []struct {
			name string
			got  float64
			want float64
			sem  float64
		}{
			{FanoMM, b.Value[FanoMM], 1, b.SEM[FanoMM]},
			{"fano_raw", b.FanoRaw, 1, b.SEM[FanoMM]},
			{SlowVar, b.Value[SlowVar], 1, b.SEM[SlowVar]},
			{SlowShared, b.Value[SlowShared], 0, b.SEM[SlowShared]},
		} {
			// 4 SEM, and the SEM itself is small: about sqrt(2 / 200) = 0.1 for a
			// variance from some 200 windows per NE bin, a few percent for the Fano
			// factor, which pools 40 neurons.
			if math.Abs(c.got-c.want) > 4*c.sem || !(c.sem < 0.15) {
				t.Errorf("NE bin %d: %s = %.4f +- %.4f, want %v", j, c.name, c.got, c.sem, c.want)
			}
		}
		if b.Matched < 10 {
			t.Errorf("NE bin %d: only %d neurons kept by the mean matching", j, b.Matched)
		}
	}
}

// fitOf fails the test when a measure has no fit.
func fitOf(t *testing.T, res *Result, m string) Fit {
	t.Helper()
	f, ok := res.FitOf(m)
	if !ok {
		t.Fatalf("no fit of %s", m)
	}
	return f
}

func TestInvertedUDetected(t *testing.T) {
	// Event kicks and shared fluctuations both peak at nu = 1/2: every measure has
	// an inverted U whose peak is at 1/2 (the NE bins' means are about 0.1, 0.3,
	// ..., 0.9 for a uniform NE), found with the smallest p-value 500 shifts allow.
	rec := synthRecording(synthConfig{seed: 1, minutes: 20, neurons: 40,
		kick:   func(nu float64) float64 { return 0.2 + 1.2*bump(nu) },
		slowSD: func(nu float64) float64 { return 0.05 + 0.6*bump(nu) }})
	set := testSettings()
	res, err := Analyze(context.Background(), rec, set, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range measures {
		f := fitOf(t, res, m)
		t.Logf("%-14s c=%8.3f vertex %.3f ci [%.3f, %.3f] p %.4f boot-inverted %.2f", m, f.C, f.Vertex, f.CILo, f.CIHi, f.PValue, f.BootInvertedU)
		if !f.InvertedU || math.Abs(f.Peak-0.5) > 0.1 || !(f.CILo < 0.5 && f.CIHi > 0.5) || f.PValue > 0.01 {
			t.Errorf("%s: inverted %v peak %.3f CI [%.3f, %.3f] p %.4f, want an inverted U at 0.5 +- 0.1 with the CI around 0.5 and p <= 0.01",
				m, f.InvertedU, f.Peak, f.CILo, f.CIHi, f.PValue)
		}
	}
	// The null: one row per shift and measure, every shift at least a minute
	// from the true alignment either way.
	if len(res.Null) != len(measures)*set.Shifts {
		t.Fatalf("%d null rows, want %d", len(res.Null), len(measures)*set.Shifts)
	}
	dur := float64(rec.T()) * rec.DtSeconds
	for _, r := range res.Null {
		if r.ShiftS < set.MinShiftS-1e-9 || r.ShiftS > dur-set.MinShiftS+1e-9 {
			t.Fatalf("shift %v s outside [%v, %v]", r.ShiftS, set.MinShiftS, dur-set.MinShiftS)
		}
	}
}

func TestNoInvertedUWithoutNE(t *testing.T) {
	// The same recording without NE dependence: over 5 seeds, each measure may be
	// a false positive at most once (at the 5 % level, 2 or more of 5 has
	// probability 2.3 %).
	set := testSettings()
	falsePos := map[string]int{}
	for seed := uint64(1); seed <= 5; seed++ {
		rec := synthRecording(synthConfig{seed: 10 + seed, minutes: 15, neurons: 40,
			kick:   func(float64) float64 { return 0.8 },
			slowSD: func(float64) float64 { return 0.4 }})
		res, err := Analyze(context.Background(), rec, set, 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range measures {
			f := fitOf(t, res, m)
			if f.InvertedU {
				falsePos[m]++
			}
			if f.PValue < 1/float64(set.Shifts+1)-1e-12 || f.PValue > 1 {
				t.Errorf("seed %d %s: p = %v outside [1/501, 1]", seed, m, f.PValue)
			}
		}
	}
	for _, m := range measures {
		t.Logf("%s: %d false positives of 5", m, falsePos[m])
		if falsePos[m] > 1 {
			t.Errorf("%s: %d false positives of 5 seeds", m, falsePos[m])
		}
	}
}

// resultBytes encodes every table of a result, for bitwise comparisons.
func resultBytes(t *testing.T, res *Result) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, tb := range []*table.Table{binsTable(res), fitsTable(res), nullTable(res)} {
		if err := table.WriteParquet(&buf, tb); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestAnalyzeDeterministic(t *testing.T) {
	// The same seed gives the same bytes on 1 and 3 goroutines; another seed
	// gives other bootstrap and null draws.
	rec := synthRecording(synthConfig{seed: 5, minutes: 8, neurons: 20,
		kick: func(nu float64) float64 { return bump(nu) }, slowSD: func(nu float64) float64 { return 0.3 }})
	set := testSettings()
	run := func(threads int, seed uint64) []byte {
		s := set
		s.Seed = seed
		res, err := Analyze(context.Background(), rec, s, threads, nil)
		if err != nil {
			t.Fatal(err)
		}
		return resultBytes(t, res)
	}
	a, b := run(1, 1), run(3, 1)
	if !bytes.Equal(a, b) {
		t.Fatal("results differ between 1 and 3 goroutines")
	}
	if bytes.Equal(a, run(3, 2)) {
		t.Fatal("seed 2 gives the same bytes as seed 1")
	}
}

func TestAnalyzeErrors(t *testing.T) {
	rec := synthRecording(synthConfig{seed: 5, minutes: 1.5, neurons: 5,
		kick: func(float64) float64 { return 0 }, slowSD: func(float64) float64 { return 0 }})
	// 90 s leave no shift of at least 60 s either way: shifts of at least a
	// quarter of the recording are used instead, and a note says so.
	res, err := Analyze(context.Background(), rec, testSettings(), 1, nil)
	if err != nil {
		t.Fatalf("short recording: %v", err)
	}
	if !strings.Contains(strings.Join(res.Notes, "; "), "too short for circular shifts") {
		t.Errorf("no note about the shortened shifts: %v", res.Notes)
	}
	bad := *rec
	bad.Nu = append([]float64(nil), rec.Nu...)
	bad.Nu[7] = math.NaN()
	if _, err := Analyze(context.Background(), &bad, testSettings(), 1, nil); err == nil {
		t.Error("no error for a NaN NE level")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	long := synthRecording(synthConfig{seed: 5, minutes: 5, neurons: 5,
		kick: func(float64) float64 { return 0 }, slowSD: func(float64) float64 { return 0 }})
	if _, err := Analyze(ctx, long, testSettings(), 1, nil); err == nil {
		t.Error("no error after cancellation")
	}
}

func TestNoEventsNoSlowDirection(t *testing.T) {
	// Without events, responsiveness is undefined (NaN, never an inverted U);
	// without a slow direction, so are the slow-mode measures; the Fano factor
	// is still computed.
	rec := synthRecording(synthConfig{seed: 4, minutes: 6, neurons: 10, noEvents: true,
		kick: func(float64) float64 { return 0 }, slowSD: func(float64) float64 { return 0.2 }})
	rec.SlowDir = nil
	res, err := Analyze(context.Background(), rec, testSettings(), 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{Responsiveness, SlowVar, SlowShared} {
		f := fitOf(t, res, m)
		if f.InvertedU || !math.IsNaN(f.PValue) || !math.IsNaN(res.Bins[0].Value[m]) {
			t.Errorf("%s: inverted %v p %v value %v, want false, NaN, NaN", m, f.InvertedU, f.PValue, res.Bins[0].Value[m])
		}
	}
	if f := fitOf(t, res, FanoMM); math.IsNaN(f.PValue) {
		t.Error("Fano factor not tested")
	}
	if len(res.Notes) != 2 {
		t.Errorf("notes %q, want two (no events, no slow direction)", res.Notes)
	}
}
