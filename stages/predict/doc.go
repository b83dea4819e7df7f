// Package predict is the `predict` stage: it checks in the recording the
// prediction that follows from the fitted network being near a line attractor at
// intermediate NE, namely that events kick the state and the kick persists
// (maximal responsiveness) and that noise accumulates along the slow mode (maximal
// variability) at intermediate NE, and it computes the fitted model's own
// prediction of where both peak.
//
// Data side (Analyze). Time is binned by NE level into NEBins quantile bins (by
// rank, so each holds the same number of time bins). Per NE bin:
//
//   - responsiveness: for each event, per neuron the mean count in the post window
//     [b+1, b+1+post) minus the mean in the pre window [b-pre, b) (b the event's
//     bin), divided by the neuron's sd of pre-window means over all events; the
//     event's population response rho_e is the projection of that vector on the
//     mean response pattern of its event label (scaled to unit RMS weight) over N,
//     and responsiveness is the mean of rho_e over the bin's events;
//   - fano_mm: the mean-matched Fano factor (Churchland et al. 2010) of spike
//     counts in count_s windows that tile the recording outside event responses;
//   - slow_var: the variance over those windows of the z-scored counts projected
//     on the model's slow direction (SlowDirection at nu = 0.5), and slow_shared,
//     its part carried by covariances between neurons (slow_var minus the
//     weighted single-neuron variances).
//
// Each measure gets a quadratic fit y = a + b nu + c nu^2 over the NE bins' mean
// levels, weighted by 1 / SEM^2 (SEMs from the bootstrap; the same weights in
// every replicate and shift), an inverted U when c < 0 and the vertex -b / 2c lies
// between the first and last bin's mean level. A bootstrap (time chunks, the
// preprocess sub-blocks, resampled with replacement, seeded) gives the SEMs and a
// 95 % percentile interval of the peak location (the vertex, or the higher end of
// the range when a replicate has no interior maximum); the event-response pattern
// and the z-scoring are held at their full-data values. A null of circular shifts
// of the NE trace against the spikes (shifts of at least min_shift_s either way,
// seeded PCG) gives the p-value (1 + #{S_null >= S}) / (1 + shifts) of the
// statistic S = y(vertex) - max(y(lo), y(hi)) (0 unless an inverted U).
// inverted_u is c < 0, vertex inside and p < 0.05. Every random draw comes from its
// own PCG stream (per replicate, per shift), so results do not depend on the
// number of goroutines.
//
// Model side (ModelCurve): at each NE level the stable fixed point with inputs off,
// the integrated squared rate response to a one-bin pulse of each event input, and
// the stationary rate variance under white noise along the latent directions
// (discrete Lyapunov equation); the model's peak NE of each curve and their mean,
// model_peak_ne.
//
// Inputs: preprocess (counts, bins), select (winner_neurons, winner_globals),
// fixedpoints (levels: its NE grid and regimes). Outputs: ne_bins, fits, null,
// model_curve and summary.json (key prediction).
package predict
