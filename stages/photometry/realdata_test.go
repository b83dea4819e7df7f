package photometry

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"nmdyn/stages/table"
)

// realDataDir finds ../shared/data/real from the project root (the directory
// holding go.mod, found by walking up from the test's working directory).
func realDataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
	real := filepath.Join(dir, "..", "shared", "data", "real")
	if _, err := os.Stat(real); err != nil {
		t.Skipf("real data not found at %s", real)
	}
	return real
}

// readPPD is a test-only pyPhotometry reader (the real one lives in the recording
// package): a uint16 header length, a JSON header, then uint16 samples interleaved
// ch1, ch2; analog value = (sample >> 1) * volts_per_division.
func readPPD(t *testing.T, path string) (rate float64, ch1, ch2 []float64) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	hl := int(binary.LittleEndian.Uint16(data))
	var h struct {
		SamplingRate float64   `json:"sampling_rate"`
		VPD          []float64 `json:"volts_per_division"`
	}
	if err := json.Unmarshal(data[2:2+hl], &h); err != nil {
		t.Fatal(err)
	}
	body := data[2+hl:]
	n := len(body) / 4
	ch1 = make([]float64, n)
	ch2 = make([]float64, n)
	for i := 0; i < n; i++ {
		ch1[i] = float64(binary.LittleEndian.Uint16(body[4*i:])>>1) * h.VPD[0]
		ch2[i] = float64(binary.LittleEndian.Uint16(body[4*i+2:])>>1) * h.VPD[1]
	}
	return h.SamplingRate, ch1, ch2
}

func TestPyPhotometryReferenceRecipe(t *testing.T) {
	if testing.Short() {
		t.Skip("reads and fits a 705,249-sample recording")
	}
	path := filepath.Join(realDataDir(t), "pyphotometry_ppd", "m53_NAc_L-2019-11-24-093939.ppd")
	rate, sig, ctl := readPPD(t, path)
	if len(sig) != 705249 {
		t.Fatalf("%d samples per channel, the data README says 705,249", len(sig))
	}
	tt := make([]float64, len(sig))
	for i := range tt {
		tt[i] = float64(i) / rate
	}
	// The data README's reference recipe (Akam & Walton's notebook): 10 Hz
	// zero-phase low-pass, double-exponential bleaching fit, OLS of the detrended
	// control on the detrended signal: slope 0.2322, dF/F std 0.974 %. The slope
	// is only reproducible to ~2 %: the detrended channels correlate weakly (r ~
	// 0.24), so the slope depends on the slow trends, and the reference's trend
	// came from scipy's curve_fit (trust-region, its own parameterisation and
	// iteration limit) where ours is the exact least-squares optimum under the same
	// 10 h bound on the time constants: 0.2287 here.
	r, err := Correct(tt, sig, ctl, &Settings{Method: MethodOLS, LowpassHz: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("slope %.4f intercept %.3g r %.4f dF/F std %.4f %%; bleach %+v %+v", r.Fit.Slope, r.Fit.Intercept, r.Fit.R, 100*r.QC.DFFStd, r.SignalBleach, r.ControlBleach)
	if math.Abs(r.Fit.Slope-0.2322) > 0.02*0.2322 {
		t.Errorf("motion slope %.4f, the reference recipe gives 0.2322 (want within 2 %%)", r.Fit.Slope)
	}
	if math.Abs(100*r.QC.DFFStd-0.974) > 0.01 {
		t.Errorf("dF/F std %.4f %%, the reference recipe gives 0.974 %%", 100*r.QC.DFFStd)
	}
}

func TestNeurophotometricsRegion1GFit(t *testing.T) {
	// Data README: Region1G, 415 nm (Flags & 7 == 1) -> 470 nm (Flags & 7 == 2)
	// after dropping the first 100 pairs: OLS slope 0.379, IRLS (Tukey bisquare)
	// 0.378, r = 0.997 (raw channels, no detrending).
	path := filepath.Join(realDataDir(t), "neurophotometrics_pqt", "_neurophotometrics_fpData.raw.pqt")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	tb, err := table.ReadParquet(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	flags, err := tb.Int("Flags")
	if err != nil {
		t.Fatal(err)
	}
	g, err := tb.Float("Region1G")
	if err != nil {
		t.Fatal(err)
	}
	var iso, sig []float64
	for i, fl := range flags {
		switch fl & 7 {
		case 1:
			iso = append(iso, g[i])
		case 2:
			sig = append(sig, g[i])
		}
	}
	n := min(len(iso), len(sig))
	iso, sig = iso[100:n], sig[100:n]
	for _, c := range []struct {
		method string
		slope  float64
	}{{MethodOLS, 0.379}, {MethodIRLS, 0.378}} {
		fit, err := FitControl(iso, sig, c.method)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: slope %.5f intercept %.5g r %.5f n %d", c.method, fit.Slope, fit.Intercept, fit.R, fit.N)
		if math.Abs(fit.Slope-c.slope) > 0.0005 || math.Abs(fit.R-0.997) > 0.0005 {
			t.Errorf("%s slope %.4f r %.4f, the data README says %.3f and 0.997", c.method, fit.Slope, fit.R, c.slope)
		}
	}
}
