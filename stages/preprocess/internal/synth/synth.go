// Package synth writes large synthetic sessions (spikes.parquet, photometry.parquet,
// events.parquet) for benchmarks, streaming so that generating 10^7 spikes needs
// little memory. The data have no scientific structure beyond Poisson spikes at
// fixed per-unit rates and a slowly varying photometry trace with bleaching and a
// control channel: they exist to measure time and memory.
package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"

	"nmdyn/stages/table"
)

// Config sizes a session.
type Config struct {
	Units       int
	DurationS   float64
	MeanRateHz  float64 // rates are spread uniformly over [0.2, 2 x mean - 0.2]
	PhotoRateHz float64
	Seed        uint64
}

// Stats says what was written.
type Stats struct {
	Spikes int64
}

// slabS is the length of the time slabs spikes are generated and sorted in.
const slabS = 10.0

// Write generates the session into dir.
func Write(dir string, c Config) (Stats, error) {
	var st Stats
	rng := rand.New(rand.NewPCG(c.Seed, 0x5eed))
	rates := make([]float64, c.Units)
	for u := range rates {
		rates[u] = 0.2 + rng.Float64()*(2*c.MeanRateHz-0.4)
	}
	f, err := os.Create(filepath.Join(dir, "spikes.parquet"))
	if err != nil {
		return st, err
	}
	pw := table.NewParquetWriter(f)
	next := make([]float64, c.Units) // next spike time of each unit
	for u := range next {
		next[u] = rng.ExpFloat64() / rates[u]
	}
	type spike struct {
		t float64
		u int64
	}
	var slab []spike
	for lo := 0.0; lo < c.DurationS; lo += slabS {
		hi := math.Min(lo+slabS, c.DurationS)
		slab = slab[:0]
		for u := range next {
			for next[u] < hi {
				slab = append(slab, spike{next[u], int64(u)})
				next[u] += rng.ExpFloat64() / rates[u]
			}
		}
		sort.Slice(slab, func(i, j int) bool {
			if slab[i].t != slab[j].t {
				return slab[i].t < slab[j].t
			}
			return slab[i].u < slab[j].u
		})
		units := make([]int64, len(slab))
		times := make([]float64, len(slab))
		for i, s := range slab {
			units[i], times[i] = s.u, s.t
		}
		if err := pw.Write(table.New().AddInt("unit", units).AddFloat("time", times)); err != nil {
			f.Close()
			return st, err
		}
		st.Spikes += int64(len(slab))
	}
	if err := pw.Close(); err != nil {
		f.Close()
		return st, err
	}
	if err := f.Close(); err != nil {
		return st, err
	}

	// Photometry: bleaching baselines, a slow NE-like wander, shared motion.
	n := int(c.DurationS*c.PhotoRateHz) + int(2*c.PhotoRateHz)
	tm, sig, ctl := make([]float64, n), make([]float64, n), make([]float64, n)
	var ne, motion float64
	dt := 1 / c.PhotoRateHz
	for i := range tm {
		tm[i] = float64(i) * dt
		ne += -ne/30*dt + 0.05*math.Sqrt(dt)*rng.NormFloat64()
		motion += -motion/0.5*dt + 0.05*math.Sqrt(dt)*rng.NormFloat64()
		sig[i] = (2+0.5*math.Exp(-tm[i]/600))*(1+0.05*ne) + 0.3*motion
		ctl[i] = 1 + 0.2*math.Exp(-tm[i]/900) + motion
	}
	if err := writeTable(filepath.Join(dir, "photometry.parquet"), table.New().AddFloat("time", tm).AddFloat("signal", sig).AddFloat("control", ctl)); err != nil {
		return st, err
	}
	var et []float64
	var el []string
	for t := 5.0; t < c.DurationS; t += 5 + 5*rng.Float64() {
		et = append(et, t)
		el = append(el, []string{"tone", "reward"}[rng.IntN(2)])
	}
	return st, writeTable(filepath.Join(dir, "events.parquet"), table.New().AddFloat("time", et).AddString("label", el))
}

func writeTable(path string, t *table.Table) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := table.WriteParquet(f, t); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}
