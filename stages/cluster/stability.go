package cluster

import (
	"context"
	"math/rand/v2"
	"sync"

	"nmdyn/stages/gmm"
)

// Stream tags keep the random streams of the stage's parts apart.
const (
	streamBootstrap uint64 = iota + 1
	streamNull
	streamNetworks
)

// streamSeed derives the seed of draw b of a part from the stage seed (splitmix64
// finaliser, so that neighbouring seeds give unrelated streams).
func streamSeed(seed, part, b uint64) uint64 {
	z := seed ^ part<<56 ^ b*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// parallelFor runs fn(0..n-1) on up to threads goroutines; results must be stored by
// index. It stops handing out work once ctx is done and returns ctx's error. progress
// (may be nil) is called with the number of items done, in order.
func parallelFor(ctx context.Context, n, threads int, fn func(i int), progress func(done int)) error {
	if threads < 1 {
		threads = 1
	}
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for w := 0; w < min(threads, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
				if progress != nil {
					mu.Lock()
					done++
					progress(done)
					mu.Unlock()
				}
			}
		}()
	}
	var err error
	for i := 0; i < n; i++ {
		if err = ctx.Err(); err != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return err
}

// resampleARI is one bootstrap replicate: draw n of the rows of z (n x d) with
// replacement, fit k components, label the distinct drawn rows with that fit, and
// return the ARI against labels (the reference clustering of all rows) on them.
func resampleARI(z []float64, n, d, k int, labels []int, rng *rand.Rand, set gmm.Settings) (float64, error) {
	present := make([]bool, n)
	sample := make([]float64, 0, n*d)
	for j := 0; j < n; j++ {
		i := rng.IntN(n)
		present[i] = true
		sample = append(sample, z[i*d:(i+1)*d]...)
	}
	fit, err := gmm.Fit(sample, d, k, &set)
	if err != nil {
		return 0, err
	}
	var rows []float64
	var ref []int
	for i, ok := range present {
		if ok {
			rows = append(rows, z[i*d:(i+1)*d]...)
			ref = append(ref, labels[i])
		}
	}
	_, got, _ := fit.Mixture.Posterior(rows)
	return gmm.AdjustedRand(ref, got), nil
}

// stability returns the ARI of every bootstrap replicate of the data clustering
// (reference labels) and of every null replicate: fresh unstructured data drawn from
// null (a one-component fit to z), clustered with k components, then resampled the
// same way.
func stability(ctx context.Context, z []float64, n, d, k int, labels []int, null *gmm.Mixture, reps int, seed uint64, set gmm.Settings, threads int, progress func(done int)) (ari, nullARI []float64, err error) {
	ari = make([]float64, reps)
	nullARI = make([]float64, reps)
	errs := make([]error, 2*reps)
	set.Threads = 1 // the replicates are the parallel work
	err = parallelFor(ctx, 2*reps, threads, func(j int) {
		b := uint64(j / 2)
		if j%2 == 0 {
			rng := rand.New(rand.NewPCG(streamSeed(seed, streamBootstrap, b), 0))
			s := set
			s.Seed = streamSeed(seed, streamBootstrap, b+1<<32)
			ari[b], errs[j] = resampleARI(z, n, d, k, labels, rng, s)
			return
		}
		rng := rand.New(rand.NewPCG(streamSeed(seed, streamNull, b), 0))
		x, _ := null.Sample(n, rng)
		s := set
		s.Seed = streamSeed(seed, streamNull, b+1<<32)
		ref, e := gmm.Fit(x, d, k, &s)
		if e != nil {
			errs[j] = e
			return
		}
		s.Seed = streamSeed(seed, streamNull, b+2<<32)
		nullARI[b], errs[j] = resampleARI(x, n, d, k, ref.Labels, rng, s)
	}, progress)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range errs {
		if e != nil {
			return nil, nil, e
		}
	}
	return ari, nullARI, nil
}
