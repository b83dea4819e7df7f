package cluster

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"

	"nmdyn/stages/rnn"
	"nmdyn/stages/task/tasktest"
)

// twoBlobs draws n/2 points of each of two classes in d dimensions with identity
// covariance, the class means delta apart along the first axis (Mahalanobis
// distance delta).
func twoBlobs(n, d int, delta float64, seed uint64) ([][]float64, []int) {
	rng := rand.New(rand.NewPCG(seed, 7))
	rows := make([][]float64, n)
	lab := make([]int, n)
	for i := range rows {
		lab[i] = i % 2
		rows[i] = make([]float64, d)
		for j := range rows[i] {
			rows[i][j] = rng.NormFloat64()
		}
		rows[i][0] += delta * float64(lab[i])
	}
	return rows, lab
}

func TestLooLDAAgainstBayesRate(t *testing.T) {
	// Two Gaussian classes with a shared covariance and equal priors: the best
	// possible accuracy is Phi(delta / 2) (delta the Mahalanobis distance), which a
	// linear discriminant estimated from 400 points reaches within sampling error
	// (binomial sd 0.018 at 0.84) plus the estimation loss of 5 dimensions.
	norm := distuv.UnitNormal
	for _, c := range []struct {
		delta, tol float64
	}{{2, 0.06}, {4, 0.04}, {6, 0.02}} {
		rows, lab := twoBlobs(400, 5, c.delta, uint64(10*c.delta))
		got := looLDA(rows, lab, 2)
		want := norm.CDF(c.delta / 2)
		t.Logf("delta %v: leave-one-out accuracy %.3f, Bayes %.3f", c.delta, got, want)
		if math.Abs(got-want) > c.tol {
			t.Errorf("delta %v: accuracy %.3f, Bayes rate %.3f (tolerance %v)", c.delta, got, want, c.tol)
		}
	}
	// No difference between the classes: chance (leave-one-out is, if anything,
	// below 1/2 on structureless data).
	rows, lab := twoBlobs(400, 5, 0, 3)
	if got := looLDA(rows, lab, 2); got > 0.6 {
		t.Errorf("identical classes told apart at %.3f, want chance", got)
	}
	if got := looLDA(rows, make([]int, len(rows)), 1); !math.IsNaN(got) {
		t.Errorf("one class: %v, want NaN", got)
	}
	if got := looLDA(rows[:6], lab[:6], 2); !math.IsNaN(got) {
		t.Errorf("6 points in 5 dimensions: %v, want NaN (no pooled covariance)", got)
	}
}

// A fitted network with two populations that are not the simulator's: the clusters
// are clean but disagree with the truth, and the two checks say why: the
// generating network itself clusters into the true populations, and the true
// labels cannot be learned back from the fitted network's features.
func TestTruthNetworkTellsFitFromClustering(t *testing.T) {
	gen, genPop := twoPopulationModel(120, 1, defaultPops)
	fitted, _ := twoPopulationModel(120, 2, defaultPops)
	// The generating network's neuron i is unit 100 + perm[i]: its populations are
	// a random half of the units, unrelated to the fitted network's (the first and
	// second half of the units).
	perm := rand.New(rand.NewPCG(5, 5)).Perm(gen.N)
	truthOfUnit := make([]int, gen.N) // by the fitted network's row = unit - 100
	for i, j := range perm {
		gen.Units[i] = int64(100 + j)
		truthOfUnit[j] = genPop[i]
	}
	run := func(m *rnn.Model) summary {
		truth := truthOfUnit
		if m == gen {
			truth = genPop
		}
		ctx := stageContext(t, m, truth, truth, nil, map[string]any{"cluster": map[string]any{"bootstrap": 0, "networks": 0}})
		addTruthNetwork(ctx, gen)
		if err := Run(ctx); err != nil {
			t.Fatal(err)
		}
		return readSummary(t, ctx)
	}
	s := run(fitted)
	if s.TruthNetwork == nil || s.TruthNetwork.ARIWithTruth == nil || s.TruthSeparability == nil || s.ARIWithTruth == nil {
		t.Fatalf("truth checks missing: %+v", s)
	}
	t.Logf("fitted: K = %d, ARI with truth %.3f, separability %.3f; generating network: K = %d, ARI %.3f",
		s.NClusters, *s.ARIWithTruth, *s.TruthSeparability, s.TruthNetwork.NClusters, *s.TruthNetwork.ARIWithTruth)
	if s.TruthNetwork.NClusters != 2 || *s.TruthNetwork.ARIWithTruth < 0.8 {
		t.Errorf("generating network: K = %d, ARI %.3f; want 2 clusters matching the truth", s.TruthNetwork.NClusters, *s.TruthNetwork.ARIWithTruth)
	}
	if *s.ARIWithTruth > 0.2 || *s.TruthSeparability > 0.7 {
		t.Errorf("populations unrelated to the truth: ARI %.3f, separability %.3f; want near 0 and near 1/2", *s.ARIWithTruth, *s.TruthSeparability)
	}
	// The generating network as the fitted one: everything agrees.
	s = run(gen)
	if *s.ARIWithTruth < 0.8 || *s.TruthSeparability < 0.95 {
		t.Errorf("fitted = generating network: ARI %.3f, separability %.3f; want >= 0.8 and >= 0.95", *s.ARIWithTruth, *s.TruthSeparability)
	}
}

// addTruthNetwork adds the generating network's tables to the session input (made by
// stageContext with the truth's units).
func addTruthNetwork(ctx *tasktest.Context, gen *rnn.Model) {
	ses := ctx.Upstream["session"][0]
	ses.Tables["truth_neurons"], ses.Tables["truth_globals"] = gen.Tables()
}
