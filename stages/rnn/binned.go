package rnn

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"nmdyn/stages/table"
)

// Binned is the preprocess stage's output as the model sees it: the data on the bin
// grid plus, per bin, the split (train / validation / test), the block and the short
// bootstrap sub-block.
type Binned struct {
	*Data
	Units    []int64  // unit id of each column of the counts
	Events   []string // label of each event channel
	TimeS    []float64
	Split    []string
	Block    []int64
	Subblock []int64
}

// LoadBinned reads the preprocess tables `counts` (bin, then one integer column
// u<unit id> per kept unit) and `bins` (bin, t_s, ne, block, split, subblock and one
// ev_<label> column per event label), with K basis functions.
func LoadBinned(counts, bins *table.Table, k int) (*Binned, error) {
	T := bins.Len()
	if counts.Len() != T {
		return nil, fmt.Errorf("counts have %d bins, bins table %d", counts.Len(), T)
	}
	if T < 2 {
		return nil, fmt.Errorf("only %d bins", T)
	}
	b := &Binned{}
	var unitCols []*table.Col
	for _, c := range counts.Cols {
		if c.Name == "bin" {
			continue
		}
		id, err := strconv.ParseInt(strings.TrimPrefix(c.Name, "u"), 10, 64)
		if err != nil || !strings.HasPrefix(c.Name, "u") {
			return nil, fmt.Errorf("counts column %q is not u<unit id>", c.Name)
		}
		b.Units = append(b.Units, id)
		unitCols = append(unitCols, c)
	}
	n := len(unitCols)
	if n == 0 {
		return nil, fmt.Errorf("counts have no unit columns (were all units dropped?)")
	}
	y := make([]float32, T*n)
	for i, c := range unitCols {
		v, err := counts.Float(c.Name)
		if err != nil {
			return nil, fmt.Errorf("counts: %w", err)
		}
		for t, x := range v {
			y[t*n+i] = float32(x)
		}
	}
	var err error
	if b.TimeS, err = bins.Float("t_s"); err != nil {
		return nil, fmt.Errorf("bins: %w", err)
	}
	nu, err := bins.Float("ne")
	if err != nil {
		return nil, fmt.Errorf("bins: %w", err)
	}
	if b.Split, err = bins.String("split"); err != nil {
		return nil, fmt.Errorf("bins: %w", err)
	}
	if b.Block, err = bins.Int("block"); err != nil {
		return nil, fmt.Errorf("bins: %w", err)
	}
	if b.Subblock, err = bins.Int("subblock"); err != nil {
		return nil, fmt.Errorf("bins: %w", err)
	}
	var evCols []string
	for _, c := range bins.Cols {
		if strings.HasPrefix(c.Name, "ev_") {
			evCols = append(evCols, c.Name)
		}
	}
	sort.Strings(evCols)
	e := len(evCols)
	u := make([]float64, T*e)
	for j, name := range evCols {
		v, err := bins.Float(name)
		if err != nil {
			return nil, fmt.Errorf("bins: %w", err)
		}
		for t, x := range v {
			u[t*e+j] = x
		}
		b.Events = append(b.Events, strings.TrimPrefix(name, "ev_"))
	}
	dt := (b.TimeS[T-1] - b.TimeS[0]) / float64(T-1)
	for t := 1; t < T; t++ {
		if math.Abs(b.TimeS[t]-b.TimeS[t-1]-dt) > 1e-6*dt+1e-9 {
			return nil, fmt.Errorf("bins: t_s is not a uniform grid at bin %d", t)
		}
	}
	// Round the bin width to the microsecond: t_s differences carry float noise.
	dt = math.Round(dt*1e6) / 1e6
	if b.Data, err = NewData(y, n, nu, u, e, k, dt); err != nil {
		return nil, err
	}
	return b, nil
}

// Windows cuts the bins of one split into windows of lenBins bins that stay inside
// one block (a trailing piece shorter than half a window is dropped), with their
// initial-state statistics z computed from the bins before each window (standardised
// over the training bins). Group is the sub-block of the window's first bin.
func (b *Binned) Windows(split string, lenBins int, emaSeconds float64) []Window {
	var starts, lens []int
	T := b.T
	for t := 0; t < T; {
		if b.Split[t] != split {
			t++
			continue
		}
		end := t
		for end < T && b.Split[end] == split && b.Block[end] == b.Block[t] {
			end++
		}
		for s := t; s < end; s += lenBins {
			l := min(lenBins, end-s)
			if 2*l >= lenBins {
				starts = append(starts, s)
				lens = append(lens, l)
			}
		}
		t = end
	}
	zs := InitStatistics(b.Data, starts, emaSeconds, func(t int) bool { return b.Split[t] == "train" })
	wins := make([]Window, len(starts))
	for i := range wins {
		wins[i] = Window{Start: starts[i], Len: lens[i], Z: zs[i], Group: int(b.Subblock[starts[i]])}
	}
	return wins
}

// IsTrain reports whether bin t is a training bin.
func (b *Binned) IsTrain(t int) bool { return b.Split[t] == "train" }
