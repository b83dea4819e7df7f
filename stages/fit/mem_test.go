package fit

import (
	"os"
	"testing"

	"nmdyn/stages/groundtruth"
	"nmdyn/stages/rnn"
	"nmdyn/stages/task/tasktest"
)

// TestLargeFitMemory fits 1000 neurons x 72,000 bins (60 minutes at 50 ms) for a few
// epochs, for measuring peak memory from outside:
//
//	go test -c -o /tmp/fit.test ./stages/fit && NMDYN_MEMCHECK=1 /usr/bin/time -v /tmp/fit.test -test.run LargeFitMemory
func TestLargeFitMemory(t *testing.T) {
	if os.Getenv("NMDYN_MEMCHECK") == "" {
		t.Skip("set NMDYN_MEMCHECK=1 (a measurement, not a test)")
	}
	cfg := groundtruth.Defaults()
	cfg.Neurons, cfg.Minutes = 1000, 60
	g, err := groundtruth.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := binGenerated(t, g, cfg.BinMs/1000)
	g = nil
	s := Defaults()
	s.Epochs = 3
	ctx := tasktest.New(nil)
	ctx.NThreads = 2
	res, err := Fit(ctx, b, rnn.PostGain, 1, s)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("N=%d T=%d: %d epochs in %.1f s, test %.4f bits/spike", b.N, b.T, len(res.Train.Curve), res.Seconds, res.TestBits)
}
