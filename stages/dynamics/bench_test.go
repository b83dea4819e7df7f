package dynamics

import (
	"math/rand/v2"
	"testing"

	"nmdyn/stages/rnn"
)

// BenchmarkSweep1000 is acceptance 5: the 21-level sweep of an N = 1000, R = 2
// network (issue: under 10 s). Two networks: a random postgain network with overlap
// 1.6 (several fixed points per level), and a ring (overlaps 2, no cross terms)
// whose gains NE modulates, the costliest case (slow curves traced around the ring).
func BenchmarkSweep1000(b *testing.B) {
	ring := ringModel(1000, 2, 2, 1)
	pg := rnn.New(rnn.PostGain, 1000, 2, 2, 0, 0.05, 0.1)
	copy(pg.M, ring.M)
	copy(pg.Nv, ring.Nv)
	rng := rand.New(rand.NewPCG(1, 7))
	for i := range pg.Gamma {
		pg.Gamma[i] = 0.2 * rng.NormFloat64()
	}
	for _, c := range []struct {
		name string
		m    *rnn.Model
	}{
		{"random", randomModel(rnn.PostGain, 1000, 2, 2, 1)},
		{"ring", pg},
	} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := Sweep(c.m, nil, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
