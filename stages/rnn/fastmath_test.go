package rnn

import (
	"math"
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
	if !math.IsInf(expFast(710), 1) || expFast(-800) != 0 || !math.IsNaN(expFast(math.NaN())) {
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
