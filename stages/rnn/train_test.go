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
