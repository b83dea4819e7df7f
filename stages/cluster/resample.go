package cluster

import (
	"context"
	"fmt"
	"math/rand/v2"

	"nmdyn/stages/gmm"
	"nmdyn/stages/rnn"
)

// RegimeFunc labels the dynamical regime (e.g. "single fixed point", "line
// attractor") of network m, inputs off, at each NE level of grid.
type RegimeFunc func(m *rnn.Model, grid []float64) ([]string, error)

// regimeFunc, when set (by tests), replaces the fixed-point analysis that labels the
// regimes of the fitted and resampled networks.
var regimeFunc RegimeFunc

// resampledRegimes draws networks networks of n neurons from mix (in standardised
// feature space; moment-matched draws when matched), labels the regime of each along
// grid with fn, and returns the labels, network by network.
func resampledRegimes(ctx context.Context, f *features, template *rnn.Model, mix *gmm.Mixture, networks, n int, matched bool, grid []float64, seed uint64, threads int, fn RegimeFunc) ([][]string, error) {
	out := make([][]string, networks)
	errs := make([]error, networks)
	err := parallelFor(ctx, networks, threads, func(j int) {
		rng := rand.New(rand.NewPCG(streamSeed(seed, streamNetworks, uint64(j)), 0))
		var z []float64
		if matched {
			z, _ = mix.SampleMatched(n, rng)
		} else {
			z, _ = mix.Sample(n, rng)
		}
		m := f.network(template, z)
		if e := m.Validate(); e != nil {
			errs[j] = fmt.Errorf("resampled network %d: %w", j+1, e)
			return
		}
		labels, e := fn(m, grid)
		if e == nil && len(labels) != len(grid) {
			e = fmt.Errorf("%d regime labels for %d NE levels", len(labels), len(grid))
		}
		if e != nil {
			errs[j] = fmt.Errorf("resampled network %d: %w", j+1, e)
			return
		}
		out[j] = labels
	}, nil)
	if err != nil {
		return nil, err
	}
	for _, e := range errs {
		if e != nil {
			return nil, e
		}
	}
	return out, nil
}
