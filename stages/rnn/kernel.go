package rnn

// Forward and backward passes over one window. Loss (the Poisson negative
// log-likelihood up to terms independent of the parameters):
//
//	L = sum_t sum_i ( dt lambda_i[t] - y_i[t] log lambda_i[t] ),  log lambda = c r + d
//
// The backward pass is backpropagation through time written out by hand; see
// grad_test.go for the check against finite differences.
//
// For speed the kernel works on a "packed" copy of the parameters in which every
// N x w block of the model is stored transposed (w rows of N), so that every inner loop
// runs over neurons with unit stride, and exp and tanh are applied to whole rows.

// packed is a view of a packed (column-major per block) parameter vector.
type packed struct {
	M, Nv, B, Gam, P, Q [][]float64 // rows of length N (Gam holds beta or gamma)
	H, C, D, X0W, X0B   []float64
}

// blockWidths lists the width (columns per neuron) of each block of m.blocks().
func (m *Model) blockWidths() []int {
	w := []int{m.R, m.R, 1, m.E, 1, 1}
	switch m.Variant {
	case Additive, PreGain, PostGain:
		w = append(w, m.K)
	case LowRank:
		w = append(w, m.K, m.K)
	}
	return append(w, 1, 1)
}

// pack copies the model's parameters into the packed layout dst.
func (m *Model) pack(dst []float64) {
	off := 0
	widths := m.blockWidths()
	for b, blk := range m.blocks() {
		src := *blk
		w, n := widths[b], m.N
		for i := 0; i < n; i++ {
			for j := 0; j < w; j++ {
				dst[off+j*n+i] = src[i*w+j]
			}
		}
		off += n * w
	}
}

// unpack turns a packed vector into the flat row-major layout of Flatten.
func (m *Model) unpack(dst, src []float64) {
	off := 0
	for _, w := range m.blockWidths() {
		n := m.N
		for i := 0; i < n; i++ {
			for j := 0; j < w; j++ {
				dst[off+i*w+j] = src[off+j*n+i]
			}
		}
		off += n * w
	}
}

// packedView slices a packed vector into its rows.
func (m *Model) packedView(buf []float64) packed {
	n := m.N
	off := 0
	rows := func(w int) [][]float64 {
		r := make([][]float64, w)
		for j := range r {
			r[j] = buf[off : off+n : off+n]
			off += n
		}
		return r
	}
	var p packed
	p.M = rows(m.R)
	p.Nv = rows(m.R)
	p.H = rows(1)[0]
	p.B = rows(m.E)
	p.C = rows(1)[0]
	p.D = rows(1)[0]
	switch m.Variant {
	case Additive, PreGain, PostGain:
		p.Gam = rows(m.K)
	case LowRank:
		p.P = rows(m.K)
		p.Q = rows(m.K)
	}
	p.X0W = rows(1)[0]
	p.X0B = rows(1)[0]
	return p
}

// workspace holds one window's forward states for the backward pass, and scratch rows.
type workspace struct {
	n, l, w int
	X       []float64 // W x N states
	Rt      []float64 // W x N tanh(g_post x)
	G       []float64 // W x N gain (g_post for postgain, g_pre for pregain)
	Lam     []float64 // W x N rate (Hz)
	Kap     []float64 // W x L latent drive
	dxn     []float64 // N: dL/dx[t+1]
	dxc     []float64 // N: dL/dx[t]
	ad      []float64 // N: alpha dxn
	tmp     []float64 // N scratch
	tmp2    []float64 // N scratch
	dk      []float64 // L
}

func newWorkspace(n, l, w int) *workspace {
	return &workspace{n: n, l: l, w: w,
		X: make([]float64, w*n), Rt: make([]float64, w*n), G: make([]float64, w*n),
		Lam: make([]float64, w*n), Kap: make([]float64, w*l),
		dxn: make([]float64, n), dxc: make([]float64, n), ad: make([]float64, n),
		tmp: make([]float64, n), tmp2: make([]float64, n), dk: make([]float64, l)}
}

// latentDim is the number of latent coordinates of the recurrent drive.
func (m *Model) latentDim() int {
	if m.Variant == LowRank {
		return m.R + m.K
	}
	return m.R
}

func (ws *workspace) fits(m *Model, w int) bool {
	return ws != nil && ws.n == m.N && ws.l == m.latentDim() && ws.w >= w
}

// forward runs the window with packed parameters p and returns its loss. States are
// kept in ws.
func (m *Model) forward(p *packed, d *Data, win Window, ws *workspace) float64 {
	n, R, K, E := m.N, m.R, m.K, m.E
	L := m.latentDim()
	alpha := m.Alpha()
	keep := 1 - alpha
	invN := 1 / float64(n)
	dt := d.DtSeconds
	post := m.Variant == PostGain
	pre := m.Variant == PreGain
	add := m.Variant == Additive
	low := m.Variant == LowRank
	gain := post || pre

	x0 := ws.X[:n]
	z := win.Z[:n]
	for i := range x0 {
		x0[i] = p.X0W[i]*z[i] + p.X0B[i]
	}
	loss := 0.0
	for t := 0; t < win.Len; t++ {
		bin := win.Start + t
		f := d.F[bin*K : (bin+1)*K]
		y := d.Y[bin*n : (bin+1)*n]
		x := ws.X[t*n : (t+1)*n]
		rt := ws.Rt[t*n : (t+1)*n]
		g := ws.G[t*n : (t+1)*n]
		lam := ws.Lam[t*n : (t+1)*n]
		kap := ws.Kap[t*L : (t+1)*L]

		arg := ws.tmp
		if gain {
			s := ws.tmp2
			weighted(s, p.Gam, f)
			expRow(g, s)
		}
		if post {
			for i := range arg {
				arg[i] = g[i] * x[i]
			}
			tanhRow(rt, arg)
		} else {
			tanhRow(rt, x)
		}
		ll := ws.tmp2
		C, D := p.C[:n], p.D[:n]
		for i := range ll {
			ll[i] = C[i]*rt[i] + D[i]
		}
		expRow(lam, ll)
		for i := range lam {
			loss += dt*lam[i] - float64(y[i])*ll[i]
		}
		rp := rt
		if pre {
			rp = ws.tmp
			for i := range rp {
				rp[i] = g[i] * rt[i]
			}
		}
		for j := 0; j < R; j++ {
			kap[j] = dot(p.Nv[j], rp) * invN
		}
		if low {
			for k := 0; k < K; k++ {
				kap[R+k] = dot(p.Q[k], rp) * invN * f[k]
			}
		}
		if t+1 == win.Len {
			break
		}
		xn := ws.X[(t+1)*n : (t+2)*n]
		v := ws.tmp
		copy(v, p.H)
		for j := 0; j < R; j++ {
			axpy(v, kap[j], p.M[j])
		}
		if low {
			for k := 0; k < K; k++ {
				axpy(v, kap[R+k], p.P[k])
			}
		}
		if add {
			for k := 0; k < K; k++ {
				axpy(v, f[k], p.Gam[k])
			}
		}
		for e := 0; e < E; e++ {
			if ue := d.U[bin*E+e]; ue != 0 {
				axpy(v, ue, p.B[e])
			}
		}
		for i := range xn {
			xn[i] = keep*x[i] + alpha*v[i]
		}
	}
	return loss
}

// backward adds the gradient of the window's loss to gr (packed layout), using the
// states forward left in ws.
func (m *Model) backward(p *packed, d *Data, win Window, ws *workspace, gr *packed) {
	n, R, K, E := m.N, m.R, m.K, m.E
	L := m.latentDim()
	alpha := m.Alpha()
	keep := 1 - alpha
	invN := 1 / float64(n)
	dt := d.DtSeconds
	post := m.Variant == PostGain
	pre := m.Variant == PreGain
	add := m.Variant == Additive
	low := m.Variant == LowRank

	dxn, dxc, dk, ad := ws.dxn[:n], ws.dxc[:n], ws.dk, ws.ad[:n]
	for i := range dxn {
		dxn[i] = 0
	}
	C := p.C[:n]
	gC, gD := gr.C[:n], gr.D[:n]
	for t := win.Len - 1; t >= 0; t-- {
		bin := win.Start + t
		f := d.F[bin*K : (bin+1)*K]
		y := d.Y[bin*n : (bin+1)*n]
		x := ws.X[t*n : (t+1)*n]
		rt := ws.Rt[t*n : (t+1)*n]
		g := ws.G[t*n : (t+1)*n]
		lam := ws.Lam[t*n : (t+1)*n]
		kap := ws.Kap[t*L : (t+1)*L]
		last := t+1 == win.Len
		dr := ws.tmp[:n]
		// Readout: dL/dll = dt lambda - y.
		for i := range dr {
			e := dt*lam[i] - float64(y[i])
			gC[i] += e * rt[i]
			gD[i] += e
			dr[i] = e * C[i]
		}
		if !last {
			// x[t+1] = keep x[t] + alpha (M kap + P kap' + h + a + B u)
			for i := range ad {
				ad[i] = alpha * dxn[i]
			}
			for j := 0; j < R; j++ {
				dk[j] = dot(p.M[j], ad) * invN
				axpy(gr.M[j], kap[j], ad)
			}
			if low {
				for k := 0; k < K; k++ {
					dk[R+k] = dot(p.P[k], ad) * invN * f[k]
					axpy(gr.P[k], kap[R+k], ad)
				}
			}
			axpy(gr.H, 1, ad)
			if add {
				for k := 0; k < K; k++ {
					axpy(gr.Gam[k], f[k], ad)
				}
			}
			for e := 0; e < E; e++ {
				if ue := d.U[bin*E+e]; ue != 0 {
					axpy(gr.B[e], ue, ad)
				}
			}
			// kap_j = sum_i Nv_ij rp_i / N and kap_{R+k} = f_k sum_i Q_ik rp_i / N:
			// drp = Nv dk + Q dk'; gNv_j += dk_j rp.
			drp := ws.tmp2[:n]
			for i := range drp {
				drp[i] = 0
			}
			rp := rt
			if pre {
				rp = ws.ad // ad is no longer needed
				for i := range rp[:n] {
					rp[i] = g[i] * rt[i]
				}
			}
			for j := 0; j < R; j++ {
				axpy(drp, dk[j], p.Nv[j])
				axpy(gr.Nv[j], dk[j], rp)
			}
			if low {
				for k := 0; k < K; k++ {
					axpy(drp, dk[R+k], p.Q[k])
					axpy(gr.Q[k], dk[R+k], rp)
				}
			}
			if pre {
				// rp = g r with g = exp(gamma . f): dgamma_k += drp r g f_k.
				gg := ws.ad[:n]
				for i := range gg {
					gg[i] = drp[i] * rt[i] * g[i]
					dr[i] += g[i] * drp[i]
				}
				for k := 0; k < K; k++ {
					axpy(gr.Gam[k], f[k], gg)
				}
			} else {
				for i := range dr {
					dr[i] += drp[i]
				}
			}
		}
		// r = tanh(u); u = g x (postgain) or x.
		if post {
			gg := ws.tmp2[:n]
			for i := range dr {
				du := dr[i] * (1 - rt[i]*rt[i])
				gg[i] = du * x[i] * g[i]
				dxc[i] = keep*dxn[i] + du*g[i]
			}
			for k := 0; k < K; k++ {
				axpy(gr.Gam[k], f[k], gg)
			}
		} else {
			for i := range dr {
				dxc[i] = keep*dxn[i] + dr[i]*(1-rt[i]*rt[i])
			}
		}
		dxn, dxc = dxc, dxn
	}
	// x[0] = X0W z + X0B
	z := win.Z[:n]
	gW, gB := gr.X0W[:n], gr.X0B[:n]
	for i, v := range dxn {
		gW[i] += v * z[i]
		gB[i] += v
	}
}

// weighted sets dst = sum_k w_k rows[k].
func weighted(dst []float64, rows [][]float64, w []float64) {
	for i := range dst {
		dst[i] = 0
	}
	for k, row := range rows {
		axpy(dst, w[k], row)
	}
}

// axpy sets y += a x.
func axpy(y []float64, a float64, x []float64) {
	x = x[:len(y)]
	for i := range y {
		y[i] += a * x[i]
	}
}

// dot returns sum_i a_i b_i.
func dot(a, b []float64) float64 {
	b = b[:len(a)]
	s0, s1 := 0.0, 0.0
	i := 0
	for ; i+1 < len(a); i += 2 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
	}
	if i < len(a) {
		s0 += a[i] * b[i]
	}
	return s0 + s1
}
