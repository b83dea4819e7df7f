// Package fixedpoints is the pipeline stage that explains the selected network as a
// dynamical system along the NE level: for each level of a grid on [0, 1], with
// inputs off, its fixed points and their stability, Jacobian eigenvalues and time
// constants, the line-attractor score, the slow manifold and the regime (package
// dynamics, whose doc holds the rule), plus an independent full-space check of the
// fixed points from states on the fitted trajectories, and flow fields at low,
// middle and high NE.
//
// Inputs: select, tables winner_neurons and winner_globals (the selected model, as
// (*rnn.Model).Tables writes it), winner_states (columns sample int64, nu float64 and
// one float64 column x_u<unit id> per unit: states sampled on the fitted model's
// trajectories), and, with variants "all", model_<variant>_neurons and
// model_<variant>_globals for each variant present. Optional: session, whose
// truth_neurons and truth_globals (a simulated session's generating network) are
// analysed the same way, so that the fitted regimes can be checked against the truth.
//
// Params (group fixedpoints; defaults in brackets): grid, the number of NE levels
// i / (grid - 1) [21]; variants, "winner" or "all" [winner]; full_starts, states per
// level for the full-space check [16]; flow_grid, samples per axis of the flow
// fields [25]; thresholds: speed_tol [0.02], slow_rate [0.125], min_slow_length
// [0.15] and q_tol [1e-12] (dynamics.Settings SpeedTol, SlowRate, MinSlowLength and
// FullQTol).
//
// Outputs (NE level nu, fixed point index fp within its level, latent coordinates
// kappa_1..kappa_L of (*rnn.Model).Latent, time constants in seconds):
//
//	levels         nu, regime, n_fixed, n_stable, tau1_s, tau2_s, score, slow_dim,
//	               slow_length
//	fixed_points   nu, fp, stable, kappa_1..kappa_L, speed, max_re
//	eigs           nu, fp, idx, re, im, tau_s   (the L latent eigenvalues; the other
//	               N - L eigenvalues of the full Jacobian are exactly -1, tau_s = tau)
//	slow_manifold  nu, point, kappa_1, kappa_2, speed, curve   (traced curves in
//	               order; a new curve value starts a new line)
//	flow           nu, k1, k2, dk1, dk2, speed   (grid in kappa_1, kappa_2 at the
//	               lowest, middle and highest level; other coordinates at the slowest
//	               stable fixed point)
//	fullspace      nu, fp, q, dist_to_latent, stable   (fp: the latent fixed point
//	               matched, -1 when none; dist_to_latent: largest |x_i - x*_i|)
//	summary.json   {"dynamics": {ne_grid, regime, line_attractor_score,
//	               slowest_tau_s, line_attractor_ne_range ([lo, hi] or null),
//	               n_stable, slow_dim, slow_length, variant, fullspace_points,
//	               fullspace_max_distance, fullspace_unmatched, variants (with
//	               "all": per variant ne_grid, regime, line_attractor_score,
//	               slowest_tau_s, line_attractor_ne_range), and for a simulated
//	               session truth (the same keys for the generating network, and its
//	               variant) and line_attractor_overlaps_truth (true when both
//	               line-attractor ranges exist and overlap, false when they do not
//	               or only one exists, null when neither has one)}}
//	truth_levels   for a simulated session: the levels table of the generating
//	               network
//
// With variants "all", the tables levels, fixed_points, eigs and slow_manifold of
// every variant whose model the select stage wrote are also written with the prefix
// model_<variant>_ (no full-space check: the states belong to the winner).
package fixedpoints
