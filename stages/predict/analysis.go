package predict

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
)

// BinResult is one NE bin of the data-side analysis.
type BinResult struct {
	Lo, Hi, Mid float64 // NE range and mean NE level of the bin
	Samples     int     // time bins
	Events      int     // events with full pre and post windows
	Windows     int     // counting windows (outside event responses)
	// Values and their bootstrap standard errors, by measure name.
	Value, SEM map[string]float64
	FanoRaw    float64 // Fano factor of all neurons, not mean matched
	Matched    int     // neurons kept by the mean matching
}

// Fit is the inverted-U test of one measure.
type Fit struct {
	Measure string
	Quadratic
	Vertex     float64 // -b / 2c (NaN when c = 0)
	Peak       float64 // where the fit is largest on the NE range (see Quadratic.Peak)
	CILo, CIHi float64 // 95 % bootstrap percentile interval of Peak
	// BootInvertedU is the fraction of bootstrap replicates whose fit is an
	// inverted U.
	BootInvertedU float64
	Statistic     float64 // PeakHeight of the observed fit
	PValue        float64 // fraction of shifts with a statistic >= the observed, (1 + k) / (1 + shifts)
	InvertedU     bool    // c < 0, vertex inside the range, and p < 0.05
	Weighted      bool    // the fit is weighted by 1 / SEM^2 of the NE bins
}

// NullRow is one circular shift of the null.
type NullRow struct {
	Measure   string
	ShiftS    float64
	Statistic float64
}

// Result is the data-side analysis.
type Result struct {
	Bins  []BinResult
	Fits  []Fit
	Null  []NullRow
	Notes []string
	// NeuronsResponsive is how many neurons enter the responsiveness (a nonzero
	// baseline sd).
	NeuronsResponsive int
}

// FitOf returns the fit of a measure.
func (r *Result) FitOf(measure string) (Fit, bool) {
	for _, f := range r.Fits {
		if f.Measure == measure {
			return f, true
		}
	}
	return Fit{}, false
}

// RNG streams: every random draw comes from a PCG seeded with (Settings.Seed,
// stream), with a distinct stream per use and per replicate, so each replicate's
// draws do not depend on which goroutine runs it.
const (
	streamObserved  = 0
	streamShifts    = 1
	streamBootstrap = 1 << 32
	streamNull      = 2 << 32
)

func newRNG(seed, stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }

// prepared is the recording reduced to what the measures need.
type prepared struct {
	set    *Settings
	nb     int
	n      int
	ne     neBinning
	chunks int

	// events with full windows: bin, chunk, population response
	evBin, evChunk []int
	evRho          []float64

	// counting windows: centre bin, chunk, counts (W x N), slow-mode projection
	winCenter, winChunk []int
	winCounts           []float64
	winP                []float64

	w2z       []float64    // w_i^2 / sd_i^2 of the slow direction, nil without one
	perChunk  [][]binStats // chunk -> NE bin -> statistics
	respNeurs int
	notes     []string
}

func binsOf(seconds, dt float64) int { return max(1, int(math.Round(seconds/dt))) }

func prepare(rec *Recording, set *Settings) (*prepared, error) {
	if err := rec.check(); err != nil {
		return nil, err
	}
	T, n, dt := rec.T(), rec.N, rec.DtSeconds
	p := &prepared{set: set, nb: set.NEBins, n: n}
	if T < set.NEBins*2 {
		return nil, fmt.Errorf("predict: %d bins cannot fill %d NE bins", T, set.NEBins)
	}
	p.ne = newNEBinning(rec.Nu, set.NEBins)

	// Chunks, renumbered 0..G-1 in order of first appearance.
	chunk := make([]int, T)
	if rec.Chunk != nil {
		ids := map[int]int{}
		for t, c := range rec.Chunk {
			id, ok := ids[c]
			if !ok {
				id = len(ids)
				ids[c] = id
			}
			chunk[t] = id
		}
		p.chunks = len(ids)
	} else {
		per := binsOf(set.Windows.CountS, dt) * max(1, int(math.Round(set.ChunkS/set.Windows.CountS)))
		for t := range chunk {
			chunk[t] = t / per
		}
		p.chunks = (T + per - 1) / per
	}
	if p.chunks < 2 {
		return nil, fmt.Errorf("predict: the recording holds %d resampling chunk(s); the bootstrap needs several", p.chunks)
	}

	npre, npost, nc := binsOf(set.Windows.PreS, dt), binsOf(set.Windows.PostS, dt), binsOf(set.Windows.CountS, dt)
	y := func(t, i int) float64 { return float64(rec.Y[t*n+i]) }

	// Events: per neuron, mean count in the post window [b+1, b+1+npost) minus
	// the mean in the pre window [b-npre, b). Bin b itself is skipped: an event
	// input at bin b reaches the state only at b+1.
	type ev struct{ label, bin int }
	var evs []ev
	for l, bins := range rec.Events {
		for _, b := range bins {
			if b-npre >= 0 && b+npost < T {
				evs = append(evs, ev{l, b})
			}
		}
	}
	sort.SliceStable(evs, func(a, b int) bool { return evs[a].bin < evs[b].bin })
	if len(evs) > 0 {
		d := make([]float64, len(evs)*n)
		pre := make([]float64, len(evs)*n)
		for e, x := range evs {
			for i := 0; i < n; i++ {
				var sp, sq float64
				for t := x.bin - npre; t < x.bin; t++ {
					sp += y(t, i)
				}
				for t := x.bin + 1; t <= x.bin+npost; t++ {
					sq += y(t, i)
				}
				pre[e*n+i] = sp / float64(npre)
				d[e*n+i] = sq/float64(npost) - sp/float64(npre)
			}
		}
		// Each neuron is normalised by the sd of its baseline (pre-window mean
		// count) over all events.
		sd := make([]float64, n)
		for i := 0; i < n; i++ {
			var s, s2 float64
			for e := range evs {
				v := pre[e*n+i]
				s += v
				s2 += v * v
			}
			_, v := meanVar(float64(len(evs)), s, s2)
			sd[i] = math.Sqrt(v)
			if sd[i] > 0 {
				p.respNeurs++
			}
		}
		for e := range evs {
			for i := 0; i < n; i++ {
				if sd[i] > 0 {
					d[e*n+i] /= sd[i]
				} else {
					d[e*n+i] = 0
				}
			}
		}
		// The population response of an event is its normalised response
		// projected on the mean response pattern of its label, scaled to unit
		// root-mean-square weight: rho_e = (1/N) sum_i w_li d_ie with
		// w_l = D_l / rms(D_l), D_l the mean of d over the label's events. It is
		// in units of baseline sd per neuron, and neurons that respond with
		// opposite signs add up instead of cancelling.
		nl := len(rec.Events)
		dir := make([]float64, nl*n)
		cnt := make([]float64, nl)
		for e, x := range evs {
			cnt[x.label]++
			for i := 0; i < n; i++ {
				dir[x.label*n+i] += d[e*n+i]
			}
		}
		for l := 0; l < nl; l++ {
			var ss float64
			for i := 0; i < n; i++ {
				if cnt[l] > 0 {
					dir[l*n+i] /= cnt[l]
				}
				ss += dir[l*n+i] * dir[l*n+i]
			}
			rms := math.Sqrt(ss / float64(n))
			for i := 0; i < n; i++ {
				if rms > 0 {
					dir[l*n+i] /= rms
				}
			}
		}
		for e, x := range evs {
			var rho float64
			for i := 0; i < n; i++ {
				rho += dir[x.label*n+i] * d[e*n+i]
			}
			p.evBin = append(p.evBin, x.bin)
			p.evChunk = append(p.evChunk, chunk[x.bin])
			p.evRho = append(p.evRho, rho/float64(n))
		}
	} else {
		p.notes = append(p.notes, "no events with full pre and post windows: responsiveness is undefined")
	}

	// Counting windows tile the recording; those overlapping an event's bin or its
	// response window are left out, so variability is that of spontaneous
	// activity.
	inResponse := make([]bool, T)
	for _, bins := range rec.Events {
		for _, b := range bins {
			for t := b; t <= b+npost && t < T; t++ {
				inResponse[t] = true
			}
		}
	}
	for s := 0; s+nc <= T; s += nc {
		skip := false
		for t := s; t < s+nc; t++ {
			skip = skip || inResponse[t]
		}
		if skip {
			continue
		}
		p.winCenter = append(p.winCenter, s+nc/2)
		p.winChunk = append(p.winChunk, chunk[s])
		for i := 0; i < n; i++ {
			var c float64
			for t := s; t < s+nc; t++ {
				c += y(t, i)
			}
			p.winCounts = append(p.winCounts, c)
		}
	}
	W := len(p.winCenter)
	if W < 2*p.nb {
		return nil, fmt.Errorf("predict: only %d counting windows of %g s outside event responses", W, set.Windows.CountS)
	}
	// Slow-mode projection of the z-scored window counts.
	p.winP = make([]float64, W)
	if rec.SlowDir != nil {
		mu, sd := make([]float64, n), make([]float64, n)
		for i := 0; i < n; i++ {
			var s, s2 float64
			for k := 0; k < W; k++ {
				c := p.winCounts[k*n+i]
				s += c
				s2 += c * c
			}
			m, v := meanVar(float64(W), s, s2)
			mu[i], sd[i] = m, math.Sqrt(v)
		}
		w := make([]float64, n)
		var norm float64
		for i := 0; i < n; i++ {
			if sd[i] > 0 {
				w[i] = rec.SlowDir[i]
				norm += w[i] * w[i]
			}
		}
		norm = math.Sqrt(norm)
		if norm > 0 {
			p.w2z = make([]float64, n)
			for i := 0; i < n; i++ {
				w[i] /= norm
				if sd[i] > 0 {
					p.w2z[i] = w[i] * w[i] / (sd[i] * sd[i])
				}
			}
			for k := 0; k < W; k++ {
				var v float64
				for i := 0; i < n; i++ {
					if sd[i] > 0 {
						v += w[i] * (p.winCounts[k*n+i] - mu[i]) / sd[i]
					}
				}
				p.winP[k] = v
			}
		} else {
			p.notes = append(p.notes, "the slow direction has no weight on any active neuron: slow-mode measures are undefined")
		}
	} else {
		p.notes = append(p.notes, "no slow direction: slow-mode measures are undefined")
	}

	// Per-chunk statistics under the true NE alignment.
	p.perChunk = make([][]binStats, p.chunks)
	for g := range p.perChunk {
		p.perChunk[g] = make([]binStats, p.nb)
		for j := range p.perChunk[g] {
			p.perChunk[g][j] = newBinStats(n)
		}
	}
	for e, b := range p.evBin {
		p.perChunk[p.evChunk[e]][p.ne.label[b]].addEvent(p.evRho[e])
	}
	for k, c := range p.winCenter {
		p.perChunk[p.winChunk[k]][p.ne.label[c]].addWindow(p.winCounts[k*n:(k+1)*n], p.winP[k])
	}
	return p, nil
}

// shiftedStats accumulates the statistics of the NE bins with the NE trace shifted
// circularly by s bins: bin t of the spikes is paired with NE sample (t + s) mod T.
func (p *prepared) shiftedStats(s int, st []binStats) {
	T := len(p.ne.label)
	for j := range st {
		st[j].reset()
	}
	for e, b := range p.evBin {
		st[p.ne.label[(b+s)%T]].addEvent(p.evRho[e])
	}
	for k, c := range p.winCenter {
		st[p.ne.label[(c+s)%T]].addWindow(p.winCounts[k*p.n:(k+1)*p.n], p.winP[k])
	}
}

// bootStats accumulates the statistics of a bootstrap replicate: chunks drawn with
// replacement, each entering with its multiplicity.
func (p *prepared) bootStats(rng *rand.Rand, mult []float64, st []binStats) {
	clear(mult)
	for range p.chunks {
		mult[rng.IntN(p.chunks)]++
	}
	for j := range st {
		st[j].reset()
	}
	for g, k := range mult {
		if k == 0 {
			continue
		}
		for j := range st {
			st[j].addScaled(&p.perChunk[g][j], k)
		}
	}
}

func (p *prepared) newStats() []binStats {
	st := make([]binStats, p.nb)
	for j := range st {
		st[j] = newBinStats(p.n)
	}
	return st
}

// parallel runs fn(i) for i in [0, n) on `threads` goroutines, each with its own
// scratch state from newScratch. Results must be stored by i, so the outcome does
// not depend on the number of goroutines. It stops early when ctx is cancelled.
func parallel[S any](ctx context.Context, n, threads int, newScratch func() S, fn func(i int, s S)) error {
	threads = max(1, min(threads, n))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := newScratch()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				fn(i, s)
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// Analyze runs the data-side prediction check: the measures per NE bin, their
// bootstrap standard errors, the quadratic fits, the bootstrap interval of the
// peak and the circular-shift null. threads goroutines share the replicates; the
// result is the same for any number of them.
func Analyze(ctx context.Context, rec *Recording, set Settings, threads int, progress func(float64, string)) (*Result, error) {
	if set.NEBins < 3 || set.Shifts < 1 || set.Bootstrap < 2 || set.MatchBins < 1 || set.MatchRepeats < 1 {
		return nil, fmt.Errorf("predict: settings %+v: want ne_bins >= 3 and positive shifts, bootstrap and matching", set)
	}
	if progress == nil {
		progress = func(float64, string) {}
	}
	p, err := prepare(rec, &set)
	if err != nil {
		return nil, err
	}
	T := rec.T()
	minShift := int(math.Ceil(set.MinShiftS / rec.DtSeconds))
	if T-2*minShift < T/2 {
		// A short recording: shifts of at least a quarter of it still break the NE
		// structure at the scales the bins resolve; say so rather than fail.
		short := T / 4
		p.notes = append(p.notes, fmt.Sprintf("a %.0f s recording is too short for circular shifts of at least %g s: shifts of at least %.0f s are used", float64(T)*rec.DtSeconds, set.MinShiftS, float64(short)*rec.DtSeconds))
		minShift = short
	}
	if T-2*minShift < 1 {
		return nil, fmt.Errorf("predict: a %.0f s recording leaves no circular shift of at least %g s", float64(T)*rec.DtSeconds, set.MinShiftS)
	}
	nm := len(measures)

	// Observed.
	st := p.newStats()
	for g := range p.perChunk {
		for j := range st {
			st[j].addScaled(&p.perChunk[g][j], 1)
		}
	}
	obs := finalize(st, p.w2z, &set, newRNG(set.Seed, streamObserved))
	progress(0.05, "observed")

	// Bootstrap: per-bin measures of each replicate.
	boot := make([][][]float64, set.Bootstrap) // replicate -> measure -> NE bin
	type scratch struct {
		st   []binStats
		mult []float64
	}
	newScratch := func() *scratch { return &scratch{st: p.newStats(), mult: make([]float64, p.chunks)} }
	var done atomic.Int64
	err = parallel(ctx, set.Bootstrap, threads, newScratch, func(r int, s *scratch) {
		rng := newRNG(set.Seed, streamBootstrap+uint64(r))
		p.bootStats(rng, s.mult, s.st)
		boot[r] = finalize(s.st, p.w2z, &set, rng).values
		if k := done.Add(1); k%100 == 0 {
			progress(0.05+0.45*float64(k)/float64(set.Bootstrap), fmt.Sprintf("bootstrap %d/%d", k, set.Bootstrap))
		}
	})
	if err != nil {
		return nil, err
	}
	sem := make([][]float64, nm)
	for m := range sem {
		sem[m] = make([]float64, p.nb)
		for j := range sem[m] {
			var s, s2, c float64
			for r := range boot {
				v := boot[r][m][j]
				if !math.IsNaN(v) && !math.IsInf(v, 0) {
					s += v
					s2 += v * v
					c++
				}
			}
			_, v := meanVar(c, s, s2)
			sem[m][j] = math.Sqrt(v)
		}
	}
	// Weights 1 / SEM^2 when every NE bin has a usable SEM, else none.
	weights := make([][]float64, nm)
	for m := range weights {
		w := make([]float64, p.nb)
		for j := range w {
			w[j] = 1 / (sem[m][j] * sem[m][j])
			if !(w[j] > 0) || math.IsInf(w[j], 0) {
				w = nil
				break
			}
		}
		weights[m] = w
	}
	fit := func(m int, y []float64) Quadratic { return FitQuadratic(p.ne.mid, y, weights[m]) }

	// Shifts of at least minShift bins either way, drawn up front from their own
	// stream.
	shiftRNG := newRNG(set.Seed, streamShifts)
	shifts := make([]int, set.Shifts)
	for k := range shifts {
		shifts[k] = minShift + shiftRNG.IntN(T-2*minShift+1)
	}
	null := make([][]float64, set.Shifts) // shift -> measure -> statistic
	done.Store(0)
	err = parallel(ctx, set.Shifts, threads, p.newStats, func(k int, st []binStats) {
		p.shiftedStats(shifts[k], st)
		v := finalize(st, p.w2z, &set, newRNG(set.Seed, streamNull+uint64(k))).values
		null[k] = make([]float64, nm)
		for m := range v {
			null[k][m] = fit(m, v[m]).PeakHeight()
		}
		if d := done.Add(1); d%100 == 0 {
			progress(0.5+0.5*float64(d)/float64(set.Shifts), fmt.Sprintf("shift %d/%d", d, set.Shifts))
		}
	})
	if err != nil {
		return nil, err
	}

	res := &Result{Notes: p.notes, NeuronsResponsive: p.respNeurs}
	nEv := make([]int, p.nb)
	for _, b := range p.evBin {
		nEv[p.ne.label[b]]++
	}
	nWin := make([]int, p.nb)
	for _, c := range p.winCenter {
		nWin[p.ne.label[c]]++
	}
	for j := 0; j < p.nb; j++ {
		b := BinResult{Lo: p.ne.lo[j], Hi: p.ne.hi[j], Mid: p.ne.mid[j], Samples: p.ne.count[j],
			Events: nEv[j], Windows: nWin[j], Value: map[string]float64{}, SEM: map[string]float64{},
			FanoRaw: obs.fanoRaw[j], Matched: obs.matched[j]}
		for m, name := range measures {
			b.Value[name] = obs.values[m][j]
			b.SEM[name] = sem[m][j]
		}
		res.Bins = append(res.Bins, b)
	}
	for m, name := range measures {
		q := fit(m, obs.values[m])
		f := Fit{Measure: name, Quadratic: q, Vertex: q.Vertex(), Peak: q.Peak(), Statistic: q.PeakHeight(),
			Weighted: weights[m] != nil}
		var peaks []float64
		inv := 0
		for r := range boot {
			bq := fit(m, boot[r][m])
			if pk := bq.Peak(); !math.IsNaN(pk) {
				peaks = append(peaks, pk)
			}
			if bq.InvertedU() {
				inv++
			}
		}
		f.BootInvertedU = float64(inv) / float64(len(boot))
		f.CILo, f.CIHi = quantile(peaks, 0.025), quantile(peaks, 0.975)
		f.PValue = math.NaN()
		if !math.IsNaN(f.Statistic) {
			// Shifts whose fit failed (NaN) say nothing either way: they leave the
			// count and the denominator alike, so they cannot lower p.
			ge, valid := 0, 0
			for k := range null {
				if math.IsNaN(null[k][m]) {
					continue
				}
				valid++
				if null[k][m] >= f.Statistic {
					ge++
				}
			}
			f.PValue = float64(1+ge) / float64(1+valid)
		}
		f.InvertedU = q.InvertedU() && f.PValue < 0.05
		res.Fits = append(res.Fits, f)
		for k := range null {
			res.Null = append(res.Null, NullRow{Measure: name, ShiftS: float64(shifts[k]) * rec.DtSeconds, Statistic: null[k][m]})
		}
	}
	progress(1, "done")
	return res, nil
}

// quantile is the q-quantile of v by linear interpolation between order statistics
// (type 7 of Hyndman and Fan 1996, numpy's default); NaN for an empty v. v is
// sorted in place.
func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	sort.Float64s(v)
	h := q * float64(len(v)-1)
	lo := int(math.Floor(h))
	if lo+1 >= len(v) {
		return v[len(v)-1]
	}
	return v[lo] + (h-float64(lo))*(v[lo+1]-v[lo])
}
