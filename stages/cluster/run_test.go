package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"

	"nmdyn/stages/gmm"
	"nmdyn/stages/rnn"
	"nmdyn/stages/table"
	"nmdyn/stages/task/tasktest"
)

// popSpec is how the neurons of one population of a synthetic network are drawn.
type popSpec struct {
	gammaMean [2]float64 // mean of (gamma_1, gamma_2)
	gammaSD   float64
	overlap   float64 // n_i = overlap * m_i + noise: the population's sigma_nm
}

// twoPopulationModel builds a postgain network of n neurons (rank 2, K = 2, one event
// input) from the given populations, split evenly, units numbered from 100. Only the NE
// parameters and the loading overlap differ between populations; h and b are drawn
// from one distribution for all. It returns the model and each neuron's population.
func twoPopulationModel(n int, seed uint64, pops []popSpec) (*rnn.Model, []int) {
	rng := rand.New(rand.NewPCG(seed, 42))
	m := rnn.New(rnn.PostGain, n, 2, 2, 1, 0.05, 0.1)
	m.Events[0] = "tone"
	truth := make([]int, n)
	for i := 0; i < n; i++ {
		p := i * len(pops) / n
		truth[i] = p
		s := pops[p]
		m.Units[i] = int64(100 + i)
		for r := 0; r < 2; r++ {
			mi := rng.NormFloat64()
			m.M[i*2+r] = mi
			m.Nv[i*2+r] = s.overlap*mi + 0.5*rng.NormFloat64()
			m.Gamma[i*2+r] = s.gammaMean[r] + s.gammaSD*rng.NormFloat64()
		}
		m.H[i] = 0.1 * rng.NormFloat64()
		m.B[i] = 0.3 + 0.3*rng.NormFloat64()
		m.C[i] = 1 + 0.2*rng.NormFloat64()
		m.D[i] = 1 + 0.5*rng.NormFloat64()
		m.X0B[i] = 0.1 * rng.NormFloat64()
	}
	return m, truth
}

// linearRegimes is a stand-in for the fixed-point analysis with the same signature:
// the origin (near the fixed point for small h) loses stability when the latent
// coupling A_rs = sum_i n_ir g_post_i(nu) m_is / N has an eigenvalue with real part
// above 1; the network is then labelled "line attractor", else "single fixed point".
// It depends on the joint distribution of loadings and NE gains, which is what
// resampled networks must reproduce.
func linearRegimes(m *rnn.Model, grid []float64) ([]string, error) {
	out := make([]string, len(grid))
	for l, nu := range grid {
		s := m.AtNE(nu, nil)
		a := mat.NewDense(m.R, m.R, nil)
		for i := 0; i < m.N; i++ {
			for r := 0; r < m.R; r++ {
				for q := 0; q < m.R; q++ {
					a.Set(r, q, a.At(r, q)+m.Nv[i*m.R+r]*s.GPost[i]*m.M[i*m.R+q]/float64(m.N))
				}
			}
		}
		var eig mat.Eigen
		if !eig.Factorize(a, mat.EigenNone) {
			return nil, fmt.Errorf("eigen decomposition failed")
		}
		lead := math.Inf(-1)
		for _, v := range eig.Values(nil) {
			lead = math.Max(lead, real(v))
		}
		out[l] = "single fixed point"
		if lead > 1 {
			out[l] = "line attractor"
		}
	}
	return out, nil
}

// defaultPops: population 1's gain peaks at mid NE (log-gain -(2 nu - 1)^2) and its
// loadings overlap strongly (sigma_nm = 2.6), so the network has a line attractor in
// the middle of the NE range; population 2's gain rises with NE and barely feeds back.
// The gamma means are 0.8 to 1.2 apart with a within-population sd of 0.2.
var defaultPops = []popSpec{
	{gammaMean: [2]float64{0, -1}, gammaSD: 0.2, overlap: 2.6},
	{gammaMean: [2]float64{0.8, 0.2}, gammaSD: 0.2, overlap: 0.2},
}

// stageContext wires the inputs of the stage: the model as select's winner, the
// mean-field populations, optionally the truth and the fixedpoints levels.
func stageContext(t testing.TB, m *rnn.Model, meanfield []int, truth []int, levels *table.Table, params map[string]any) *tasktest.Context {
	t.Helper()
	ctx := tasktest.New(params)
	sel := tasktest.NewOutputs(nil)
	sel.Tables["winner_neurons"], sel.Tables["winner_globals"] = m.Tables()
	ctx.AddInput("select", sel)
	partition := func(labels []int, prefix string) *table.Table {
		tb := table.New()
		tb.AddInt("unit", append([]int64(nil), m.Units...))
		s := make([]string, len(labels))
		for i, l := range labels {
			s[i] = fmt.Sprintf("%s%d", prefix, l)
		}
		tb.AddString("population", s)
		return tb
	}
	mf := tasktest.NewOutputs(nil)
	mf.Tables["populations"] = partition(meanfield, "pop")
	ctx.AddInput("meanfield", mf)
	if truth != nil {
		ses := tasktest.NewOutputs(nil)
		tu := table.New()
		tu.AddInt("unit", append([]int64(nil), m.Units...))
		pop := make([]int64, len(truth))
		for i, l := range truth {
			pop[i] = int64(l + 1)
		}
		tu.AddInt("population", pop)
		ses.Tables["truth_units"] = tu
		ctx.AddInput("session", ses)
	}
	if levels != nil {
		fp := tasktest.NewOutputs(nil)
		fp.Tables["levels"] = levels
		ctx.AddInput("fixedpoints", fp)
	}
	return ctx
}

func readSummary(t testing.TB, ctx *tasktest.Context) summary {
	t.Helper()
	var s map[string]summary
	if err := json.Unmarshal(ctx.Out.Files["summary.json"], &s); err != nil {
		t.Fatalf("summary.json: %v", err)
	}
	return s["clustering"]
}

func withRegimes(fn RegimeFunc) func() {
	old := regimeFunc
	regimeFunc = fn
	return func() { regimeFunc = old }
}

func TestTwoPopulationsRecovered(t *testing.T) {
	defer withRegimes(linearRegimes)()
	m, truth := twoPopulationModel(120, 1, defaultPops)
	// The fitted network's regimes come from the fixedpoints input, as in the
	// pipeline: here the stand-in analysis on the fitted model, 21 levels.
	grid := make([]float64, 21)
	for i := range grid {
		grid[i] = float64(i) / 20
	}
	reg, _ := linearRegimes(m, grid)
	levels := table.New()
	levels.AddFloat("nu", grid)
	levels.AddString("regime", reg)
	if reg[0] != "single fixed point" || reg[10] != "line attractor" || reg[20] != "single fixed point" {
		t.Fatalf("the synthetic network should have a line attractor at mid NE only: %v", reg)
	}
	// Mean-field populations equal to the truth but with other label names: the
	// ARI must not care about names.
	ctx := stageContext(t, m, truth, truth, levels, map[string]any{"cluster": map[string]any{"bootstrap": 40}})
	ctx.NThreads = 2
	start := time.Now()
	if err := Run(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("N = 120: %v", time.Since(start))
	s := readSummary(t, ctx)
	t.Logf("BIC %v; stability %v, null %v; ARI truth %v, meanfield %v; regimes %v", s.BIC, *s.StabilityARI,
		*s.StabilityNullARI, *s.ARIWithTruth, *s.ARIWithMeanfield, *s.ResampledRegimeAgreement)
	if s.NClusters != 2 {
		t.Fatalf("BIC chose %d clusters, want 2 (BIC %v)", s.NClusters, s.BIC)
	}
	// Acceptance of issue 7 on the default session: 2 clusters, ARI >= 0.8 with truth.
	if s.ARIWithTruth == nil || *s.ARIWithTruth < 0.8 {
		t.Errorf("ARI with the truth %v, want >= 0.8", s.ARIWithTruth)
	}
	if s.ARIWithMeanfield == nil || *s.ARIWithMeanfield != *s.ARIWithTruth {
		t.Errorf("ARI with mean-field populations (= truth relabelled) %v, want %v", s.ARIWithMeanfield, *s.ARIWithTruth)
	}
	if *s.StabilityARI < 0.9 || *s.StabilityARI <= *s.StabilityNullARI95 {
		t.Errorf("stability median %v, null median %v, null 95%% %v: structured data must be stable and above the null",
			*s.StabilityARI, *s.StabilityNullARI, *s.StabilityNullARI95)
	}
	if s.ResampledRegimeAgreement == nil || *s.ResampledRegimeAgreement < 0.8 {
		t.Errorf("resampled networks reproduce %v of the regimes, want >= 0.8", s.ResampledRegimeAgreement)
	}
	wantFeatures := []string{"m_1", "m_2", "n_1", "n_2", "h", "b_tone", "gamma_1", "gamma_2"}
	if fmt.Sprint(s.Features) != fmt.Sprint(wantFeatures) {
		t.Errorf("features %v, want %v", s.Features, wantFeatures)
	}
	checkOutputs(t, ctx, m.N, 2, 40, 5*21)
}

// checkOutputs checks the columns and row counts of every output and that each
// encodes to Parquet.
func checkOutputs(t *testing.T, ctx *tasktest.Context, n, k, reps, regimeRows int) {
	t.Helper()
	for _, c := range []struct {
		name string
		cols []string
		rows int
	}{
		{"clusters", []string{"unit", "cluster", "probability", "m_1", "gamma_2"}, n},
		{"bic", []string{"k", "covariance", "bic", "loglik", "params", "converged", "chosen"}, 12},
		{"stability", []string{"resample", "ari", "null_ari"}, reps},
		{"resampled_regimes", []string{"network", "nu", "regime", "fitted_regime", "matches"}, regimeRows},
		{"cluster_means", []string{"cluster", "weight", "feature", "mean", "sd"}, k * 8},
	} {
		tb, ok := ctx.Out.Tables[c.name]
		if !ok {
			t.Errorf("no output %s", c.name)
			continue
		}
		for _, col := range c.cols {
			if !tb.Has(col) {
				t.Errorf("%s: no column %s (has %v)", c.name, col, tb.Names())
			}
		}
		if tb.Len() != c.rows {
			t.Errorf("%s: %d rows, want %d", c.name, tb.Len(), c.rows)
		}
		if err := table.WriteParquet(&bytes.Buffer{}, tb); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func TestClusterMeansMatchPopulations(t *testing.T) {
	// cluster_means is in the features' own units: the mean gamma of each cluster
	// must be the sample mean of its population's gammas (the clusters are the
	// populations here), within the sd / sqrt(60) = 0.026 of sampling error times 4.
	m, truth := twoPopulationModel(120, 1, defaultPops)
	ctx := stageContext(t, m, truth, nil, nil, map[string]any{"cluster": map[string]any{"bootstrap": 0, "networks": 0}})
	if err := Run(ctx); err != nil {
		t.Fatal(err)
	}
	cm := ctx.Out.Tables["cluster_means"]
	cl, _ := cm.Int("cluster")
	feat, _ := cm.String("feature")
	mean, _ := cm.Float("mean")
	got := map[string]float64{}
	for i := range cl {
		got[fmt.Sprintf("%d/%s", cl[i], feat[i])] = mean[i]
	}
	// Equal-sized populations: cluster numbering by weight is either way round.
	g1 := got["1/gamma_2"]
	first := 0
	if math.Abs(g1-defaultPops[1].gammaMean[1]) < math.Abs(g1-defaultPops[0].gammaMean[1]) {
		first = 1
	}
	for c := 0; c < 2; c++ {
		p := defaultPops[(first+c)%2]
		for r := 0; r < 2; r++ {
			v := got[fmt.Sprintf("%d/gamma_%d", c+1, r+1)]
			if math.Abs(v-p.gammaMean[r]) > 4*0.2/math.Sqrt(60) {
				t.Errorf("cluster %d gamma_%d mean %v, population mean %v", c+1, r+1, v, p.gammaMean[r])
			}
		}
	}
	if s := readSummary(t, ctx); s.StabilityARI != nil || s.ResampledRegimeAgreement != nil || s.ARIWithTruth != nil ||
		s.TruthSeparability != nil || s.TruthNetwork != nil {
		t.Errorf("no bootstrap, no resampled networks, no truth: want nulls, got %+v", s)
	}
}

func TestPopulationsDifferingOnlyInNE(t *testing.T) {
	// The harder case: both populations have the same loading statistics (overlap
	// 1.4), h and b are the same for all, and only the NE parameters differ (means
	// 0.8 and 1.2 apart, sd 0.25). With 8 features a second full covariance costs
	// 44 parameters, more than 120 neurons can pay for in BIC; clusters that differ
	// in location only are what the tied model describes, and the joint choice of
	// covariance model and K must find them.
	pops := []popSpec{defaultPops[0], defaultPops[1]}
	for p := range pops {
		pops[p].overlap, pops[p].gammaSD = 1.4, 0.25
	}
	m, truth := twoPopulationModel(120, 6, pops)
	ctx := stageContext(t, m, truth, truth, nil, map[string]any{"cluster": map[string]any{"bootstrap": 20}})
	ctx.NThreads = 2
	if err := Run(ctx); err != nil {
		t.Fatal(err)
	}
	s := readSummary(t, ctx)
	t.Logf("BIC full %v tied %v; ARI truth %v; stability %v null %v", roundAll(s.BICByCovariance["full"]),
		roundAll(s.BICByCovariance["tied"]), *s.ARIWithTruth, *s.StabilityARI, *s.StabilityNullARI)
	if s.NClusters != 2 || s.Covariance != "tied" {
		t.Fatalf("chose %d clusters with %s covariances, want 2, tied", s.NClusters, s.Covariance)
	}
	if *s.ARIWithTruth < 0.8 {
		t.Errorf("ARI with truth %v, want >= 0.8", *s.ARIWithTruth)
	}
	// With full covariances only, BIC prefers one cluster here: the reason for
	// letting the tied model compete.
	ctx = stageContext(t, m, truth, truth, nil, map[string]any{"cluster": map[string]any{"bootstrap": 0, "covariance": []string{"full"}}})
	if err := Run(ctx); err != nil {
		t.Fatal(err)
	}
	if s := readSummary(t, ctx); s.NClusters != 1 {
		t.Errorf("full covariances only: %d clusters; the parameter count (BIC %v) should give 1", s.NClusters, roundAll(s.BIC))
	}
}

// exactLoadings redraws each population's loadings (m_1, m_2, n_1, n_2) so that
// their sample mean is 0 and their sample covariance is exactly that of the
// generator (var m = 1, cov(m_r, n_r) = overlap, var n = overlap^2 + 0.25, no cross
// terms): a ring-symmetric overlap without the finite-size anisotropy of a plain
// draw, which at N = 120 already decides between a ring of slow fixed points and a
// few isolated ones.
func exactLoadings(t testing.TB, m *rnn.Model, truth []int, pops []popSpec, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 43))
	for p, s := range pops {
		var rows []int
		for i, l := range truth {
			if l == p {
				rows = append(rows, i)
			}
		}
		mix := gmm.NewMixture(1, 4)
		mix.Weights[0] = 1
		o := s.overlap
		copy(mix.Covs, []float64{
			1, 0, o, 0,
			0, 1, 0, o,
			o, 0, o*o + 0.25, 0,
			0, o, 0, o*o + 0.25})
		if err := mix.Prepare(); err != nil {
			t.Fatal(err)
		}
		x, _ := mix.SampleMatched(len(rows), rng)
		for j, i := range rows {
			m.M[2*i], m.M[2*i+1], m.Nv[2*i], m.Nv[2*i+1] = x[4*j], x[4*j+1], x[4*j+2], x[4*j+3]
		}
	}
}

func TestResampledNetworksFixedPointAnalysis(t *testing.T) {
	// The real regime analysis (package dynamics) on a synthetic network of 400
	// neurons with exact population moments, whose regime sequence along NE (single
	// fixed point, a ring of slow fixed points labelled line attractor in the
	// middle, single fixed point) is a property of its population statistics rather
	// than of finite-size luck (measured: at N = 120 the middle levels of networks
	// drawn from the same generator come out line attractor or multistable about
	// equally often, at N = 400 line attractor for 6 seeds of 6). Its regimes come
	// from the same analysis (no fixedpoints input); networks resampled from the
	// two-cluster mixture (moment-matched) must reproduce them at >= 80 % of the
	// (network, NE level) pairs (measured 0.86-0.90 over 2 seeds with 5 networks and
	// 21 levels; plain draws give 0.56-0.63).
	m, truth := twoPopulationModel(400, 1, defaultPops)
	exactLoadings(t, m, truth, defaultPops, 1)
	ctx := stageContext(t, m, truth, truth, nil, map[string]any{
		"cluster":     map[string]any{"bootstrap": 0, "networks": 3},
		"fixedpoints": map[string]any{"grid": 11}})
	ctx.NThreads = 2
	start := time.Now()
	if err := Run(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("N = 400 with the fixed-point analysis of 3 networks x 11 levels: %v", time.Since(start))
	s := readSummary(t, ctx)
	rr := ctx.Out.Tables["resampled_regimes"]
	fitted, _ := rr.String("fitted_regime")
	reg, _ := rr.String("regime")
	t.Logf("fitted     %s", initials(fitted[:11]))
	for j := 0; j < 3; j++ {
		t.Logf("network %d  %s", j+1, initials(reg[j*11:(j+1)*11]))
	}
	if s.NClusters != 2 || *s.ARIWithTruth < 0.8 {
		t.Errorf("%d clusters, ARI with truth %v", s.NClusters, *s.ARIWithTruth)
	}
	if s.ResampledRegimeAgreement == nil || *s.ResampledRegimeAgreement < 0.8 {
		t.Errorf("resampled regime agreement %v, want >= 0.8", fmtPtr(s.ResampledRegimeAgreement))
	}
}

// initials abbreviates regime labels to their first letters (s, l, m, o).
func initials(labels []string) string {
	out := make([]byte, len(labels))
	for i, l := range labels {
		out[i] = l[0]
	}
	return string(out)
}

func fmtPtr(p *float64) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

func TestOnePopulationGivesOneCluster(t *testing.T) {
	// All neurons from one population: BIC must choose 1 cluster; the best 2-cluster
	// split is then no more stable than splits of a single Gaussian blob.
	one := []popSpec{defaultPops[0]}
	m, truth := twoPopulationModel(120, 3, one)
	ctx := stageContext(t, m, truth, truth, nil, map[string]any{"cluster": map[string]any{"bootstrap": 40}})
	ctx.NThreads = 2
	if err := Run(ctx); err != nil {
		t.Fatal(err)
	}
	s := readSummary(t, ctx)
	t.Logf("one population: BIC %v; stability %v, null %v (95%% %v)", s.BIC, *s.StabilityARI, *s.StabilityNullARI, *s.StabilityNullARI95)
	if s.NClusters != 1 {
		t.Fatalf("BIC chose %d clusters for one population: %v", s.NClusters, s.BIC)
	}
	if s.StabilityK != 2 {
		t.Errorf("stability computed with %d clusters, want 2", s.StabilityK)
	}
	// One cluster against one true population: identical partitions.
	if *s.ARIWithTruth != 1 {
		t.Errorf("ARI with truth %v, want 1", *s.ARIWithTruth)
	}
	if *s.StabilityARI > *s.StabilityNullARI95 {
		t.Errorf("unstructured data: stability %v above the null's 95%% %v", *s.StabilityARI, *s.StabilityNullARI95)
	}
}

func TestDeterministicAcrossThreads(t *testing.T) {
	// Every output byte-identical with 1 and 3 threads, the stage's own regime
	// analysis included.
	m, truth := twoPopulationModel(80, 2, defaultPops)
	params := map[string]any{"cluster": map[string]any{"bootstrap": 6, "networks": 3, "restarts": 4}, "fixedpoints": map[string]any{"grid": 5}}
	var outs []map[string][]byte
	for _, threads := range []int{1, 3} {
		ctx := stageContext(t, m, truth, nil, nil, params)
		ctx.NThreads = threads
		if err := Run(ctx); err != nil {
			t.Fatal(err)
		}
		enc := map[string][]byte{"summary.json": ctx.Out.Files["summary.json"]}
		for name, tb := range ctx.Out.Tables {
			var buf bytes.Buffer
			if err := table.WriteParquet(&buf, tb); err != nil {
				t.Fatal(err)
			}
			enc[name] = buf.Bytes()
		}
		outs = append(outs, enc)
	}
	var names []string
	for name := range outs[0] {
		names = append(names, name)
	}
	sort.Strings(names)
	if len(names) != 6 {
		t.Errorf("outputs %v, want 6", names)
	}
	for _, name := range names {
		if !bytes.Equal(outs[0][name], outs[1][name]) {
			t.Errorf("%s differs between 1 and 3 threads", name)
		}
	}
}

func TestFeaturesRoundTrip(t *testing.T) {
	// Standardising then building a network from the standardised rows gives back
	// every clustered parameter; a constant column is left out and restored.
	m, _ := twoPopulationModel(30, 4, defaultPops)
	for i := range m.H {
		m.H[i] = 0.25
	}
	f, err := standardise(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.constant) != 1 || f.constant[0].name != "h" {
		t.Fatalf("constant columns %v, want [h]", f.constant)
	}
	back := f.network(m, f.z)
	for _, c := range []struct {
		name      string
		got, want []float64
	}{{"M", back.M, m.M}, {"N", back.Nv, m.Nv}, {"h", back.H, m.H}, {"B", back.B, m.B}, {"gamma", back.Gamma, m.Gamma}} {
		for i := range c.want {
			if math.Abs(c.got[i]-c.want[i]) > 1e-12*(1+math.Abs(c.want[i])) {
				t.Fatalf("%s[%d] = %v, want %v", c.name, i, c.got[i], c.want[i])
			}
		}
	}
	for a := 0; a < f.d; a++ { // z-scores: mean 0, population variance 1
		s, ss := 0.0, 0.0
		for i := 0; i < f.n; i++ {
			s += f.z[i*f.d+a]
			ss += f.z[i*f.d+a] * f.z[i*f.d+a]
		}
		if math.Abs(s/float64(f.n)) > 1e-12 || math.Abs(ss/float64(f.n)-1) > 1e-12 {
			t.Errorf("feature %s: mean %v, variance %v", f.names[a], s/float64(f.n), ss/float64(f.n))
		}
	}
	for _, c := range []struct {
		v    rnn.Variant
		want string
	}{
		{rnn.None, "[m_1 m_2 n_1 n_2 h b_x]"},
		{rnn.Additive, "[m_1 m_2 n_1 n_2 h b_x beta_1 beta_2]"},
		{rnn.PreGain, "[m_1 m_2 n_1 n_2 h b_x gamma_1 gamma_2]"},
		{rnn.LowRank, "[m_1 m_2 n_1 n_2 h b_x p_1 p_2 q_1 q_2]"},
	} {
		mm := rnn.New(c.v, 3, 2, 2, 1, 0.05, 0.1)
		mm.Events[0] = "x"
		var names []string
		for _, col := range parameterColumns(mm) {
			names = append(names, col.name)
		}
		if fmt.Sprint(names) != c.want {
			t.Errorf("%s: features %v, want %s", c.v, names, c.want)
		}
	}
}

func TestBadInputs(t *testing.T) {
	m, truth := twoPopulationModel(40, 5, defaultPops)
	ctx := stageContext(t, m, truth, nil, nil, map[string]any{"cluster": map[string]any{"max_clusters": 0}})
	if err := Run(ctx); err == nil {
		t.Error("max_clusters 0: no error")
	}
	ctx = stageContext(t, m, truth, nil, nil, map[string]any{"cluster": map[string]any{"covariance": []string{"diag"}}})
	if err := Run(ctx); err == nil {
		t.Error("unknown covariance model: no error")
	}
	ctx = stageContext(t, m, truth, nil, nil, nil)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	ctx.Context = cancelled
	if err := Run(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: error %v", err)
	}
	ctx = stageContext(t, m, truth, nil, nil, map[string]any{"cluster": map[string]any{"bootstrap": 0}})
	delete(ctx.Upstream["meanfield"][0].Tables, "populations")
	if err := Run(ctx); err == nil || !strings.Contains(err.Error(), "meanfield populations") {
		t.Errorf("meanfield without populations: error %v, want one naming meanfield populations", err)
	}
}
