package rnnbench

import (
	"nmdyn/stages/rnn"
	"runtime"
	"testing"
)

// BenchmarkEpoch times one epoch at the reference's small size (200 neurons, 24,000
// bins, windows of 100, batches of 32, rank 2, postgain): compare with
// ../shared/bench/compare.sh, which runs the PyTorch reference on the same shape.
func BenchmarkEpoch(b *testing.B) {
	for i := 0; i < b.N; i++ {
		res, err := Fit(Config{Neurons: 200, Bins: 24000, Window: 100, Batch: 32, Rank: 2,
			Epochs: 1, Mechanism: rnn.PostGain, Threads: runtime.GOMAXPROCS(0), Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(res.SecondsPerEpoch, "s/epoch")
	}
}
