package rnn

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
)

// randomProblem builds a small model with random parameters of every group and a short
// random recording, for gradient checks.
func randomProblem(v Variant, seed uint64) (*Model, *Data, []Window) {
	rng := rand.New(rand.NewPCG(seed, 7))
	const n, r, k, e, T = 9, 2, 2, 2, 40
	m := New(v, n, r, k, e, 0.05, 0.1)
	flat := m.Flatten()
	for i := range flat {
		flat[i] = 0.6 * rng.NormFloat64()
	}
	for i := range m.D {
		m.D[i] = 1 + 0.3*rng.NormFloat64() // log rates around e Hz
	}
	y := make([]float32, T*n)
	for i := range y {
		y[i] = float32(rng.IntN(3))
	}
	nu := make([]float64, T)
	for i := range nu {
		nu[i] = rng.Float64()
	}
	u := make([]float64, T*e)
	for i := range u {
		if rng.Float64() < 0.2 {
			u[i] = 1
		}
	}
	d, err := NewData(y, n, nu, u, e, k, 0.05)
	if err != nil {
		panic(err)
	}
	var wins []Window
	for s := 0; s+7 <= T; s += 8 {
		z := make([]float64, n)
		for i := range z {
			z[i] = rng.NormFloat64()
		}
		wins = append(wins, Window{Start: s, Len: 7, Z: z})
	}
	return m, d, wins
}

// TestGradientFiniteDifferences checks the hand-written backpropagation through time
// against central finite differences (gonum diff/fd) for every parameter group of
// every variant: relative error below 1e-6 per group (norm of the difference over the
// norm of the finite-difference gradient).
func TestGradientFiniteDifferences(t *testing.T) {
	for _, v := range Variants {
		t.Run(string(v), func(t *testing.T) {
			m, d, wins := randomProblem(v, 11)
			theta := m.Flatten()
			ev := newEvaluator(m, d, 2)
			analytic := make([]float64, len(theta))
			ev.lossGrad(wins, analytic)

			f := func(x []float64) float64 {
				saved := append([]float64(nil), theta...)
				copy(theta, x)
				l := ev.loss(wins)
				copy(theta, saved)
				return l
			}
			numeric := fd.Gradient(nil, f, append([]float64(nil), theta...),
				&fd.Settings{Formula: fd.Central, Step: 1e-5})

			off := 0
			groups := m.paramGroups()
			for gi, b := range m.blocks() {
				nb := len(*b)
				var diff, norm float64
				for j := off; j < off+nb; j++ {
					diff += (analytic[j] - numeric[j]) * (analytic[j] - numeric[j])
					norm += numeric[j] * numeric[j]
				}
				rel := math.Sqrt(diff / norm)
				t.Logf("%s rel %.2e", groups[gi], rel)
				if nb > 0 && (norm == 0 || rel > 1e-6) {
					t.Errorf("group %s: relative error %.3g (|grad| %.3g)", groups[gi], rel, math.Sqrt(norm))
				}
				off += nb
			}
		})
	}
}

// TestGradientDeterministicAcrossThreads: the fixed reduction order makes the batch
// gradient bit-identical for 1 and 3 threads.
func TestGradientDeterministicAcrossThreads(t *testing.T) {
	m, d, wins := randomProblem(PostGain, 3)
	theta := m.Flatten()
	g1 := make([]float64, len(theta))
	g3 := make([]float64, len(theta))
	l1 := newEvaluator(m, d, 1).lossGrad(wins, g1)
	l3 := newEvaluator(m, d, 3).lossGrad(wins, g3)
	if l1 != l3 {
		t.Fatalf("loss differs: %v vs %v", l1, l3)
	}
	for i := range g1 {
		if g1[i] != g3[i] {
			t.Fatalf("gradient %d differs: %v vs %v", i, g1[i], g3[i])
		}
	}
}
