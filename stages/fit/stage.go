// Package fit is the `fit` stage: it fits one variant of the low-rank network
// (package rnn) with one seed to the preprocessed session, and scores it on the
// held-out blocks. The pipeline fans it out over variants x seeds.
package fit

import (
	"fmt"
	"time"

	"nmdyn/stages/rnn"
	"nmdyn/stages/table"
	"nmdyn/stages/task"
)

// Settings are the `fit` params of pipeline.yaml (see rnn.FitSettings).
type Settings = rnn.FitSettings

// Defaults are the settings used for params absent from pipeline.yaml.
func Defaults() Settings { return rnn.DefaultFitSettings() }

type params struct {
	Fit  Settings `yaml:"fit"`
	Item struct {
		Variant string `yaml:"variant"`
		Seed    int64  `yaml:"seed"`
	} `yaml:"item"`
}

// Run is the stage.
func Run(ctx task.Context) error {
	p := params{Fit: Defaults()}
	if err := ctx.Decode(&p); err != nil {
		return fmt.Errorf("fit params: %w", err)
	}
	if err := p.Fit.Check(); err != nil {
		return err
	}
	v, err := rnn.ParseVariant(p.Item.Variant)
	if err != nil {
		return fmt.Errorf("fit item: %w", err)
	}
	pre, err := ctx.Input("preprocess")
	if err != nil {
		return err
	}
	counts, err := pre.Table("counts")
	if err != nil {
		return err
	}
	bins, err := pre.Table("bins")
	if err != nil {
		return err
	}
	data, err := rnn.LoadBinned(counts, bins, p.Fit.BasisK)
	if err != nil {
		return fmt.Errorf("preprocess outputs: %w", err)
	}
	res, err := Fit(ctx, data, v, uint64(p.Item.Seed), p.Fit)
	if err != nil {
		return err
	}
	neurons, globals := res.Model.Tables()
	outs := []struct {
		name string
		t    *table.Table
	}{{"neurons", neurons}, {"globals", globals}, {"curve", res.CurveTable()}, {"heldout", res.HeldoutTable()}, {"fit_summary", res.SummaryTable()}}
	for _, o := range outs {
		if err := ctx.WriteTable(o.name, o.t); err != nil {
			return err
		}
	}
	return nil
}

// Result is a fitted variant with its scores.
type Result struct {
	Variant   rnn.Variant
	Seed      uint64
	Model     *rnn.Model
	Train     *rnn.TrainResult
	Data      *rnn.Binned
	Heldout   []rnn.WindowScore // validation then test windows
	Splits    []string          // split of each Heldout entry
	ValBits   float64
	TestBits  float64
	Seconds   float64
	WindowLen int
}

// Fit initialises and trains one variant on the binned session and scores it.
func Fit(ctx task.Context, data *rnn.Binned, v rnn.Variant, seed uint64, s Settings) (*Result, error) {
	start := time.Now()
	dt := data.DtSeconds
	wlen := s.WindowBins(dt)
	train := data.Windows("train", wlen, s.InitEmaS)
	val := data.Windows("validation", wlen, s.InitEmaS)
	test := data.Windows("test", wlen, s.InitEmaS)
	if len(train) == 0 || len(val) == 0 || len(test) == 0 {
		return nil, fmt.Errorf("fit: need train, validation and test windows of %d bins; have %d, %d, %d (is the recording long enough for the block length?)", wlen, len(train), len(val), len(test))
	}
	m, err := rnn.Initialise(v, data.Data, data.IsTrain, train, s.Rank, s.BasisK, s.TauMs/1000, seed, s.InitSettings())
	if err != nil {
		return nil, fmt.Errorf("fit %s: initialisation: %w", v, err)
	}
	m.Units = append([]int64(nil), data.Units...)
	m.Events = append([]string(nil), data.Events...)
	null := rnn.NullRates(data.Data, data.IsTrain)
	set := s.TrainSettings()
	set.Seed, set.Threads = seed, ctx.Threads()
	set.Progress = func(rec rnn.EpochRecord) {
		ctx.Progress(float64(rec.Epoch+1)/float64(s.Epochs),
			fmt.Sprintf("%s seed %d epoch %d/%d val %.4f bits/spike", v, seed, rec.Epoch+1, s.Epochs, rec.ValBits))
	}
	tr, err := rnn.Train(ctx.Ctx(), m, data.Data, train, val, null, set)
	if err != nil {
		return nil, fmt.Errorf("fit %s seed %d: %w", v, seed, err)
	}
	ctx.Logf("%s seed %d: best validation %.5f bits/spike at epoch %d (%s)", v, seed, tr.BestBits, tr.BestEpoch, tr.StopReason)
	res := &Result{Variant: v, Seed: seed, Model: tr.Model, Train: tr, Data: data, WindowLen: wlen}
	vs := rnn.Score(tr.Model, data.Data, val, null, ctx.Threads())
	ts := rnn.Score(tr.Model, data.Data, test, null, ctx.Threads())
	res.ValBits = rnn.BitsPerSpike(vs)
	res.TestBits = rnn.BitsPerSpike(ts)
	res.Heldout = append(vs, ts...)
	for range vs {
		res.Splits = append(res.Splits, "validation")
	}
	for range ts {
		res.Splits = append(res.Splits, "test")
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// CurveTable is the training curve.
func (r *Result) CurveTable() *table.Table {
	c := r.Train.Curve
	ep := make([]int64, len(c))
	loss := make([]float64, len(c))
	val := make([]float64, len(c))
	lr := make([]float64, len(c))
	rej := make([]int64, len(c))
	sec := make([]float64, len(c))
	for i, rec := range c {
		ep[i], loss[i], val[i], lr[i], rej[i], sec[i] = int64(rec.Epoch), rec.TrainLoss, rec.ValBits, rec.LearningRate, int64(rec.Rejected), rec.Seconds
	}
	// Wall time is provenance, not a result: it would break byte-identical outputs.
	_ = sec
	return table.New().AddInt("epoch", ep).AddFloat("train_loss", loss).AddFloat("val_bits_per_spike", val).
		AddFloat("learning_rate", lr).AddInt("rejected_steps", rej)
}

// HeldoutTable has one row per held-out window and neuron: the split, the window's
// first bin, its block and bootstrap sub-block, the unit, the model and constant-rate
// log-likelihoods (nats) and the spike count.
func (r *Result) HeldoutTable() *table.Table {
	var split []string
	var startBin, block, sub, unit, bins []int64
	var ll, ll0, spikes []float64
	for w, s := range r.Heldout {
		for i := range s.LL {
			split = append(split, r.Splits[w])
			startBin = append(startBin, int64(s.Window.Start))
			bins = append(bins, int64(s.Window.Len))
			block = append(block, r.Data.Block[s.Window.Start])
			sub = append(sub, int64(s.Window.Group))
			unit = append(unit, r.Data.Units[i])
			ll = append(ll, s.LL[i])
			ll0 = append(ll0, s.LLNull[i])
			spikes = append(spikes, s.Spikes[i])
		}
	}
	return table.New().AddString("split", split).AddInt("start_bin", startBin).AddInt("bins", bins).
		AddInt("block", block).AddInt("subblock", sub).AddInt("unit", unit).
		AddFloat("ll", ll).AddFloat("ll_null", ll0).AddFloat("spikes", spikes)
}

// SummaryTable is one row describing the fit.
func (r *Result) SummaryTable() *table.Table {
	return table.New().
		AddString("variant", []string{string(r.Variant)}).
		AddInt("seed", []int64{int64(r.Seed)}).
		AddFloat("val_bits_per_spike", []float64{r.ValBits}).
		AddFloat("test_bits_per_spike", []float64{r.TestBits}).
		AddInt("best_epoch", []int64{int64(r.Train.BestEpoch)}).
		AddInt("epochs_run", []int64{int64(len(r.Train.Curve))}).
		AddString("stop_reason", []string{r.Train.StopReason}).
		AddInt("params", []int64{int64(r.Model.NumParams())}).
		AddInt("window_bins", []int64{int64(r.WindowLen)})
}
