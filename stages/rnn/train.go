package rnn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// TrainSettings controls the optimisation. The zero value of a field means its default.
type TrainSettings struct {
	Epochs       int     // maximum passes over the training windows (200)
	BatchWindows int     // windows per Adam step (32)
	LearningRate float64 // initial Adam step (0.01), decayed by a cosine to LRFinal x that
	LRFinal      float64 // fraction of the initial rate reached at the last epoch (0.1)
	ClipNorm     float64 // gradient-norm clipping threshold (1)
	L2           float64 // penalty (L2/2) sum(theta^2)/N on loadings, inputs and NE parameters (1e-3)
	Patience     int     // stop after this many epochs without a better validation score (30)
	Seed         uint64  // shuffles the windows
	Threads      int     // goroutines for the batch (1)
	// Trainable, when not empty, names the only parameter groups that move (as in
	// the gradient check: "M", "N", "h", "B", "c", "d", "beta", "gamma", "P", "Q",
	// "x0_w", "x0_b"); the others stay fixed.
	Trainable []string
	// Progress, when set, is called after every epoch.
	Progress func(rec EpochRecord)
}

func (s *TrainSettings) withDefaults() TrainSettings {
	out := TrainSettings{}
	if s != nil {
		out = *s
	}
	if out.Epochs <= 0 {
		out.Epochs = 200
	}
	if out.BatchWindows <= 0 {
		out.BatchWindows = 32
	}
	if out.LearningRate <= 0 {
		out.LearningRate = 0.01
	}
	if out.LRFinal <= 0 {
		out.LRFinal = 0.1
	}
	if out.ClipNorm <= 0 {
		out.ClipNorm = 1
	}
	if out.L2 < 0 {
		out.L2 = 0
	} else if out.L2 == 0 {
		out.L2 = 1e-3
	}
	if out.Patience <= 0 {
		out.Patience = 30
	}
	if out.Threads <= 0 {
		out.Threads = 1
	}
	return out
}

// EpochRecord is one point of the training curve.
type EpochRecord struct {
	Epoch        int
	TrainLoss    float64 // mean loss per neuron-bin over the epoch (penalty excluded)
	ValBits      float64 // validation score, bits per spike (NaN without validation windows)
	LearningRate float64
	Rejected     int     // steps rejected for a non-finite loss or gradient
	Seconds      float64 // wall time of the epoch
}

// TrainResult is the outcome of Train.
type TrainResult struct {
	Model      *Model // parameters of the best validation epoch (the last epoch without validation)
	Curve      []EpochRecord
	BestEpoch  int
	BestBits   float64
	StopReason string
}

// ErrDiverged is returned when the loss or gradient stays non-finite after the
// learning rate has been lowered repeatedly.
var ErrDiverged = errors.New("fit diverged")

// Train fits m (modified in place and returned as a copy of its best state) to the
// training windows with Adam, mini-batches of windows, gradient-norm clipping, a
// cosine learning-rate schedule and an L2 penalty, stopping early on the validation
// score. A non-finite loss or gradient rejects the step, restores the previous
// parameters and halves the learning rate; ten rejections in a row fail the fit.
func Train(ctx context.Context, m *Model, d *Data, train, val []Window, nullRateHz []float64, s *TrainSettings) (*TrainResult, error) {
	set := s.withDefaults()
	if len(train) == 0 {
		return nil, fmt.Errorf("rnn: no training windows")
	}
	if err := m.Matches(d); err != nil {
		return nil, err
	}
	theta := m.Flatten()
	P := len(theta)
	grad := make([]float64, P)
	mom1 := make([]float64, P)
	mom2 := make([]float64, P)
	prev := make([]float64, 3*P) // theta, mom1, mom2 before the last step
	penal := penaltyMask(m)
	frozen := frozenMask(m, set.Trainable)
	ev := newEvaluator(m, d, set.Threads)

	rng := rand.New(rand.NewPCG(set.Seed, 0x6e6d64796e))
	order := make([]int, len(train))
	for i := range order {
		order[i] = i
	}
	batch := make([]Window, 0, set.BatchWindows)
	const beta1, beta2, eps = 0.9, 0.999, 1e-8
	step := 0
	lrScale := 1.0
	consecutiveRejects := 0
	canUndo := false // whether prev holds the state before the last applied step

	res := &TrainResult{BestEpoch: -1, BestBits: math.Inf(-1)}
	best := append([]float64(nil), theta...)
	sinceBest := 0
	for epoch := 0; epoch < set.Epochs; epoch++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		start := time.Now()
		frac := float64(epoch) / math.Max(1, float64(set.Epochs-1))
		lr := set.LearningRate * (set.LRFinal + (1-set.LRFinal)*0.5*(1+math.Cos(math.Pi*frac)))
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		var lossSum, binsSum float64
		rejected := 0
		for b0 := 0; b0 < len(order); b0 += set.BatchWindows {
			batch = batch[:0]
			bins := 0
			for _, w := range order[b0:min(b0+set.BatchWindows, len(order))] {
				batch = append(batch, train[w])
				bins += train[w].Len
			}
			norm := 1 / float64(bins*m.N)
			loss := ev.lossGrad(batch, grad) * norm
			gnorm := 0.0
			for p, g := range grad {
				g *= norm
				if penal[p] {
					g += set.L2 * theta[p] / float64(m.N)
				}
				if frozen != nil && frozen[p] {
					g = 0
				}
				grad[p] = g
				gnorm += g * g
			}
			gnorm = math.Sqrt(gnorm)
			if math.IsNaN(loss) || math.IsInf(loss, 0) || math.IsNaN(gnorm) || math.IsInf(gnorm, 0) {
				// The last step led here: undo it and slow down.
				rejected++
				consecutiveRejects++
				if consecutiveRejects >= 10 {
					return nil, fmt.Errorf("%w: loss or gradient not finite after %d learning-rate reductions (epoch %d, learning rate %.3g)", ErrDiverged, consecutiveRejects, epoch, lr*lrScale)
				}
				if canUndo {
					copy(theta, prev[:P])
					copy(mom1, prev[P:2*P])
					copy(mom2, prev[2*P:])
					step-- // the undone step no longer counts in Adam's bias correction
					canUndo = false
				}
				lrScale *= 0.5
				continue
			}
			consecutiveRejects = 0
			lossSum += loss * float64(bins*m.N)
			binsSum += float64(bins * m.N)
			clip := 1.0
			if gnorm > set.ClipNorm {
				clip = set.ClipNorm / gnorm
			}
			copy(prev[:P], theta)
			copy(prev[P:2*P], mom1)
			copy(prev[2*P:], mom2)
			canUndo = true
			step++
			bc1 := 1 - math.Pow(beta1, float64(step))
			bc2 := 1 - math.Pow(beta2, float64(step))
			a := lr * lrScale
			for p := range theta {
				g := grad[p] * clip
				mom1[p] = beta1*mom1[p] + (1-beta1)*g
				mom2[p] = beta2*mom2[p] + (1-beta2)*g*g
				theta[p] -= a * (mom1[p] / bc1) / (math.Sqrt(mom2[p]/bc2) + eps)
			}
		}
		rec := EpochRecord{Epoch: epoch, TrainLoss: lossSum / math.Max(1, binsSum), LearningRate: lr * lrScale, Rejected: rejected, ValBits: math.NaN()}
		improved := false
		if len(val) > 0 {
			rec.ValBits = BitsPerSpike(Score(m, d, val, nullRateHz, set.Threads))
		}
		// Without validation windows every epoch counts as an improvement (the fit
		// ends at its last epoch); a NaN score (no spikes, or a broken model) never
		// does, so it cannot block later improvements either.
		if len(val) == 0 || rec.ValBits > res.BestBits {
			improved = true
		}
		rec.Seconds = time.Since(start).Seconds()
		res.Curve = append(res.Curve, rec)
		if set.Progress != nil {
			set.Progress(rec)
		}
		if improved {
			res.BestBits, res.BestEpoch = rec.ValBits, epoch
			copy(best, theta)
			sinceBest = 0
		} else if sinceBest++; sinceBest >= set.Patience {
			res.StopReason = fmt.Sprintf("no better validation score for %d epochs", set.Patience)
			break
		}
	}
	if res.StopReason == "" {
		res.StopReason = fmt.Sprintf("reached %d epochs", set.Epochs)
	}
	copy(theta, best)
	res.Model = m.Clone()
	if err := res.Model.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDiverged, err)
	}
	return res, nil
}

// penaltyMask marks the parameters the L2 penalty applies to: loadings, event input
// weights and NE parameters (not the readout, static input or initial-state map).
func penaltyMask(m *Model) []bool {
	mask := make([]bool, m.NumParams())
	off := 0
	groups := m.paramGroups()
	for gi, b := range m.blocks() {
		n := len(*b)
		switch groups[gi] {
		case "M", "N", "B", "beta", "gamma", "P", "Q":
			for p := off; p < off+n; p++ {
				mask[p] = true
			}
		}
		off += n
	}
	return mask
}

// frozenMask marks the parameters outside the trainable groups (nil when all train).
func frozenMask(m *Model, trainable []string) []bool {
	if len(trainable) == 0 {
		return nil
	}
	keep := map[string]bool{}
	for _, g := range trainable {
		keep[g] = true
	}
	mask := make([]bool, m.NumParams())
	off := 0
	groups := m.paramGroups()
	for gi, b := range m.blocks() {
		n := len(*b)
		if !keep[groups[gi]] {
			for p := off; p < off+n; p++ {
				mask[p] = true
			}
		}
		off += n
	}
	return mask
}

// Matches reports whether the model can run on the data: same neurons, event channels
// and basis size.
func (m *Model) Matches(d *Data) error {
	if m.N != d.N || m.E != d.E || m.K != d.K {
		return fmt.Errorf("rnn: model has %d neurons, %d event inputs and %d basis functions; the data %d, %d and %d", m.N, m.E, m.K, d.N, d.E, d.K)
	}
	return nil
}
