package fit

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"nmdyn/stages/dynamics"
	"nmdyn/stages/groundtruth"
	"nmdyn/stages/rnn"
	"nmdyn/stages/task/tasktest"
)

func binGenerated(t *testing.T, g *groundtruth.Generated, dt float64) *rnn.Binned {
	n := len(g.Session.Units)
	T := len(g.NE)
	idx := map[int64]int{}
	for i, u := range g.Session.Units {
		idx[u.ID] = i
	}
	y := make([]float32, T*n)
	err := g.Session.Spikes.Scan(func(units []int64, times []float64) error {
		for k := range units {
			b := int(times[k] / dt)
			if b >= 0 && b < T {
				y[b*n+idx[units[k]]]++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	labels := g.Model.Events
	E := len(labels)
	u := make([]float64, T*E)
	for _, e := range g.Session.Events {
		b := int(e.Time / dt)
		for j, l := range labels {
			if l == e.Label && b >= 0 && b < T {
				u[b*E+j]++
			}
		}
	}
	d, err := rnn.NewData(y, n, g.NE, u, E, 2, dt)
	if err != nil {
		t.Fatal(err)
	}
	b := &rnn.Binned{Data: d, Events: labels}
	for _, u := range g.Session.Units {
		b.Units = append(b.Units, u.ID)
	}
	blockBins := int(math.Round(60 / dt))
	for tt := 0; tt < T; tt++ {
		b.TimeS = append(b.TimeS, float64(tt)*dt)
		blk := tt / blockBins
		b.Block = append(b.Block, int64(blk))
		b.Subblock = append(b.Subblock, int64(tt/int(math.Round(10/dt))))
		switch blk % 10 {
		case 3, 8:
			b.Split = append(b.Split, "validation")
		case 4, 9:
			b.Split = append(b.Split, "test")
		default:
			b.Split = append(b.Split, "train")
		}
	}
	return b
}

func abbrev(s string) string {
	switch s {
	case "single fixed point":
		return "S"
	case "line attractor":
		return "L"
	case "multistable":
		return "M"
	}
	return "O"
}

func TestScratchGroundTruth(t *testing.T) {
	if os.Getenv("NMDYN_SCRATCH") == "" {
		t.Skip()
	}
	cfg := groundtruth.Defaults()
	if m := os.Getenv("NMDYN_MECH"); m != "" {
		cfg.Mechanism = m
	}
	if os.Getenv("NMDYN_STRONG") != "" {
		cfg.Noise.Private = 0.05
		cfg.Noise.SharedFast = 0.1
		cfg.Events.Strength = 3
	}
	envf := func(name string, dst *float64) {
		if v := os.Getenv(name); v != "" {
			*dst, _ = strconv.ParseFloat(v, 64)
		}
	}
	envf("NMDYN_PRIV", &cfg.Noise.Private)
	envf("NMDYN_FAST", &cfg.Noise.SharedFast)
	envf("NMDYN_SLOW", &cfg.Noise.SharedSlow)
	envf("NMDYN_EVS", &cfg.Events.Strength)
	if v := os.Getenv("NMDYN_SEED"); v != "" {
		x, _ := strconv.Atoi(v)
		cfg.Seed = uint64(x)
	}
	g, err := groundtruth.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("truth: %s range %v regimes %v", g.Truth.Mechanism, g.Truth.LineAttractorNERange, g.Truth.Regime)
	b := binGenerated(t, g, cfg.BinMs/1000)
	s := Defaults()
	s.Init = os.Getenv("NMDYN_INIT")
	if v := os.Getenv("NMDYN_LR"); v != "" {
		s.LR, _ = strconv.ParseFloat(v, 64)
	}
	if v := os.Getenv("NMDYN_L2"); v != "" {
		s.L2, _ = strconv.ParseFloat(v, 64)
	}
	if v := os.Getenv("NMDYN_WIN"); v != "" {
		s.WindowS, _ = strconv.ParseFloat(v, 64)
	}
	if v := os.Getenv("NMDYN_EMA"); v != "" {
		s.InitEmaS, _ = strconv.ParseFloat(v, 64)
	}
	if v := os.Getenv("NMDYN_PAT"); v != "" {
		s.Patience, _ = strconv.Atoi(v)
	}
	ctx := tasktest.New(nil)
	ctx.NThreads = 2
	truth := truthBits(t, b, g.Model, s)
	t.Logf("truth score %.4f", truth)
	vars := rnn.Variants
	if v := os.Getenv("NMDYN_VARS"); v != "" {
		vars = nil
		for _, x := range strings.Split(v, ",") {
			vars = append(vars, rnn.Variant(x))
		}
	}
	for _, v := range vars {
		res, err := Fit(ctx, b, v, 1, s)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%-9s test %.4f val %.4f best epoch %d (%s) %.1f s", v, res.TestBits, res.ValBits, res.Train.BestEpoch, res.Train.StopReason, res.Seconds)
		grid := make([]float64, 21)
		for i := range grid {
			grid[i] = float64(i) / 20
		}
		lv, err := dynamics.Sweep(res.Model, grid, nil)
		if err != nil {
			t.Fatal(err)
		}
		var reg []string
		for _, l := range lv {
			reg = append(reg, fmt.Sprintf("%.2f:%s(%.1f)", l.Nu, abbrev(l.Regime), l.Score))
		}
		lo, hi, ok := dynamics.LineAttractorRange(lv)
		t.Logf("   regimes %v range %v %v %v", reg, lo, hi, ok)
	}
}

func TestScratchFromTruth(t *testing.T) {
	if os.Getenv("NMDYN_SCRATCH") == "" {
		t.Skip()
	}
	cfg := groundtruth.Defaults()
	cfg.Noise.Private = 0.05
	cfg.Noise.SharedFast = 0.1
	cfg.Events.Strength = 3
	g, err := groundtruth.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := binGenerated(t, g, cfg.BinMs/1000)
	s := Defaults()
	wlen := int(math.Round(s.WindowS / 0.05))
	train := b.Windows("train", wlen, s.InitEmaS)
	val := b.Windows("validation", wlen, s.InitEmaS)
	test := b.Windows("test", wlen, s.InitEmaS)
	null := rnn.NullRates(b.Data, b.IsTrain)
	m := g.Model.Clone()
	ctx := tasktest.New(nil)
	tr, err := rnn.Train(ctx.Ctx(), m, b.Data, train, val, null, &rnn.TrainSettings{Epochs: 30, Trainable: []string{"x0_w", "x0_b"}, L2: -1, Seed: 1, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("truth+x0: val %.4f test %.4f", tr.BestBits, rnn.BitsPerSpike(rnn.Score(tr.Model, b.Data, test, null, 2)))
	m2 := tr.Model.Clone()
	lr := 0.003
	if v := os.Getenv("NMDYN_LR"); v != "" {
		lr, _ = strconv.ParseFloat(v, 64)
	}
	l2 := -1.0
	if v := os.Getenv("NMDYN_L2"); v != "" {
		l2, _ = strconv.ParseFloat(v, 64)
	}
	tr2, err := rnn.Train(ctx.Ctx(), m2, b.Data, train, val, null, &rnn.TrainSettings{Epochs: 100, LearningRate: lr, L2: l2, Seed: 1, Threads: 2, Patience: 100,
		Progress: func(r rnn.EpochRecord) {
			if r.Epoch%10 == 0 {
				t.Logf("epoch %d loss %.6f val %.5f", r.Epoch, r.TrainLoss, r.ValBits)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("from truth: best val %.4f at %d, test %.4f", tr2.BestBits, tr2.BestEpoch, rnn.BitsPerSpike(rnn.Score(tr2.Model, b.Data, test, null, 2)))
}

func TestScratchCompareInit(t *testing.T) {
	if os.Getenv("NMDYN_SCRATCH") == "" {
		t.Skip()
	}
	cfg := groundtruth.Defaults()
	cfg.Noise.Private = 0.05
	cfg.Noise.SharedFast = 0.1
	cfg.Events.Strength = 3
	g, err := groundtruth.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := binGenerated(t, g, cfg.BinMs/1000)
	s := Defaults()
	wlen := int(math.Round(s.WindowS / 0.05))
	train := b.Windows("train", wlen, s.InitEmaS)
	m, err := rnn.Initialise(rnn.PostGain, b.Data, b.IsTrain, train, 2, 2, 0.1, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	tm := g.Model
	mean := func(s []float64) float64 {
		a := 0.0
		for _, v := range s {
			a += v
		}
		return a / float64(len(s))
	}
	t.Logf("c: init mean %.3f truth mean %.3f; d: init %.3f truth %.3f; h: init %.3f truth %.3f", mean(m.C), mean(tm.C), mean(m.D), mean(tm.D), mean(m.H), mean(tm.H))
	// overlaps n_r . m_s / N
	ov := func(mm *rnn.Model) [4]float64 {
		var o [4]float64
		for i := 0; i < mm.N; i++ {
			for r := 0; r < 2; r++ {
				for s := 0; s < 2; s++ {
					o[r*2+s] += mm.Nv[i*2+r] * mm.M[i*2+s] / float64(mm.N)
				}
			}
		}
		return o
	}
	t.Logf("overlaps init %v truth %v", ov(m), ov(tm))
	t.Logf("truth B mean %.3f gamma1 mean %.3f x0w mean %.3f", mean(tm.B), mean(tm.Gamma), mean(m.X0W))
	for i := 0; i < 5; i++ {
		t.Logf("neuron %d: c %.2f/%.2f d %.2f/%.2f h %.2f/%.2f m %.2f,%.2f / %.2f,%.2f gamma %.2f,%.2f", i, m.C[i], tm.C[i], m.D[i], tm.D[i], m.H[i], tm.H[i], m.M[2*i], m.M[2*i+1], tm.M[2*i], tm.M[2*i+1], tm.Gamma[2*i], tm.Gamma[2*i+1])
	}
}
