package meanfield

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	"nmdyn/stages/table"
	"nmdyn/stages/task"
)

// rnnLevel is the full network's analysis at one NE level (stage fixedpoints).
type rnnLevel struct {
	nu      float64
	regime  string
	tau1S   float64
	nStable int
	stable  [][]float64 // latent coordinates of its stable fixed points
}

// readRNN reads the fixedpoints stage's levels and fixed_points tables, sorted by nu.
func readRNN(ctx task.Context) ([]rnnLevel, error) {
	in, err := ctx.Input("fixedpoints")
	if err != nil {
		return nil, fmt.Errorf("meanfield: %w", err)
	}
	lv, err := in.Table("levels")
	if err != nil {
		return nil, fmt.Errorf("meanfield: fixedpoints output levels: %w", err)
	}
	nus, err1 := lv.Float("nu")
	regimes, err2 := lv.String("regime")
	taus, err3 := lv.Float("tau1_s")
	nst, err4 := lv.Int("n_stable")
	for _, e := range []error{err1, err2, err3, err4} {
		if e != nil {
			return nil, fmt.Errorf("meanfield: fixedpoints output levels: %w", e)
		}
	}
	out := make([]rnnLevel, len(nus))
	byNu := map[float64]int{}
	for i := range nus {
		out[i] = rnnLevel{nu: nus[i], regime: regimes[i], tau1S: taus[i], nStable: int(nst[i])}
		byNu[nus[i]] = i
	}
	fp, err := in.Table("fixed_points")
	if err != nil {
		return nil, fmt.Errorf("meanfield: fixedpoints output fixed_points: %w", err)
	}
	if fp.Len() > 0 {
		fnu, err1 := fp.Float("nu")
		stable, err2 := fp.Bool("stable")
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("meanfield: fixedpoints output fixed_points: %v", firstErr(err1, err2))
		}
		var cols [][]float64
		for d := 1; fp.Has("kappa_" + strconv.Itoa(d)); d++ {
			c, err := fp.Float("kappa_" + strconv.Itoa(d))
			if err != nil {
				return nil, fmt.Errorf("meanfield: fixedpoints output fixed_points: %w", err)
			}
			cols = append(cols, c)
		}
		if len(cols) == 0 {
			return nil, fmt.Errorf("meanfield: fixedpoints output fixed_points has no kappa_1 column")
		}
		for row := range fnu {
			i, ok := byNu[fnu[row]]
			if !ok {
				return nil, fmt.Errorf("meanfield: fixedpoints output fixed_points row %d has nu = %v, which levels lacks", row, fnu[row])
			}
			if !stable[row] {
				continue
			}
			k := make([]float64, len(cols))
			for d := range cols {
				k[d] = cols[d][row]
			}
			out[i].stable = append(out[i].stable, k)
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].nu < out[b].nu })
	return out, nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// comparison is one NE level present in both analyses.
type comparison struct {
	nu                  float64
	rnnRegime, mfRegime string
	agree               bool
	rnnTau1S, mfTau1S   float64
	rnnStable, mfStable int
	fpDistance          float64
}

// nuTolerance matches NE levels of the two analyses (both are i / (grid - 1)).
const nuTolerance = 1e-9

// compare pairs mean-field and network levels with the same nu.
func compare(sweep []Level, net []rnnLevel) []comparison {
	var out []comparison
	for _, lv := range sweep {
		j := sort.Search(len(net), func(j int) bool { return net[j].nu >= lv.Nu-nuTolerance })
		if j == len(net) || math.Abs(net[j].nu-lv.Nu) > nuTolerance {
			continue
		}
		r := net[j]
		var mfStable [][]float64
		for _, fp := range lv.Analysis.FixedPoints {
			if fp.Stable {
				mfStable = append(mfStable, fp.Kappa)
			}
		}
		out = append(out, comparison{
			nu: lv.Nu, rnnRegime: r.regime, mfRegime: lv.Analysis.Regime,
			agree:    r.regime == lv.Analysis.Regime,
			rnnTau1S: r.tau1S, mfTau1S: lv.Analysis.Tau1S,
			rnnStable: r.nStable, mfStable: lv.Analysis.NStable,
			fpDistance: hausdorff(r.stable, mfStable),
		})
	}
	return out
}

// hausdorff is the largest distance from a point of either set to the nearest point
// of the other (comparing the common leading coordinates); NaN when either is empty.
func hausdorff(a, b [][]float64) float64 {
	if len(a) == 0 || len(b) == 0 {
		return math.NaN()
	}
	one := func(a, b [][]float64) float64 {
		worst := 0.0
		for _, x := range a {
			best := math.Inf(1)
			for _, y := range b {
				s := 0.0
				for d := 0; d < len(x) && d < len(y); d++ {
					s += (x[d] - y[d]) * (x[d] - y[d])
				}
				best = math.Min(best, math.Sqrt(s))
			}
			worst = math.Max(worst, best)
		}
		return worst
	}
	return math.Max(one(a, b), one(b, a))
}

func comparisonTable(cmp []comparison) *table.Table {
	n := len(cmp)
	nu, rt, mt := make([]float64, n), make([]float64, n), make([]float64, n)
	rr, mr := make([]string, n), make([]string, n)
	ag := make([]bool, n)
	rs, ms := make([]int64, n), make([]int64, n)
	dist := make([]float64, n)
	for i, c := range cmp {
		nu[i], rr[i], mr[i], ag[i] = c.nu, c.rnnRegime, c.mfRegime, c.agree
		rt[i], mt[i], rs[i], ms[i], dist[i] = c.rnnTau1S, c.mfTau1S, int64(c.rnnStable), int64(c.mfStable), c.fpDistance
	}
	t := table.New()
	t.AddFloat("nu", nu).AddString("rnn_regime", rr).AddString("mf_regime", mr).AddBool("agree", ag)
	t.AddFloat("rnn_tau1_s", rt).AddFloat("mf_tau1_s", mt)
	t.AddInt("rnn_n_stable", rs).AddInt("mf_n_stable", ms).AddFloat("fp_distance", dist)
	return t
}
