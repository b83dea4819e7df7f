package dynamics

import "math"

// FlowField is the latent velocity sampled on a grid in the plane of the first two
// latent coordinates (for d = 1, on a line, with K2 and DK2 zero). The other
// coordinates are held at the reference fixed point's (Level.Ref; zero without
// one), so for d > 2 the field is a slice through that point.
type FlowField struct {
	K1, K2   []float64 // grid points
	DK1, DK2 []float64 // dkappa_1/dt, dkappa_2/dt (units 1/tau)
	Speed    []float64 // |dkappa/dt| over all d coordinates
}

// Flow samples sys on a FlowGrid x FlowGrid grid (k1 fastest) covering the level's
// fixed points and slow manifold, padded by 30 % of their extent plus a quarter of
// the box on each side, and clipped to 1.2 times the box.
func Flow(sys LatentSystem, lv *Level, s *Settings) FlowField {
	set := s.withDefaults()
	d := sys.Dim()
	n := set.FlowGrid
	half := lv.Box
	if len(half) != d {
		half = box(sys)
	}
	axes := min(d, 2)
	lo := []float64{math.Inf(1), math.Inf(1)}
	hi := []float64{math.Inf(-1), math.Inf(-1)}
	grow := func(p []float64) {
		for a := 0; a < axes; a++ {
			lo[a] = math.Min(lo[a], p[a])
			hi[a] = math.Max(hi[a], p[a])
		}
	}
	for _, f := range lv.FixedPoints {
		grow(f.Kappa)
	}
	for _, p := range lv.SlowManifold.Points {
		grow(p)
	}
	for a := 0; a < axes; a++ {
		if math.IsInf(lo[a], 0) {
			lo[a], hi[a] = 0, 0
		}
		pad := 0.3*(hi[a]-lo[a]) + 0.25*half[a]
		lo[a] = math.Max(lo[a]-pad, -1.2*half[a])
		hi[a] = math.Min(hi[a]+pad, 1.2*half[a])
	}
	base := make([]float64, d)
	if lv.Ref >= 0 && lv.Ref < len(lv.FixedPoints) {
		copy(base, lv.FixedPoints[lv.Ref].Kappa)
	}
	rows := n
	if d == 1 {
		rows = 1
	}
	var ff FlowField
	k := make([]float64, d)
	v := make([]float64, d)
	at := func(a, i int) float64 { return lo[a] + (hi[a]-lo[a])*float64(i)/float64(n-1) }
	for j := 0; j < rows; j++ {
		for i := 0; i < n; i++ {
			copy(k, base)
			k[0] = at(0, i)
			if d > 1 {
				k[1] = at(1, j)
			}
			sys.Velocity(k, v)
			ff.K1 = append(ff.K1, k[0])
			ff.DK1 = append(ff.DK1, v[0])
			if d > 1 {
				ff.K2 = append(ff.K2, k[1])
				ff.DK2 = append(ff.DK2, v[1])
			} else {
				ff.K2 = append(ff.K2, 0)
				ff.DK2 = append(ff.DK2, 0)
			}
			ff.Speed = append(ff.Speed, norm(v))
		}
	}
	return ff
}
