package rnn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The reference is the math package (correctly rounded to within 1 ulp).
func TestExpFastAccuracy(t *testing.T) {
	worst := 0.0
	for x := -707.0; x < 708; x += 0.00713 {
		want := math.Exp(x)
		if rel := math.Abs(expFast(x)-want) / want; rel > worst {
			worst = rel
		}
	}
	if worst > 5e-16 {
		t.Fatalf("expFast max relative error %.3g > 5e-16", worst)
	}
	// Saturation beyond the clamp (documented in fastmath.go), NaN passes through.
	if expFast(710) != expFast(709) || expFast(-800) != expFast(-708) || !(expFast(-800) < 1e-307) || !math.IsNaN(expFast(math.NaN())) {
		t.Fatal("expFast special cases")
	}
}

func TestTanhFastAccuracy(t *testing.T) {
	worst := 0.0
	for x := -25.0; x < 25; x += 0.000717 {
		if d := math.Abs(tanhFast(x) - math.Tanh(x)); d > worst {
			worst = d
		}
	}
	if worst > 3e-16 {
		t.Fatalf("tanhFast max absolute error %.3g > 3e-16", worst)
	}
	if tanhFast(0) != 0 || !math.IsNaN(tanhFast(math.NaN())) {
		t.Fatal("tanhFast special cases")
	}
}

// TestRowsMatchScalar: the vector rows give exactly the bits of the scalar functions,
// for random and special inputs and row lengths that are not multiples of four.
func TestRowsMatchScalar(t *testing.T) {
	if !useVector {
		t.Skip("no AVX2+FMA on this CPU: only the scalar path runs")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([]float64, 4099)
	for i := range src {
		switch i % 7 {
		case 0:
			src[i] = rng.NormFloat64() * 300
		case 1:
			src[i] = rng.NormFloat64() * 1e-8
		default:
			src[i] = rng.NormFloat64() * 5
		}
	}
	copy(src, []float64{0, -0.0, 708.5, 709, 710, -708, -709, -1e300, 1e300, 19, -19, 25, math.NaN(), math.Inf(1), math.Inf(-1)})
	got := make([]float64, len(src))
	for _, c := range []struct {
		name   string
		row    func(dst, src []float64)
		scalar func(float64) float64
	}{{"exp", expRow, expFast}, {"tanh", tanhRow, tanhFast}} {
		c.row(got, src)
		for i, x := range src {
			want := c.scalar(x)
			if math.Float64bits(got[i]) != math.Float64bits(want) && !(math.IsNaN(got[i]) && math.IsNaN(want)) {
				t.Fatalf("%s(%v): vector %v (%#x), scalar %v (%#x)", c.name, x, got[i], math.Float64bits(got[i]), want, math.Float64bits(want))
			}
		}
	}
}

var sinkF float64

func BenchmarkExpFast(b *testing.B) {
	xs := make([]float64, 1024)
	for i := range xs {
		xs[i] = float64(i)*0.004 - 2
	}
	b.ResetTimer()
	s := 0.0
	for i := 0; i < b.N; i++ {
		for _, x := range xs {
			s += expFast(x)
		}
	}
	sinkF = s
}

func BenchmarkExpMath(b *testing.B) {
	xs := make([]float64, 1024)
	for i := range xs {
		xs[i] = float64(i)*0.004 - 2
	}
	b.ResetTimer()
	s := 0.0
	for i := 0; i < b.N; i++ {
		for _, x := range xs {
			s += math.Exp(x)
		}
	}
	sinkF = s
}

func BenchmarkTanhFast(b *testing.B) {
	xs := make([]float64, 1024)
	for i := range xs {
		xs[i] = float64(i)*0.004 - 2
	}
	b.ResetTimer()
	s := 0.0
	for i := 0; i < b.N; i++ {
		for _, x := range xs {
			s += tanhFast(x)
		}
	}
	sinkF = s
}

func BenchmarkTanhMath(b *testing.B) {
	xs := make([]float64, 1024)
	for i := range xs {
		xs[i] = float64(i)*0.004 - 2
	}
	b.ResetTimer()
	s := 0.0
	for i := 0; i < b.N; i++ {
		for _, x := range xs {
			s += math.Tanh(x)
		}
	}
	sinkF = s
}

func BenchmarkExpRow(b *testing.B) {
	xs := make([]float64, 1024)
	ys := make([]float64, 1024)
	for i := range xs {
		xs[i] = float64(i)*0.004 - 2
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		expRow(ys, xs)
	}
}

func BenchmarkTanhRow(b *testing.B) {
	xs := make([]float64, 1024)
	ys := make([]float64, 1024)
	for i := range xs {
		xs[i] = float64(i)*0.004 - 2
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tanhRow(ys, xs)
	}
}
