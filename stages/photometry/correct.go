package photometry

import (
	"fmt"
	"math"
	"sort"
)

// Settings are the choices of the correction; nil means all defaults, and a zero
// field means its default.
type Settings struct {
	// Method of the control fit: MethodIRLS (default) or MethodOLS.
	Method string
	// Bleaching removal: BleachDoubleExp (default) or BleachHighpass.
	Bleaching string
	// HighpassHz is the cut-off of the high-pass bleaching removal (default
	// 0.001 Hz: slower than bleaching's minutes-to-hours time constants would be
	// too slow to remove it, faster would start removing slow NE changes).
	HighpassHz float64
	// LowpassHz is the zero-phase low-pass cut-off applied to both channels first
	// (default 2 Hz: GRAB-NE and similar sensors rise in 0.1-0.5 s and decay in
	// 1-3 s, so nothing of the NE signal lies above ~2 Hz). Negative disables it.
	LowpassHz float64
	// PercentileLow and PercentileHigh (default 2 and 98) are the dF/F percentiles
	// mapped to NE levels 0 and 1.
	PercentileLow, PercentileHigh float64
}

// Defaults of Settings.
const (
	DefaultLowpassHz  = 2.0
	DefaultHighpassHz = 0.001
	DefaultPctLow     = 2.0
	DefaultPctHigh    = 98.0
)

// WithDefaults returns a copy of s (nil allowed) with every zero field set to its
// default, and checks the values.
func (s *Settings) WithDefaults() (Settings, error) {
	var o Settings
	if s != nil {
		o = *s
	}
	if o.Method == "" {
		o.Method = MethodIRLS
	}
	if o.Bleaching == "" {
		o.Bleaching = BleachDoubleExp
	}
	if o.HighpassHz == 0 {
		o.HighpassHz = DefaultHighpassHz
	}
	if o.LowpassHz == 0 {
		o.LowpassHz = DefaultLowpassHz
	}
	if o.PercentileLow == 0 && o.PercentileHigh == 0 {
		o.PercentileLow, o.PercentileHigh = DefaultPctLow, DefaultPctHigh
	}
	switch {
	case o.Method != MethodIRLS && o.Method != MethodOLS:
		return o, fmt.Errorf("unknown control fit method %q (want irls or ols)", o.Method)
	case o.Bleaching != BleachDoubleExp && o.Bleaching != BleachHighpass:
		return o, fmt.Errorf("unknown bleaching method %q (want dexp or highpass)", o.Bleaching)
	case !(o.HighpassHz > 0):
		return o, fmt.Errorf("highpass cut-off %v Hz: want > 0", o.HighpassHz)
	case !(o.PercentileLow >= 0 && o.PercentileLow < o.PercentileHigh && o.PercentileHigh <= 100):
		return o, fmt.Errorf("NE percentiles [%v, %v]: want 0 <= low < high <= 100", o.PercentileLow, o.PercentileHigh)
	}
	return o, nil
}

// Result is a corrected photometry trace.
type Result struct {
	Time []float64
	// Signal and Control are the low-passed channels (Control nil without one).
	Signal, Control []float64
	// SignalBaseline and ControlBaseline are the bleaching trends removed.
	SignalBaseline, ControlBaseline []float64
	// FittedControl is the part of the signal explained by bleaching and the
	// control channel, on the signal's scale, ready to overlay on Signal:
	//
	//	fitted = signal baseline + Intercept + Slope (control - control baseline)
	//
	// Without a control channel it is the signal baseline.
	FittedControl []float64
	// DFF = (Signal - FittedControl) / SignalBaseline, a fraction.
	DFF []float64
	// NE is DFF mapped to [0, 1] by Level (this trace's own percentiles).
	NE    []float64
	Level Level
	Fit   ControlFit
	// SignalBleach and ControlBleach are the double-exponential fits (zero with
	// the high-pass method or without a control).
	SignalBleach, ControlBleach DoubleExp
	Settings                    Settings
	QC                          QC
	Notes                       []string
}

// QC are numbers to judge a correction by.
type QC struct {
	RateHz    float64 // mean sampling rate
	DurationS float64
	Samples   int
	// SignalBleachPct and ControlBleachPct are how much each baseline falls from
	// the first to the last sample, in % of its first value.
	SignalBleachPct, ControlBleachPct float64
	// DFFStd is the standard deviation of dF/F (a fraction).
	DFFStd float64
	// MotionR2 is the squared correlation of the detrended channels: the share of
	// the signal's variance the control explains.
	MotionR2 float64
}

// Correct runs the whole correction (see the package comment) on a trace with
// times t (seconds, strictly increasing), the sensor channel signal and the
// control channel control (nil when there is none: bleaching correction only, and
// Notes says so).
func Correct(t, signal, control []float64, s *Settings) (*Result, error) {
	set, err := s.WithDefaults()
	if err != nil {
		return nil, err
	}
	n := len(t)
	if len(signal) != n || (control != nil && len(control) != n) {
		return nil, fmt.Errorf("photometry: %d times, %d signal and %d control samples", n, len(signal), len(control))
	}
	if n < 16 {
		return nil, fmt.Errorf("photometry: %d samples is too short to correct", n)
	}
	for i := range t {
		if !finite(t[i]) || !finite(signal[i]) || (control != nil && !finite(control[i])) {
			return nil, fmt.Errorf("photometry: sample %d is not finite", i)
		}
		if i > 0 && !(t[i] > t[i-1]) {
			return nil, fmt.Errorf("photometry: time %v at sample %d does not follow %v", t[i], i, t[i-1])
		}
	}
	r := &Result{Time: t, Settings: set}
	rate := float64(n-1) / (t[n-1] - t[0])
	r.QC = QC{RateHz: rate, DurationS: t[n-1] - t[0], Samples: n}

	// 1. Low-pass.
	r.Signal, r.Control = signal, control
	if set.LowpassHz > 0 {
		if set.LowpassHz < rate/2 {
			lp := ButterLowpass(set.LowpassHz, rate)
			r.Signal = lp.FiltFilt(signal)
			if control != nil {
				r.Control = lp.FiltFilt(control)
			}
		} else {
			r.Notes = append(r.Notes, fmt.Sprintf("low-pass %g Hz not applied: at or above the Nyquist frequency %g Hz", set.LowpassHz, rate/2))
		}
	}

	// 2. Bleaching.
	var sigDet, ctlDet []float64
	sigDet, r.SignalBaseline, r.SignalBleach, err = detrend(t, r.Signal, set, rate)
	if err != nil {
		return nil, fmt.Errorf("photometry: signal: %v", err)
	}
	if r.Control != nil {
		ctlDet, r.ControlBaseline, r.ControlBleach, err = detrend(t, r.Control, set, rate)
		if err != nil {
			return nil, fmt.Errorf("photometry: control: %v", err)
		}
	}
	for i, b := range r.SignalBaseline {
		if !(b > 0) {
			return nil, fmt.Errorf("photometry: the signal's bleaching baseline reaches %.4g at %.3f s: dF/F needs a positive baseline (is the signal background-subtracted?)", b, t[i])
		}
	}

	// 3-5. Control fit, subtraction, dF/F.
	r.FittedControl = make([]float64, n)
	r.DFF = make([]float64, n)
	if r.Control != nil {
		r.Fit, err = FitControl(ctlDet, sigDet, set.Method)
		if err != nil {
			return nil, fmt.Errorf("photometry: %v", err)
		}
		r.QC.MotionR2 = r.Fit.R * r.Fit.R
		for i := range r.DFF {
			r.FittedControl[i] = r.SignalBaseline[i] + r.Fit.Intercept + r.Fit.Slope*ctlDet[i]
		}
		if !r.Fit.Converged {
			r.Notes = append(r.Notes, fmt.Sprintf("IRLS control fit did not converge in %d iterations", r.Fit.Iterations))
		}
	} else {
		r.Fit = ControlFit{Method: MethodNone, Slope: math.NaN(), Intercept: math.NaN(), R: math.NaN()}
		copy(r.FittedControl, r.SignalBaseline)
		r.Notes = append(r.Notes, "no control channel: bleaching correction only, motion artefacts are not removed")
	}
	for i := range r.DFF {
		r.DFF[i] = (r.Signal[i] - r.FittedControl[i]) / r.SignalBaseline[i]
	}

	// 6. NE level.
	r.Level = NewLevel(r.DFF, set.PercentileLow, set.PercentileHigh)
	r.NE = r.Level.Apply(nil, r.DFF)

	r.QC.DFFStd = stdDev(r.DFF)
	r.QC.SignalBleachPct = 100 * (r.SignalBaseline[0] - r.SignalBaseline[n-1]) / r.SignalBaseline[0]
	if r.ControlBaseline != nil {
		r.QC.ControlBleachPct = 100 * (r.ControlBaseline[0] - r.ControlBaseline[n-1]) / r.ControlBaseline[0]
	}
	return r, nil
}

// detrend removes bleaching from x: it returns x - baseline, the baseline and the
// double-exponential fit (zero for the high-pass method).
func detrend(t, x []float64, set Settings, rate float64) (det, base []float64, fit DoubleExp, err error) {
	n := len(x)
	det = make([]float64, n)
	base = make([]float64, n)
	switch set.Bleaching {
	case BleachHighpass:
		if !(set.HighpassHz < rate/2) {
			return nil, nil, fit, fmt.Errorf("high-pass cut-off %g Hz is at or above the Nyquist frequency %g Hz", set.HighpassHz, rate/2)
		}
		det = ButterHighpass(set.HighpassHz, rate).FiltFilt(x)
		for i := range x {
			base[i] = x[i] - det[i]
		}
	default:
		fit, err = FitDoubleExp(t, x)
		if err != nil {
			return nil, nil, fit, err
		}
		for i := range x {
			base[i] = fit.At(t[i])
			det[i] = x[i] - base[i]
		}
	}
	return det, base, fit, nil
}

// Level maps dF/F to the NE level nu = clip((dff - Lo) / (Hi - Lo), 0, 1), where Lo
// and Hi are the PLow-th and PHigh-th percentiles of the dF/F it was built from.
type Level struct {
	PLow, PHigh float64 // percentiles, in %
	Lo, Hi      float64 // dF/F at those percentiles
}

// NewLevel builds the mapping from the finite values of v (NaN are ignored).
// Percentiles interpolate linearly between order statistics (numpy's default:
// position p/100 (n - 1) in the sorted values).
func NewLevel(v []float64, pLow, pHigh float64) Level {
	s := make([]float64, 0, len(v))
	for _, x := range v {
		if finite(x) {
			s = append(s, x)
		}
	}
	sort.Float64s(s)
	return Level{PLow: pLow, PHigh: pHigh, Lo: Percentile(s, pLow), Hi: Percentile(s, pHigh)}
}

// Apply maps v into dst (allocated when nil or short) and returns it. NaN stays
// NaN; a degenerate level (Hi <= Lo) maps everything to 0.5.
func (l Level) Apply(dst, v []float64) []float64 {
	if len(dst) < len(v) {
		dst = make([]float64, len(v))
	}
	dst = dst[:len(v)]
	for i, x := range v {
		switch {
		case math.IsNaN(x):
			dst[i] = x
		case !(l.Hi > l.Lo):
			dst[i] = 0.5
		default:
			dst[i] = math.Max(0, math.Min(1, (x-l.Lo)/(l.Hi-l.Lo)))
		}
	}
	return dst
}

// Percentile of sorted values, p in [0, 100], with linear interpolation; NaN for
// an empty slice.
func Percentile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	pos := p / 100 * float64(n-1)
	i := int(math.Floor(pos))
	if i >= n-1 {
		return sorted[n-1]
	}
	if i < 0 {
		return sorted[0]
	}
	f := pos - float64(i)
	return sorted[i] + f*(sorted[i+1]-sorted[i])
}

// Resample averages the trace (t, v) (t increasing) over the bins [edges[k],
// edges[k+1]) and returns len(edges)-1 values. A bin holding no sample takes the
// trace linearly interpolated at its centre (bins finer than the sampling), and
// beyond the ends of the trace the first or last value.
func Resample(t, v, edges []float64) []float64 {
	nb := len(edges) - 1
	if nb <= 0 || len(t) == 0 {
		return nil
	}
	out := make([]float64, nb)
	j := 0
	for k := 0; k < nb; k++ {
		lo, hi := edges[k], edges[k+1]
		for j < len(t) && t[j] < lo {
			j++
		}
		var sum float64
		m := 0
		for i := j; i < len(t) && t[i] < hi; i++ {
			sum += v[i]
			m++
		}
		if m > 0 {
			out[k] = sum / float64(m)
		} else {
			out[k] = Interpolate(t, v, (lo+hi)/2, j)
		}
	}
	return out
}

// Interpolate evaluates the trace (t, v) at x linearly, holding the end values
// beyond the ends. hint is an index with t[hint-1] <= x when known (0 otherwise).
func Interpolate(t, v []float64, x float64, hint int) float64 {
	n := len(t)
	if x <= t[0] {
		return v[0]
	}
	if x >= t[n-1] {
		return v[n-1]
	}
	i := max(hint, 1)
	if i >= n || t[i-1] > x {
		i = sort.SearchFloat64s(t, x)
	}
	for i < n && t[i] < x {
		i++
	}
	// t[i-1] < x <= t[i]
	f := (x - t[i-1]) / (t[i] - t[i-1])
	return v[i-1] + f*(v[i]-v[i-1])
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func stdDev(x []float64) float64 {
	var m float64
	for _, v := range x {
		m += v
	}
	m /= float64(len(x))
	var ss float64
	for _, v := range x {
		ss += (v - m) * (v - m)
	}
	return math.Sqrt(ss / float64(len(x)))
}
