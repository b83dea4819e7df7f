package dynamics

import "runtime"

// Settings tune the analysis. A nil *Settings, and any zero field, means the
// default given beside the field. Lengths and speeds are relative to the latent
// scale (see Scale in the package comment), so the same settings suit networks whose
// latent coordinates have very different sizes.
type Settings struct {
	// TauSeconds converts model time (units of tau) into seconds for reported time
	// constants. 0 means 1 (time constants in units of tau); Sweep and LatentOf
	// analyses take it from the model.
	TauSeconds float64

	// GridPerDim is the number of Newton starts per latent dimension on the regular
	// grid over the latent box (default 11 for d <= 2, 7 for d = 3); HaltonStarts is
	// the number of quasi-random starts (Halton sequence) for d >= 4 (default 256).
	GridPerDim   int
	HaltonStarts int
	// FixedPointTol: Newton has converged when |dkappa/dt| < FixedPointTol * scale
	// per tau (default 1e-11). MaxNewton caps its iterations (default 100).
	FixedPointTol float64
	MaxNewton     int
	// DedupTol: two fixed points closer than DedupTol * scale are one (default 1e-6).
	DedupTol float64

	// SpeedTol: the slow manifold is where |dkappa/dt| < SpeedTol * scale per tau
	// (default 0.02).
	SpeedTol float64
	// TraceStep is the arclength step of the slow-manifold continuation, relative to
	// the scale (default 0.005); MaxSlowLength caps the length traced from one fixed
	// point in one sense (default 20, relative).
	TraceStep     float64
	MaxSlowLength float64
	// MinSlowLength: a traced curve shorter than this (relative, default 0.15) is no
	// slow manifold (a fast fixed point's neighbourhood is slow only over a distance
	// SpeedTol * scale / |lambda|).
	MinSlowLength float64
	// SlowRate: a direction is slow when |Re lambda| <= SlowRate per tau, that is
	// when its time constant is at least tau / SlowRate (default 1/8: eight membrane
	// time constants, a line-attractor score of 3 against the tau of the directions
	// outside the latent space).
	SlowRate float64

	// FlowGrid is the number of flow-field samples per axis (default 25).
	FlowGrid int

	// Threads is how many goroutines Sweep uses (default GOMAXPROCS). Results do not
	// depend on it.
	Threads int

	// Full-space check (CheckFullSpace). FullStarts is the number of trajectory
	// states started from per level (default 16); FullQTol keeps points with
	// q(x) = |F(x)|^2 / 2 below it (default 1e-12, as FixedPointFinder's tol_q);
	// FullMaxIter caps L-BFGS iterations (default 2000); OutlierScale drops points
	// farther from every start than OutlierScale times the starts' RMS spread
	// (default 10, FixedPointFinder's outlier_distance_scale); FullDedupTol merges
	// points closer than FullDedupTol * sqrt(N) (default 1e-7).
	FullStarts   int
	FullQTol     float64
	FullMaxIter  int
	OutlierScale float64
	FullDedupTol float64
}

// withDefaults returns a copy of s with every zero field set to its default.
func (s *Settings) withDefaults() Settings {
	var c Settings
	if s != nil {
		c = *s
	}
	def := func(p *float64, v float64) {
		if *p == 0 {
			*p = v
		}
	}
	defi := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	def(&c.TauSeconds, 1)
	defi(&c.HaltonStarts, 256)
	def(&c.FixedPointTol, 1e-11)
	defi(&c.MaxNewton, 100)
	def(&c.DedupTol, 1e-6)
	def(&c.SpeedTol, 0.02)
	def(&c.TraceStep, 0.005)
	def(&c.MaxSlowLength, 20)
	def(&c.MinSlowLength, 0.15)
	def(&c.SlowRate, 1.0/8)
	defi(&c.FlowGrid, 25)
	defi(&c.Threads, runtime.GOMAXPROCS(0))
	defi(&c.FullStarts, 16)
	def(&c.FullQTol, 1e-12)
	defi(&c.FullMaxIter, 2000)
	def(&c.OutlierScale, 10)
	def(&c.FullDedupTol, 1e-7)
	return c
}

// gridPerDim is the number of grid starts per dimension for a latent dimension d.
func (s *Settings) gridPerDim(d int) int {
	if s.GridPerDim > 0 {
		return s.GridPerDim
	}
	if d <= 2 {
		return 11
	}
	return 7
}
