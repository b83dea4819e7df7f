package photometry

import (
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
)

func TestButterworthGain(t *testing.T) {
	// A 2nd-order Butterworth filter has |H| = 1/sqrt(2) at its cut-off by
	// definition, gain 1 at DC (low-pass) or Nyquist (high-pass), 0 at the other end.
	const rate, fc = 100.0, 5.0
	lp, hp := ButterLowpass(fc, rate), ButterHighpass(fc, rate)
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"lowpass DC", lp.Gain(0, rate), 1},
		{"lowpass cutoff", lp.Gain(fc, rate), 1 / math.Sqrt2},
		{"lowpass Nyquist", lp.Gain(rate/2, rate), 0},
		{"highpass DC", hp.Gain(0, rate), 0},
		{"highpass cutoff", hp.Gain(fc, rate), 1 / math.Sqrt2},
		{"highpass Nyquist", hp.Gain(rate/2, rate), 1},
	} {
		if math.Abs(c.got-c.want) > 1e-12 {
			t.Errorf("%s: gain %.15g, want %.15g", c.name, c.got, c.want)
		}
	}
	// Coefficients of scipy.signal.butter(2, 0.1) (cut-off 0.05 of the rate), as
	// printed by scipy: b = [0.02008337, 0.04016673, 0.02008337],
	// a = [1, -1.56101808, 0.64135154].
	q := ButterLowpass(5, 100)
	for _, c := range [][2]float64{{q.B0, 0.02008337}, {q.B1, 0.04016673}, {q.A1, -1.56101808}, {q.A2, 0.64135154}} {
		if math.Abs(c[0]-c[1]) > 1e-8 {
			t.Errorf("coefficient %.10f, want %.8f", c[0], c[1])
		}
	}
}

func TestFiltFiltZeroPhase(t *testing.T) {
	// Forward-backward filtering has amplitude response |H|^2 and no phase shift:
	// a sine at the cut-off comes out at half its amplitude and in phase (checked
	// away from the ends, where the start-up transients live).
	const rate, fc = 100.0, 2.0
	n := 20000
	x := make([]float64, n)
	for i := range x {
		x[i] = math.Sin(2 * math.Pi * fc * float64(i) / rate)
	}
	y := ButterLowpass(fc, rate).FiltFilt(x)
	var sxy, sxx float64
	for i := n / 4; i < 3*n/4; i++ {
		sxy += x[i] * y[i]
		sxx += x[i] * x[i]
	}
	gain := sxy / sxx // projection on the input: amplitude times cos(phase)
	if math.Abs(gain-0.5) > 1e-3 {
		t.Errorf("filtfilt gain at cut-off %.5f, want 0.5", gain)
	}
	var resid float64
	for i := n / 4; i < 3*n/4; i++ {
		resid = math.Max(resid, math.Abs(y[i]-0.5*x[i]))
	}
	if resid > 1e-3 {
		t.Errorf("filtfilt output differs from 0.5 x (no phase shift) by %.2g", resid)
	}
	// A constant passes a low-pass unchanged, including at the ends (steady-state
	// initial conditions).
	c := make([]float64, 100)
	for i := range c {
		c[i] = 3.5
	}
	for i, v := range ButterLowpass(fc, rate).FiltFilt(c) {
		if math.Abs(v-3.5) > 1e-12 {
			t.Fatalf("constant 3.5 filtered to %v at %d", v, i)
		}
	}
}

func TestMedian(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 10, 17, 100, 1001, 5000} {
		x := make([]float64, n)
		for i := range x {
			x[i] = math.Floor(rng.NormFloat64() * 5) // ties on purpose
		}
		s := append([]float64(nil), x...)
		sort.Float64s(s)
		want := s[n/2]
		if n%2 == 0 {
			want = (s[n/2-1] + s[n/2]) / 2
		}
		if got := Median(x); got != want {
			t.Errorf("n=%d: median %v, want %v (from a sort)", n, got, want)
		}
	}
}

// line returns control x and signal y = a + b x + noise.
func line(n int, a, b, noise float64, seed uint64) (x, y []float64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	x = make([]float64, n)
	y = make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
		y[i] = a + b*x[i] + noise*rng.NormFloat64()
	}
	return x, y
}

func TestRobustFitIgnoresControlOutliers(t *testing.T) {
	x, y := line(5000, 0.5, 0.8, 0.3, 1)
	clean, err := FitControl(x, y, MethodOLS)
	if err != nil {
		t.Fatal(err)
	}
	// Gross artefacts seen only in the control channel: 8 samples 40 standard
	// deviations out (e.g. a cable bump on the isosbestic LED).
	for _, i := range []int{100, 900, 1500, 2222, 3000, 3100, 4000, 4999} {
		x[i] += 40
	}
	ols, err := FitControl(x, y, MethodOLS)
	if err != nil {
		t.Fatal(err)
	}
	irls, err := FitControl(x, y, MethodIRLS)
	if err != nil {
		t.Fatal(err)
	}
	relErr := func(b float64) float64 { return math.Abs(b-clean.Slope) / clean.Slope }
	t.Logf("clean OLS slope %.4f, OLS with outliers %.4f, IRLS with outliers %.4f (%d iterations, %d used)",
		clean.Slope, ols.Slope, irls.Slope, irls.Iterations, irls.N)
	if relErr(irls.Slope) > 0.02 {
		t.Errorf("IRLS slope %.4f is %.1f %% from the clean slope %.4f, want <= 2 %%", irls.Slope, 100*relErr(irls.Slope), clean.Slope)
	}
	if relErr(ols.Slope) <= 0.02 {
		t.Errorf("OLS slope %.4f is within 2 %% of the clean slope: the test's outliers are not gross enough", ols.Slope)
	}
	if !irls.Converged || irls.N != len(x)-8 {
		t.Errorf("IRLS converged=%v with %d samples weighted, want the 8 outliers at weight 0 (%d)", irls.Converged, irls.N, len(x)-8)
	}
}

func TestIRLSMatchesOLSOnCleanData(t *testing.T) {
	// Without outliers the bisquare down-weights only the normal tails: its
	// efficiency at the normal is 95 %, so the two slopes agree to a fraction of
	// the OLS standard error (0.3/sqrt(5000) = 0.004).
	x, y := line(5000, -1, 2, 0.3, 3)
	ols, _ := FitControl(x, y, MethodOLS)
	irls, err := FitControl(x, y, MethodIRLS)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(irls.Slope-ols.Slope) > 0.004 || math.Abs(irls.Intercept-ols.Intercept) > 0.004 {
		t.Errorf("IRLS (%.4f, %.4f) vs OLS (%.4f, %.4f)", irls.Intercept, irls.Slope, ols.Intercept, ols.Slope)
	}
	if math.Abs(irls.Scale-0.3)/0.3 > 0.05 {
		t.Errorf("robust scale %.4f, want the noise sd 0.3 within 5 %%", irls.Scale)
	}
}

func TestFitDoubleExpRecoversTrend(t *testing.T) {
	// Noise-free double exponential over an hour at 10 Hz: the fitted curve must
	// match it to 1e-5 of its level everywhere.
	want := DoubleExp{C: 1, A1: 0.2, A2: 0.3, Tau1: 300, Tau2: 3000, T0: 5}
	n := 36000
	tt := make([]float64, n)
	y := make([]float64, n)
	for i := range tt {
		tt[i] = 5 + float64(i)/10
		y[i] = want.At(tt[i])
	}
	got, err := FitDoubleExp(tt, y)
	if err != nil {
		t.Fatal(err)
	}
	var worst float64
	for i := range tt {
		worst = math.Max(worst, math.Abs(got.At(tt[i])-y[i]))
	}
	if worst > 1e-5 {
		t.Errorf("fit %+v differs from the truth by up to %.2g", got, worst)
	}
}

// synthetic builds a photometry session: signal = baseline_s (1 + dff) + k motion,
// control = baseline_c + motion, both with a little noise.
func synthetic(n int, rate, k float64, seed uint64) (t, sig, ctl, dff []float64) {
	rng := rand.New(rand.NewPCG(seed, 11))
	t = make([]float64, n)
	sig = make([]float64, n)
	ctl = make([]float64, n)
	dff = make([]float64, n)
	var motion, slow float64
	for i := range t {
		t[i] = float64(i) / rate
		// slow NE-like fluctuation (AR(1) with 5 s time constant) and faster motion
		slow += (-slow/5 + 0.01*rng.NormFloat64()*math.Sqrt(rate)) / rate
		motion += (-motion/0.5 + 0.2*rng.NormFloat64()*math.Sqrt(rate)) / rate
		dff[i] = slow
		bs := 2 + 0.5*math.Exp(-t[i]/200) + 0.3*math.Exp(-t[i]/1500)
		bc := 1.5 + 0.2*math.Exp(-t[i]/400)
		sig[i] = bs*(1+dff[i]) + k*motion + 0.001*rng.NormFloat64()
		ctl[i] = bc + motion + 0.001*rng.NormFloat64()
	}
	return
}

func TestCorrectRecoversDFF(t *testing.T) {
	tt, sig, ctl, dff := synthetic(36000, 20, 0.6, 5)
	// The motion enters the signal with slope 0.6, but over a finite trace the NE
	// fluctuation correlates with the motion by chance, so the best any regression
	// can do is the OLS slope of the true detrended signal on the true motion
	// (computed here from the simulation's own components).
	var mot, det []float64
	for i := range tt {
		bs := 2 + 0.5*math.Exp(-tt[i]/200) + 0.3*math.Exp(-tt[i]/1500)
		bc := 1.5 + 0.2*math.Exp(-tt[i]/400)
		mot = append(mot, ctl[i]-bc)
		det = append(det, sig[i]-bs)
	}
	oracle, _ := FitControl(mot, det, MethodOLS)
	ols, err := Correct(tt, sig, ctl, &Settings{Method: MethodOLS})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(ols.Fit.Slope-oracle.Slope) > 0.01 {
		t.Errorf("OLS control slope %.4f, want %.4f (regression on the true components)", ols.Fit.Slope, oracle.Slope)
	}
	r, err := Correct(tt, sig, ctl, nil)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(r.Fit.Slope-0.6) > 0.05 {
		t.Errorf("IRLS control slope %.4f, want 0.6 (the simulated coupling) within 0.05", r.Fit.Slope)
	}
	t.Logf("slopes: true 0.6, oracle %.4f, OLS %.4f, IRLS %.4f", oracle.Slope, ols.Fit.Slope, r.Fit.Slope)
	// The bleaching fit cannot tell slow NE drifts (and motion) from bleaching
	// over a 30 min trace (its squared error is below that of the true trend: 166
	// vs 169 at seed 5), so part of the slow fluctuation goes with the trend.
	if c := pearson(r.DFF, dff); c < 0.95 {
		t.Errorf("corrected dF/F correlates %.4f with the true dF/F, want >= 0.95", c)
	}
	for i, v := range r.NE {
		if v < 0 || v > 1 {
			t.Fatalf("NE %v at %d outside [0, 1]", v, i)
		}
	}
	if r.Fit.Method != MethodIRLS || len(r.Notes) != 0 {
		t.Errorf("method %q notes %q", r.Fit.Method, r.Notes)
	}
	// Without the control channel the motion stays in: worse, and said so.
	r2, err := Correct(tt, sig, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r2.Notes) != 1 || !strings.Contains(r2.Notes[0], "no control channel") {
		t.Errorf("notes without control: %q", r2.Notes)
	}
	if r2.Fit.Method != MethodNone || pearson(r2.DFF, dff) >= pearson(r.DFF, dff) {
		t.Errorf("without control: method %q, r %.4f (with control %.4f)", r2.Fit.Method, pearson(r2.DFF, dff), pearson(r.DFF, dff))
	}
	// The high-pass option gives a similar answer on this slow-bleaching trace.
	r3, err := Correct(tt, sig, ctl, &Settings{Bleaching: BleachHighpass, HighpassHz: 0.005})
	if err != nil {
		t.Fatal(err)
	}
	if c := pearson(r3.DFF, dff); c < 0.95 {
		t.Errorf("high-pass bleaching: dF/F correlates %.4f with the truth, want >= 0.95", c)
	}
}

func TestCorrectRejectsBadInput(t *testing.T) {
	tt, sig, ctl, _ := synthetic(100, 20, 0.5, 1)
	bad := append([]float64(nil), sig...)
	bad[10] = math.NaN()
	back := append([]float64(nil), tt...)
	back[50] = back[49]
	for _, c := range []struct {
		name     string
		t, s, c  []float64
		set      *Settings
		contains string
	}{
		{"nan", tt, bad, ctl, nil, "sample 10 is not finite"},
		{"time", back, sig, ctl, nil, "does not follow"},
		{"method", tt, sig, ctl, &Settings{Method: "lasso"}, "unknown control fit method"},
		{"length", tt, sig[:50], ctl, nil, "100 times, 50 signal"},
	} {
		_, err := Correct(c.t, c.s, c.c, c.set)
		if err == nil || !strings.Contains(err.Error(), c.contains) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.contains)
		}
	}
}

func TestResampleAndLevel(t *testing.T) {
	tt := []float64{0, 0.1, 0.2, 0.3, 0.4, 0.5}
	v := []float64{0, 1, 2, 3, 4, 5}
	// bins [0,0.25): samples 0,1,2 -> 1; [0.25,0.3): none, centre 0.275 -> 2.75 by
	// interpolation; [0.3,0.6): 3,4,5 -> 4; [0.6,1): beyond the end -> 5.
	got := Resample(tt, v, []float64{0, 0.25, 0.3, 0.6, 1})
	want := []float64{1, 2.75, 4, 5}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Errorf("bin %d: %v, want %v", i, got[i], want[i])
		}
	}
	// numpy.percentile(range(1, 11), [25, 75]) = [3.25, 7.75].
	l := NewLevel([]float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1, math.NaN()}, 25, 75)
	if l.Lo != 3.25 || l.Hi != 7.75 {
		t.Errorf("level %+v, want Lo 3.25 Hi 7.75", l)
	}
	ne := l.Apply(nil, []float64{1, 3.25, 5.5, 7.75, 10, math.NaN()})
	for i, w := range []float64{0, 0, 0.5, 1, 1} {
		if ne[i] != w {
			t.Errorf("level(%d) = %v, want %v", i, ne[i], w)
		}
	}
	if !math.IsNaN(ne[5]) {
		t.Errorf("NaN maps to %v", ne[5])
	}
}
