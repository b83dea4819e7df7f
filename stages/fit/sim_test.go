package fit

import (
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"nmdyn/stages/rnn"
	"nmdyn/stages/task/tasktest"
)

// simulate draws a binned session from a known two-population network: an OU NE level,
// events every few seconds pushing the state along the first latent direction, noise
// shared along the latent directions and private noise, and Poisson counts. It stands
// in for the ground-truth generator so the fit can be tested on its own.
func simulate(v rnn.Variant, n, bins int, seed uint64) (*rnn.Binned, *rnn.Model) {
	rng := rand.New(rand.NewPCG(seed, 5))
	m := rnn.New(v, n, 2, 2, 1, 0.05, 0.1)
	m.Events = []string{"stim"}
	pop := func(i int) int { return i % 2 }
	for i := 0; i < n; i++ {
		p := pop(i)
		// Loadings: the first direction self-excites through both populations, the
		// second is weakly coupled.
		m.M[i*2] = 1.2 + 0.4*rng.NormFloat64()
		m.Nv[i*2] = 1.3*m.M[i*2] + 0.3*rng.NormFloat64()
		m.M[i*2+1] = rng.NormFloat64()
		m.Nv[i*2+1] = 0.3*m.M[i*2+1] + 0.3*rng.NormFloat64()
		m.H[i] = 0.1 * rng.NormFloat64()
		m.B[i] = 1.0 * m.M[i*2]
		m.C[i] = 1 + 0.2*rng.NormFloat64()
		m.D[i] = math.Log(4 + 6*rng.Float64())
		sign := 1.0
		if p == 1 {
			sign = -1
		}
		switch v {
		case rnn.PostGain, rnn.PreGain:
			m.Gamma[i*2] = sign*0.8 + 0.1*rng.NormFloat64()
			m.Gamma[i*2+1] = -0.6 + 0.1*rng.NormFloat64()
		case rnn.Additive:
			m.Beta[i*2] = sign*0.8 + 0.1*rng.NormFloat64()
			m.Beta[i*2+1] = -0.4
		case rnn.LowRank:
			m.P[i*2] = m.M[i*2] * 0.8 * sign
			m.Q[i*2] = m.Nv[i*2]
			m.P[i*2+1] = 0.2 * rng.NormFloat64()
			m.Q[i*2+1] = 0.2 * rng.NormFloat64()
		}
	}
	nu := make([]float64, bins)
	ou := 0.0
	for t := range nu {
		ou += -ou*0.05/15 + math.Sqrt(2*0.05/15)*rng.NormFloat64()
		nu[t] = 1 / (1 + math.Exp(-1.8*ou))
	}
	u := make([]float64, bins)
	for t := 20; t < bins; t += 50 + rng.IntN(40) {
		u[t] = 1
	}
	x0 := make([]float64, n)
	lat := [2]float64{}
	X, R := m.Trajectory(x0, rnn.Inputs{Nu: nu, Events: u}, func(t int, x []float64) {
		for j := range lat {
			lat[j] = 0.9*lat[j] + 0.25*rng.NormFloat64()
		}
		for i := range x {
			x[i] += 0.5*0.05/0.1*(m.M[i*2]*lat[0]+m.M[i*2+1]*lat[1]) + 0.05*rng.NormFloat64()
		}
	})
	_ = X
	y := make([]float32, bins*n)
	for t := 0; t < bins; t++ {
		for i := 0; i < n; i++ {
			lam := math.Exp(m.C[i]*R[t*n+i]+m.D[i]) * 0.05
			y[t*n+i] = float32(poissonDraw(rng, lam))
		}
	}
	d, err := rnn.NewData(y, n, nu, u, 1, 2, 0.05)
	if err != nil {
		panic(err)
	}
	b := &rnn.Binned{Data: d, Events: []string{"stim"}}
	b.Units = make([]int64, n)
	for i := range b.Units {
		b.Units[i] = int64(i)
	}
	m.Units = b.Units
	// 30 s blocks cycling train x3, validation, test; 10 s sub-blocks.
	for t := 0; t < bins; t++ {
		b.TimeS = append(b.TimeS, float64(t)*0.05)
		blk := t / 600
		b.Block = append(b.Block, int64(blk))
		b.Subblock = append(b.Subblock, int64(t/200))
		switch blk % 5 {
		case 3:
			b.Split = append(b.Split, "validation")
		case 4:
			b.Split = append(b.Split, "test")
		default:
			b.Split = append(b.Split, "train")
		}
	}
	return b, m
}

func poissonDraw(rng *rand.Rand, mean float64) int {
	l := math.Exp(-mean)
	k, p := 0, rng.Float64()
	cum, term := l, l
	for p > cum && k < 200 {
		k++
		term *= mean / float64(k)
		cum += term
	}
	return k
}

// truthBits scores the generating network with only its initial-state map fitted.
func truthBits(t *testing.T, b *rnn.Binned, m *rnn.Model, s Settings) float64 {
	wlen := int(math.Round(s.WindowS / 0.05))
	train := b.Windows("train", wlen, s.InitEmaS)
	test := b.Windows("test", wlen, s.InitEmaS)
	null := rnn.NullRates(b.Data, b.IsTrain)
	tm := m.Clone()
	tr, err := rnn.Train(tasktest.New(nil).Ctx(), tm, b.Data, train, nil, null,
		&rnn.TrainSettings{Epochs: 30, Trainable: []string{"x0_w", "x0_b"}, L2: -1, Seed: 1, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	return rnn.BitsPerSpike(rnn.Score(tr.Model, b.Data, test, null, 2))
}

// TestFitRecoversGroundTruth: on data simulated from a known postgain network, the
// postgain fit scores within 10 % of the generating parameters on the test blocks.
func TestFitRecoversGroundTruth(t *testing.T) {
	n, bins := 40, 6000
	if testing.Short() {
		t.Skip("fits a network")
	}
	if s := os.Getenv("NMDYN_SIM_BINS"); s != "" {
		bins, _ = strconv.Atoi(s)
	}
	b, truth := simulate(rnn.PostGain, n, bins, 3)
	s := Defaults()
	s.Epochs = 400
	ctx := tasktest.New(nil)
	ctx.NThreads = 2
	want := truthBits(t, b, truth, s)
	for _, v := range []rnn.Variant{rnn.None, rnn.PostGain} {
		res, err := Fit(ctx, b, v, 1, s)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: test %.4f bits/spike (truth %.4f), val %.4f, best epoch %d, %s, %.1f s",
			v, res.TestBits, want, res.ValBits, res.Train.BestEpoch, res.Train.StopReason, res.Seconds)
		if v == rnn.PostGain && res.TestBits < want-0.1*math.Abs(want) {
			t.Errorf("postgain fit %.4f bits/spike is not within 10 %% of the truth's %.4f", res.TestBits, want)
		}
	}
}
