package fit

import (
	"math"
	"testing"

	"nmdyn/stages/groundtruth"
	"nmdyn/stages/rnn"
)

// binGenerated bins a generated session directly (true NE level, 60 s blocks), for
// tests that fit the truth without the session and preprocess stages.
func binGenerated(t testing.TB, g *groundtruth.Generated, dt float64) *rnn.Binned {
	n := len(g.Session.Units)
	T := len(g.NE)
	idx := map[int64]int{}
	for i, u := range g.Session.Units {
		idx[u.ID] = i
	}
	y := make([]float32, T*n)
	err := g.Session.Spikes.Scan(func(units []int64, times []float64) error {
		for k := range units {
			b := int(times[k] / dt)
			if b >= 0 && b < T {
				y[b*n+idx[units[k]]]++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	labels := g.Model.Events
	E := len(labels)
	u := make([]float64, T*E)
	for _, e := range g.Session.Events {
		b := int(e.Time / dt)
		for j, l := range labels {
			if l == e.Label && b >= 0 && b < T {
				u[b*E+j]++
			}
		}
	}
	d, err := rnn.NewData(y, n, g.NE, u, E, 2, dt)
	if err != nil {
		t.Fatal(err)
	}
	b := &rnn.Binned{Data: d, Events: labels}
	for _, u := range g.Session.Units {
		b.Units = append(b.Units, u.ID)
	}
	blockBins := int(math.Round(60 / dt))
	for tt := 0; tt < T; tt++ {
		b.TimeS = append(b.TimeS, float64(tt)*dt)
		blk := tt / blockBins
		b.Block = append(b.Block, int64(blk))
		b.Subblock = append(b.Subblock, int64(tt/int(math.Round(10/dt))))
		switch blk % 10 {
		case 3, 8:
			b.Split = append(b.Split, "validation")
		case 4, 9:
			b.Split = append(b.Split, "test")
		default:
			b.Split = append(b.Split, "train")
		}
	}
	return b
}
