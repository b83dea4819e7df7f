// Package cluster is the pipeline stage `cluster`: it looks for populations in the
// selected network by clustering the neurons' parameter vectors with a Gaussian
// mixture, and checks that what it finds is stable, agrees with the mean-field
// populations (and with the simulator's truth when there is one), and carries the
// dynamics.
//
// Features. Each neuron i of the selected rnn.Model is described by
//
//	theta_i = ( m_i1..m_iR, n_i1..n_iR, h_i, b_i1..b_iE, NE parameters )
//
// with the NE parameters beta_ik (additive), gamma_ik (pregain, postgain) or p_ik, q_ik
// (lowrank), none for the control variant. These are every parameter that shapes the
// network's dynamics: loadings, static and event inputs, and how NE acts; the
// readout (c, d) and the initial-state map (x0_w, x0_b) are left out because they
// describe how the data are seen, not how the network moves. h is in because networks
// are resampled from the mixture and the fixed points depend on it. Every feature is
// standardised (z-scored with its mean and population standard deviation); a
// feature that is constant over the neurons carries no information and would make
// every covariance singular, so it is left out and resampled networks get its
// constant value.
//
// Clustering. Gaussian mixtures (package gmm) with 1..cluster.max_clusters
// components; the number of clusters and the covariance model are chosen together by
// the smallest BIC, as mclust does (Fraley & Raftery 2002, JASA 97:611). The models
// (cluster.covariance) are full covariances per cluster and one full covariance
// shared by all clusters (tied). Both are needed: with d features a second full
// covariance costs d (d + 3) / 2 + 1 parameters (45 for d = 8), which a network of
// ~100 neurons cannot pay for in BIC when populations differ only in their means (say
// in their NE parameters), while populations that differ in their loading covariances
// (their sigma_mn, i.e. their role in the dynamics) need the full model. Clusters are
// numbered 1..K by decreasing weight.
//
// Stability. For b = 1..cluster.bootstrap, n neurons are drawn with replacement, a
// mixture with K_s = max(K, 2) components (the covariance model with the smaller BIC
// at K_s) is fitted to them, and the neurons present in the resample are labelled by
// it; the ARI between these labels and the full-data clustering of the same neurons
// is the stability of resample b. The null is data without structure: n points drawn
// from the single Gaussian fitted to the standardised features (same covariance as
// the data), clustered with K_s components, and put through the same resampling; a
// stability well above the null's says the clusters are more than a partition of one
// blob.
//
// Agreement. ARI between the clusters and the mean-field populations (on the units
// both have), and with the true populations when the session is simulated.
//
// Checks against the truth. When the session is simulated, two numbers tell a failure
// of the clustering apart from a fitted network that does not carry the simulator's
// populations: the generating network itself (the session's truth_neurons) is
// clustered exactly as the fitted one (truth_network: K and its ARI with the true
// populations), and truth_separability is the leave-one-out accuracy with which a
// supervised linear discriminant (class means and one pooled covariance: the tied
// mixture's form, but told the true labels) learns the true populations back from
// the fitted network's standardised features. A low ARI with a high separability is
// the clustering's fault; a low separability says the populations are not in the
// fitted parameters, whatever the clustering.
//
// Resampled networks. cluster.networks networks of cluster.network_neurons neurons
// (default: as many as the fitted network) are drawn from the fitted mixture,
// un-standardised, and their regime along the NE grid is compared with the fitted
// network's (from the fixedpoints stage, or computed with the same analysis when that
// input is absent); the agreement is the fraction of (network, NE level) pairs whose
// regime matches. By default the draws are moment-matched (gmm.SampleMatched): each
// cluster gets its share of the neurons, recoloured to the cluster's exact mean and
// covariance. The low-rank dynamics depend on the loadings' sample moments, and at
// N ~ 100 the sampling noise of plain draws alone moves them enough to change the
// regime (measured on a synthetic two-population ring network: fresh plain draws of
// the generator itself disagree with each other at the middle NE levels about half
// the time); matching the moments tests the mixture's statistics instead. A regime
// that is itself a finite-size accident of the fitted network (a broken ring at small
// N, labelled line attractor or multistable by luck) cannot be reproduced either
// way; larger resampled networks (network_neurons) then compare with the mixture's
// large-N behaviour.
//
// Everything random draws from PCG streams derived from cluster.seed, and work
// spread over threads is collected by index, so outputs do not depend on the number
// of threads.
package cluster
