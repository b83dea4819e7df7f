package selection

import (
	"math"
	"math/rand/v2"
	"testing"

	"nmdyn/stages/rnn"
)

// synthetic builds per-sub-block gains: every variant has the same noisy baseline plus
// its own offset in nats per spike, so differences are known exactly.
func synthetic(offsets map[rnn.Variant]float64, blocks int, noise float64, seed uint64) (*blockScores, []rnn.Variant) {
	rng := rand.New(rand.NewPCG(seed, 1))
	bs := &blockScores{gain: map[rnn.Variant][]float64{}}
	var vs []rnn.Variant
	for _, v := range rnn.Variants {
		if _, ok := offsets[v]; ok {
			vs = append(vs, v)
			bs.gain[v] = make([]float64, blocks)
		}
	}
	for k := 0; k < blocks; k++ {
		bs.subblocks = append(bs.subblocks, int64(k))
		spikes := 1000.0
		bs.spikes = append(bs.spikes, spikes)
		base := (0.02 + noise*rng.NormFloat64()) * spikes
		for _, v := range vs {
			// Paired: variant-specific noise is small against the shared baseline.
			bs.gain[v][k] = base + (offsets[v]+0.1*noise*rng.NormFloat64())*spikes
		}
	}
	return bs, vs
}

func TestCompareClearWinner(t *testing.T) {
	off := map[rnn.Variant]float64{rnn.None: 0, rnn.Additive: 0.001, rnn.PostGain: 0.01}
	bs, vs := synthetic(off, 40, 0.01, 1)
	c := compare(bs, vs, Settings{Bootstrap: 2000, Seed: 1, Alpha: 0.05})
	if c.winner != rnn.PostGain {
		t.Fatalf("winner %s, want postgain", c.winner)
	}
	if len(c.indist) != 1 {
		t.Errorf("indistinguishable %v, want only the winner", c.indist)
	}
	if !c.neSignificant {
		t.Error("NE effect not significant for a 0.01 nats/spike advantage")
	}
	// The score is the pooled gain in bits: offset 0.01 nats/spike over none is
	// 0.01/ln 2 bits/spike (the noise is shared, so the difference is nearly exact).
	d := c.score[rnn.PostGain] - c.score[rnn.None]
	if want := 0.01 / math.Ln2; math.Abs(d-want) > 0.1*want {
		t.Errorf("postgain - none = %.5f bits/spike, want about %.5f", d, want)
	}
	for _, v := range vs {
		if !(c.ci[v][0] < c.score[v] && c.score[v] < c.ci[v][1]) {
			t.Errorf("%s: score %.5f outside its interval %v", v, c.score[v], c.ci[v])
		}
	}
}

// With no real difference, the nested models tie and no NE effect is claimed in most
// datasets: the Bonferroni bounds hold each family of claims to about 5 %, so in 20
// null datasets more than 3 false claims (probability 1.6 % under Binomial(20, 0.05))
// would mean the bounds are too loose.
func TestCompareNoEffect(t *testing.T) {
	claims, excluded := 0, 0
	for seed := uint64(1); seed <= 20; seed++ {
		off := map[rnn.Variant]float64{rnn.None: 0, rnn.Additive: 0, rnn.PreGain: 0, rnn.PostGain: 0, rnn.LowRank: 0}
		bs, vs := synthetic(off, 30, 0.01, seed)
		c := compare(bs, vs, Settings{Bootstrap: 1000, Seed: seed, Alpha: 0.05})
		if c.neSignificant {
			claims++
		}
		found := false
		for _, v := range c.indist {
			found = found || v == rnn.None
		}
		if !found && c.winner != rnn.None {
			excluded++
		}
	}
	if excluded > 3 {
		t.Errorf("none excluded from the indistinguishable set in %d of 20 null datasets", excluded)
	}
	if claims > 3 {
		t.Errorf("NE effect claimed in %d of 20 null datasets", claims)
	}
}
