package predict

import (
	"context"
	"testing"
)

// BenchmarkAnalyze is the data-side analysis of a 60-minute recording of 300
// neurons with the default settings (1000 bootstrap replicates, 500 shifts) on
// 2 goroutines.
func BenchmarkAnalyze(b *testing.B) {
	rec := synthRecording(synthConfig{seed: 1, minutes: 60, neurons: 300,
		kick: func(nu float64) float64 { return bump(nu) }, slowSD: func(nu float64) float64 { return 0.3 * bump(nu) }})
	b.ResetTimer()
	for range b.N {
		if _, err := Analyze(context.Background(), rec, Defaults(), 2, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkModelCurve is the model side for a 1000-neuron rank-one network on 21
// NE levels.
func BenchmarkModelCurve(b *testing.B) {
	m := rankOnePostgain(1000, 0.95)
	grid := make([]float64, 21)
	for i := range grid {
		grid[i] = float64(i) / 20
	}
	b.ResetTimer()
	for range b.N {
		ModelCurve(m, grid)
	}
}
