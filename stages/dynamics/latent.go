package dynamics

import (
	"nmdyn/stages/latent"
	"nmdyn/stages/rnn"
)

// LatentSystem is an autonomous dynamical system on latent coordinates kappa, with
// time in units of the membrane time constant tau. The analysis assumes the leak
// form dkappa/dt = -kappa + F(kappa) with F bounded, which both the exact reduction
// of a network (LatentOf) and its mean-field limit have.
type LatentSystem interface {
	// Dim is the latent dimension d.
	Dim() int
	// Velocity fills dst (length d) with dkappa/dt at kappa (units 1/tau).
	Velocity(kappa, dst []float64)
	// Jacobian fills dst (d x d, row-major) with d velocity_r / d kappa_s.
	Jacobian(kappa, dst []float64)
}

// Boxed is implemented by systems that know a box holding every fixed point:
// |kappa_r| <= half[r] (for a network, sum_i |n_out_ir|, since |tanh| <= 1). Systems
// without it get a box estimated from F = velocity + kappa at sample points.
type Boxed interface {
	Box(half []float64)
}

// Embedded is implemented by systems that say whether they are the latent part of
// a larger network whose other directions decay with eigenvalue exactly -1 (time
// constant tau). Systems without it are assumed embedded (both a finite network
// with N > d and the mean-field limit are), so tau enters the time constants.
type Embedded interface {
	Embedded() bool
}

// velocityJacobian is implemented by systems that compute both in one pass.
type velocityJacobian interface {
	VelocityJacobian(kappa, v, jac []float64)
}

// Network is the exact latent reduction of an rnn.Model (package latent).
type Network = latent.Network

// LatentOf returns the exact latent system of m at NE level nu (a *Network).
func LatentOf(m *rnn.Model, nu float64) LatentSystem { return latent.New(m, nu) }
