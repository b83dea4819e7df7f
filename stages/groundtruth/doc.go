// Package groundtruth generates sessions whose truth is known: spikes, NE
// photometry and behavioural events from a network of package rnn, so that every
// later stage can be checked against the mechanism, populations and dynamics that
// made the data. Generate builds a session in memory (what the session stage uses
// for a folder holding simulate.yaml); WriteSession writes it as a session folder
// (what `run simulate` does).
//
// # The generating network
//
// The network is an rnn.Model of the chosen variant (none, additive, pregain,
// postgain, lowrank), simulated at the model's own bin (alpha = bin / tau = 0.5 by
// default), so the truth lies exactly in the class the fit searches. It has rank 2
// and two populations of equal size (fractions configurable):
//
//	population 1: n_1 = +s m_1 + sigma z_1      (positive feedback along m_1)
//	population 2: n_1 = -w s m_1 + sigma z_1    (negative feedback), m_1 with mean square v2 = 2
//	both:         n_r = fast m_r + sigma z_r, r >= 2 (fast directions; fast = -0.5)
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
// calibrated by bisection so that the largest lambda over NE is peak_coupling (0.98:
// tau_1 = 5 s), or, for none, so that the constant lambda is none_coupling (0.6:
// tau_1 = 0.25 s, no line attractor). w = a1 / (2 a2 v2) makes population 2's
// feedback half of population 1's.
//
// NE profiles (u = 2 nu - 1, population means at ne_strength 1; per-neuron spread
// param_spread = 0.15, orthogonal to the loadings so the profile stays symmetric):
//
//	pregain, postgain: log-gains l_1 = -1.3 u^2, l_2 = -2.6 u^2, so that
//	    lambda / lambda(0) = 2 e^{l_1} - e^{2 l_1} = 1 - (1 - e^{-1.3 u^2})^2,
//	    flat to fourth order at nu = 1/2 and 0.47 at nu = 0 and 1.
//	additive: a_1 = 0.7 u^2 (population 1 saturates at both ends of NE, losing
//	    positive feedback), a_2 = -0.4 u; lambda / lambda(0) ~ 2 sech^2(0.7 u^2) -
//	    sech^2(0.4 u): about 0.42 at the ends.
//	lowrank: p_k = m_1 + 0.5 noise (outside the loadings), q_k = c_pk m_1 + spread,
//	    with the c_pk chosen so that lambda = lambda(0) - 0.5 u^2 exactly (the linear
//	    terms of the two populations cancel).
//	none: no NE parameters.
//
// With peak_coupling 0.98 every NE variant has a line attractor (tau_1 >= 8 tau) over
// an intermediate NE range (about [0.25, 0.75]; additive [0.2, 0.8], lowrank
// [0.3, 0.7]) and a single fast fixed point (tau_1 ~ 0.2 s) at nu = 0 and 1.
//
// Why v2 = 2: along the slow line kappa = (y, 0), sech^2 z = 1 - z^2 + 2 z^4 / 3 - ...
// and the Gaussian moments give, at nu = 1/2 and equal sizes,
//
//	lambda(y) / s = a1 ( 1/2 - 3 y^2 (1 - v2 / 2) + 10 y^4 (1 - v2^2 / 2) + ... ),
//
// so population 2's larger input loadings make it saturate first, and the loss of
// its negative feedback offsets the loss of population 1's positive feedback to
// order y^2: the coupling stays within 0.02 of its peak up to y = 0.15 (it would
// have fallen to 0.88 at y = 0.2 with v2 = 1), so the line is long enough to be seen
// in the data, and never rises above its value at the fixed point, so no second
// pair of fixed points appears (the quantile loadings keep the sample's fourth
// moment just below the Gaussian 3, on the safe side).
//
// # Inputs, noise and spikes
//
// NE: nu = Phi(z + b), z an Ornstein-Uhlenbeck process of unit variance and time
// constant 12 s (Phi makes nu uniform on [0, 1]) and b phasic bursts (0.5 per
// minute, +1.5 decaying with 4 s). Events: a renewal process (intervals 1.5 s +
// exponential, mean 4 s) with labels stim_a and stim_b, which kick the state along
// +m_1 and -m_1 for one bin (B = strength (+-m_1 + 0.1 noise)); two opposite labels
// keep the slow direction, an integrator at intermediate NE, from drifting to
// saturation. After every Euler step the state gets shared noise along the latent
// directions and private noise,
//
//	x += sqrt(alpha) ( 0.12 m_1 xi_1 + 0.3 m_2 xi_2 + 0.2 xi_i ),
//
// so the shared fluctuations, amplified where the slow direction is slow, make
// variability largest at intermediate NE. Spikes: y_it ~ Poisson(dt exp(c_i r_it +
// d_i)), exp(d) log-uniform in [2, 15] Hz, c uniform in [0.5, 1], each spike at a
// uniform time within its bin.
//
// # Photometry
//
// A GRAB-NE-like sensor: nu through two first-order stages (rise 0.2 s, decay 1.5 s;
// half-way 1.25 s after a step), dF/F 8 % at nu = 1, each channel bleaching by its
// own double exponential, shared multiplicative motion artefacts (dips and a slow
// wander) in both channels, Gaussian measurement noise, sampled at 20 Hz. The
// control (isosbestic) channel sees bleaching and motion, not NE.
//
// # Truth
//
// The truth is the generating model (tables truth_neurons, truth_globals via
// (*rnn.Model).Tables), the population of each unit (truth_units), the true NE per
// bin (truth_ne), and the regime of the network on an NE grid (truth_regime and
// truth.json), computed with package dynamics, the analysis the pipeline applies
// to fitted networks; the line-attractor range is null when there is none.
//
// Every random draw comes from its own PCG stream (network, NE, events, noise,
// spikes, photometry) seeded by the config's seed, so a session is a pure function
// of its config.
package groundtruth
