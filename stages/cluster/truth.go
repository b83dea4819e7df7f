package cluster

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"

	"nmdyn/stages/gmm"
	"nmdyn/stages/rnn"
	"nmdyn/stages/task"
)

// truthNetwork is what clustering the simulator's generating network itself gives:
// the check that the method finds the populations in a network that has them, which
// tells a failure of the clustering apart from a fitted network that does not carry
// the populations.
type truthNetwork struct {
	NClusters    int      `json:"n_clusters"`
	Covariance   string   `json:"covariance"`
	ARIWithTruth *float64 `json:"ari_with_truth"`
	Features     []string `json:"features"`
}

// optionalTruthNetwork reads the session's generating network (truth_neurons,
// truth_globals) when the session is an input and has it.
func optionalTruthNetwork(ctx task.Context) (*rnn.Model, error) {
	in, err := ctx.Input("session")
	if err != nil {
		return nil, nil // not an input of this stage
	}
	names := in.Names()
	if !slices.Contains(names, "truth_neurons.parquet") || !slices.Contains(names, "truth_globals.parquet") {
		return nil, nil
	}
	m, err := rnn.ReadModel(in, "truth")
	if err != nil {
		return nil, fmt.Errorf("session %w", err)
	}
	return m, nil
}

// clusterTruthNetwork clusters the generating network's neurons exactly as the fitted
// network's (same features, covariance models, K range and settings) and compares
// the clusters with the true populations.
func clusterTruthNetwork(m *rnn.Model, truth map[int64]string, kmax int, covs []gmm.Covariance, set gmm.Settings) (*truthNetwork, error) {
	feat, err := standardise(m)
	if err != nil {
		return nil, err
	}
	ch, err := chooseModel(feat.z, feat.d, kmax, covs, set)
	if err != nil {
		return nil, err
	}
	best, cov := ch.fit(ch.k)
	_, labels, _ := byWeight(best.Mixture).Posterior(feat.z)
	out := &truthNetwork{NClusters: ch.k, Covariance: cov.String(), Features: feat.names}
	if v, n := agreement(m.Units, labels, truth); n > 0 {
		out.ARIWithTruth = ptr(v)
	}
	return out, nil
}

// truthSeparability is the leave-one-out accuracy with which the true populations
// are told apart in the clustering features of the fitted network by a supervised
// classifier of the tied-covariance mixture's form (linear discriminant: class
// means, one pooled covariance, class priors by frequency), each neuron classified
// by the discriminant fitted to all the others. It bounds what the clustering can
// find in these features far better than the ARI alone: when even the true labels
// cannot be learned back from them, the populations are not in the fitted
// parameters. Neurons without a true population are left out; NaN with fewer than
// two populations or too few neurons for a pooled covariance.
func truthSeparability(f *features, units []int64, truth map[int64]string) float64 {
	idx, lab, k := common(units, truth)
	rows := make([][]float64, len(idx))
	for j, i := range idx {
		rows[j] = f.z[i*f.d : (i+1)*f.d]
	}
	return looLDA(rows, lab, k)
}

// looLDA is the leave-one-out accuracy of a linear discriminant with k classes on
// the rows. The pooled covariance gets a ridge of 1e-6 times its mean variance so
// that a feature constant within the classes does not make it singular.
func looLDA(rows [][]float64, lab []int, k int) float64 {
	n := len(rows)
	if k < 2 || n == 0 {
		return math.NaN()
	}
	d := len(rows[0])
	if n-1-k < d {
		return math.NaN()
	}
	correct := 0
	mean := make([][]float64, k)
	cnt := make([]float64, k)
	S := mat.NewSymDense(d, nil)
	score := make([]float64, k)
	for o := 0; o < n; o++ {
		for c := range mean {
			mean[c] = make([]float64, d)
			cnt[c] = 0
		}
		for i, r := range rows {
			if i == o {
				continue
			}
			cnt[lab[i]]++
			for j, v := range r {
				mean[lab[i]][j] += v
			}
		}
		empty := false
		for c := range mean {
			if cnt[c] == 0 {
				empty = true
				continue
			}
			for j := range mean[c] {
				mean[c][j] /= cnt[c]
			}
		}
		if empty {
			continue // the held-out neuron's class has no other member: counted wrong
		}
		S.Zero()
		for i, r := range rows {
			if i == o {
				continue
			}
			mu := mean[lab[i]]
			for a := 0; a < d; a++ {
				for b := a; b < d; b++ {
					S.SetSym(a, b, S.At(a, b)+(r[a]-mu[a])*(r[b]-mu[b]))
				}
			}
		}
		tr := 0.0
		for a := 0; a < d; a++ {
			tr += S.At(a, a)
		}
		dof := float64(n - 1 - k)
		S.ScaleSym(1/dof, S)
		for a := 0; a < d; a++ {
			S.SetSym(a, a, S.At(a, a)+1e-6*tr/dof/float64(d))
		}
		var chol mat.Cholesky
		if !chol.Factorize(S) {
			return math.NaN()
		}
		best := -1
		for c := range mean {
			// delta_c(x) = mu_c' S^-1 x - mu_c' S^-1 mu_c / 2 + log prior_c
			var w mat.VecDense
			if err := chol.SolveVecTo(&w, mat.NewVecDense(d, slices.Clone(mean[c]))); err != nil {
				return math.NaN()
			}
			s := 0.0
			for j := 0; j < d; j++ {
				s += w.AtVec(j) * (rows[o][j] - mean[c][j]/2)
			}
			score[c] = s + math.Log(cnt[c]/float64(n-1))
			if best < 0 || score[c] > score[best] {
				best = c
			}
		}
		if best == lab[o] {
			correct++
		}
	}
	return float64(correct) / float64(n)
}
