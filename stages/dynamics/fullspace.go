package dynamics

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"

	"nmdyn/stages/latent"
	"nmdyn/stages/rnn"
)

// FullSpacePoint is a fixed point found in the full N-dimensional state space by
// CheckFullSpace, independently of the latent solver.
type FullSpacePoint struct {
	X      []float64    // state (length N)
	Q      float64      // q(x) = |F(x)|^2 / 2 at X, F = tau dx/dt
	Eig    []complex128 // the eigenvalues of the full Jacobian other than the N - d at -1, largest real part first
	Stable bool         // every eigenvalue (those and -1) has Re < 0
	Kappa  []float64    // latent coordinates of its rates ((*rnn.Model).Latent)
	Start  int          // index of the start it was reached from
	// Match is the index of the nearest latent fixed point of the level given to
	// MatchFullSpace (-1 before, or without latent fixed points) and Dist the
	// largest |x_i - x*_i| to that point embedded in the full space.
	Match int
	Dist  float64
}

// fullSystem is the full network at one NE level with inputs off:
//
//	F(x) = tau dx/dt = -x + U kappa(x) + c,   kappa(x) = W^T tanh(g x)
//
// with U = (M, P) (N x d), W = g_pre (Nv, f(nu) Q) / N (N x d), c = h + a(nu) and
// g = g_post. Its Jacobian is J = -I + U (D W)^T with D = diag(g sech^2(g x)): rank-d
// plus -I, so J^T F and Newton steps (Woodbury) cost O(N d^2) without forming J.
type fullSystem struct {
	n, d   int
	u, w   []float64 // N x d
	c, g   []float64
	kappa  []float64 // scratch
	th, sl []float64 // tanh(g x) and g sech^2(g x)
}

func newFullSystem(m *rnn.Model, nu float64) *fullSystem {
	net := latent.New(m, nu)
	n, d := net.Neurons(), net.Dim()
	return &fullSystem{n: n, d: d, u: net.MIn, w: net.NOut, c: net.HIn, g: net.GIn,
		kappa: make([]float64, d), th: make([]float64, n), sl: make([]float64, n)}
}

// eval fills F at x (and the tanh and slopes) and returns q = |F|^2 / 2.
func (fs *fullSystem) eval(x, F []float64) float64 {
	d := fs.d
	for a := range fs.kappa {
		fs.kappa[a] = 0
	}
	for i := 0; i < fs.n; i++ {
		t := math.Tanh(fs.g[i] * x[i])
		fs.th[i] = t
		fs.sl[i] = fs.g[i] * (1 - t*t)
		for a := 0; a < d; a++ {
			fs.kappa[a] += fs.w[i*d+a] * t
		}
	}
	q := 0.0
	for i := 0; i < fs.n; i++ {
		v := -x[i] + fs.c[i]
		for a := 0; a < d; a++ {
			v += fs.u[i*d+a] * fs.kappa[a]
		}
		F[i] = v
		q += v * v
	}
	return q / 2
}

// gradient fills grad = J^T F = -F + D W (U^T F), using the slopes of the last eval.
func (fs *fullSystem) gradient(F, grad []float64) {
	d := fs.d
	utf := make([]float64, d)
	for i := 0; i < fs.n; i++ {
		for a := 0; a < d; a++ {
			utf[a] += fs.u[i*d+a] * F[i]
		}
	}
	for i := 0; i < fs.n; i++ {
		s := 0.0
		for a := 0; a < d; a++ {
			s += fs.w[i*d+a] * utf[a]
		}
		grad[i] = -F[i] + fs.sl[i]*s
	}
}

// reduced fills A (d x d) with (D W)^T U, using the slopes of the last eval: the
// full Jacobian's eigenvalues are those of -I + A and -1 (N - d times).
func (fs *fullSystem) reduced(A []float64) {
	d := fs.d
	for a := range A {
		A[a] = 0
	}
	for i := 0; i < fs.n; i++ {
		for a := 0; a < d; a++ {
			wa := fs.sl[i] * fs.w[i*d+a]
			for b := 0; b < d; b++ {
				A[a*d+b] += wa * fs.u[i*d+b]
			}
		}
	}
}

// newtonStep fills dx with the Newton step -J^{-1} F at the last eval:
// J = -I + U V^T (V = D W), so -J^{-1} F = (I - U V^T)^{-1} F = F + U (I - V^T U)^{-1} V^T F.
func (fs *fullSystem) newtonStep(F, dx []float64) bool {
	d := fs.d
	A := make([]float64, d*d)
	fs.reduced(A) // V^T U
	for a := range A {
		A[a] = -A[a]
	}
	for a := 0; a < d; a++ {
		A[a*d+a]++
	}
	vtf := make([]float64, d)
	for i := 0; i < fs.n; i++ {
		for a := 0; a < d; a++ {
			vtf[a] += fs.sl[i] * fs.w[i*d+a] * F[i]
		}
	}
	if !solve(d, A, vtf) {
		return false
	}
	for i := 0; i < fs.n; i++ {
		s := F[i]
		for a := 0; a < d; a++ {
			s += fs.u[i*d+a] * vtf[a]
		}
		dx[i] = s
	}
	return true
}

// CheckFullSpace looks for fixed points of the full network m at NE level nu, inputs
// off, as FixedPointFinder does (Golub & Sussillo, JOSS 2018): from each start state
// (length N, e.g. states sampled on fitted trajectories) it minimises
// q(x) = |F(x)|^2 / 2 by L-BFGS (lbfgs.go) with the analytic gradient J^T F (never
// forming J) until the RMS of F is under 1e-5, then polishes by full-space Newton
// steps (the Jacobian is -I plus rank d, so each step is exact in O(N d^2)); it
// keeps the points with q < FullQTol, drops outliers (farther from every start than
// OutlierScale times the starts' RMS distance to their centroid) and merges
// duplicates (closer than FullDedupTol * sqrt(N)). Stability comes from the full
// Jacobian's spectrum: N - d eigenvalues at exactly -1 and those of -I + (D W)^T U.
func CheckFullSpace(m *rnn.Model, nu float64, starts [][]float64, s *Settings) ([]FullSpacePoint, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	set := s.withDefaults()
	fs := newFullSystem(m, nu)
	n := fs.n
	for k, x := range starts {
		if len(x) != n {
			return nil, fmt.Errorf("dynamics: start %d has %d values, want N = %d", k, len(x), n)
		}
	}
	var found []FullSpacePoint
	F := make([]float64, n)
	for k, x0 := range starts {
		x, q := fs.minimize(x0, &set)
		x, q = fs.polish(x, q)
		if !(q < set.FullQTol) {
			continue
		}
		found = append(found, FullSpacePoint{X: x, Q: q, Start: k, Match: -1, Dist: math.NaN()})
	}
	found = dropOutliers(found, starts, set.OutlierScale)
	// Deduplicate, keeping the lowest q of each group (ties: the earliest start).
	sort.SliceStable(found, func(a, b int) bool { return found[a].Q < found[b].Q })
	var uniq []FullSpacePoint
	tol := set.FullDedupTol * math.Sqrt(float64(n))
	for _, p := range found {
		dup := false
		for _, u := range uniq {
			if dist(p.X, u.X) < tol {
				dup = true
				break
			}
		}
		if !dup {
			uniq = append(uniq, p)
		}
	}
	sort.SliceStable(uniq, func(a, b int) bool { return uniq[a].Start < uniq[b].Start })
	d := fs.d
	A := make([]float64, d*d)
	for i := range uniq {
		p := &uniq[i]
		fs.eval(p.X, F)
		fs.reduced(A)
		for a := 0; a < d; a++ {
			A[a*d+a]--
		}
		vals, _, ok := eigen(d, A)
		if !ok {
			return nil, fmt.Errorf("dynamics: eigen-decomposition of a full-space Jacobian failed at NE level %v", nu)
		}
		p.Eig = vals
		p.Stable = real(vals[0]) < 0 // and the -1s
		p.Kappa = append([]float64(nil), fs.kappa...)
	}
	return uniq, nil
}

// handoffRMS is the RMS of F (units of x per tau) at which L-BFGS hands over to
// Newton: close enough to a zero for Newton to converge to it, while L-BFGS, slowed
// by the ill-conditioning of q near a slow mode, would take many more iterations.
const handoffRMS = 1e-5

// minimize runs L-BFGS on q from x0 and returns the best point and q.
func (fs *fullSystem) minimize(x0 []float64, set *Settings) ([]float64, float64) {
	F := make([]float64, fs.n)
	stop := 0.5 * float64(fs.n) * handoffRMS * handoffRMS
	return lbfgs(x0, func(x, grad []float64) float64 {
		q := fs.eval(x, F)
		fs.gradient(F, grad)
		return q
	}, set.FullMaxIter, stop)
}

// polish takes damped full-space Newton steps while they lower q.
func (fs *fullSystem) polish(x []float64, q float64) ([]float64, float64) {
	n := fs.n
	F := make([]float64, n)
	dx := make([]float64, n)
	y := make([]float64, n)
	x = append([]float64(nil), x...)
	q = fs.eval(x, F)
	for it := 0; it < 50 && q > 0; it++ {
		if !fs.newtonStep(F, dx) {
			break
		}
		t, improved := 1.0, false
		for k := 0; k < 30; k++ {
			for i := range y {
				y[i] = x[i] + t*dx[i]
			}
			if qy := fs.eval(y, F); qy < q {
				copy(x, y)
				q, improved = qy, true
				break
			}
			t /= 2
		}
		if !improved {
			break
		}
		fs.eval(x, F)
	}
	return x, q
}

// dropOutliers removes points farther from every start than scale times the RMS
// distance of the starts to their centroid.
func dropOutliers(pts []FullSpacePoint, starts [][]float64, scale float64) []FullSpacePoint {
	if len(starts) < 2 || len(pts) == 0 {
		return pts
	}
	n := len(starts[0])
	centroid := make([]float64, n)
	for _, s := range starts {
		for i, v := range s {
			centroid[i] += v / float64(len(starts))
		}
	}
	ms := 0.0
	for _, s := range starts {
		d := dist(s, centroid)
		ms += d * d / float64(len(starts))
	}
	lim := scale * math.Sqrt(ms)
	if lim == 0 {
		return pts
	}
	var out []FullSpacePoint
	for _, p := range pts {
		if nearest(starts, p.X) <= lim {
			out = append(out, p)
		}
	}
	return out
}

// MatchFullSpace pairs each full-space point with the nearest latent fixed point of
// lv (a level of the same model m and NE level), by the largest coordinate distance
// between the full-space state and the latent point embedded in the full space
// (x* = M kappa_M + P kappa_P + h + a(nu)). It sets the points' Match and Dist and,
// on every matched latent fixed point, FullChecked, FullQ and FullDist (the closest
// match's).
func MatchFullSpace(m *rnn.Model, lv *Level, pts []FullSpacePoint) {
	net := latent.New(m, lv.Nu)
	emb := make([][]float64, len(lv.FixedPoints))
	for j, f := range lv.FixedPoints {
		emb[j] = net.Embed(f.Kappa, nil)
	}
	for i := range pts {
		p := &pts[i]
		p.Match, p.Dist = -1, math.NaN()
		for j := range emb {
			d := 0.0
			for k, v := range emb[j] {
				d = math.Max(d, math.Abs(p.X[k]-v))
			}
			if p.Match < 0 || d < p.Dist {
				p.Match, p.Dist = j, d
			}
		}
		if p.Match >= 0 {
			f := &lv.FixedPoints[p.Match]
			if !f.FullChecked || p.Dist < f.FullDist {
				f.FullChecked, f.FullQ, f.FullDist = true, p.Q, p.Dist
			}
		}
	}
}

// FullJacobian returns the dense N x N Jacobian of F = tau dx/dt of m at NE level nu
// and state x, for checks on small networks (it panics for N > 1000: the analysis
// itself never forms it).
func FullJacobian(m *rnn.Model, nu float64, x []float64) *mat.Dense {
	if m.N > 1000 {
		panic(fmt.Sprintf("dynamics: FullJacobian of N = %d > 1000 neurons", m.N))
	}
	fs := newFullSystem(m, nu)
	F := make([]float64, fs.n)
	fs.eval(x, F)
	n, d := fs.n, fs.d
	J := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			s := 0.0
			for a := 0; a < d; a++ {
				s += fs.u[i*d+a] * fs.w[j*d+a]
			}
			v := s * fs.sl[j]
			if i == j {
				v--
			}
			J.Set(i, j, v)
		}
	}
	return J
}
