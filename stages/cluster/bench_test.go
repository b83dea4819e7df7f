package cluster

import (
	"testing"
)

// benchRun runs the whole stage with the default params on a synthetic
// two-population network of n neurons, with the regime analysis linked into the
// stage; the fitted network's regimes are computed too (no fixedpoints input), so
// this is one sweep more than in the pipeline.
func benchRun(b *testing.B, n int) {
	m, truth := twoPopulationModel(n, 1, defaultPops)
	for b.Loop() {
		ctx := stageContext(b, m, truth, truth, nil, nil)
		ctx.NThreads = 2
		if err := Run(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRun120(b *testing.B)  { benchRun(b, 120) }
func BenchmarkRun1000(b *testing.B) { benchRun(b, 1000) }
