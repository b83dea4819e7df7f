// Package gmm fits Gaussian mixtures with full covariances by expectation-maximisation,
// chooses their number of components by the Bayesian information criterion, and
// compares partitions with the adjusted Rand index. It is the clustering library of
// nmdyn's cluster stage, and knows nothing of neurons.
//
// The mixture density of a point x in R^d is
//
//	p(x) = sum_k w_k N(x; mu_k, Sigma_k),   sum_k w_k = 1.
//
// Fit maximises, by EM, the penalised log-likelihood
//
//	F = sum_i log p(x_i) - 1/2 sum_k tr(Sigma_k^-1 Psi),   Psi = eps I,
//	eps = Ridge * sbar * n / K,   sbar = tr(S) / d (S: covariance of the data),
//
// which is the log-posterior of the parameters under a flat prior on the weights and
// means and an inverse-Wishart-type prior exp(-tr(Sigma_k^-1 Psi) / 2) on each
// covariance. Its M-step is exact,
//
//	N_k = sum_i r_ik,  w_k = N_k / n,  mu_k = sum_i r_ik x_i / N_k,
//	Sigma_k = ( sum_i r_ik (x_i - mu_k)(x_i - mu_k)^T + Psi ) / N_k,
//
// so F never decreases over iterations (the usual EM argument applies to the
// penalised objective, which a covariance "ridge" added after the M-step would break).
// With Tied covariances all components share one Sigma, with the prior on it once:
// Sigma = ( sum_k sum_i r_ik (x_i - mu_k)(x_i - mu_k)^T + Psi ) / n and eps = Ridge *
// sbar * n.
// The ridge is relative to the data scale and equals Ridge * sbar for a component of
// average size n / K, larger for smaller ones: a component cannot collapse onto a
// point or a duplicated point, and a sample with n < d still has positive-definite
// covariances. The log-likelihood is evaluated with log-sum-exp, so points far from
// every component do not underflow.
//
// Each fit starts from several k-means++ seeds (Arthur & Vassilvitskii 2007) refined
// by a few Lloyd iterations, each start with its own PCG stream derived from the seed
// and the start's index. Following the small-EM strategy (Biernacki, Celeux & Govaert
// 2003), every start runs a short EM (20 iterations by default) and only the one with
// the largest F continues to convergence (ties to the lower index): most of the cost
// of a fit is then one long run. Starts may run in parallel, and the result is
// bit-identical whatever the number of threads.
//
// BIC = -2 log L + p log n with p = (K - 1) + K d + K d (d + 1) / 2 free parameters
// (weights, means, full covariances; d (d + 1) / 2 covariance entries in all when
// tied); the selected K minimises it (Schwarz 1978).
//
// The adjusted Rand index (Hubert & Arabie 1985) measures the agreement of two
// partitions of the same items, 1 for identical partitions (up to relabelling) and 0
// in expectation for independent random partitions with the same cluster sizes.
package gmm
