package cluster

import (
	"fmt"
	"math"

	"nmdyn/stages/gmm"
	"nmdyn/stages/table"
)

// parseCovariances reads the covariance models of the cluster.covariance param.
func parseCovariances(names []string) ([]gmm.Covariance, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("cluster.covariance is empty, want some of full, tied")
	}
	var out []gmm.Covariance
	for _, s := range names {
		switch s {
		case "full":
			out = append(out, gmm.Full)
		case "tied":
			out = append(out, gmm.Tied)
		default:
			return nil, fmt.Errorf("cluster.covariance: unknown model %q (want full or tied)", s)
		}
		for _, c := range out[:len(out)-1] {
			if c == out[len(out)-1] {
				return nil, fmt.Errorf("cluster.covariance lists %q twice", s)
			}
		}
	}
	return out, nil
}

// choice is the selected mixture: the number of clusters and the covariance model
// jointly minimise the BIC over every model in covs and K = 1..kmax.
type choice struct {
	covs []gmm.Covariance
	sels []*gmm.Selection // sels[j]: fits of covs[j] for K = 1..kmax
	cov  int              // index in covs of the chosen model
	k    int              // chosen number of clusters
}

// chooseModel fits every covariance model for K = 1..kmax and picks the smallest BIC
// (ties: fewer clusters, then the model listed first). With one cluster all models
// coincide.
func chooseModel(z []float64, d, kmax int, covs []gmm.Covariance, set gmm.Settings) (*choice, error) {
	ch := &choice{covs: covs}
	best := math.Inf(1)
	for j, c := range covs {
		s := set
		s.Covariance = c
		sel, err := gmm.Select(z, d, kmax, &s)
		if err != nil {
			return nil, err
		}
		ch.sels = append(ch.sels, sel)
		for k, b := range sel.BIC {
			if b < best || (b == best && k+1 < ch.k) {
				best, ch.cov, ch.k = b, j, k+1
			}
		}
	}
	return ch, nil
}

// fit is the fit of the chosen model with k clusters (k <= kmax), or, when the chosen
// model is not defined by k (k differs from the choice), of the model with the
// smallest BIC at that k.
func (ch *choice) fit(k int) (*gmm.Result, gmm.Covariance) {
	j := ch.cov
	if k != ch.k {
		for jj, sel := range ch.sels {
			if sel.BIC[k-1] < ch.sels[j].BIC[k-1] {
				j = jj
			}
		}
	}
	return ch.sels[j].Fits[k-1], ch.covs[j]
}

// kmax is the largest number of clusters fitted.
func (ch *choice) kmax() int { return len(ch.sels[0].Fits) }

// bestBIC is, for each K, the smallest BIC over the covariance models.
func (ch *choice) bestBIC() []float64 {
	out := make([]float64, ch.kmax())
	for k := range out {
		out[k] = math.Inf(1)
		for _, sel := range ch.sels {
			out[k] = math.Min(out[k], sel.BIC[k])
		}
	}
	return out
}

// bicTable lists every fit: k, covariance model, BIC, log-likelihood, parameters,
// convergence, and whether it is the chosen one.
func (ch *choice) bicTable(d int) *table.Table {
	var ks, params []int64
	var cov []string
	var bic, ll []float64
	var conv, chosen []bool
	for j, sel := range ch.sels {
		for i, fit := range sel.Fits {
			ks = append(ks, int64(i+1))
			cov = append(cov, ch.covs[j].String())
			bic = append(bic, sel.BIC[i])
			ll = append(ll, fit.LogLik)
			params = append(params, int64(ch.covs[j].NumParams(i+1, d)))
			conv = append(conv, fit.Converged)
			chosen = append(chosen, j == ch.cov && i+1 == ch.k)
		}
	}
	t := table.New()
	t.AddInt("k", ks)
	t.AddString("covariance", cov)
	t.AddFloat("bic", bic)
	t.AddFloat("loglik", ll)
	t.AddInt("params", params)
	t.AddBool("converged", conv)
	t.AddBool("chosen", chosen)
	t.SetMeta("selected_k", fmt.Sprint(ch.k))
	t.SetMeta("selected_covariance", ch.covs[ch.cov].String())
	return t
}
