package rnn

// Inputs are the time-varying inputs of the network over T bins.
type Inputs struct {
	Nu     []float64 // NE level per bin, in [0, 1]
	Events []float64 // T x E event inputs (row-major), nil when E = 0 or inputs off
}

// Trajectory runs the deterministic discrete-time network for len(in.Nu) bins from x0
// (length N) and returns the states X (T x N, row-major: X[t*N+i] is x_i at bin t, with
// X[0] = x0) and the rates r = tanh(g_post x) in the same layout. noise, when not nil,
// is called after each Euler step with the bin index and the new state, so a caller
// (the simulator) can add its own fluctuations.
func (m *Model) Trajectory(x0 []float64, in Inputs, noise func(t int, x []float64)) (X, Rates []float64) {
	T, n := len(in.Nu), m.N
	X = make([]float64, T*n)
	Rates = make([]float64, T*n)
	if T == 0 {
		return X, Rates
	}
	copy(X[:n], x0)
	alpha := m.Alpha()
	var s *NEState
	drift := make([]float64, n)
	for t := 0; t < T; t++ {
		s = m.AtNE(in.Nu[t], s)
		x := X[t*n : (t+1)*n]
		m.Rates(x, s, Rates[t*n:(t+1)*n])
		if t+1 == T {
			break
		}
		var u []float64
		if in.Events != nil && m.E > 0 {
			u = in.Events[t*m.E : (t+1)*m.E]
		}
		m.Drift(x, s, u, drift)
		next := X[(t+1)*n : (t+2)*n]
		for i := range next {
			next[i] = x[i] + alpha*drift[i]
		}
		if noise != nil {
			noise(t+1, next)
		}
	}
	return X, Rates
}

// WindowStates runs the deterministic network over a window of the data from its
// initial state x0 = X0W z + X0B (inputs and NE from the data) and returns the states
// (Len x N, row-major).
func (m *Model) WindowStates(d *Data, w Window) []float64 {
	x0 := make([]float64, m.N)
	for i := range x0 {
		x0[i] = m.X0W[i]*w.Z[i] + m.X0B[i]
	}
	in := Inputs{Nu: d.Nu[w.Start : w.Start+w.Len]}
	if d.E > 0 {
		in.Events = d.U[w.Start*d.E : (w.Start+w.Len)*d.E]
	}
	X, _ := m.Trajectory(x0, in, nil)
	return X
}
