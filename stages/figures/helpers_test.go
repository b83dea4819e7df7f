package figures

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"nmdyn/stages/plotting"
)

func TestRoundTable(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 10000; i++ {
		v := (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(30)-15))
		got := roundTable(v)
		// 11 significant digits: at most half a unit of the 11th digit, 5e-11
		// relative to a leading digit of 1.
		if rel := math.Abs(got-v) / math.Abs(v); rel > 5e-11 {
			t.Fatalf("roundTable(%v) = %v: relative change %g > 5e-11", v, got, rel)
		}
	}
	for _, v := range []float64{0, math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got := roundTable(v); !(got == v || (math.IsNaN(got) && math.IsNaN(v))) {
			t.Errorf("roundTable(%v) = %v", v, got)
		}
	}
	if got := roundTable(0.1 + 0.2); got != 0.3 {
		t.Errorf("roundTable(0.1+0.2) = %v, want 0.3", got)
	}
}

func TestNiceTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		labels []string
	}{
		{0, 1, []string{"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"}},
		{300, 330, []string{"300", "305", "310", "315", "320", "325", "330"}},
		{-0.0035, 0.0005, []string{"-0.003", "-0.002", "-0.001", "0.000"}},
		{0, 1200, []string{"0", "200", "400", "600", "800", "1000", "1200"}},
		{2700, 3300, []string{"2700", "2800", "2900", "3000", "3100", "3200", "3300"}},
		{-0.1, 0.1, []string{"-0.10", "-0.05", "0.00", "0.05", "0.10"}},
	} {
		var labels []string
		for _, tk := range (plotting.NiceTicks{}).Ticks(tc.lo, tc.hi) {
			if tk.Label != "" {
				labels = append(labels, tk.Label)
			}
		}
		if !slices.Equal(labels, tc.labels) {
			t.Errorf("NiceTicks(%v, %v) labels %q, want %q", tc.lo, tc.hi, labels, tc.labels)
		}
	}
}

func TestRegimeRuns(t *testing.T) {
	nu := []float64{0.5, 0, 0.25, 1, 0.75}
	reg := []string{"line attractor", "single fixed point", "line attractor", "single fixed point", "line attractor"}
	got := regimeRuns(nu, reg, sortedIndex(nu))
	want := []regimeRun{{"single fixed point", 0, 0.125}, {"line attractor", 0.125, 0.875}, {"single fixed point", 0.875, 1}}
	if !slices.Equal(got, want) {
		t.Errorf("regimeRuns = %v, want %v", got, want)
	}
}

func TestDecimateAndSmooth(t *testing.T) {
	x := make([]float64, 1001)
	y := make([]float64, 1001)
	for i := range x {
		x[i], y[i] = float64(i), 2*float64(i)+1
	}
	dx, dy := decimate(x, y, 100)
	// ceil(1001/100) = 11 points per block: 91 blocks (91 x 11 = 1001), the first
	// x = 0..10 (mean 5), the last 990..1000 (mean 995).
	if len(dx) != 91 || dx[0] != 5 || dy[0] != 11 || dx[90] != 995 {
		t.Errorf("decimate: %d points, first (%v, %v), last x %v; want 91, (5, 11), 995", len(dx), dx[0], dy[0], dx[90])
	}
	// A linear series is unchanged by a symmetric kernel away from the ends, and a
	// constant one everywhere (the kernel is renormalised at the ends).
	s := smooth(y, 4)
	if math.Abs(s[500]-y[500]) > 1e-9 {
		t.Errorf("smooth moved a linear series at its middle: %v vs %v", s[500], y[500])
	}
	c := smooth([]float64{3, 3, 3, 3, 3}, 2)
	for _, v := range c {
		if math.Abs(v-3) > 1e-12 {
			t.Errorf("smooth of a constant: %v", c)
		}
	}
}

func TestSpeedClasses(t *testing.T) {
	d := newPlotData()
	for i := 1; i <= 100; i++ {
		d.addZ("flow a", "flow", 0, 0, float64(i)/100) // speeds 0.01 .. 1
	}
	cl := speedClasses(d, []string{"flow a"})
	// Quintiles 0.2, 0.4, 0.6, 0.8 rounded to 1-2-5: 0.2, 0.5 (0.4 rounds up), 0.5
	// (dropped, equal), 1 (0.8 rounds up).
	var edges []float64
	for _, c := range cl {
		edges = append(edges, c.lo)
	}
	if want := []float64{0, 0.2, 0.5, 1}; !slices.Equal(edges, want) {
		t.Errorf("class edges %v, want %v", edges, want)
	}
	if !math.IsInf(cl[len(cl)-1].hi, 1) || cl[0].label() != "< 0.2" || cl[len(cl)-1].label() != "≥ 1" {
		t.Errorf("classes %+v", cl)
	}
}

func TestWrap(t *testing.T) {
	got := plotting.Wrap("not available: the session has no events at all", 20)
	if want := "not available: the\nsession has no\nevents at all"; got != want {
		t.Errorf("Wrap = %q, want %q", got, want)
	}
}
