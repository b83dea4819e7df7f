package dynamics

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// Regime labels (see the package comment for the rule).
const (
	RegimeSingle      = "single fixed point"
	RegimeLine        = "line attractor"
	RegimeMultistable = "multistable"
	RegimeOther       = "other"
)

// FixedPoint is one fixed point in latent coordinates.
type FixedPoint struct {
	Kappa  []float64
	Stable bool         // every eigenvalue of the latent Jacobian has Re < 0
	Eig    []complex128 // latent Jacobian eigenvalues (units 1/tau), largest real part first
	Speed  float64      // |dkappa/dt| left by Newton (units 1/tau)
	MaxRe  float64      // largest real part of Eig

	// Full-space check (MatchFullSpace): whether a full-space fixed point was
	// matched to this one, its q = |F(x)|^2 / 2 and its largest distance
	// max_i |x_i - x*_i| to the embedded latent point x* (units of x).
	FullChecked bool
	FullQ       float64
	FullDist    float64
}

// SlowManifold is where the flow is slow: the curves traced from the stable fixed
// points along their slowest eigendirection while |dkappa/dt| < SpeedTol * scale.
type SlowManifold struct {
	Points [][]float64 // latent coordinates, curve by curve, in tracing order
	Speed  []float64   // |dkappa/dt| at each point (units 1/tau)
	Curve  []int       // which traced curve each point belongs to
	// Dim is the number of slow directions (|Re lambda| <= SlowRate) at the anchor
	// of the main component, or 0 when that component is shorter than
	// MinSlowLength. Length is the main component's arclength (latent units),
	// Closed whether it closes on itself (a ring), Members the fixed points on it.
	Dim     int
	Length  float64
	Closed  bool
	Members []int
}

// Level is the analysis of one latent system (one NE level).
type Level struct {
	Nu          float64   // NE level (set by Sweep; AnalyzeLatent leaves it 0)
	Dim         int       // latent dimension
	Box         []float64 // half-widths of the box searched for fixed points
	Scale       float64   // |Box|, the unit of the relative settings
	Regime      string
	FixedPoints []FixedPoint // stable ones first, then by coordinates
	NStable     int
	// Ref is the fixed point Tau and Score describe: the slowest stable one (the
	// one with the largest MaxRe), or, without stable points, the least unstable;
	// -1 without fixed points.
	Ref int
	// Tau holds the time constants tau / |Re lambda| at Ref in seconds, slowest
	// first, including tau itself for the directions outside the latent space of an
	// embedded system. Score = log2(Tau[0] / Tau[1]) (NaN with fewer than two).
	Tau          []float64
	Score        float64
	SlowManifold SlowManifold
}

// AnalyzeLatent finds the fixed points of sys, their stability and time constants,
// its slow manifold and its regime (rules in the package comment).
func AnalyzeLatent(sys LatentSystem, s *Settings) (Level, error) {
	set := s.withDefaults()
	d := sys.Dim()
	if d < 1 {
		return Level{}, fmt.Errorf("dynamics: latent dimension %d, want >= 1", d)
	}
	half := box(sys)
	scale := norm(half)
	lv := Level{Dim: d, Box: half, Scale: scale, Ref: -1, Score: math.NaN()}
	ev := newEvaluator(sys)
	ns := newNewtonSolver(ev, half, set.FixedPointTol*scale, set.MaxNewton)
	var pts [][]float64
	var speeds []float64
	add := func(x []float64, sp float64) bool {
		for a := range x {
			if math.Abs(x[a]) > 1.5*half[a] {
				return false
			}
		}
		for _, p := range pts {
			if dist(p, x) < set.DedupTol*scale {
				return false
			}
		}
		pts = append(pts, x)
		speeds = append(speeds, sp)
		return true
	}
	for _, st := range starts(sys, half, &set) {
		if x, sp, ok := ns.solve(st); ok {
			add(x, sp)
		}
	}
	tr := newTracer(ev, half, scale, &set)
	join := 1.5 * tr.h0
	fps, err := describe(ev, pts, speeds)
	if err != nil {
		return lv, err
	}
	curves := traceAll(tr, fps, join, nil)
	for round := 0; round < 2; round++ {
		// Newton from the local speed minima of the slow curves: on a nearly
		// continuous attractor the fixed points sit there, closer together than
		// the start grid.
		added := false
		for _, c := range curves {
			for k := 1; k+1 < len(c.speed); k++ {
				if c.speed[k] < c.speed[k-1] && c.speed[k] <= c.speed[k+1] {
					if x, sp, ok := ns.solve(c.pts[k]); ok && add(x, sp) {
						added = true
					}
				}
			}
		}
		if !added {
			break
		}
		if fps, err = describe(ev, pts, speeds); err != nil {
			return lv, err
		}
		curves = traceAll(tr, fps, join, curves)
	}
	lv.FixedPoints = fps
	for _, f := range fps {
		if f.Stable {
			lv.NStable++
		}
	}
	lv.SlowManifold = slowManifold(fps, curves, join, &set, scale)
	lv.Regime = regime(fps, lv.SlowManifold, &set, scale)
	lv.Ref, lv.Tau, lv.Score = timeConstants(fps, embedded(sys), set.TauSeconds)
	return lv, nil
}

// describe computes eigenvalues and stability and orders the fixed points: stable
// first, then by coordinates (so the order does not depend on which start found
// which point).
func describe(ev *evaluator, pts [][]float64, speeds []float64) ([]FixedPoint, error) {
	d := ev.d
	jac := make([]float64, d*d)
	fps := make([]FixedPoint, len(pts))
	for i, x := range pts {
		ev.sys.Jacobian(x, jac)
		vals, _, ok := eigen(d, jac)
		if !ok {
			return nil, errors.New("dynamics: eigen-decomposition of a latent Jacobian failed")
		}
		fps[i] = FixedPoint{Kappa: x, Eig: vals, Speed: speeds[i], MaxRe: real(vals[0]),
			Stable: real(vals[0]) < 0, FullQ: math.NaN(), FullDist: math.NaN()}
	}
	sort.SliceStable(fps, func(a, b int) bool {
		if fps[a].Stable != fps[b].Stable {
			return fps[a].Stable
		}
		for q := range fps[a].Kappa {
			if fps[a].Kappa[q] != fps[b].Kappa[q] {
				return fps[a].Kappa[q] < fps[b].Kappa[q]
			}
		}
		return false
	})
	return fps, nil
}

// tracedCurve is the slow curve traced from one stable fixed point (both senses,
// the anchor in the middle).
type tracedCurve struct {
	anchor []float64 // the stable fixed point traced from
	pts    [][]float64
	speed  []float64
	length float64
	closed bool
}

// traceAll traces from every stable fixed point, slowest first, that does not
// already lie on a curve (within join) of curves or of those traced before it, and
// returns curves with the new ones appended.
func traceAll(tr *tracer, fps []FixedPoint, join float64, curves []tracedCurve) []tracedCurve {
	order := make([]int, 0, len(fps))
	for i, f := range fps {
		if f.Stable {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return fps[order[a]].MaxRe > fps[order[b]].MaxRe })
	d := tr.d
	jac := make([]float64, d*d)
	for _, i := range order {
		onCurve := false
		for _, c := range curves {
			if nearest(c.pts, fps[i].Kappa) <= join {
				onCurve = true
				break
			}
		}
		if onCurve {
			continue
		}
		tr.ev.sys.Jacobian(fps[i].Kappa, jac)
		_, dir, ok := eigen(d, jac)
		if !ok {
			continue
		}
		fwd, fs, closed := tr.trace(fps[i].Kappa, dir)
		var bwd [][]float64
		var bs []float64
		if !closed {
			neg := append([]float64(nil), dir...)
			scaleVec(neg, -1)
			bwd, bs, _ = tr.trace(fps[i].Kappa, neg)
		}
		c := tracedCurve{anchor: fps[i].Kappa, closed: closed}
		for k := len(bwd) - 1; k >= 0; k-- {
			c.pts = append(c.pts, bwd[k])
			c.speed = append(c.speed, bs[k])
		}
		c.pts = append(c.pts, fps[i].Kappa)
		c.speed = append(c.speed, fps[i].Speed)
		c.pts = append(c.pts, fwd...)
		c.speed = append(c.speed, fs...)
		for k := 1; k < len(c.pts); k++ {
			c.length += dist(c.pts[k-1], c.pts[k])
		}
		if closed {
			c.length += dist(c.pts[len(c.pts)-1], c.pts[0])
		}
		curves = append(curves, c)
	}
	return curves
}

// nearest is the distance from x to the closest of pts (+Inf when empty).
func nearest(pts [][]float64, x []float64) float64 {
	best := math.Inf(1)
	for _, p := range pts {
		best = math.Min(best, dist(p, x))
	}
	return best
}

// slowManifold joins the traced curves into components (curves sharing a fixed
// point are one) and describes the main one: the component holding the most stable
// fixed points, the longest among equals.
func slowManifold(fps []FixedPoint, curves []tracedCurve, join float64, set *Settings, scale float64) SlowManifold {
	var sm SlowManifold
	parent := make([]int, len(curves))
	for c := range parent {
		parent[c] = c
	}
	var find func(int) int
	find = func(c int) int {
		if parent[c] != c {
			parent[c] = find(parent[c])
		}
		return parent[c]
	}
	memberOf := make([][]int, len(fps)) // curves each fixed point lies on
	anchor := make([]int, len(curves))  // index of each curve's anchor
	for c, cv := range curves {
		anchor[c] = -1
		for j := range fps {
			if &fps[j].Kappa[0] == &cv.anchor[0] {
				anchor[c] = j
			}
		}
		for k, p := range cv.pts {
			sm.Points = append(sm.Points, p)
			sm.Speed = append(sm.Speed, cv.speed[k])
			sm.Curve = append(sm.Curve, c)
		}
		for j, f := range fps {
			if j == anchor[c] || nearest(cv.pts, f.Kappa) <= join {
				memberOf[j] = append(memberOf[j], c)
			}
		}
	}
	for _, cs := range memberOf {
		for _, c := range cs[min(1, len(cs)):] {
			parent[find(c)] = find(cs[0])
		}
	}
	if len(curves) == 0 {
		return sm
	}
	type comp struct {
		stable  int
		length  float64
		closed  bool
		anchor  int
		members []int
	}
	comps := map[int]*comp{}
	var roots []int
	for c, cv := range curves {
		r := find(c)
		if comps[r] == nil {
			comps[r] = &comp{anchor: anchor[c]}
			roots = append(roots, r)
		}
		comps[r].length += cv.length
		comps[r].closed = comps[r].closed || cv.closed
	}
	for j, cs := range memberOf {
		if len(cs) == 0 {
			continue
		}
		cp := comps[find(cs[0])]
		cp.members = append(cp.members, j)
		if fps[j].Stable {
			cp.stable++
		}
	}
	best := comps[roots[0]]
	for _, r := range roots[1:] {
		c := comps[r]
		if c.stable > best.stable || (c.stable == best.stable && c.length > best.length) {
			best = c
		}
	}
	sm.Length, sm.Closed, sm.Members = best.length, best.closed, best.members
	if best.length >= set.MinSlowLength*scale && best.anchor >= 0 {
		for _, l := range fps[best.anchor].Eig {
			if math.Abs(real(l)) <= set.SlowRate {
				sm.Dim++
			}
		}
	}
	return sm
}

// regime applies the rule of the package comment.
func regime(fps []FixedPoint, sm SlowManifold, set *Settings, scale float64) string {
	nStable := 0
	for _, f := range fps {
		if f.Stable {
			nStable++
		}
	}
	if nStable == 0 {
		return RegimeOther
	}
	if sm.Dim >= 1 && sm.Length >= set.MinSlowLength*scale {
		onIt := 0
		allSlow := true
		for _, j := range sm.Members {
			if fps[j].Stable {
				onIt++
			}
			if slowestRate(fps[j].Eig) > set.SlowRate {
				allSlow = false
			}
		}
		if onIt == nStable && allSlow {
			return RegimeLine
		}
	}
	if nStable == 1 {
		return RegimeSingle
	}
	return RegimeMultistable
}

// slowestRate is the smallest |Re lambda|.
func slowestRate(eig []complex128) float64 {
	r := math.Inf(1)
	for _, l := range eig {
		r = math.Min(r, math.Abs(real(l)))
	}
	return r
}

// embedded reports whether the system's other directions decay with tau.
func embedded(sys LatentSystem) bool {
	if e, ok := sys.(Embedded); ok {
		return e.Embedded()
	}
	return true
}

// timeConstants picks the reference fixed point and returns its time constants in
// seconds (slowest first) and the line-attractor score.
func timeConstants(fps []FixedPoint, emb bool, tauSeconds float64) (ref int, tau []float64, score float64) {
	ref = -1
	for i, f := range fps {
		if f.Stable && (ref < 0 || f.MaxRe > fps[ref].MaxRe) {
			ref = i
		}
	}
	if ref < 0 {
		for i, f := range fps {
			if ref < 0 || f.MaxRe < fps[ref].MaxRe {
				ref = i
			}
		}
	}
	if ref < 0 {
		return -1, nil, math.NaN()
	}
	for _, l := range fps[ref].Eig {
		tau = append(tau, tauSeconds/math.Abs(real(l)))
	}
	if emb {
		tau = append(tau, tauSeconds)
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(tau)))
	score = math.NaN()
	if len(tau) >= 2 {
		score = math.Log2(tau[0] / tau[1])
	}
	return ref, tau, score
}
