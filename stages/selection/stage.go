// Package selection is the `select` stage: it picks each variant's best seed by
// validation score, scores the variants on the held-out test blocks in bits per spike
// against a per-neuron constant rate, and puts honest intervals on every score and
// every pairwise difference by a paired bootstrap over short test sub-blocks.
//
// Rules (alpha = 0.05):
//   - winner: the variant with the highest test score;
//   - indistinguishable: the variants whose difference from the winner is not above 0
//     at the lower end of a one-sided Bonferroni bootstrap bound (level alpha / (k-1)
//     for the k-1 comparisons with the winner, who was chosen as the best), the
//     winner included; so nested models that fit equally well tie instead of one
//     being crowned;
//   - NE effect significant: the best NE variant beats `none` with the lower end of a
//     one-sided Bonferroni interval (level alpha / 4, for the four NE variants it was
//     chosen from) above 0.
package selection

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"nmdyn/stages/rnn"
	"nmdyn/stages/table"
	"nmdyn/stages/task"
)

// Settings are the `select` params.
type Settings struct {
	Bootstrap int     `yaml:"bootstrap"` // resamples (2000; at least 1000)
	Seed      uint64  `yaml:"seed"`      // bootstrap seed (1)
	Alpha     float64 `yaml:"alpha"`     // 0.05
	States    int     `yaml:"states"`    // states sampled on the winner's trajectories (400)
}

type params struct {
	Select Settings        `yaml:"select"`
	Fit    rnn.FitSettings `yaml:"fit"` // to run the models exactly as the fit stage did
}

// fitted is one fit task's outputs.
type fitted struct {
	variant  rnn.Variant
	seed     int64
	valBits  float64
	testBits float64
	input    task.Input
}

// Run is the stage.
func Run(ctx task.Context) error {
	p := params{Select: Settings{Bootstrap: 2000, Seed: 1, Alpha: 0.05, States: 400}, Fit: rnn.DefaultFitSettings()}
	if err := ctx.Decode(&p); err != nil {
		return fmt.Errorf("select params: %w", err)
	}
	if p.Select.Bootstrap < 1000 {
		return fmt.Errorf("select.bootstrap = %d: at least 1000 resamples are needed for 95 %% intervals", p.Select.Bootstrap)
	}
	fits, err := ctx.Inputs("fit")
	if err != nil {
		return err
	}
	best, seedTable, err := bestSeeds(fits)
	if err != nil {
		return err
	}
	variants := make([]rnn.Variant, 0, len(best))
	for _, v := range rnn.Variants {
		if _, ok := best[v]; ok {
			variants = append(variants, v)
		}
	}
	blocks, err := testBlocks(best, variants)
	if err != nil {
		return err
	}
	res := compare(blocks, variants, p.Select)
	if err := ctx.WriteTable("seeds", seedTable); err != nil {
		return err
	}
	for _, o := range []struct {
		name string
		t    *table.Table
	}{{"scores", res.scoreTable()}, {"pairwise", res.pairTable()}, {"block_scores", blocks.table(variants)}} {
		if err := ctx.WriteTable(o.name, o.t); err != nil {
			return err
		}
	}
	// The selected model of every variant, and the winner under fixed names.
	for _, v := range variants {
		for _, name := range []string{"neurons", "globals"} {
			t, err := best[v].input.Table(name)
			if err != nil {
				return err
			}
			if err := ctx.WriteTable(fmt.Sprintf("model_%s_%s", v, name), t); err != nil {
				return err
			}
			if v == res.winner {
				if err := ctx.WriteTable("winner_"+name, t); err != nil {
					return err
				}
			}
		}
	}
	winner, err := loadModel(best[res.winner].input)
	if err != nil {
		return err
	}
	pre, err := ctx.Input("preprocess")
	if err != nil {
		return err
	}
	data, err := loadData(pre, p.Fit.BasisK)
	if err != nil {
		return err
	}
	wlen := p.Fit.WindowBins(data.DtSeconds)
	states := sampleStates(winner, data, data.Windows("test", wlen, p.Fit.InitEmaS), p.Select.States)
	if err := ctx.WriteTable("winner_states", states); err != nil {
		return err
	}
	truth, err := truthScore(ctx, data, wlen, p.Fit.InitEmaS)
	if err != nil {
		return err
	}
	if truth != nil {
		if err := ctx.WriteTable("truth_score", truth); err != nil {
			return err
		}
	}
	sum, err := json.MarshalIndent(res.summary(), "", "  ")
	if err != nil {
		return err
	}
	return ctx.WriteFile("summary.json", append(sum, '\n'))
}

// bestSeeds picks, per variant, the seed with the best validation score (ties: the
// lower seed).
func bestSeeds(fits []task.Input) (map[rnn.Variant]fitted, *table.Table, error) {
	best := map[rnn.Variant]fitted{}
	var vs []string
	var seeds []int64
	var val, test []float64
	var chosen []bool
	var all []fitted
	for _, in := range fits {
		s, err := in.Table("fit_summary")
		if err != nil {
			return nil, nil, err
		}
		name, err := s.String("variant")
		if err != nil {
			return nil, nil, fmt.Errorf("fit_summary: %w", err)
		}
		v, err := rnn.ParseVariant(name[0])
		if err != nil {
			return nil, nil, err
		}
		seed, err := s.Int("seed")
		if err != nil {
			return nil, nil, fmt.Errorf("fit_summary: %w", err)
		}
		vb, err := s.Float("val_bits_per_spike")
		if err != nil {
			return nil, nil, fmt.Errorf("fit_summary: %w", err)
		}
		tb, err := s.Float("test_bits_per_spike")
		if err != nil {
			return nil, nil, fmt.Errorf("fit_summary: %w", err)
		}
		f := fitted{variant: v, seed: seed[0], valBits: vb[0], testBits: tb[0], input: in}
		all = append(all, f)
		cur, ok := best[v]
		if !ok || f.valBits > cur.valBits || (f.valBits == cur.valBits && f.seed < cur.seed) {
			best[v] = f
		}
	}
	if len(best) == 0 {
		return nil, nil, fmt.Errorf("select: no fits")
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].variant != all[j].variant {
			return variantIndex(all[i].variant) < variantIndex(all[j].variant)
		}
		return all[i].seed < all[j].seed
	})
	for _, f := range all {
		vs = append(vs, string(f.variant))
		seeds = append(seeds, f.seed)
		val = append(val, f.valBits)
		test = append(test, f.testBits)
		chosen = append(chosen, best[f.variant].seed == f.seed)
	}
	t := table.New().AddString("variant", vs).AddInt("seed", seeds).AddFloat("val_bits_per_spike", val).
		AddFloat("test_bits_per_spike", test).AddBool("selected", chosen)
	return best, t, nil
}

func variantIndex(v rnn.Variant) int {
	for i, w := range rnn.Variants {
		if w == v {
			return i
		}
	}
	return len(rnn.Variants)
}

// blockScores holds, per test sub-block, each variant's log-likelihood gain over the
// constant-rate model (nats) and the spike count.
type blockScores struct {
	subblocks []int64
	gain      map[rnn.Variant][]float64
	spikes    []float64
}

func testBlocks(best map[rnn.Variant]fitted, variants []rnn.Variant) (*blockScores, error) {
	bs := &blockScores{gain: map[rnn.Variant][]float64{}}
	index := map[int64]int{}
	for vi, v := range variants {
		h, err := best[v].input.Table("heldout")
		if err != nil {
			return nil, err
		}
		split, err := h.String("split")
		if err != nil {
			return nil, fmt.Errorf("heldout: %w", err)
		}
		sub, err := h.Int("subblock")
		if err != nil {
			return nil, fmt.Errorf("heldout: %w", err)
		}
		ll, err := h.Float("ll")
		if err != nil {
			return nil, fmt.Errorf("heldout: %w", err)
		}
		ll0, err := h.Float("ll_null")
		if err != nil {
			return nil, fmt.Errorf("heldout: %w", err)
		}
		spk, err := h.Float("spikes")
		if err != nil {
			return nil, fmt.Errorf("heldout: %w", err)
		}
		if vi == 0 {
			for r := range split {
				if split[r] != "test" {
					continue
				}
				if _, ok := index[sub[r]]; !ok {
					index[sub[r]] = len(bs.subblocks)
					bs.subblocks = append(bs.subblocks, sub[r])
					bs.spikes = append(bs.spikes, 0)
				}
				bs.spikes[index[sub[r]]] += spk[r]
			}
		}
		g := make([]float64, len(bs.subblocks))
		for r := range split {
			if split[r] != "test" {
				continue
			}
			k, ok := index[sub[r]]
			if !ok {
				return nil, fmt.Errorf("variant %s was scored on test sub-block %d that %s was not: fits disagree on the split", v, sub[r], variants[0])
			}
			g[k] += ll[r] - ll0[r]
		}
		bs.gain[v] = g
	}
	if len(bs.subblocks) < 2 {
		return nil, fmt.Errorf("select: %d test sub-blocks; the bootstrap needs several (shorten preprocess.bootstrap_block_s)", len(bs.subblocks))
	}
	return bs, nil
}

func (bs *blockScores) table(variants []rnn.Variant) *table.Table {
	var v []string
	var sub []int64
	var gain, spikes []float64
	for _, vv := range variants {
		for k, s := range bs.subblocks {
			v = append(v, string(vv))
			sub = append(sub, s)
			gain = append(gain, bs.gain[vv][k])
			spikes = append(spikes, bs.spikes[k])
		}
	}
	return table.New().AddString("variant", v).AddInt("subblock", sub).AddFloat("ll_gain_nats", gain).AddFloat("spikes", spikes)
}

// comparison is the outcome of the bootstrap.
type comparison struct {
	variants      []rnn.Variant
	score         map[rnn.Variant]float64
	ci            map[rnn.Variant][2]float64
	pairs         []pair
	winner        rnn.Variant
	indist        []rnn.Variant
	bestNE        rnn.Variant
	neLower       float64
	neSignificant bool
	resamples     int
	subblocks     int
}

type pair struct {
	a, b   rnn.Variant
	diff   float64
	lo, hi float64
	pGreat float64 // fraction of resamples with diff <= 0
}

func bits(gain, spikes float64) float64 { return gain / (spikes * math.Ln2) }

// compare runs the paired bootstrap: the same resampled sub-blocks for every variant.
func compare(bs *blockScores, variants []rnn.Variant, s Settings) *comparison {
	nb := len(bs.subblocks)
	c := &comparison{variants: variants, score: map[rnn.Variant]float64{}, ci: map[rnn.Variant][2]float64{},
		resamples: s.Bootstrap, subblocks: nb}
	totalSpikes := 0.0
	for _, x := range bs.spikes {
		totalSpikes += x
	}
	for _, v := range variants {
		g := 0.0
		for _, x := range bs.gain[v] {
			g += x
		}
		c.score[v] = bits(g, totalSpikes)
	}
	rng := rand.New(rand.NewPCG(s.Seed, 0x5e1ec7))
	boot := make(map[rnn.Variant][]float64, len(variants))
	for _, v := range variants {
		boot[v] = make([]float64, s.Bootstrap)
	}
	pick := make([]int, nb)
	for r := 0; r < s.Bootstrap; r++ {
		spk := 0.0
		for k := range pick {
			pick[k] = rng.IntN(nb)
			spk += bs.spikes[pick[k]]
		}
		for _, v := range variants {
			g := 0.0
			for _, k := range pick {
				g += bs.gain[v][k]
			}
			boot[v][r] = bits(g, spk)
		}
	}
	a := s.Alpha
	for _, v := range variants {
		c.ci[v] = [2]float64{quantile(boot[v], a/2), quantile(boot[v], 1-a/2)}
	}
	c.winner = variants[0]
	for _, v := range variants {
		if c.score[v] > c.score[c.winner] {
			c.winner = v
		}
	}
	diff := make([]float64, s.Bootstrap)
	for i, va := range variants {
		for _, vb := range variants[i+1:] {
			le := 0
			for r := range diff {
				diff[r] = boot[va][r] - boot[vb][r]
				if diff[r] <= 0 {
					le++
				}
			}
			c.pairs = append(c.pairs, pair{a: va, b: vb, diff: c.score[va] - c.score[vb],
				lo: quantile(diff, a/2), hi: quantile(diff, 1-a/2), pGreat: float64(le) / float64(len(diff))})
		}
	}
	for _, v := range variants {
		if v == c.winner {
			c.indist = append(c.indist, v)
			continue
		}
		for r := range diff {
			diff[r] = boot[c.winner][r] - boot[v][r]
		}
		if quantile(diff, a/float64(len(variants)-1)) <= 0 {
			c.indist = append(c.indist, v)
		}
	}
	// NE effect: the best NE variant against none, Bonferroni over the NE variants.
	nNE := 0
	for _, v := range variants {
		if v == rnn.None {
			continue
		}
		nNE++
		if c.bestNE == "" || c.score[v] > c.score[c.bestNE] {
			c.bestNE = v
		}
	}
	if _, ok := c.score[rnn.None]; ok && c.bestNE != "" {
		for r := range diff {
			diff[r] = boot[c.bestNE][r] - boot[rnn.None][r]
		}
		c.neLower = quantile(diff, a/float64(nNE))
		c.neSignificant = c.neLower > 0
	}
	return c
}

// quantile of a sample (linear interpolation between order statistics); sorts a copy.
func quantile(x []float64, q float64) float64 {
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(s)-1)
	f := pos - float64(lo)
	return s[lo]*(1-f) + s[hi]*f
}

func (c *comparison) scoreTable() *table.Table {
	var v []string
	var sc, lo, hi []float64
	var win, ind []bool
	inIndist := map[rnn.Variant]bool{}
	for _, x := range c.indist {
		inIndist[x] = true
	}
	for _, x := range c.variants {
		v = append(v, string(x))
		sc = append(sc, c.score[x])
		lo = append(lo, c.ci[x][0])
		hi = append(hi, c.ci[x][1])
		win = append(win, x == c.winner)
		ind = append(ind, inIndist[x])
	}
	return table.New().AddString("variant", v).AddFloat("test_bits_per_spike", sc).AddFloat("ci95_lo", lo).
		AddFloat("ci95_hi", hi).AddBool("winner", win).AddBool("indistinguishable", ind)
}

func (c *comparison) pairTable() *table.Table {
	var a, b []string
	var d, lo, hi, p []float64
	for _, x := range c.pairs {
		a = append(a, string(x.a))
		b = append(b, string(x.b))
		d = append(d, x.diff)
		lo = append(lo, x.lo)
		hi = append(hi, x.hi)
		p = append(p, x.pGreat)
	}
	return table.New().AddString("a", a).AddString("b", b).AddFloat("diff_bits_per_spike", d).
		AddFloat("ci95_lo", lo).AddFloat("ci95_hi", hi).AddFloat("frac_resamples_a_not_better", p)
}

func (c *comparison) summary() map[string]any {
	models := map[string]any{}
	for _, v := range c.variants {
		models[string(v)] = map[string]any{
			"test_bits_per_spike": c.score[v],
			"ci95":                []float64{c.ci[v][0], c.ci[v][1]},
		}
	}
	ind := make([]string, len(c.indist))
	for i, v := range c.indist {
		ind[i] = string(v)
	}
	return map[string]any{
		"models": models,
		"selection": map[string]any{
			"winner":                   string(c.winner),
			"indistinguishable":        ind,
			"ne_effect_significant":    c.neSignificant,
			"best_ne_variant":          string(c.bestNE),
			"ne_effect_lower_bound":    c.neLower,
			"bootstrap_resamples":      c.resamples,
			"bootstrap_test_subblocks": c.subblocks,
		},
	}
}
