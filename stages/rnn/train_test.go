package rnn

import (
	"context"
	"errors"
	"math"
	"testing"
)

// A parameter that is NaN from the start makes every batch non-finite: each step is
// rejected, the learning rate halved, and after ten rejections in a row the fit fails
// with ErrDiverged rather than returning NaN parameters.
func TestTrainFailsOnPersistentDivergence(t *testing.T) {
	m, d, wins := randomProblem(PostGain, 5)
	m.Flatten()
	m.C[0] = math.NaN()
	_, err := Train(context.Background(), m, d, wins, nil, nil, &TrainSettings{Epochs: 50, BatchWindows: 1})
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("err = %v, want ErrDiverged", err)
	}
}

// An absurd learning rate overflows the rates within a few steps: those steps are
// rejected and undone and the rate lowered until training proceeds with finite
// parameters.
func TestTrainRecoversFromOverflow(t *testing.T) {
	m, d, wins := randomProblem(PostGain, 6)
	res, err := Train(context.Background(), m, d, wins, nil, nil, &TrainSettings{Epochs: 30, BatchWindows: 1, LearningRate: 300, ClipNorm: 1e9})
	if err != nil {
		t.Fatalf("training did not recover: %v", err)
	}
	rejected := 0
	for _, r := range res.Curve {
		rejected += r.Rejected
	}
	if rejected == 0 {
		t.Fatal("no step was rejected at a learning rate of 300: the test does not exercise the divergence path")
	}
	if err := res.Model.Validate(); err != nil {
		t.Fatal(err)
	}
}

// fit.l2 = 0 means no penalty: Train must not read it as its default 1e-3 (which it
// did through the fit stage before TrainSettings translated it).
func TestFitSettingsL2(t *testing.T) {
	for _, c := range []struct{ l2, want float64 }{{0, 0}, {1e-3, 1e-3}, {0.05, 0.05}} {
		s := DefaultFitSettings()
		s.L2 = c.l2
		if got := s.TrainSettings().withDefaults().L2; got != c.want {
			t.Errorf("fit.l2 = %v: Train's penalty %v, want %v", c.l2, got, c.want)
		}
	}
	s := DefaultFitSettings()
	ts := s.TrainSettings().withDefaults()
	if ts.Epochs != s.Epochs || ts.BatchWindows != s.Batch || ts.LearningRate != s.LR || ts.Patience != s.Patience {
		t.Errorf("TrainSettings %+v do not carry the fit settings %+v", ts, s)
	}
}
