package cluster

import (
	"fmt"
	"math"
	"strconv"

	"nmdyn/stages/rnn"
)

// paramColumn is one per-neuron parameter of the model: where it sits and its name in
// the rnn neuron table.
type paramColumn struct {
	name  string
	src   func(m *rnn.Model) []float64 // the parameter block (N x width, row-major)
	width int
	j     int
}

func (c paramColumn) get(m *rnn.Model, i int) float64    { return c.src(m)[i*c.width+c.j] }
func (c paramColumn) set(m *rnn.Model, i int, v float64) { c.src(m)[i*c.width+c.j] = v }

// parameterColumns lists the clustering parameters of a model (see the package doc):
// m_1..m_R, n_1..n_R, h, b_<event>..., then the NE parameters.
func parameterColumns(m *rnn.Model) []paramColumn {
	var cols []paramColumn
	block := func(prefix string, src func(*rnn.Model) []float64, width int) {
		for j := 0; j < width; j++ {
			cols = append(cols, paramColumn{prefix + strconv.Itoa(j+1), src, width, j})
		}
	}
	block("m_", func(m *rnn.Model) []float64 { return m.M }, m.R)
	block("n_", func(m *rnn.Model) []float64 { return m.Nv }, m.R)
	cols = append(cols, paramColumn{"h", func(m *rnn.Model) []float64 { return m.H }, 1, 0})
	for e, label := range m.Events {
		cols = append(cols, paramColumn{"b_" + label, func(m *rnn.Model) []float64 { return m.B }, m.E, e})
	}
	switch m.Variant {
	case rnn.Additive:
		block("beta_", func(m *rnn.Model) []float64 { return m.Beta }, m.K)
	case rnn.PreGain, rnn.PostGain:
		block("gamma_", func(m *rnn.Model) []float64 { return m.Gamma }, m.K)
	case rnn.LowRank:
		block("p_", func(m *rnn.Model) []float64 { return m.P }, m.K)
		block("q_", func(m *rnn.Model) []float64 { return m.Q }, m.K)
	}
	return cols
}

// features is the standardised design matrix of the clustering.
type features struct {
	cols  []paramColumn // the columns clustered, in order
	names []string      // their names
	mean  []float64     // per clustered column
	sd    []float64     // population standard deviation per clustered column
	z     []float64     // n x d standardised values, row-major
	raw   []float64     // n x d raw values
	n, d  int

	constant      []paramColumn // columns left out because constant
	constantValue []float64
}

// standardise extracts the clustering features of every neuron of m and z-scores
// them, leaving out constant columns. Error when fewer than one column varies.
func standardise(m *rnn.Model) (*features, error) {
	f := &features{n: m.N}
	for _, c := range parameterColumns(m) {
		v := make([]float64, m.N)
		mean := 0.0
		for i := range v {
			v[i] = c.get(m, i)
			mean += v[i]
		}
		mean /= float64(m.N)
		ss := 0.0
		for _, x := range v {
			ss += (x - mean) * (x - mean)
		}
		sd := math.Sqrt(ss / float64(m.N))
		// Relative threshold: a column equal to round-off is constant too.
		if !(sd > 1e-12*(1+math.Abs(mean))) {
			f.constant = append(f.constant, c)
			f.constantValue = append(f.constantValue, mean)
			continue
		}
		f.cols = append(f.cols, c)
		f.names = append(f.names, c.name)
		f.mean = append(f.mean, mean)
		f.sd = append(f.sd, sd)
	}
	f.d = len(f.cols)
	if f.d == 0 {
		return nil, fmt.Errorf("no parameter varies across the %d neurons: nothing to cluster", m.N)
	}
	f.z = make([]float64, f.n*f.d)
	f.raw = make([]float64, f.n*f.d)
	for a, c := range f.cols {
		for i := 0; i < f.n; i++ {
			v := c.get(m, i)
			f.raw[i*f.d+a] = v
			f.z[i*f.d+a] = (v - f.mean[a]) / f.sd[a]
		}
	}
	return f, nil
}

// network builds a model shaped like template whose neuron i has the standardised
// feature vector z[i*d:(i+1)*d] (un-standardised here) and the constant value of
// every left-out column. Parameters outside the clustering (readout, initial state)
// keep rnn.New's defaults, with c = 1: they do not enter the fixed points.
func (f *features) network(template *rnn.Model, z []float64) *rnn.Model {
	n := len(z) / f.d
	m := rnn.New(template.Variant, n, template.R, template.K, template.E, template.DtSeconds, template.TauSeconds)
	copy(m.Events, template.Events)
	for i := 0; i < n; i++ {
		for a, c := range f.cols {
			c.set(m, i, f.mean[a]+f.sd[a]*z[i*f.d+a])
		}
		for j, c := range f.constant {
			c.set(m, i, f.constantValue[j])
		}
		m.C[i] = 1
	}
	return m
}
