package mft

import (
	"math"
	"slices"
	"testing"

	"nmdyn/stages/dynamics"
	"nmdyn/stages/rnn"
)

// twoGainPops is a postgain mixture whose populations NE modulates in opposite
// directions: log-gain 0.8 (2nu - 1) in the first, -0.8 (2nu - 1) in the second, with
// a spread of 0.1 in each NE coefficient.
func twoGainPops() *Mixture {
	// theta = (m_1, n_1, h, gamma_1, gamma_2)
	cov := []float64{
		1, 1.2, 0, 0, 0,
		1.2, 2, 0, 0, 0,
		0, 0, 0.04, 0, 0,
		0, 0, 0, 0.01, 0,
		0, 0, 0, 0, 0.01,
	}
	return &Mixture{Variant: rnn.PostGain, R: 1, K: 2, Pops: []Population{
		{Alpha: 0.3, Mean: []float64{0, 0, 0.1, 0.8, 0}, Cov: cov},
		{Alpha: 0.7, Mean: []float64{0, 0, -0.1, -0.8, 0}, Cov: cov},
	}}
}

// TestReduceRecoversPopulations: neurons drawn from two populations whose NE gain
// curves differ by far more than their spread are grouped exactly; numbering follows
// the log-gain at nu = 0 (-0.8 for the first population, +0.8 for the second), and
// the population statistics come back near the generating ones (sampling error of a
// mean over ~150 neurons is ~0.1 / sqrt(150) = 0.008 for the NE coefficients).
func TestReduceRecoversPopulations(t *testing.T) {
	gen := twoGainPops()
	m, truth := gen.Sample(500, 3, 0.05, 0.2)
	red, err := Reduce(m, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(red.Groups, truth) {
		t.Fatalf("groups differ from the generating populations")
	}
	for p, pop := range red.Mixture.Pops {
		if math.Abs(pop.Alpha-gen.Pops[p].Alpha) > 1e-12 {
			t.Errorf("population %d weight %v, want %v", p+1, pop.Alpha, gen.Pops[p].Alpha)
		}
		if g := pop.Mean[3]; math.Abs(g-gen.Pops[p].Mean[3]) > 0.04 {
			t.Errorf("population %d mean gamma_1 %v, want %v", p+1, g, gen.Pops[p].Mean[3])
		}
	}
	again, _ := Reduce(m, 2, nil)
	if !slices.Equal(again.Groups, red.Groups) || !slices.Equal(again.Mixture.Pops[1].Cov, red.Mixture.Pops[1].Cov) {
		t.Error("Reduce is not deterministic")
	}
}

// TestReduceVariants: every variant reduces (none by its loadings) and the mixture
// of one population is the network's own moments: the mean-field velocity of a
// single-population reduction of a 20000-neuron Gaussian network is within sampling
// error (0.01) of the network's.
func TestReduceVariants(t *testing.T) {
	for _, v := range rnn.Variants {
		m, _ := randomMixture(v, 9).Sample(400, 1, 0.05, 0.2)
		red, err := Reduce(m, 2, nil)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if red.Basis == "" || len(red.Groups) != m.N {
			t.Errorf("%s: reduction %+v", v, red.Basis)
		}
	}
	one := randomMixture(rnn.PostGain, 2)
	one.Pops = one.Pops[:1]
	one.Pops[0].Alpha = 1
	m, _ := one.Sample(20000, 5, 0.05, 0.2)
	red, err := Reduce(m, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, s := dynamics.LatentOf(m, 0.9), red.Mixture.At(0.9, nil)
	a, b := make([]float64, 2), make([]float64, 2)
	for _, k := range [][]float64{{0, 0}, {1, -0.5}, {-2, 1}} {
		w.Velocity(k, a)
		s.Velocity(k, b)
		for i := range a {
			if math.Abs(a[i]-b[i]) > 0.01 {
				t.Errorf("kappa %v: network %v, mean field %v", k, a, b)
			}
		}
	}
}

// TestReduceErrors: more populations than distinct neurons is an error naming it.
func TestReduceErrors(t *testing.T) {
	m := rnn.New(rnn.PostGain, 5, 1, 1, 0, 0.05, 0.2) // all gammas zero: one distinct curve
	if _, err := Reduce(m, 2, nil); err == nil {
		t.Error("want an error for identical neurons")
	}
	if _, err := Reduce(m, 6, nil); err == nil {
		t.Error("want an error for more populations than neurons")
	}
}
