package dynamics

import "math"

// tracer follows the slow manifold by pseudo-arclength continuation of the valley of
// speed: from a point p with unit tangent t it predicts p + h t and corrects by
// minimising |v|^2 over the hyperplane through the prediction orthogonal to t
// (Gauss-Newton in the d - 1 normal coordinates). Where the flow contracts fast
// towards a slow set, the valley is that set.
type tracer struct {
	ev    *evaluator
	d     int
	half  []float64
	h0    float64 // step
	thr   float64 // speed threshold
	maxL  float64 // longest curve
	v, jc []float64
	jac   []float64
	basis [][]float64
}

func newTracer(ev *evaluator, half []float64, scale float64, s *Settings) *tracer {
	d := ev.d
	return &tracer{ev: ev, d: d, half: half, h0: s.TraceStep * scale, thr: s.SpeedTol * scale,
		maxL: s.MaxSlowLength * scale, v: make([]float64, d), jac: make([]float64, d*d),
		jc: make([]float64, d*d)}
}

// trace follows the valley from start along dir while the speed stays under the
// threshold. It returns the points after start with their speeds, and whether the
// curve came back to start (a closed curve, such as a ring).
func (tr *tracer) trace(start, dir []float64) (pts [][]float64, speeds []float64, closed bool) {
	d := tr.d
	p := append([]float64(nil), start...)
	t := append([]float64(nil), dir...)
	scaleVec(t, 1/norm(t))
	h := tr.h0
	length := 0.0
	pred := make([]float64, d)
	for length < tr.maxL {
		for a := range pred {
			pred[a] = p[a] + h*t[a]
		}
		corr, ok := tr.correct(pred, t, h)
		var seg float64
		var tn []float64
		if ok {
			tn = make([]float64, d)
			for a := range tn {
				tn[a] = corr[a] - p[a]
			}
			seg = norm(tn)
			ok = seg > h/4
			if ok {
				scaleVec(tn, 1/seg)
				ok = dot(tn, t) > 0.5 // no sharp turn: the valley is followed, not jumped
			}
		}
		if !ok {
			if h > tr.h0/32 {
				h /= 2
				continue
			}
			break
		}
		sp := tr.ev.speed(corr, tr.v)
		if sp > tr.thr {
			break
		}
		pts = append(pts, corr)
		speeds = append(speeds, sp)
		length += seg
		p, t = corr, tn
		h = math.Min(2*h, tr.h0)
		if length > 4*tr.h0 && dist(p, start) < 1.5*tr.h0 {
			return pts, speeds, true
		}
		outside := false
		for a := range p {
			if math.Abs(p[a]) > 1.5*tr.half[a] {
				outside = true
			}
		}
		if outside {
			break
		}
	}
	return pts, speeds, false
}

// correct minimises |v|^2 over {pred + B c}, B an orthonormal basis of the
// complement of t, by Gauss-Newton; ok is false when the correction leaves a ball
// of radius h around pred or does not converge.
func (tr *tracer) correct(pred, t []float64, h float64) ([]float64, bool) {
	d := tr.d
	y := append([]float64(nil), pred...)
	if d == 1 {
		return y, true
	}
	tr.complement(t)
	m := d - 1
	c := make([]float64, m)
	a := make([]float64, m*m)
	g := make([]float64, m)
	for it := 0; it < 8; it++ {
		tr.ev.both(y, tr.v, tr.jac)
		// jc = J B (d x m)
		for r := 0; r < d; r++ {
			for k := 0; k < m; k++ {
				s := 0.0
				for q := 0; q < d; q++ {
					s += tr.jac[r*d+q] * tr.basis[k][q]
				}
				tr.jc[r*m+k] = s
			}
		}
		diag := 0.0
		for k := 0; k < m; k++ {
			for l := 0; l < m; l++ {
				s := 0.0
				for r := 0; r < d; r++ {
					s += tr.jc[r*m+k] * tr.jc[r*m+l]
				}
				a[k*m+l] = s
			}
			diag = math.Max(diag, a[k*m+k])
			s := 0.0
			for r := 0; r < d; r++ {
				s += tr.jc[r*m+k] * tr.v[r]
			}
			g[k] = -s
		}
		for k := 0; k < m; k++ {
			a[k*m+k] += 1e-12*diag + 1e-300
		}
		if !solve(m, a, g) {
			return nil, false
		}
		step := 0.0
		for k := 0; k < m; k++ {
			c[k] += g[k]
			step += g[k] * g[k]
		}
		for q := 0; q < d; q++ {
			s := pred[q]
			for k := 0; k < m; k++ {
				s += tr.basis[k][q] * c[k]
			}
			y[q] = s
		}
		if norm(c) > h {
			return nil, false
		}
		if math.Sqrt(step) < 1e-8*h {
			return y, true
		}
	}
	return y, true // Gauss-Newton has reached the valley to the precision it can
}

// complement fills tr.basis with an orthonormal basis of the complement of the unit
// vector t (Gram-Schmidt on the axes, most orthogonal first).
func (tr *tracer) complement(t []float64) {
	d := tr.d
	tr.basis = tr.basis[:0]
	order := make([]int, d)
	for a := range order {
		order[a] = a
	}
	// Axes least aligned with t first, for accuracy.
	for i := 1; i < d; i++ {
		for j := i; j > 0 && math.Abs(t[order[j]]) < math.Abs(t[order[j-1]]); j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	for _, ax := range order {
		if len(tr.basis) == d-1 {
			break
		}
		e := make([]float64, d)
		e[ax] = 1
		for pass := 0; pass < 2; pass++ {
			f := dot(e, t)
			for q := range e {
				e[q] -= f * t[q]
			}
			for _, b := range tr.basis {
				f := dot(e, b)
				for q := range e {
					e[q] -= f * b[q]
				}
			}
		}
		n := norm(e)
		if n < 1e-8 {
			continue
		}
		scaleVec(e, 1/n)
		tr.basis = append(tr.basis, e)
	}
}
