package preprocess

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"nmdyn/stages/table"
	"nmdyn/stages/task"
)

// unitIndex maps unit ids to their column among the kept units: a dense table
// when the ids span less than 2^20 values (the usual case: sorter cluster ids),
// a map otherwise.
type unitIndex struct {
	lo    int64
	dense []int32 // index+1, 0 = not kept
	m     map[int64]int
}

func newUnitIndex(kept []int64) unitIndex {
	lo, hi := slices.Min(kept), slices.Max(kept)
	if hi-lo < 1<<20 {
		d := make([]int32, hi-lo+1)
		for i, id := range kept {
			d[id-lo] = int32(i + 1)
		}
		return unitIndex{lo: lo, dense: d}
	}
	m := make(map[int64]int, len(kept))
	for i, id := range kept {
		m[id] = i
	}
	return unitIndex{m: m}
}

func (x unitIndex) get(id int64) (int, bool) {
	if x.dense != nil {
		o := id - x.lo
		if o < 0 || o >= int64(len(x.dense)) || x.dense[o] == 0 {
			return 0, false
		}
		return int(x.dense[o]) - 1, true
	}
	i, ok := x.m[id]
	return i, ok
}

// binSpikes streams the session's spikes and counts, for each kept unit k and
// bin b, counts[k*n + b] (unit-major, so each output column is contiguous). Memory
// is 4 bytes per unit and bin plus one row group of spikes.
func binSpikes(ctx task.Context, in task.Input, kept []int64, g binGrid, ov *overview) ([]int32, error) {
	idx := newUnitIndex(kept)
	counts := make([]int32, len(kept)*g.n)
	var scanned int64
	err := in.ScanTable("spikes", []string{"unit", "time"}, func(c *table.Table) error {
		if err := ctx.Ctx().Err(); err != nil {
			return err
		}
		units, err := c.Int("unit")
		if err != nil {
			return fmt.Errorf("spikes table: %v", err)
		}
		times, err := c.Float("time")
		if err != nil {
			return fmt.Errorf("spikes table: %v", err)
		}
		for i, t := range times {
			k, ok := idx.get(units[i])
			if !ok {
				continue
			}
			b := g.index(t)
			if b < 0 {
				continue
			}
			counts[k*g.n+b]++
			ov.add(k, units[i], t)
		}
		scanned += int64(len(times))
		ctx.Progress(0.05+0.4*math.Min(1, float64(scanned)/float64(max(ov.totalSpikes, 1))), "binning spikes")
		return nil
	})
	return counts, err
}

// countsChunkRows is how many bins go into each chunk of the counts output.
const countsChunkRows = 4096

// writeCounts streams the counts output: bin, then u<id> per kept unit.
func writeCounts(ctx task.Context, kept []int64, counts []int32, n int) error {
	w, err := ctx.CreateTable("counts")
	if err != nil {
		return err
	}
	names := make([]string, len(kept))
	for k, id := range kept {
		names[k] = "u" + strconv.FormatInt(id, 10)
	}
	for lo := 0; lo < n; lo += countsChunkRows {
		hi := min(lo+countsChunkRows, n)
		t := table.New()
		bins := make([]int64, hi-lo)
		for b := range bins {
			bins[b] = int64(lo + b)
		}
		t.AddInt("bin", bins)
		for k := range kept {
			col := make([]int64, hi-lo)
			for b, c := range counts[k*n+lo : k*n+hi] {
				col[b] = int64(c)
			}
			t.AddInt(names[k], col)
		}
		if err := w.Write(t); err != nil {
			w.Close()
			return err
		}
	}
	return w.Close()
}

// overview collects the spikes of a few kept units in a window for the
// data-overview raster.
type overview struct {
	show        []bool // by kept index
	lo, hi      float64
	units       []int64
	times       []float64
	totalSpikes int64 // for progress only
}

// newOverview picks up to nUnits kept units evenly spread over the ascending ids,
// and the window of windowS seconds in the middle of the recording.
func newOverview(kept []int64, g binGrid, nUnits int, windowS float64) *overview {
	ov := &overview{show: make([]bool, len(kept))}
	n := min(nUnits, len(kept))
	for i := 0; i < n; i++ {
		k := i
		if n > 1 && len(kept) > n {
			k = int(math.Round(float64(i) * float64(len(kept)-1) / float64(n-1)))
		}
		ov.show[k] = true
	}
	dur := float64(g.n) * g.binS
	ov.lo = g.start + math.Max(0, (dur-windowS)/2)
	ov.hi = math.Min(ov.lo+windowS, g.start+dur)
	return ov
}

func (ov *overview) add(k int, unit int64, t float64) {
	if ov.show[k] && t >= ov.lo && t < ov.hi {
		ov.units = append(ov.units, unit)
		ov.times = append(ov.times, t)
	}
}

func (ov *overview) rasterTable() *table.Table {
	return table.New().AddInt("unit", ov.units).AddFloat("time", ov.times).
		SetMeta("window_s", fmt.Sprintf("%g,%g", ov.lo, ov.hi))
}
