package predict

import (
	"math"
	"testing"
)

func TestFitQuadraticExact(t *testing.T) {
	// y = 1 + 2 nu - 4 nu^2 sampled without noise: the fit must return the
	// coefficients (any weights), vertex -2 / (2 * -4) = 0.25.
	x := []float64{0.1, 0.3, 0.5, 0.7, 0.9}
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = 1 + 2*v - 4*v*v
	}
	for _, w := range [][]float64{nil, {1, 2, 3, 4, 5}} {
		q := FitQuadratic(x, y, w)
		if !q.OK || math.Abs(q.A-1) > 1e-12 || math.Abs(q.B-2) > 1e-12 || math.Abs(q.C+4) > 1e-12 {
			t.Fatalf("weights %v: fit %+v, want a=1 b=2 c=-4", w, q)
		}
		if math.Abs(q.Vertex()-0.25) > 1e-12 || !q.InvertedU() || math.Abs(q.Peak()-0.25) > 1e-12 {
			t.Fatalf("vertex %v peak %v inverted %v, want 0.25, 0.25, true", q.Vertex(), q.Peak(), q.InvertedU())
		}
		// Peak height: y(0.25) = 1.25, ends y(0.1) = 1.16, y(0.9) = -0.44.
		if math.Abs(q.PeakHeight()-(1.25-1.16)) > 1e-12 {
			t.Fatalf("peak height %v, want 0.09", q.PeakHeight())
		}
	}
}

func TestFitQuadraticWeightsAndGaps(t *testing.T) {
	// A NaN point and a zero weight are left out; the other three define the
	// parabola through them exactly: through (0,0), (0.5,1), (1,0) is y = 4 nu - 4 nu^2.
	x := []float64{0, 0.25, 0.5, 0.75, 1}
	y := []float64{0, math.NaN(), 1, 99, 0}
	w := []float64{1, 1, 1, 0, 1}
	q := FitQuadratic(x, y, w)
	if !q.OK || math.Abs(q.B-4) > 1e-12 || math.Abs(q.C+4) > 1e-12 || math.Abs(q.A) > 1e-12 {
		t.Fatalf("fit %+v, want a=0 b=4 c=-4", q)
	}
	// Two usable points cannot fix a quadratic.
	q = FitQuadratic(x, []float64{0, math.NaN(), 1, math.NaN(), math.NaN()}, nil)
	if q.OK || !math.IsNaN(q.Peak()) || !math.IsNaN(q.PeakHeight()) || q.InvertedU() {
		t.Fatalf("fit from 2 points: %+v OK, want not OK and NaN peak", q)
	}
}

func TestPeakWithoutInvertedU(t *testing.T) {
	x := []float64{0.1, 0.3, 0.5, 0.7, 0.9}
	cases := []struct {
		name string
		f    func(float64) float64
		peak float64
	}{
		{"U shape: the higher end", func(v float64) float64 { return (v - 0.45) * (v - 0.45) }, 0.9},
		{"concave, vertex left of range", func(v float64) float64 { return -(v + 1) * (v + 1) }, 0.1},
		{"rising line", func(v float64) float64 { return 3 * v }, 0.9},
	}
	for _, c := range cases {
		y := make([]float64, len(x))
		for i, v := range x {
			y[i] = c.f(v)
		}
		q := FitQuadratic(x, y, nil)
		if q.InvertedU() || q.PeakHeight() != 0 || math.Abs(q.Peak()-c.peak) > 1e-12 {
			t.Errorf("%s: inverted %v height %v peak %v, want false, 0, %v", c.name, q.InvertedU(), q.PeakHeight(), q.Peak(), c.peak)
		}
	}
}

func TestQuantile(t *testing.T) {
	// numpy.quantile([1, 2, 3, 4], [0, 0.25, 0.5, 1]) = [1, 1.75, 2.5, 4].
	for q, want := range map[float64]float64{0: 1, 0.25: 1.75, 0.5: 2.5, 1: 4} {
		if got := quantile([]float64{4, 2, 1, 3}, q); math.Abs(got-want) > 1e-12 {
			t.Errorf("quantile %v = %v, want %v", q, got, want)
		}
	}
	if !math.IsNaN(quantile(nil, 0.5)) {
		t.Error("quantile of nothing is not NaN")
	}
}

func TestPeakOf(t *testing.T) {
	// A parabola sampled on a grid: the 3-point refinement recovers its vertex
	// exactly (0.43, between grid points).
	grid := make([]float64, 21)
	y := make([]float64, 21)
	for i := range grid {
		grid[i] = float64(i) / 20
		y[i] = -(grid[i] - 0.43) * (grid[i] - 0.43)
	}
	if p := PeakOf(grid, y); math.Abs(p-0.43) > 1e-9 {
		t.Fatalf("PeakOf = %v, want 0.43", p)
	}
	y[0] = math.NaN()
	y[20] = 5
	if p := PeakOf(grid, y); p != 1 {
		t.Fatalf("PeakOf with the largest at the end = %v, want 1", p)
	}
}
