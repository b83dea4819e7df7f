package rnn

import (
	"fmt"
	"math"
)

// Data is a binned recording on the model's time grid: spike counts of the N modelled
// neurons, the NE level and its basis values, and event inputs, for T bins.
type Data struct {
	N, T, K, E int
	DtSeconds  float64
	Y          []float32 // T x N spike counts (row-major by bin; float32 holds counts exactly)
	Nu         []float64 // T NE levels in [0, 1]
	F          []float64 // T x K basis values f_k(nu[t])
	U          []float64 // T x E event inputs
}

// NewData checks shapes and values and precomputes the NE basis.
func NewData(y []float32, n int, nu []float64, u []float64, e, k int, dtSeconds float64) (*Data, error) {
	t := len(nu)
	if n <= 0 || len(y) != t*n {
		return nil, fmt.Errorf("rnn: counts have %d values, want %d bins x %d neurons", len(y), t, n)
	}
	if len(u) != t*e {
		return nil, fmt.Errorf("rnn: event inputs have %d values, want %d bins x %d channels", len(u), t, e)
	}
	for i, v := range y {
		if !(v >= 0) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("rnn: count %v at bin %d, neuron %d", v, i/n, i%n)
		}
	}
	for i, v := range nu {
		if !(v >= -1e-9 && v <= 1+1e-9) {
			return nil, fmt.Errorf("rnn: NE level %v at bin %d is outside [0, 1]", v, i)
		}
	}
	d := &Data{N: n, T: t, K: k, E: e, DtSeconds: dtSeconds, Y: y, Nu: nu, U: u}
	d.F = make([]float64, t*k)
	for i := 0; i < t; i++ {
		Basis(nu[i], d.F[i*k:(i+1)*k])
	}
	return d, nil
}

// Window is a stretch of the recording the network is run over, free-running from an
// initial state x0 = X0W * Z + X0B set from activity before the window.
type Window struct {
	Start, Len int
	Z          []float64 // N initial-state statistic (see InitStatistics)
	Group      int       // caller's grouping (e.g. the bootstrap sub-block), carried through scoring
}

// InitStatistics returns, for each window start, the statistic z from which the
// window's initial state is set: the exponentially smoothed (causal, time constant
// emaSeconds) spike count of each neuron up to the bin before the start, standardised by
// its mean and standard deviation over the bins where useBin is true and clipped to
// [-5, 5]. Only bins before a window enter its z, so no scored spike leaks into the
// initial state.
func InitStatistics(d *Data, starts []int, emaSeconds float64, useBin func(t int) bool) [][]float64 {
	n := d.N
	decay := math.Exp(-d.DtSeconds / emaSeconds)
	// The smoother starts at each neuron's mean count over the chosen bins, so early
	// windows are not biased towards silence.
	start := make([]float64, n)
	used := 0
	for t := 0; t < d.T; t++ {
		if !useBin(t) {
			continue
		}
		used++
		for i, v := range d.Y[t*n : (t+1)*n] {
			start[i] += float64(v)
		}
	}
	for i := range start {
		start[i] /= math.Max(1, float64(used))
	}
	ema := append([]float64(nil), start...)
	// First pass: mean and sd of the smoothed counts over the chosen bins.
	sum := make([]float64, n)
	sum2 := make([]float64, n)
	cnt := 0
	for t := 0; t < d.T; t++ {
		if useBin(t) {
			for i := 0; i < n; i++ {
				sum[i] += ema[i]
				sum2[i] += ema[i] * ema[i]
			}
			cnt++
		}
		y := d.Y[t*n : (t+1)*n]
		for i := 0; i < n; i++ {
			ema[i] = decay*ema[i] + (1-decay)*float64(y[i])
		}
	}
	mean := make([]float64, n)
	sd := make([]float64, n)
	for i := 0; i < n; i++ {
		if cnt > 0 {
			mean[i] = sum[i] / float64(cnt)
			v := sum2[i]/float64(cnt) - mean[i]*mean[i]
			sd[i] = math.Sqrt(math.Max(v, 0))
		}
		if sd[i] == 0 {
			sd[i] = 1
		}
	}
	// Second pass: snapshots at the window starts (starts need not be sorted).
	want := make(map[int][]int, len(starts))
	for w, s := range starts {
		want[s] = append(want[s], w)
	}
	out := make([][]float64, len(starts))
	copy(ema, start)
	for t := 0; t <= d.T; t++ {
		if ws, ok := want[t]; ok {
			z := make([]float64, n)
			for i := 0; i < n; i++ {
				z[i] = math.Max(-5, math.Min(5, (ema[i]-mean[i])/sd[i]))
			}
			for _, w := range ws {
				out[w] = z
			}
		}
		if t == d.T {
			break
		}
		y := d.Y[t*n : (t+1)*n]
		for i := 0; i < n; i++ {
			ema[i] = decay*ema[i] + (1-decay)*float64(y[i])
		}
	}
	return out
}
