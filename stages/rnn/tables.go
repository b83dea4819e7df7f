package rnn

import (
	"fmt"
	"strconv"
	"strings"

	"nmdyn/stages/table"
)

// Tables encodes the model as two tables: per-neuron parameters (columns unit, m_1..m_R,
// n_1..n_R, h, c, d, the NE parameters beta_k / gamma_k / p_k, q_k, the event input
// weights b_<label>, x0_w, x0_b) and one row of global settings (variant, neurons,
// rank, basis_k, events, dt_s, tau_s, basis).
func (m *Model) Tables() (neurons, globals *table.Table) {
	neurons = table.New()
	neurons.AddInt("unit", append([]int64(nil), m.Units...))
	col := func(src []float64, width, j int) []float64 {
		out := make([]float64, m.N)
		for i := range out {
			out[i] = src[i*width+j]
		}
		return out
	}
	for j := 0; j < m.R; j++ {
		neurons.AddFloat(fmt.Sprintf("m_%d", j+1), col(m.M, m.R, j))
	}
	for j := 0; j < m.R; j++ {
		neurons.AddFloat(fmt.Sprintf("n_%d", j+1), col(m.Nv, m.R, j))
	}
	neurons.AddFloat("h", append([]float64(nil), m.H...))
	neurons.AddFloat("c", append([]float64(nil), m.C...))
	neurons.AddFloat("d", append([]float64(nil), m.D...))
	for k := 0; k < m.K; k++ {
		switch m.Variant {
		case Additive:
			neurons.AddFloat(fmt.Sprintf("beta_%d", k+1), col(m.Beta, m.K, k))
		case PreGain, PostGain:
			neurons.AddFloat(fmt.Sprintf("gamma_%d", k+1), col(m.Gamma, m.K, k))
		}
	}
	if m.Variant == LowRank {
		for k := 0; k < m.K; k++ {
			neurons.AddFloat(fmt.Sprintf("p_%d", k+1), col(m.P, m.K, k))
		}
		for k := 0; k < m.K; k++ {
			neurons.AddFloat(fmt.Sprintf("q_%d", k+1), col(m.Q, m.K, k))
		}
	}
	for e := 0; e < m.E; e++ {
		neurons.AddFloat("b_"+m.Events[e], col(m.B, m.E, e))
	}
	neurons.AddFloat("x0_w", append([]float64(nil), m.X0W...))
	neurons.AddFloat("x0_b", append([]float64(nil), m.X0B...))

	globals = table.New()
	globals.AddString("variant", []string{string(m.Variant)})
	globals.AddInt("neurons", []int64{int64(m.N)})
	globals.AddInt("rank", []int64{int64(m.R)})
	globals.AddInt("basis_k", []int64{int64(m.K)})
	globals.AddString("events", []string{strings.Join(m.Events, ",")})
	globals.AddFloat("dt_s", []float64{m.DtSeconds})
	globals.AddFloat("tau_s", []float64{m.TauSeconds})
	globals.AddString("basis", []string{"(2nu-1)^k"})
	return neurons, globals
}

// TableSource is where ReadModel finds a model's tables: a stage's upstream output
// (task.Input) or anything else that reads tables by name.
type TableSource interface {
	Table(name string) (*table.Table, error)
}

// ReadModel decodes the model written as the tables <prefix>_neurons and
// <prefix>_globals (neurons and globals when prefix is empty); errors name the
// table at fault.
func ReadModel(src TableSource, prefix string) (*Model, error) {
	nn, gn := "neurons", "globals"
	if prefix != "" {
		nn, gn = prefix+"_neurons", prefix+"_globals"
	}
	neurons, err := src.Table(nn)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", nn, err)
	}
	globals, err := src.Table(gn)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", gn, err)
	}
	m, err := FromTables(neurons, globals)
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w", nn, gn, err)
	}
	return m, nil
}

// FromTables decodes what Tables wrote.
func FromTables(neurons, globals *table.Table) (*Model, error) {
	if globals.Len() != 1 {
		return nil, fmt.Errorf("rnn: globals table has %d rows, want 1", globals.Len())
	}
	vs, err := globals.String("variant")
	if err != nil {
		return nil, fmt.Errorf("rnn globals: %w", err)
	}
	v, err := ParseVariant(vs[0])
	if err != nil {
		return nil, err
	}
	geti := func(name string) (int, error) {
		x, err := globals.Int(name)
		if err != nil {
			return 0, fmt.Errorf("rnn globals: %w", err)
		}
		return int(x[0]), nil
	}
	getf := func(name string) (float64, error) {
		x, err := globals.Float(name)
		if err != nil {
			return 0, fmt.Errorf("rnn globals: %w", err)
		}
		return x[0], nil
	}
	n, err := geti("neurons")
	if err != nil {
		return nil, err
	}
	r, err := geti("rank")
	if err != nil {
		return nil, err
	}
	k, err := geti("basis_k")
	if err != nil {
		return nil, err
	}
	dt, err := getf("dt_s")
	if err != nil {
		return nil, err
	}
	tau, err := getf("tau_s")
	if err != nil {
		return nil, err
	}
	evs, err := globals.String("events")
	if err != nil {
		return nil, fmt.Errorf("rnn globals: %w", err)
	}
	var events []string
	if evs[0] != "" {
		events = strings.Split(evs[0], ",")
	}
	m := New(v, n, r, k, len(events), dt, tau)
	m.Events = events
	if neurons.Len() != n {
		return nil, fmt.Errorf("rnn: neuron table has %d rows, globals say %d neurons", neurons.Len(), n)
	}
	units, err := neurons.Int("unit")
	if err != nil {
		return nil, fmt.Errorf("rnn neurons: %w", err)
	}
	copy(m.Units, units)
	fill := func(dst []float64, width, j int, name string) error {
		c, err := neurons.Float(name)
		if err != nil {
			return fmt.Errorf("rnn neurons: %w", err)
		}
		for i := 0; i < n; i++ {
			dst[i*width+j] = c[i]
		}
		return nil
	}
	type spec struct {
		dst   []float64
		width int
		j     int
		name  string
	}
	var specs []spec
	for j := 0; j < r; j++ {
		specs = append(specs, spec{m.M, r, j, "m_" + strconv.Itoa(j+1)}, spec{m.Nv, r, j, "n_" + strconv.Itoa(j+1)})
	}
	specs = append(specs, spec{m.H, 1, 0, "h"}, spec{m.C, 1, 0, "c"}, spec{m.D, 1, 0, "d"},
		spec{m.X0W, 1, 0, "x0_w"}, spec{m.X0B, 1, 0, "x0_b"})
	for kk := 0; kk < k; kk++ {
		switch v {
		case Additive:
			specs = append(specs, spec{m.Beta, k, kk, "beta_" + strconv.Itoa(kk+1)})
		case PreGain, PostGain:
			specs = append(specs, spec{m.Gamma, k, kk, "gamma_" + strconv.Itoa(kk+1)})
		case LowRank:
			specs = append(specs, spec{m.P, k, kk, "p_" + strconv.Itoa(kk+1)}, spec{m.Q, k, kk, "q_" + strconv.Itoa(kk+1)})
		}
	}
	for e, label := range events {
		specs = append(specs, spec{m.B, len(events), e, "b_" + label})
	}
	for _, s := range specs {
		if err := fill(s.dst, s.width, s.j, s.name); err != nil {
			return nil, err
		}
	}
	return m, m.Validate()
}
