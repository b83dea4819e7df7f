// Package dynamics is the dynamical-systems analysis of nmdyn's low-rank networks:
// fixed points, their stability and time constants, slow manifolds and the regime
// (single fixed point, line attractor, multistable, other) of a latent system, swept
// over the NE level, with an independent check in the full state space.
//
// # Latent reduction
//
// With inputs off a network of package rnn obeys, in units of the membrane time
// constant tau,
//
//	dx/dt = -x + J(nu) r_pre + h + a(nu),  r = tanh(g_post x),  r_pre = g_pre r,
//	J(nu) = M Nv^T / N  (+ sum_k f_k(nu) P_k Q_k^T / N for lowrank).
//
// The recurrent input lies in span(M, P), so every stationary state is
// x = M kappa_M + P kappa_P + h + a(nu) and the fixed-point equations close on the d
// latent coordinates kappa (d = R, or R + K for lowrank):
//
//	dkappa/dt = -kappa + sum_i n_out_i tanh( g_post_i ( m_in_i . kappa + h_i + a_i(nu) ) )
//
// with m_in_i = (M_i, P_i) and n_out_i = g_pre_i (Nv_i, f(nu) Q_i) / N (LatentOf; the
// coordinates of (*rnn.Model).Latent). The full Jacobian at a fixed point is
// -I + U (D W)^T, rank d plus -I, so its spectrum is that of the latent Jacobian
// together with -1 repeated N - d times: the directions outside the latent span relax
// with tau, stability is decided in the latent space, and tau enters the time
// constants of an embedded system (Embedded). One latent evaluation costs O(N d).
//
// # Fixed points
//
// AnalyzeLatent runs damped Newton (Levenberg-Marquardt where the Jacobian is
// singular, as along a continuous attractor) from deterministic starts: the origin,
// F(0), and a regular grid over the box |kappa_r| <= B_r that holds every fixed point
// (B_r = sum_i |n_out_ir| for a network, since |tanh| <= 1; estimated for other
// systems), 11 points per axis for d <= 2, 7 for d = 3, 256 Halton points for d >= 4;
// then again from the speed minima along the slow manifold, where the nearly
// degenerate fixed points of a finite-size continuous attractor sit. Points within
// DedupTol * scale are one (scale = |B|, the unit of every relative setting). A fixed
// point is stable when every latent eigenvalue has Re < 0; its time constants are
// tau / |Re lambda_i|, and the level's line-attractor score is log2(tau_1 / tau_2) at
// the slowest stable fixed point (tau itself counts among the tau_i).
//
// # Slow manifold
//
// From every stable fixed point not already on a traced curve, the slow manifold is
// followed in both senses of the slowest eigendirection by pseudo-arclength
// continuation of the valley of speed (predict along the tangent, then minimise
// |dkappa/dt| over the normal hyperplane) while |dkappa/dt| < SpeedTol * scale, until
// the curve closes on itself (a ring), leaves the box, or reaches MaxSlowLength.
// Curves sharing a fixed point (within 1.5 steps) form one component; the main
// component holds the most stable fixed points (the longest among equals). Its
// length is the slow manifold's length; its dimension is the number of eigenvalues
// with |Re lambda| <= SlowRate at the fixed point it was traced from, or 0 when it is
// shorter than MinSlowLength * scale.
//
// # Regime rule
//
// With defaults SlowRate = 1/8 (time constant >= 8 tau), SpeedTol = 0.02,
// MinSlowLength = 0.15:
//
//  1. "other": no stable fixed point (the activity never settles: a limit cycle,
//     chaos or divergence).
//  2. "line attractor" (a continuous attractor: a line, or a ring when the main
//     component is closed): the main slow component has dimension >= 1 and length
//     >= MinSlowLength * scale, contains every stable fixed point, and every fixed
//     point on it, stable or not, has a direction with |Re lambda| <= SlowRate. For
//     a single stable fixed point this says tau_1 >= 8 tau (score >= 3, since the
//     directions outside the latent space give tau_2 <= tau) with the slow region
//     long enough to matter. A finite network's ring breaks into several nearly
//     degenerate stable points and saddles along a closed curve: they are joined by
//     the slow curve and all have a slow direction (the saddles' unstable one), so
//     the ring is one continuous attractor, not a set of isolated points.
//  3. "single fixed point": otherwise, exactly one stable fixed point.
//  4. "multistable": otherwise (several stable fixed points that are not joined by a
//     slow manifold, or whose own dynamics along it is fast).
//
// The rule is local in NE; LineAttractorRange reports the longest run of line
// attractor levels of a sweep.
//
// # Full-space check
//
// CheckFullSpace finds fixed points in the N-dimensional state space without the
// latent reduction, by minimising q(x) = |F(x)|^2 / 2 (F = tau dx/dt) from states on
// fitted trajectories as FixedPointFinder does (Golub & Sussillo, JOSS 2018): L-BFGS
// with the analytic gradient J^T F = -F + D W (U^T F) (never forming J), full-space
// Newton polishing (Woodbury, exact for -I plus rank d), q below a tolerance,
// outliers dropped, duplicates merged. MatchFullSpace measures the largest
// coordinate distance to the latent solution embedded in the full space.
package dynamics
