// Package groundtruth generates sessions whose truth is known: spikes, NE
// photometry and behavioural events from a network of package rnn, so that every
// later stage can be checked against the mechanism, populations and dynamics that
// made the data. Generate builds a session in memory (what the session stage uses
// for a folder holding simulate.yaml); WriteSession writes it as a session folder
// (what `run simulate` does).
//
// The design serves two purposes at once: the network has a line attractor at
// intermediate NE that collapses to a single fast fixed point at low and high NE
// (for every NE mechanism), and each mechanism leaves a signature in the spikes
// that the other model variants cannot imitate, so that the model-recovery study
// can tell them apart. What a fitted network can predict from 1-second windows is
// mostly the response to the known events (the state at a window's start is only
// known through single neurons' recent spike counts), so the signatures are
// written into the event responses.
//
// # The generating network
//
// The network is an rnn.Model of the chosen variant (none, additive, pregain,
// postgain, lowrank), simulated at the model's own bin (alpha = bin / tau = 0.5 by
// default), so the truth lies exactly in the class the fit searches. It has rank 2
// and two populations of equal size (fractions configurable):
//
//	population 1: n_1 = +s m_1 + sigma z_1,   n_2 = sigma z_2                   (positive slow feedback)
//	population 2: n_1 = -w s m_1 + sigma z_1, n_2 = (fast / a2) m_2 + sigma z_2  (negative slow feedback,
//	              m_1 of mean square v2 = 2                                       its own second loop)
//
// Within a population the columns are centred and orthogonal (m_1 is the standard
// normal quantiles in random order, the others Gaussian), so the sample overlaps are
// the designed ones. h = 0, so kappa = 0 is a fixed point of every variant but
// additive. With gains g_i at nu, the slow coupling at the origin is
//
//	lambda(nu) = (1/N) sum_i n_i1 m_i1 g_i(nu) = s [ a1 G_1(nu) - a2 w v2 G_2(nu) ]
//
// (G_p the population's mean slope), and the latent Jacobian's eigenvalue is
// lambda - 1: the slow time constant is tau / (1 - lambda). The strength s is
// calibrated by bisection so that the largest coupling over NE is peak_coupling
// (0.98: tau_1 = 5 s), or, for none, so that the constant coupling is
// none_coupling (0.6: tau_1 = 0.25 s, no line attractor). w = a1 / (2 a2 v2) makes
// population 2's feedback half of population 1's. The second direction is a loop
// of population 2 alone with coupling fast_coupling G_2(nu) (0.1 at nu = 1/2):
// population 2's output, relayed along m_2 to every neuron.
//
// NE profiles (u = 2 nu - 1, population means at ne_strength 1; per-neuron spread
// param_spread = 0.15, orthogonal to the loadings and to the weights m_r^2, m_r z_r
// of both loops, so the profiles stay symmetric in u):
//
//	postgain: log-gains l_1 = -1.3 u^2, l_2 = -2.6 u^2, so that
//	    lambda / lambda(0) = 2 e^{l_1} - e^{2 l_1} = 1 - (1 - e^{-1.3 u^2})^2,
//	    flat to fourth order at nu = 1/2 and 0.47 at nu = 0 and 1. Every neuron's
//	    responses shrink away from intermediate NE (population 2's to 0.07 of
//	    their size at the ends): no other variant rescales a neuron's own response.
//	pregain: log-gains +1.05 u^2 and +2.1 u^2: the outputs grow away from
//	    intermediate NE, population 2's twice as fast, so that lambda / lambda(0) =
//	    1 - (e^{1.05 u^2} - 1)^2 (flat at nu = 1/2, strongly negative at the ends)
//	    while the second loop's coupling 0.1 e^{2.1 u^2} rises to 0.82. The
//	    neurons' own responses keep their size; what changes is what the
//	    recurrence makes of them: the slow direction stops integrating and
//	    population 1's relayed m_2 response grows eightfold. Postgain would have to
//	    rescale the responses to do that, and lowrank has one rank-one term per
//	    basis function, not the two loops.
//	additive: a_1 = 0.5 u^2, a_2 = -0.3 u^2: both populations leave their
//	    operating point at both ends of NE, population 1 (positive feedback) more,
//	    lambda / lambda(0) ~ 2 sech^2(0.5 u^2) - sech^2(0.3 u^2): 0.66 at the ends.
//	    The baseline rates follow NE.
//	lowrank: two rank-one terms that read the slow state (q_k = c m_1 in both
//	    populations) and write along new directions p_1 (f_1 = u) and p_2 (f_2 =
//	    u^2), orthogonal to the loadings, so that each neuron's response to the
//	    slow state follows m_1 + u p_1 + u^2 p_2 (lowRankDrive = 1): it turns
//	    towards +p_1 at high NE and -p_1 at low NE. Gains cannot flip the sign of a
//	    response, and a rank-2 gain network could imitate one such direction with
//	    its second latent direction, not two. The line collapses through a loop:
//	    n_1 += eta p_2, so that the slow direction and p_2 have the eigenvalue
//	    (-(2 - lambda0) + sqrt(lambda0^2 + 4 eta u^2)) / 2; eta = -lambda0^2 / 4
//	    makes the slow coupling lambda0 (1 + sqrt(1 - u^2)) / 2: 0.98 at nu = 1/2,
//	    0.49 (critically damped) at nu = 0 and 1.
//	none: no NE parameters.
//
// With peak_coupling 0.98 every NE variant has a line attractor (tau_1 >= 8 tau_2)
// over an intermediate NE range (about [0.25, 0.75]; additive [0.2, 0.85],
// lowrank [0.2, 0.8]) and a single fast fixed point at nu = 0 and 1 (tau_1 of
// 0.2-0.6 s; for pregain the slowest direction there is the second loop).
//
// Why v2 = 2: along the slow line kappa = (y, 0), sech^2 z = 1 - z^2 + 2 z^4 / 3 - ...
// and the Gaussian moments give, at nu = 1/2 and equal sizes,
//
//	lambda(y) / s = a1 ( 1/2 - 3 y^2 (1 - v2 / 2) + 10 y^4 (1 - v2^2 / 2) + ... ),
//
// so population 2's larger input loadings make it saturate first, and the loss of
// its negative feedback offsets the loss of population 1's positive feedback to
// order y^2: the coupling stays within 0.02 of its peak up to y = 0.15 (it would
// have fallen to 0.88 at y = 0.2 with v2 = 1), and never rises above its value at
// the fixed point, so no second pair of fixed points appears (the quantile
// loadings keep the sample's fourth moment just below the Gaussian 3, on the safe
// side). The line is short all the same (the coupling is lambda0 (1 - 20 y^4)): a
// state kicked to y = 0.5 relaxes with an effective coupling near 0.5 even at
// nu = 1/2. So the events kick the slow direction by little and the slow noise is
// small, which keeps the state where the line attractor acts and its NE
// dependence shows in the data.
//
// # Inputs, noise and spikes
//
// NE: nu = Phi(s / sd_s), s the low-pass (3 s) of an Ornstein-Uhlenbeck process
// of unit variance and time constant 12 s plus phasic bursts (0.5 per minute,
// +1.5 decaying with 4 s), sd_s the smoothed process's exact standard deviation
// (Phi makes nu uniform on [0, 1]). The smoothing matters: the sensor hides the
// OU process's fast wiggles, and the photometry-derived level, which the fits
// see (at lag 0), follows the true level at r = 0.95 on average over seeds 1-4
// (0.90 without the smoothing; 0.87 with the slower sensor of rise 0.2 s and
// decay 1.5 s as well). On the default session the truth's NE dependence is
// worth 0.029 bits/spike over the same network frozen at nu = 1/2 when it is
// given the true level, and 0.019 with the photometry-derived one (both with
// their readouts and initial-state maps refitted). Events: a
// renewal process (intervals 0.5 s + exponential, mean 1.5 s) with labels
// stim_a and stim_b, which kick the state for one bin by B = strength (+-m_1 +
// fastKick m_2 [population 2] + spread noise), strength 0.3 and fastKick 3: a
// small kick along the slow direction (two opposite labels keep it, an
// integrator at intermediate NE, near the origin) and a larger one along
// population 2's loop, which population 1 sees only through that loop. After
// every Euler step the state gets shared noise along the latent directions and
// private noise,
//
//	x += sqrt(alpha) ( 0.015 m_1 xi_1 + 0.1 m_2 xi_2 + 0.05 xi_i ),
//
// so the shared fluctuations, amplified where the slow direction is slow, make
// variability largest at intermediate NE. Spikes: y_it ~ Poisson(dt exp(c_i r_it
// + d_i)), exp(d) log-uniform in [2, 15] Hz, c uniform in [3, 4] (the state stays
// within about +-0.5, so c sets how much of it the spikes show; mean rates 7-11
// Hz), each spike at a uniform time within its bin.
//
// # Photometry
//
// A GRAB-NE-like sensor: nu through two first-order stages (rise 0.1 s, decay 1 s;
// half-way 0.80 s after a step), dF/F 8 % at nu = 1, each channel bleaching by its
// own double exponential, shared multiplicative motion artefacts (dips and a slow
// wander) in both channels, Gaussian measurement noise, sampled at 20 Hz. The
// control (isosbestic) channel sees bleaching and motion, not NE.
//
// # Truth
//
// The truth is the generating model (tables truth_neurons, truth_globals via
// (*rnn.Model).Tables), the population of each unit (truth_units), the true NE per
// bin (truth_ne) and truth.json. The regime of the network on an NE grid is not
// computed here, so that the generator (and every simulated session in the cache)
// does not depend on the fixed-point analysis: the fixedpoints stage analyses the
// truth of a simulated session next to the fitted network (table truth_levels),
// and `run simulate` adds it to truth.json and the table truth_regime with package
// truthdyn (Generated.SetRegimes; the line-attractor range is null when there is
// none).
//
// Every random draw comes from its own PCG stream (network, NE, events, noise,
// spikes, photometry) seeded by the config's seed, so a session is a pure function
// of its config.
package groundtruth
