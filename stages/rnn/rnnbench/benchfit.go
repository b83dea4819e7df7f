// Package rnnbench times the network fit on synthetic data of a given shape, with the
// flags of the PyTorch reference (../shared/bench/torch_ref.py), for `run bench-fit`.
// It lives outside package rnn so that editing the benchmark does not change the
// fitting stages' code identity.
package rnnbench

import (
	"context"
	"math"
	"math/rand/v2"
	"nmdyn/stages/rnn"
	"sort"
)

// Config mirrors the flags of the PyTorch reference (../shared/bench/torch_ref.py)
// so the two can be timed side by side on the same sizes.
type Config struct {
	Neurons, Bins, Window, Batch, Rank, Epochs int
	Mechanism                                  rnn.Variant
	Threads                                    int
	Seed                                       uint64
}

// Result is what one benchmark run measured.
type Result struct {
	SecondsPerEpoch   float64 // median over the timed epochs
	FinalLoss         float64
	NeuronStepsPerSec float64
	Params            int
}

// Fit builds a synthetic problem of the reference's shape (Poisson(0.2) counts,
// a random-walk NE level, windows of the continuous recording, K = 2 basis functions,
// alpha = 0.5, random loadings) and times epochs of Adam as Train runs them. Like the
// reference it runs one untimed warm-up epoch and reports the median of the others.
func Fit(cfg Config) (Result, error) {
	rng := rand.New(rand.NewPCG(cfg.Seed, 99))
	N, T, W := cfg.Neurons, cfg.Bins, cfg.Window
	nu := make([]float64, T)
	acc := 0.0
	lo, hi := math.Inf(1), math.Inf(-1)
	for t := range nu {
		acc += rng.NormFloat64()
		nu[t] = acc
		lo, hi = math.Min(lo, acc), math.Max(hi, acc)
	}
	for t := range nu {
		nu[t] = (nu[t] - lo) / (hi - lo + 1e-9)
	}
	y := make([]float32, T*N)
	for i := range y {
		y[i] = float32(poisson(rng, 0.2))
	}
	d, err := rnn.NewData(y, N, nu, nil, 0, 2, 0.05)
	if err != nil {
		return Result{}, err
	}
	nw := T / W
	starts := make([]int, nw)
	for w := range starts {
		starts[w] = w * W
	}
	zs := rnn.InitStatistics(d, starts, 0.25, func(int) bool { return true })
	wins := make([]rnn.Window, nw)
	for w := range wins {
		wins[w] = rnn.Window{Start: starts[w], Len: W, Z: zs[w]}
	}
	m := rnn.New(cfg.Mechanism, N, cfg.Rank, 2, 0, 0.05, 0.1)
	flat := m.Flatten()
	for i := range flat {
		flat[i] = 0.1 * rng.NormFloat64()
	}
	for i := range m.M {
		m.M[i] = rng.NormFloat64()
		m.Nv[i] = rng.NormFloat64()
	}
	var times []float64
	var last rnn.EpochRecord
	set := &rnn.TrainSettings{Epochs: cfg.Epochs + 1, BatchWindows: cfg.Batch, Threads: cfg.Threads,
		Seed: cfg.Seed, Patience: cfg.Epochs + 2,
		Progress: func(rec rnn.EpochRecord) {
			if rec.Epoch > 0 {
				times = append(times, rec.Seconds)
			}
			last = rec
		}}
	if _, err := rnn.Train(context.Background(), m, d, wins, nil, nil, set); err != nil {
		return Result{}, err
	}
	sort.Float64s(times)
	med := math.NaN()
	if len(times) > 0 {
		med = times[len(times)/2]
	}
	return Result{SecondsPerEpoch: med, FinalLoss: last.TrainLoss,
		NeuronStepsPerSec: float64(N*nw*W) / med, Params: m.NumParams()}, nil
}

// poisson draws a Poisson variate by inversion (small means only).
func poisson(rng *rand.Rand, mean float64) int {
	l := math.Exp(-mean)
	k := 0
	p := rng.Float64()
	cum := l
	term := l
	for p > cum && k < 1000 {
		k++
		term *= mean / float64(k)
		cum += term
	}
	return k
}
