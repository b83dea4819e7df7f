package meanfield

import (
	"math"
	"strconv"

	"nmdyn/stages/mft"
	"nmdyn/stages/rnn"
	"nmdyn/stages/table"
)

func populationsTable(m *rnn.Model, red *mft.Reduction) *table.Table {
	pop := make([]int64, m.N)
	for i, g := range red.Groups {
		pop[i] = int64(g + 1)
	}
	t := table.New()
	t.AddInt("unit", append([]int64(nil), m.Units...)).AddInt("population", pop)
	t.SetMeta("grouped_by", red.Basis)
	return t
}

func popStatsTable(mx *mft.Mixture, sizes []int) *table.Table {
	names := mft.ParamNames(mx.Variant, mx.R, mx.K)
	d := len(names)
	var pop []int64
	var stat, a, b []string
	var val []float64
	add := func(p int, s, x, y string, v float64) {
		pop, stat, a, b, val = append(pop, int64(p+1)), append(stat, s), append(a, x), append(b, y), append(val, v)
	}
	for p, pp := range mx.Pops {
		add(p, "count", "", "", float64(sizes[p]))
		add(p, "alpha", "", "", pp.Alpha)
		for i, n := range names {
			add(p, "mean", n, "", pp.Mean[i])
		}
		for i, n := range names {
			for j := i; j < d; j++ {
				add(p, "cov", n, names[j], pp.Cov[i*d+j])
			}
		}
	}
	t := table.New()
	t.AddInt("population", pop).AddString("stat", stat).AddString("param_a", a).AddString("param_b", b).AddFloat("value", val)
	t.SetMeta("variant", string(mx.Variant))
	return t
}

func gainsTable(sweep []Level, mx *mft.Mixture) *table.Table {
	var nu, gain, shift, eff []float64
	var pop []int64
	for _, lv := range sweep {
		for p := range mx.Pops {
			nu = append(nu, lv.Nu)
			pop = append(pop, int64(p+1))
			gain = append(gain, lv.Gain[p])
			shift = append(shift, lv.Shift[p])
			eff = append(eff, lv.EffectiveGain[p])
		}
	}
	t := table.New()
	t.AddFloat("nu", nu).AddInt("population", pop).AddFloat("gain", gain).AddFloat("shift", shift).AddFloat("effective_gain", eff)
	return t
}

func couplingsTable(sweep []Level, pops int) *table.Table {
	var nu, val, fp []float64
	var r, s []int64
	per := make([][]float64, pops)
	for _, lv := range sweep {
		d := int(math.Round(math.Sqrt(float64(len(lv.Couplings)))))
		for i := 0; i < d; i++ {
			for j := 0; j < d; j++ {
				nu = append(nu, lv.Nu)
				r = append(r, int64(i+1))
				s = append(s, int64(j+1))
				val = append(val, lv.Couplings[i*d+j])
				for p := range per {
					per[p] = append(per[p], lv.PopCouplings[p][i*d+j])
				}
				v := math.NaN()
				if lv.CouplingsFP != nil {
					v = lv.CouplingsFP[i*d+j]
				}
				fp = append(fp, v)
			}
		}
	}
	t := table.New()
	t.AddFloat("nu", nu).AddInt("r", r).AddInt("s", s).AddFloat("value", val)
	for p := range per {
		t.AddFloat("value_pop"+strconv.Itoa(p+1), per[p])
	}
	t.AddFloat("value_stable_fp", fp)
	return t
}

func fixedPointsTable(sweep []Level, d int) *table.Table {
	var nu, speed, maxRe []float64
	var fp []int64
	var stable []bool
	kappa := make([][]float64, d)
	for _, lv := range sweep {
		for i, x := range lv.Analysis.FixedPoints {
			nu = append(nu, lv.Nu)
			fp = append(fp, int64(i+1))
			stable = append(stable, x.Stable)
			for a := range kappa {
				kappa[a] = append(kappa[a], x.Kappa[a])
			}
			speed = append(speed, x.Speed)
			maxRe = append(maxRe, x.MaxRe)
		}
	}
	t := table.New()
	t.AddFloat("nu", nu).AddInt("fp", fp).AddBool("stable", stable)
	for a := range kappa {
		t.AddFloat("kappa_"+strconv.Itoa(a+1), kappa[a])
	}
	t.AddFloat("speed", speed).AddFloat("max_re", maxRe)
	return t
}

func levelsTable(sweep []Level) *table.Table {
	n := len(sweep)
	nu, t1, t2, sc := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	reg := make([]string, n)
	nf, ns, sd := make([]int64, n), make([]int64, n), make([]int64, n)
	sl := make([]float64, n)
	for i, lv := range sweep {
		a := lv.Analysis
		sd[i], sl[i] = int64(a.SlowDim), a.SlowLength
		nu[i], reg[i], nf[i], ns[i] = lv.Nu, a.Regime, int64(len(a.FixedPoints)), int64(a.NStable)
		t1[i], t2[i], sc[i] = a.Tau1S, a.Tau2S, a.Score
	}
	t := table.New()
	t.AddFloat("nu", nu).AddString("regime", reg).AddInt("n_fixed", nf).AddInt("n_stable", ns)
	t.AddFloat("tau1_s", t1).AddFloat("tau2_s", t2).AddFloat("score", sc)
	t.AddInt("slow_dim", sd).AddFloat("slow_length", sl)
	t.SetMeta("regime_rule", "package nmdyn/stages/dynamics")
	return t
}
