package rnn

// The optimiser works on one flat parameter vector; the model's slices are views into
// it, so updates need no copying. Gradients use the same flat layout.

// blocks lists the model's parameter slices in their fixed flat order.
func (m *Model) blocks() []*[]float64 {
	b := []*[]float64{&m.M, &m.Nv, &m.H, &m.B, &m.C, &m.D}
	switch m.Variant {
	case Additive:
		b = append(b, &m.Beta)
	case PreGain, PostGain:
		b = append(b, &m.Gamma)
	case LowRank:
		b = append(b, &m.P, &m.Q)
	}
	return append(b, &m.X0W, &m.X0B)
}

// NumParams is the length of the flat parameter vector.
func (m *Model) NumParams() int {
	n := 0
	for _, b := range m.blocks() {
		n += len(*b)
	}
	return n
}

// Flatten copies the parameters into one new vector and rebinds the model's slices to
// views of it; the returned vector and the model then share storage.
func (m *Model) Flatten() []float64 {
	flat := make([]float64, 0, m.NumParams())
	for _, b := range m.blocks() {
		flat = append(flat, *b...)
	}
	m.bind(flat)
	return flat
}

// bind points the model's slices at consecutive ranges of flat.
func (m *Model) bind(flat []float64) {
	off := 0
	for _, b := range m.blocks() {
		n := len(*b)
		*b = flat[off : off+n : off+n]
		off += n
	}
	if off != len(flat) {
		panic("rnn: flat vector length does not match the model")
	}
}

// paramGroups names the blocks of the flat vector, in order, for reports and tests.
func (m *Model) paramGroups() []string {
	g := []string{"M", "N", "h", "B", "c", "d"}
	switch m.Variant {
	case Additive:
		g = append(g, "beta")
	case PreGain, PostGain:
		g = append(g, "gamma")
	case LowRank:
		g = append(g, "P", "Q")
	}
	return append(g, "x0_w", "x0_b")
}
