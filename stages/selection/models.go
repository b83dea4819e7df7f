package selection

import (
	"fmt"
	"math"

	"nmdyn/stages/rnn"
	"nmdyn/stages/table"
	"nmdyn/stages/task"
)

func loadModel(in task.Input) (*rnn.Model, error) { return rnn.ReadModel(in, "") }

func loadData(pre task.Input, k int) (*rnn.Binned, error) {
	counts, err := pre.Table("counts")
	if err != nil {
		return nil, err
	}
	bins, err := pre.Table("bins")
	if err != nil {
		return nil, err
	}
	b, err := rnn.LoadBinned(counts, bins, k)
	if err != nil {
		return nil, fmt.Errorf("preprocess outputs: %w", err)
	}
	return b, nil
}

// sampleStates runs the model over the windows and keeps up to n states evenly spaced
// over all their bins: the starting points of the full-space fixed-point search.
func sampleStates(m *rnn.Model, d *rnn.Binned, wins []rnn.Window, n int) *table.Table {
	type state struct {
		nu float64
		x  []float64
	}
	total := 0
	for _, w := range wins {
		total += w.Len
	}
	step := max(1, total/max(1, n))
	var states []state
	k := 0
	for _, w := range wins {
		X := m.WindowStates(d.Data, w)
		for t := 0; t < w.Len; t++ {
			if k%step == 0 && len(states) < n {
				states = append(states, state{nu: d.Nu[w.Start+t], x: append([]float64(nil), X[t*m.N:(t+1)*m.N]...)})
			}
			k++
		}
	}
	tab := table.New()
	sample := make([]int64, len(states))
	nu := make([]float64, len(states))
	for i, s := range states {
		sample[i], nu[i] = int64(i), s.nu
	}
	tab.AddInt("sample", sample).AddFloat("nu", nu)
	for i, u := range m.Units {
		col := make([]float64, len(states))
		for s := range states {
			col[s] = states[s].x[i]
		}
		tab.AddFloat(fmt.Sprintf("x_u%d", u), col)
	}
	return tab
}

// truthScore scores the simulator's generating network on the test windows, when the
// session is simulated: the reference a fit is measured against. Only the
// initial-state map (x0_w, x0_b), which the simulator does not define, is fitted, on
// the training windows. Returns nil when the session has no truth.
func truthScore(ctx task.Context, d *rnn.Binned, wlen int, emaS float64) (*table.Table, error) {
	sess, err := ctx.Input("session")
	if err != nil {
		return nil, nil // not an input of this pipeline's select stage
	}
	hasTruth := false
	for _, n := range sess.Names() {
		if n == "truth_neurons.parquet" {
			hasTruth = true
		}
	}
	if !hasTruth {
		return nil, nil
	}
	m, err := rnn.ReadModel(sess, "truth")
	if err != nil {
		return nil, fmt.Errorf("truth model: %w", err)
	}
	note := ""
	switch {
	case m.N != d.N:
		note = fmt.Sprintf("truth has %d neurons, the data %d kept units: not comparable", m.N, d.N)
	case m.E != d.E:
		note = fmt.Sprintf("truth has %d event inputs, the data %d", m.E, d.E)
	case math.Abs(m.DtSeconds-d.DtSeconds) > 1e-9:
		note = fmt.Sprintf("truth steps %g s, bins are %g s", m.DtSeconds, d.DtSeconds)
	}
	score := math.NaN()
	if note == "" {
		for i, u := range m.Units {
			if u != d.Units[i] {
				note = "truth units differ from the data's"
				break
			}
		}
	}
	if note == "" {
		if m.K != d.K {
			// Re-basis the data to the truth's K.
			dd, err := rnn.NewData(d.Y, d.N, d.Nu, d.U, d.E, m.K, d.DtSeconds)
			if err != nil {
				return nil, err
			}
			cp := *d
			cp.Data = dd
			d = &cp
		}
		train := d.Windows("train", wlen, emaS)
		test := d.Windows("test", wlen, emaS)
		null := rnn.NullRates(d.Data, d.IsTrain)
		tr, err := rnn.Train(ctx.Ctx(), m, d.Data, train, nil, null, &rnn.TrainSettings{
			Epochs: 30, Trainable: []string{"x0_w", "x0_b"}, Seed: 1, Threads: ctx.Threads(), L2: -1})
		if err != nil {
			return nil, fmt.Errorf("truth initial-state map: %w", err)
		}
		score = rnn.BitsPerSpike(rnn.Score(tr.Model, d.Data, test, null, ctx.Threads()))
	}
	return table.New().AddString("mechanism", []string{string(m.Variant)}).
		AddFloat("test_bits_per_spike", []float64{score}).AddString("note", []string{note}), nil
}
