package fixedpoints

import (
	"math"
	"strconv"

	"nmdyn/stages/dynamics"
	"nmdyn/stages/table"
)

// levelsTable is one row per NE level.
func levelsTable(levels []dynamics.Level) *table.Table {
	n := len(levels)
	nu, tau1, tau2, score, slowLen := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	regime := make([]string, n)
	nFixed, nStable, slowDim := make([]int64, n), make([]int64, n), make([]int64, n)
	for j, lv := range levels {
		nu[j], regime[j] = lv.Nu, lv.Regime
		nFixed[j], nStable[j] = int64(len(lv.FixedPoints)), int64(lv.NStable)
		tau1[j], tau2[j] = math.NaN(), math.NaN()
		if len(lv.Tau) > 0 {
			tau1[j] = lv.Tau[0]
		}
		if len(lv.Tau) > 1 {
			tau2[j] = lv.Tau[1]
		}
		score[j] = lv.Score
		slowDim[j], slowLen[j] = int64(lv.SlowManifold.Dim), lv.SlowManifold.Length
	}
	t := table.New()
	t.AddFloat("nu", nu).AddString("regime", regime).AddInt("n_fixed", nFixed).AddInt("n_stable", nStable)
	t.AddFloat("tau1_s", tau1).AddFloat("tau2_s", tau2).AddFloat("score", score)
	t.AddInt("slow_dim", slowDim).AddFloat("slow_length", slowLen)
	t.SetMeta("regime_rule", "package nmdyn/stages/dynamics")
	return t
}

// fixedPointsTable is one row per fixed point, with dim latent coordinates.
func fixedPointsTable(levels []dynamics.Level, dim int) *table.Table {
	var nu, speed, maxRe []float64
	var fp []int64
	var stable []bool
	kappa := make([][]float64, dim)
	for _, lv := range levels {
		for i, f := range lv.FixedPoints {
			nu = append(nu, lv.Nu)
			fp = append(fp, int64(i))
			stable = append(stable, f.Stable)
			for a := range kappa {
				kappa[a] = append(kappa[a], f.Kappa[a])
			}
			speed = append(speed, f.Speed)
			maxRe = append(maxRe, f.MaxRe)
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

// eigsTable is one row per latent eigenvalue of each fixed point.
func eigsTable(levels []dynamics.Level, tauSeconds float64) *table.Table {
	var nu, re, im, tau []float64
	var fp, idx []int64
	for _, lv := range levels {
		for i, f := range lv.FixedPoints {
			for k, l := range f.Eig {
				nu = append(nu, lv.Nu)
				fp = append(fp, int64(i))
				idx = append(idx, int64(k))
				re = append(re, real(l))
				im = append(im, imag(l))
				tau = append(tau, tauSeconds/math.Abs(real(l)))
			}
		}
	}
	t := table.New()
	t.AddFloat("nu", nu).AddInt("fp", fp).AddInt("idx", idx).AddFloat("re", re).AddFloat("im", im).AddFloat("tau_s", tau)
	t.SetMeta("other_eigenvalues", "the remaining N - L eigenvalues of the full Jacobian are exactly -1 (tau_s = tau = "+strconv.FormatFloat(tauSeconds, 'g', -1, 64)+" s)")
	return t
}

// slowManifoldTable holds the traced slow curves in the first two latent coordinates.
func slowManifoldTable(levels []dynamics.Level) *table.Table {
	var nu, k1, k2, speed []float64
	var point, curve []int64
	for _, lv := range levels {
		sm := lv.SlowManifold
		for i, p := range sm.Points {
			nu = append(nu, lv.Nu)
			point = append(point, int64(i))
			k1 = append(k1, p[0])
			if len(p) > 1 {
				k2 = append(k2, p[1])
			} else {
				k2 = append(k2, 0)
			}
			speed = append(speed, sm.Speed[i])
			curve = append(curve, int64(sm.Curve[i]))
		}
	}
	t := table.New()
	t.AddFloat("nu", nu).AddInt("point", point).AddFloat("kappa_1", k1).AddFloat("kappa_2", k2)
	t.AddFloat("speed", speed).AddInt("curve", curve)
	return t
}

// flowField is the flow at one level.
type flowField struct {
	nu float64
	ff dynamics.FlowField
}

func flowTable(fields []flowField) *table.Table {
	var nu, k1, k2, dk1, dk2, speed []float64
	for _, f := range fields {
		for range f.ff.K1 {
			nu = append(nu, f.nu)
		}
		k1 = append(k1, f.ff.K1...)
		k2 = append(k2, f.ff.K2...)
		dk1 = append(dk1, f.ff.DK1...)
		dk2 = append(dk2, f.ff.DK2...)
		speed = append(speed, f.ff.Speed...)
	}
	t := table.New()
	t.AddFloat("nu", nu).AddFloat("k1", k1).AddFloat("k2", k2).AddFloat("dk1", dk1).AddFloat("dk2", dk2).AddFloat("speed", speed)
	return t
}

// fullspaceTable is one row per full-space fixed point.
func fullspaceTable(grid []float64, pts [][]dynamics.FullSpacePoint) *table.Table {
	var nu, q, dist []float64
	var fp []int64
	var stable []bool
	for j, ps := range pts {
		for _, p := range ps {
			nu = append(nu, grid[j])
			fp = append(fp, int64(p.Match))
			q = append(q, p.Q)
			dist = append(dist, p.Dist)
			stable = append(stable, p.Stable)
		}
	}
	t := table.New()
	t.AddFloat("nu", nu).AddInt("fp", fp).AddFloat("q", q).AddFloat("dist_to_latent", dist).AddBool("stable", stable)
	return t
}

// jsonFloat is v, or nil (JSON null) when it is NaN or infinite.
func jsonFloat(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

func jsonFloats(v []float64) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = jsonFloat(x)
	}
	return out
}
