// Package mft is the mean-field theory of nmdyn's low-rank networks: the latent
// dynamics of a network whose neurons' parameters are drawn from a Gaussian mixture,
// for each of the five ways NE acts on it, and the reduction of a fitted network to
// such a mixture.
//
// # Network and latent coordinates
//
// With inputs off, a network of N neurons (package rnn) obeys
//
//	tau dx_i/dt = -x_i + sum_r m_ir kappa_r + h_i + a_i(nu)
//	kappa_r     = (1/N) sum_j n_jr g_pre_j(nu) tanh( g_post_j(nu) x_j )
//
// (for lowrank, kappa gains K coordinates lambda_k = f_k(nu) (1/N) sum_j q_jk g_pre_j
// tanh(.), whose input loadings are p_ik; f_k(nu) = (2 nu - 1)^k). The input span is
// invariant, so on it x_i = m_in_i . kappa + h_in_i with m_in_i = (m_i, p_i),
// h_in_i = h_i + a_i(nu), and the dynamics close on kappa:
//
//	tau dkappa/dt = -kappa + (1/N) sum_i n_out_i g_pre_i tanh( g_post_i y_i ),
//	y_i = m_in_i . kappa + h_in_i,   n_out_i = (n_i, f(nu) * q_i).
//
// latent.Network (package latent) is this finite system, exactly; the fixed-point
// analysis of package dynamics runs on it and on System alike.
//
// # Gaussian mixture (the mean-field limit)
//
// A neuron is in population p with probability alpha_p and then has
// theta = (m, n, h, NE parameters) ~ N(mu_p, Sigma_p) (ParamNames gives the order;
// the NE parameters are beta_k, gamma_k or p_k, q_k). At a level nu the effective
// vector z = (m_in, n_out, h_in, l) is a linear map of theta, z = A(nu) theta, so it is
// Gaussian with mean A mu_p and covariance A Sigma_p A^T. Here l = gamma . f(nu) is
// the log-gain of pregain and postgain, h_in = h + beta . f(nu) for additive, and the
// lowrank rows add m_in_{R+k} = p_k, n_out_{R+k} = f_k(nu) q_k. As N -> infinity the sum
// over neurons becomes an expectation, and for jointly Gaussian (n, y) Stein's lemma
// gives
//
//	E[n_r phi(y)] = mu_nr <phi>(mu_y, Delta) + Cov(n_r, y) <phi'>(mu_y, Delta)
//
//	mu_y     = mu_m . kappa + mu_h
//	Delta    = kappa^T Sigma_mm kappa + 2 kappa^T Sigma_mh + sigma_hh
//	Cov(n_r, y) = sum_s sigma_{n_r m_s} kappa_s + sigma_{n_r h}
//
// with <phi^(k)>(mu, Delta) = E_z[phi^(k)(mu + sqrt(Delta) z)] (Gauss). Summing over
// populations,
//
//	tau dkappa_r/dt = -kappa_r + sum_p alpha_p G_p(nu) ( mu^p_nr <phi>_p
//	                  + ( sum_s sigma^p_{n_r m_s} kappa_s + sigma^p_{n_r h} ) <phi'>_p ).
//
// How each mechanism enters (the gains stay per neuron, inside the statistics, rather
// than being replaced by a population mean gain, which is off by 0.03-0.07 in velocity
// on the mixtures of TestMeanFieldMatchesSampledNetwork):
//
//   - none: G_p = 1, the statistics of (m, n, h).
//   - additive: a(nu) shifts the input: mu_h -> mu_h + mu_beta . f, and the beta
//     covariances enter Sigma_mh, sigma_hh, sigma_nh through A. G_p = 1.
//   - pregain: the output is scaled by e^l. For jointly Gaussian (x, l),
//     E[F(x) e^l] = E[e^l] E[F(x + Cov(x, l))] (exponential tilting), so
//     G_p(nu) = E_p[g_pre] = exp(mu_l + sigma_l^2 / 2) and every mean shifts by its
//     covariance with l; the covariances are unchanged. Exact.
//   - postgain: the argument is scaled, phi(e^l y). Given l the rest is Gaussian with
//     conditional mean mu + Cov(., l)(l - mu_l) / sigma_l^2 and covariance
//     Sigma - Cov(., l) Cov(l, .) / sigma_l^2, and e^l multiplies mu_y and Cov(n, y) and
//     e^(2l) multiplies Delta; l is integrated by Gauss-Hermite quadrature (nodes from
//     gainNodes). G_p = 1; the gain sits in the input statistics.
//   - lowrank: latent dimension R + K, loadings extended as above; the NE dependence
//     is in the output loadings f_k(nu) q_k. G_p = 1.
//
// Each population (or each log-gain node of a postgain population) is one component
// of System; System.Velocity is the equation above.
//
// # Effective couplings and stability
//
// The latent Jacobian is -I + J(kappa), with the effective couplings
//
//	J_rs = sum_p alpha_p G_p E_p[ n_r m_s phi'(y) ]
//	     = sum_p alpha_p G_p [ (mu_nr mu_ms + sigma_{n_r m_s}) <phi'> + (mu_nr C_{m_s y}
//	       + C_{n_r y} mu_ms) <phi''> + C_{n_r y} C_{m_s y} <phi'''> ]
//
// (Gaussian integration by parts twice; C_{m_s y} = (Sigma_mm kappa + Sigma_mh)_s), so
// a fixed point is stable when every eigenvalue of J - I has a negative real part, and
// its time constants are tau / |Re lambda|. At kappa = 0 with zero means this is the
// familiar J_rs = sum_p alpha_p sigma^p_{n_r m_s} <phi'>_p. System.Couplings gives J
// per population or in total, System.EffectiveGain the population's mean slope
// E_p[g_pre g_post phi'(g_post y)].
//
// # Reduction of a fitted network
//
// Reduce groups a network's neurons by how NE modulates them (k-means on their NE
// effect curves) and FromGroups takes each group's sample mean and covariance of theta
// as its Gaussian; the mixture then reproduces the network's first and second
// moments per population, and its latent dynamics approximate the network's to the
// extent that the parameters are Gaussian within populations.
//
// References: Mastrogiuseppe & Ostojic, Neuron 2018 (rank-one mean-field theory);
// Beiran, Dubreuil, Valente, Mastrogiuseppe & Ostojic, Neural Comput. 2021 (Gaussian
// mixture low-rank networks); Dubreuil et al., Nat. Neurosci. 2022 (populations).
package mft
