package cluster

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"nmdyn/stages/dynamics"
	"nmdyn/stages/gmm"
	"nmdyn/stages/rnn"
	"nmdyn/stages/table"
	"nmdyn/stages/task"
)

// Run is the stage `cluster` (see the package doc). Inputs: select (winner_neurons,
// winner_globals), meanfield (populations: unit, population), fixedpoints (levels:
// nu, regime; optional), session (truth_units: unit, population; optional). Outputs:
// clusters, bic, stability, resampled_regimes, cluster_means and summary.json.
func Run(ctx task.Context) error {
	p := defaultParams()
	if err := ctx.Decode(&p); err != nil {
		return fmt.Errorf("cluster params: %w", err)
	}
	if err := p.check(); err != nil {
		return err
	}
	model, err := loadModel(ctx)
	if err != nil {
		return err
	}
	feat, err := standardise(model)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	if len(feat.constant) > 0 {
		var names []string
		for _, c := range feat.constant {
			names = append(names, c.name)
		}
		ctx.Logf("constant parameters left out of the clustering: %s", strings.Join(names, ", "))
	}
	ctx.Logf("clustering %d neurons of the %s network on %d standardised features: %s",
		feat.n, model.Variant, feat.d, strings.Join(feat.names, ", "))
	c := p.Cluster
	threads := max(ctx.Threads(), 1)
	covs, err := parseCovariances(c.Covariance)
	if err != nil {
		return err
	}
	set := gmm.Settings{Restarts: c.Restarts, Seed: c.Seed, Threads: threads}

	// Number of clusters (and covariance model) by BIC.
	ctx.Progress(0, "mixtures")
	ch, err := chooseModel(feat.z, feat.d, c.MaxClusters, covs, set)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	k := ch.k
	best, cov := ch.fit(k)
	mix := byWeight(best.Mixture)
	resp, labels, _ := mix.Posterior(feat.z)
	for j, sel := range ch.sels {
		ctx.Logf("BIC (%s covariances) over 1..%d clusters: %v", covs[j], len(sel.BIC), roundAll(sel.BIC))
	}
	ctx.Logf("chosen: K = %d, %s covariances", k, cov)

	if err := ctx.WriteTable("clusters", clustersTable(model, feat, labels, resp, k)); err != nil {
		return err
	}
	if err := ctx.WriteTable("bic", ch.bicTable(feat.d)); err != nil {
		return err
	}
	if err := ctx.WriteTable("cluster_means", meansTable(mix, feat)); err != nil {
		return err
	}

	// Bootstrap stability against the null of one Gaussian blob.
	ctx.Progress(0.2, "stability")
	sum := summary{NClusters: k, Covariance: cov.String(), BIC: ch.bestBIC(), BICByCovariance: map[string][]float64{},
		Features: feat.names, Neurons: feat.n}
	for j, sel := range ch.sels {
		sum.BICByCovariance[covs[j].String()] = sel.BIC
	}
	ks := max(k, 2)
	var ari, nullARI []float64
	if ks <= ch.kmax() && c.Bootstrap > 0 {
		ref, scov := ch.fit(ks)
		null, _ := ch.fit(1)
		sset := set
		sset.Covariance = scov
		progress := func(done int) {
			ctx.Progress(0.2+0.5*float64(done)/float64(2*c.Bootstrap), fmt.Sprintf("stability %d/%d", done, 2*c.Bootstrap))
		}
		ari, nullARI, err = stability(ctx.Ctx(), feat.z, feat.n, feat.d, ks, ref.Labels, null.Mixture, c.Bootstrap, c.Seed, sset, threads, progress)
		if err != nil {
			return fmt.Errorf("cluster stability: %w", err)
		}
		sum.StabilityK = ks
		sum.StabilityCovariance = scov.String()
		sum.StabilityARI = ptr(median(ari))
		sum.StabilityNullARI = ptr(median(nullARI))
		sum.StabilityNullARI95 = ptr(quantile(nullARI, 0.95))
		ctx.Logf("stability (K = %d, %d resamples): median ARI %.3f, null median %.3f (95%% %.3f)",
			ks, c.Bootstrap, *sum.StabilityARI, *sum.StabilityNullARI, *sum.StabilityNullARI95)
	}
	stab := table.New()
	stab.AddInt("resample", seq(len(ari)))
	stab.AddFloat("ari", ari)
	stab.AddFloat("null_ari", nullARI)
	stab.SetMeta("clusters", fmt.Sprint(ks))
	if err := ctx.WriteTable("stability", stab); err != nil {
		return err
	}

	// Agreement with the mean-field populations and with the truth.
	mf, err := ctx.Input("meanfield")
	if err != nil {
		return err
	}
	pops, err := partition(mf, "meanfield", "populations")
	if err != nil {
		return err
	}
	if v, n := agreement(model.Units, labels, pops); n > 0 {
		sum.ARIWithMeanfield = ptr(v)
		ctx.Logf("ARI with the mean-field populations: %.3f (%d common units)", v, n)
	} else {
		ctx.Logf("no unit in common with the mean-field populations")
	}
	if truth, ok, err := optionalTruth(ctx); err != nil {
		return err
	} else if ok {
		if v, n := agreement(model.Units, labels, truth); n > 0 {
			sum.ARIWithTruth = ptr(v)
			ctx.Logf("ARI with the true populations: %.3f (%d common units)", v, n)
		}
		sum.TruthSeparability = ptr(truthSeparability(feat, model.Units, truth))
		if sum.TruthSeparability != nil {
			ctx.Logf("true populations told apart in the fitted network's features by a supervised linear discriminant: %.1f%% of neurons (leave-one-out)",
				100**sum.TruthSeparability)
		}
		gen, err := optionalTruthNetwork(ctx)
		if err != nil {
			return err
		}
		if gen != nil {
			tn, err := clusterTruthNetwork(gen, truth, c.MaxClusters, covs, set)
			if err != nil {
				return fmt.Errorf("cluster, generating network: %w", err)
			}
			sum.TruthNetwork = tn
			if tn.ARIWithTruth != nil {
				ctx.Logf("the generating network clustered the same way: K = %d (%s covariances), ARI with the true populations %.3f",
					tn.NClusters, tn.Covariance, *tn.ARIWithTruth)
			}
		}
	}

	// Networks resampled from the mixture must reproduce the regimes along NE.
	ctx.Progress(0.7, "resampled networks")
	rows := regimeRows{}
	regimes := regimeFunc // a test's stand-in, else the fixed-point analysis
	if regimes == nil {
		regimes = fixedPointRegimes(p.Fixedpoints.Thresholds)
	}
	if c.Networks == 0 {
		ctx.Logf("resampled networks: cluster.networks = 0, skipped")
	} else {
		grid, fitted, err := fittedRegimes(ctx, model, p.Fixedpoints.Grid, regimes)
		if err != nil {
			return err
		}
		size := c.NetworkNeurons
		if size == 0 {
			size = model.N
		}
		nets, err := resampledRegimes(ctx.Ctx(), feat, model, mix, c.Networks, size, c.MomentMatched, grid, c.Seed, threads, regimes)
		if err != nil {
			return fmt.Errorf("cluster: %w", err)
		}
		matches := 0
		for j, labs := range nets {
			for l, nu := range grid {
				rows.add(j+1, nu, labs[l], fitted[l])
				if labs[l] == fitted[l] {
					matches++
				}
			}
		}
		sum.ResampledRegimeAgreement = ptr(float64(matches) / float64(len(nets)*len(grid)))
		ctx.Logf("resampled networks (%d neurons, moment-matched %v): %d of %d (network, NE level) regimes match the fitted network",
			size, c.MomentMatched, matches, len(nets)*len(grid))
	}
	if err := ctx.WriteTable("resampled_regimes", rows.table()); err != nil {
		return err
	}

	js, err := json.MarshalIndent(map[string]summary{"clustering": sum}, "", "  ")
	if err != nil {
		return err
	}
	if err := ctx.WriteFile("summary.json", append(js, '\n')); err != nil {
		return err
	}
	ctx.Progress(1, "done")
	return nil
}

// summary is the stage's part of summary.json; absent numbers are null.
type summary struct {
	NClusters           int                  `json:"n_clusters"`
	Covariance          string               `json:"covariance"`
	BIC                 []float64            `json:"bic"`
	BICByCovariance     map[string][]float64 `json:"bic_by_covariance"`
	StabilityCovariance string               `json:"stability_covariance,omitempty"`
	StabilityARI        *float64             `json:"stability_ari"`
	StabilityNullARI    *float64             `json:"stability_null_ari"`
	StabilityNullARI95  *float64             `json:"stability_null_ari_q95"`
	StabilityK          int                  `json:"stability_k"`
	ARIWithMeanfield    *float64             `json:"ari_with_meanfield"`
	ARIWithTruth        *float64             `json:"ari_with_truth"`
	// TruthSeparability and TruthNetwork are null unless the session is simulated:
	// how well the true populations can be learned back from the fitted network's
	// features with their labels given, and the clustering of the generating network.
	TruthSeparability        *float64      `json:"truth_separability"`
	TruthNetwork             *truthNetwork `json:"truth_network"`
	ResampledRegimeAgreement *float64      `json:"resampled_regime_agreement"`
	Features                 []string      `json:"features"`
	Neurons                  int           `json:"neurons"`
}

func ptr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func loadModel(ctx task.Context) (*rnn.Model, error) {
	in, err := ctx.Input("select")
	if err != nil {
		return nil, err
	}
	m, err := rnn.ReadModel(in, "winner")
	if err != nil {
		return nil, fmt.Errorf("select %w", err)
	}
	return m, nil
}

// byWeight renumbers the components by decreasing weight (ties: lexicographic mean,
// then index) so that cluster 1 is the largest.
func byWeight(m *gmm.Mixture) *gmm.Mixture {
	order := make([]int, m.K)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		ia, ib := order[a], order[b]
		if m.Weights[ia] != m.Weights[ib] {
			return m.Weights[ia] > m.Weights[ib]
		}
		return slices.Compare(m.Mean(ia), m.Mean(ib)) < 0
	})
	return m.Reordered(order)
}

func clustersTable(model *rnn.Model, f *features, labels []int, resp []float64, k int) *table.Table {
	t := table.New()
	t.AddInt("unit", append([]int64(nil), model.Units...))
	cl := make([]int64, f.n)
	prob := make([]float64, f.n)
	for i, l := range labels {
		cl[i] = int64(l + 1)
		prob[i] = resp[i*k+l]
	}
	t.AddInt("cluster", cl)
	t.AddFloat("probability", prob)
	for a, name := range f.names {
		col := make([]float64, f.n)
		for i := range col {
			col[i] = f.raw[i*f.d+a]
		}
		t.AddFloat(name, col)
	}
	t.SetMeta("features", strings.Join(f.names, ","))
	t.SetMeta("standardised", "z-score with the mean and population sd of each feature")
	return t
}

// meansTable lists each cluster's mean and standard deviation of every feature in
// the features' own units (the mixture lives in standardised units).
func meansTable(m *gmm.Mixture, f *features) *table.Table {
	var cl []int64
	var w, mean, sd []float64
	var names []string
	for k := 0; k < m.K; k++ {
		mu, cov := m.Mean(k), m.Cov(k)
		for a, name := range f.names {
			cl = append(cl, int64(k+1))
			w = append(w, m.Weights[k])
			names = append(names, name)
			mean = append(mean, f.mean[a]+f.sd[a]*mu[a])
			sd = append(sd, f.sd[a]*math.Sqrt(cov[a*f.d+a]))
		}
	}
	t := table.New()
	t.AddInt("cluster", cl)
	t.AddFloat("weight", w)
	t.AddString("feature", names)
	t.AddFloat("mean", mean)
	t.AddFloat("sd", sd)
	return t
}

// partition reads a table (unit, population) from the output name of stage;
// population may be an integer or a string column.
func partition(in task.Input, stage, name string) (map[int64]string, error) {
	label := stage + " " + name // for errors
	t, err := in.Table(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	units, err := t.Int("unit")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	out := make(map[int64]string, len(units))
	var labels []string
	if s, err := t.String("population"); err == nil {
		labels = s
	} else if v, err2 := t.Int("population"); err2 == nil {
		for _, x := range v {
			labels = append(labels, fmt.Sprint(x))
		}
	} else {
		return nil, fmt.Errorf("%s: %w", label, err2)
	}
	for i, u := range units {
		if _, dup := out[u]; dup {
			return nil, fmt.Errorf("%s: unit %d listed twice", label, u)
		}
		out[u] = labels[i]
	}
	return out, nil
}

// optionalTruth reads the session's truth_units when the session is an input and has
// them.
func optionalTruth(ctx task.Context) (map[int64]string, bool, error) {
	in, err := ctx.Input("session")
	if err != nil {
		return nil, false, nil // not an input of this stage: no truth to compare with
	}
	if !slices.Contains(in.Names(), "truth_units.parquet") {
		return nil, false, nil
	}
	truth, err := partition(in, "session", "truth_units")
	if err != nil {
		return nil, false, err
	}
	return truth, true, nil
}

// agreement is the ARI between the clusters of the units and another partition, on
// the units both have, and how many those are.
func agreement(units []int64, labels []int, other map[int64]string) (float64, int) {
	rows, b, _ := common(units, other)
	if len(rows) == 0 {
		return math.NaN(), 0
	}
	a := make([]int, len(rows))
	for j, i := range rows {
		a[j] = labels[i]
	}
	return gmm.AdjustedRand(a, b), len(a)
}

// common lists the rows whose unit the partition other has, with their parts
// numbered 0..k-1 in order of first appearance.
func common(units []int64, other map[int64]string) (rows, parts []int, k int) {
	ids := map[string]int{}
	for i, u := range units {
		s, ok := other[u]
		if !ok {
			continue
		}
		if _, ok := ids[s]; !ok {
			ids[s] = len(ids)
		}
		rows = append(rows, i)
		parts = append(parts, ids[s])
	}
	return rows, parts, len(ids)
}

// fittedRegimes returns the NE grid and the fitted network's regime at each level:
// from the fixedpoints stage's levels table when that stage is an input, else from
// the same analysis run here on an even grid of the given size.
func fittedRegimes(ctx task.Context, model *rnn.Model, gridSize int, regimes RegimeFunc) ([]float64, []string, error) {
	if in, err := ctx.Input("fixedpoints"); err == nil {
		t, err := in.Table("levels")
		if err != nil {
			return nil, nil, fmt.Errorf("fixedpoints levels: %w", err)
		}
		nu, err := t.Float("nu")
		if err != nil {
			return nil, nil, fmt.Errorf("fixedpoints levels: %w", err)
		}
		reg, err := t.String("regime")
		if err != nil {
			return nil, nil, fmt.Errorf("fixedpoints levels: %w", err)
		}
		return append([]float64(nil), nu...), append([]string(nil), reg...), nil
	}
	grid := dynamics.DefaultGrid(gridSize)
	reg, err := regimes(model, grid)
	if err != nil {
		return nil, nil, fmt.Errorf("cluster: regimes of the fitted network: %w", err)
	}
	if len(reg) != len(grid) {
		return nil, nil, fmt.Errorf("cluster: %d regime labels for %d NE levels", len(reg), len(grid))
	}
	ctx.Logf("fixedpoints is not an input: regimes of the fitted network computed here on %d levels", gridSize)
	return grid, reg, nil
}

type regimeRows struct {
	network        []int64
	nu             []float64
	regime, fitted []string
	matches        []bool
}

func (r *regimeRows) add(network int, nu float64, regime, fitted string) {
	r.network = append(r.network, int64(network))
	r.nu = append(r.nu, nu)
	r.regime = append(r.regime, regime)
	r.fitted = append(r.fitted, fitted)
	r.matches = append(r.matches, regime == fitted)
}

func (r *regimeRows) table() *table.Table {
	t := table.New()
	t.AddInt("network", r.network)
	t.AddFloat("nu", r.nu)
	t.AddString("regime", r.regime)
	t.AddString("fitted_regime", r.fitted)
	t.AddBool("matches", r.matches)
	return t
}

func seq(n int) []int64 {
	s := make([]int64, n)
	for i := range s {
		s[i] = int64(i + 1)
	}
	return s
}

func median(x []float64) float64 { return quantile(x, 0.5) }

// quantile is the linearly interpolated quantile q of x (NaN when empty).
func quantile(x []float64, q float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	if lo+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[lo] + (pos-float64(lo))*(s[lo+1]-s[lo])
}

func roundAll(x []float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = math.Round(v*10) / 10
	}
	return out
}
