package rnn

import (
	"sync"
	"sync/atomic"
)

// evaluator computes the loss and gradient of a batch of windows in parallel with a
// fixed reduction order: every window writes its own gradient slot and the slots are
// summed in window order, so the result is bit-identical whatever the number of
// threads.
type evaluator struct {
	m       *Model
	d       *Data
	threads int
	wss     []*workspace // one per worker
	slots   [][]float64  // one packed gradient per window of the batch
	views   []packed
	losses  []float64
	pbuf    []float64 // packed parameters
	pk      packed
	total   []float64 // packed gradient sum
}

func newEvaluator(m *Model, d *Data, threads int) *evaluator {
	if threads < 1 {
		threads = 1
	}
	return &evaluator{m: m, d: d, threads: threads}
}

func (ev *evaluator) ensure(nwin, maxLen int) {
	p := ev.m.NumParams()
	for len(ev.slots) < nwin {
		buf := make([]float64, p)
		ev.slots = append(ev.slots, buf)
		ev.views = append(ev.views, ev.m.packedView(buf))
	}
	if len(ev.losses) < nwin {
		ev.losses = make([]float64, nwin)
	}
	if len(ev.pbuf) != p {
		ev.pbuf = make([]float64, p)
		ev.total = make([]float64, p)
		ev.pk = ev.m.packedView(ev.pbuf)
	}
	for len(ev.wss) < ev.threads {
		ev.wss = append(ev.wss, nil)
	}
	for i := range ev.wss {
		if !ev.wss[i].fits(ev.m, maxLen) {
			ev.wss[i] = newWorkspace(ev.m.N, ev.m.latentDim(), maxLen)
		}
	}
}

// parallel runs fn(worker, index) for index in [0, n) over the evaluator's threads.
func (ev *evaluator) parallel(n int, fn func(worker, index int)) {
	workers := min(ev.threads, n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			fn(0, i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(w, i)
			}
		}(w)
	}
	wg.Wait()
}

// lossGrad returns the summed loss of the windows and writes its gradient into grad
// (length NumParams; overwritten).
func (ev *evaluator) lossGrad(windows []Window, grad []float64) float64 {
	maxLen := 0
	for _, w := range windows {
		maxLen = max(maxLen, w.Len)
	}
	ev.ensure(len(windows), maxLen)
	ev.m.pack(ev.pbuf)
	ev.parallel(len(windows), func(worker, i int) {
		slot := ev.slots[i]
		for p := range slot {
			slot[p] = 0
		}
		ws := ev.wss[worker]
		ev.losses[i] = ev.m.forward(&ev.pk, ev.d, windows[i], ws)
		ev.m.backward(&ev.pk, ev.d, windows[i], ws, &ev.views[i])
	})
	// Sum slots in window order, in parallel over parameter ranges.
	p := len(grad)
	chunks := ev.threads * 4
	ev.parallel(chunks, func(_, c int) {
		lo, hi := c*p/chunks, (c+1)*p/chunks
		g := ev.total[lo:hi]
		copy(g, ev.slots[0][lo:hi])
		for w := 1; w < len(windows); w++ {
			s := ev.slots[w][lo:hi]
			for j := range g {
				g[j] += s[j]
			}
		}
	})
	ev.m.unpack(grad, ev.total)
	loss := 0.0
	for i := range windows {
		loss += ev.losses[i]
	}
	return loss
}

// loss returns the summed loss of the windows (forward only).
func (ev *evaluator) loss(windows []Window) float64 {
	maxLen := 0
	for _, w := range windows {
		maxLen = max(maxLen, w.Len)
	}
	ev.ensure(0, maxLen)
	if len(ev.losses) < len(windows) {
		ev.losses = make([]float64, len(windows))
	}
	ev.m.pack(ev.pbuf)
	ev.parallel(len(windows), func(worker, i int) {
		ev.losses[i] = ev.m.forward(&ev.pk, ev.d, windows[i], ev.wss[worker])
	})
	loss := 0.0
	for i := range windows {
		loss += ev.losses[i]
	}
	return loss
}
