package fit

import (
	"testing"

	"nmdyn/stages/groundtruth"
	"nmdyn/stages/rnn"
	"nmdyn/stages/task/tasktest"
)

// BenchmarkFitDefaultSession fits the postgain variant (fit defaults, to
// convergence by early stopping) to the default session (120 neurons, 20 minutes),
// binned directly with the true NE level and fixed blocks (binGenerated), not
// through the preprocess stage: a fit comparable to the default pipeline's (whose
// early stopping may end at another epoch). Where the time goes:
//
//	go test -run '^$' -bench FitDefaultSession -benchtime 1x -cpuprofile /tmp/fit.prof ./stages/fit
//	go tool pprof -top /tmp/fit.prof
func BenchmarkFitDefaultSession(b *testing.B) {
	cfg := groundtruth.Defaults()
	g, err := groundtruth.Generate(cfg)
	if err != nil {
		b.Fatal(err)
	}
	data := binGenerated(b, g, cfg.BinMs/1000)
	s := Defaults()
	b.ResetTimer()
	for range b.N {
		ctx := tasktest.New(nil)
		ctx.NThreads = 2
		res, err := Fit(ctx, data, rnn.PostGain, 1, s)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(res.Train.Curve)), "epochs")
		b.ReportMetric(res.Seconds, "s/fit")
	}
}
