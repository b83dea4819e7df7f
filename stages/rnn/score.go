package rnn

import "math"

// Poisson log-likelihood of counts under the model, per window and neuron:
//
//	LL = sum_t ( y log(dt lambda) - dt lambda - log y! )
//
// and the same under a per-neuron constant rate (the null model of the bits-per-spike
// score). The score of a set of windows is (LL - LL_null) / (spikes * ln 2).

// WindowScore is the held-out likelihood of one window, per neuron.
type WindowScore struct {
	Window Window
	LL     []float64 // model log-likelihood per neuron (nats)
	LLNull []float64 // constant-rate log-likelihood per neuron (nats)
	Spikes []float64 // spike count per neuron
}

// NullRates returns each neuron's mean rate (Hz) over the bins where useBin is true:
// the constant-rate model the score is measured against. A silent neuron gets a small
// floor so its log-likelihood stays finite.
func NullRates(d *Data, useBin func(t int) bool) []float64 {
	sum := make([]float64, d.N)
	cnt := 0
	for t := 0; t < d.T; t++ {
		if !useBin(t) {
			continue
		}
		cnt++
		for i, v := range d.Y[t*d.N : (t+1)*d.N] {
			sum[i] += float64(v)
		}
	}
	for i := range sum {
		sum[i] = math.Max(sum[i], 0.5) / (math.Max(1, float64(cnt)) * d.DtSeconds)
	}
	return sum
}

// Score runs the model over the windows (in parallel, deterministic) and returns the
// per-window, per-neuron log-likelihoods.
func Score(m *Model, d *Data, windows []Window, nullRateHz []float64, threads int) []WindowScore {
	if err := m.Matches(d); err != nil {
		panic(err) // a programmer error: Train checks the same
	}
	ev := newEvaluator(m, d, threads)
	maxLen := 0
	for _, w := range windows {
		maxLen = max(maxLen, w.Len)
	}
	ev.ensure(0, maxLen)
	ev.m.pack(ev.pbuf)
	out := make([]WindowScore, len(windows))
	n := m.N
	dt := d.DtSeconds
	logDt := math.Log(dt)
	mu0 := make([]float64, n)
	logMu0 := make([]float64, n)
	for i := range mu0 {
		mu0[i] = dt * nullRateHz[i]
		logMu0[i] = math.Log(mu0[i])
	}
	ev.parallel(len(windows), func(worker, w int) {
		ws := ev.wss[worker]
		win := windows[w]
		m.forward(&ev.pk, d, win, ws)
		s := WindowScore{Window: win, LL: make([]float64, n), LLNull: make([]float64, n), Spikes: make([]float64, n)}
		for t := 0; t < win.Len; t++ {
			bin := win.Start + t
			y := d.Y[bin*n : (bin+1)*n]
			rt := ws.Rt[t*n : (t+1)*n]
			lam := ws.Lam[t*n : (t+1)*n] // exp(c r + d), from the forward pass
			for i := 0; i < n; i++ {
				yi := float64(y[i])
				lgy := logFactorial(y[i])
				ll := m.C[i]*rt[i] + m.D[i]
				s.LL[i] += yi*(ll+logDt) - dt*lam[i] - lgy
				s.LLNull[i] += yi*logMu0[i] - mu0[i] - lgy
				s.Spikes[i] += yi
			}
		}
		out[w] = s
	})
	return out
}

// BitsPerSpike sums scores into (LL - LL_null) / (spikes ln 2); NaN without spikes.
func BitsPerSpike(scores []WindowScore) float64 {
	var diff, spikes float64
	for _, s := range scores {
		for i := range s.LL {
			diff += s.LL[i] - s.LLNull[i]
			spikes += s.Spikes[i]
		}
	}
	if spikes == 0 {
		return math.NaN()
	}
	return diff / (spikes * math.Ln2)
}

// logFactorialTable[k] = log k! for the small counts that make up nearly all bins.
var logFactorialTable = func() (t [64]float64) {
	for k := range t {
		t[k], _ = math.Lgamma(float64(k) + 1)
	}
	return t
}()

func logFactorial(y float32) float64 {
	if k := int(y); k >= 0 && k < len(logFactorialTable) && float32(k) == y {
		return logFactorialTable[k]
	}
	v, _ := math.Lgamma(float64(y) + 1)
	return v
}
