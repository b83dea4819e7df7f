package recording

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"nmdyn/stages/table"
)

// IBL / ALF spikes (the International Brain Laboratory's file convention,
// object.attribute[.extra].ext with an optional _namespace_ prefix):
//
//	spikes.times.npy     float seconds, one per spike, sorted
//	spikes.clusters.npy  integer cluster id of each spike (any integer dtype)
//	clusters.metrics.pqt (or .csv, optional) one row per cluster: cluster_id (or
//	                     the row number) and a label column
//
// IBL's clusters.metrics "label" is a number, the fraction of its three
// single-unit quality metrics a cluster passes (0, 1/3, 2/3, 1): IBL calls a
// cluster good when it passes all three, so label 1 becomes "good" and anything
// lower "mua". A string label column (label, group, ks2_label or KSLabel, in that
// order) is used as it is.
//
// Spikes are streamed: Scan reads both arrays in chunks after their headers, so
// memory does not grow with the recording.

func init() {
	RegisterSpikeFormat(SpikeFormat{
		Name:     "IBL/ALF spikes.times.npy + spikes.clusters.npy",
		Priority: 30,
		Detect: func(dir string) bool {
			return len(alfFind(dir, alfTimesName)) > 0 && len(alfFind(dir, alfClustersName)) > 0
		},
		Open: openALFSpikes,
	})
}

var (
	alfTimesName    = regexp.MustCompile(`^(_[A-Za-z0-9]+_)?spikes\.times(\.[A-Za-z0-9-]+)?\.npy$`)
	alfClustersName = regexp.MustCompile(`^(_[A-Za-z0-9]+_)?spikes\.clusters(\.[A-Za-z0-9-]+)?\.npy$`)
	alfMetricsName  = regexp.MustCompile(`^(_[A-Za-z0-9]+_)?clusters\.metrics(\.[A-Za-z0-9-]+)?\.(pqt|parquet|csv)$`)
)

// alfFind lists the files of dir whose names match re, sorted.
func alfFind(dir string, re *regexp.Regexp) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && re.MatchString(e.Name()) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out
}

// alfOne returns the single file of dir matching re ("" when none).
func alfOne(dir string, re *regexp.Regexp, what string) (string, error) {
	m := alfFind(dir, re)
	switch len(m) {
	case 0:
		return "", nil
	case 1:
		return m[0], nil
	}
	for i := range m {
		m[i] = filepath.Base(m[i])
	}
	return "", fmt.Errorf("session %s: several %s files (%s): keep one per session folder", dir, what, strings.Join(m, ", "))
}

// alfChunk is the number of spikes read at a time.
const alfChunk = 1 << 16

func openALFSpikes(dir string, cfg *Config) ([]Unit, SpikeSource, float64, float64, error) {
	tp, err := alfOne(dir, alfTimesName, "spikes.times")
	if err != nil {
		return nil, nil, 0, 0, err
	}
	cp, err := alfOne(dir, alfClustersName, "spikes.clusters")
	if err != nil {
		return nil, nil, 0, 0, err
	}
	if tp == "" || cp == "" {
		return nil, nil, 0, 0, fmt.Errorf("session %s: ALF spikes need both spikes.times.npy and spikes.clusters.npy", dir)
	}
	src, err := newALFSpikes(tp, cp)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	// One pass: counts, span, and the checks a streaming source cannot make
	// later (finite, sorted).
	counts := map[int64]int64{}
	start, end := math.NaN(), math.NaN()
	var idx int64
	prev := math.Inf(-1)
	err = src.Scan(func(u []int64, t []float64) error {
		for i, v := range t {
			switch {
			case math.IsNaN(v) || math.IsInf(v, 0):
				return fmt.Errorf("%s: spike %d is at %v, not a finite time", tp, idx+int64(i), v)
			case v < prev:
				return fmt.Errorf("%s: spike %d at %v s comes before the previous spike at %v s: ALF spike times must be sorted", tp, idx+int64(i), v, prev)
			}
			prev = v
			counts[u[i]]++
		}
		if len(t) > 0 {
			if idx == 0 {
				start = t[0]
			}
			end = t[len(t)-1]
		}
		idx += int64(len(t))
		return nil
	})
	if err != nil {
		return nil, nil, 0, 0, err
	}
	if idx == 0 {
		return nil, nil, 0, 0, fmt.Errorf("%s: no spikes", tp)
	}
	ids := make([]int64, 0, len(counts))
	for id := range counts {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	labels, note, err := alfLabels(dir)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	src.notes = append(src.notes, note)
	units := make([]Unit, len(ids))
	unlabelled := 0
	for i, id := range ids {
		l, ok := labels[id]
		if !ok {
			l = "unsorted"
			unlabelled++
		}
		units[i] = Unit{ID: id, Label: l, Spikes: counts[id]}
	}
	if labels != nil && unlabelled > 0 {
		src.notes = append(src.notes, fmt.Sprintf("%d spiking clusters missing from clusters.metrics are labelled unsorted", unlabelled))
	}
	return units, src, start, end, nil
}

// alfLabels reads the cluster labels of clusters.metrics (nil when the folder
// has none) and says where they came from.
func alfLabels(dir string) (map[int64]string, string, error) {
	mp, err := alfOne(dir, alfMetricsName, "clusters.metrics")
	if err != nil {
		return nil, "", err
	}
	if mp == "" {
		return nil, "ALF: no clusters.metrics: every cluster is labelled unsorted (set keep: [unsorted] in session.yaml to use them)", nil
	}
	t, err := readTable(mp)
	if err != nil {
		return nil, "", err
	}
	n := t.Len()
	ids := make([]int64, n)
	if t.Has("cluster_id") {
		if ids, err = t.Int("cluster_id"); err != nil {
			return nil, "", fmt.Errorf("%s: column cluster_id: %v", mp, err)
		}
	} else {
		for i := range ids {
			ids[i] = int64(i) // ALF: row i describes cluster i
		}
	}
	out := make(map[int64]string, n)
	for _, name := range []string{"label", "group", "ks2_label", "KSLabel"} {
		c := t.Col(name)
		if c == nil {
			continue
		}
		switch c.Kind {
		case table.String:
			for i, id := range ids {
				if l := strings.TrimSpace(c.Str[i]); l != "" {
					out[id] = l
				}
			}
			return out, fmt.Sprintf("ALF: cluster labels from %s column %q", filepath.Base(mp), name), nil
		case table.Float, table.Int:
			if name != "label" {
				continue
			}
			v, _ := t.Float(name)
			for i, id := range ids {
				switch {
				case math.IsNaN(v[i]):
				case v[i] == 1:
					out[id] = "good"
				default:
					out[id] = "mua"
				}
			}
			return out, fmt.Sprintf("ALF: cluster labels from %s: IBL quality label 1 (all three metrics passed) = good, lower = mua", filepath.Base(mp)), nil
		}
	}
	return nil, "", fmt.Errorf("%s: no label column (want label, group, ks2_label or KSLabel); columns are: %s", mp, strings.Join(t.Names(), ", "))
}

// alfSpikes streams spikes.times and spikes.clusters in step.
type alfSpikes struct {
	times, clusters *npyFile
	notes           []string
}

func newALFSpikes(timesPath, clustersPath string) (*alfSpikes, error) {
	tf, err := openNPY(timesPath)
	if err != nil {
		return nil, err
	}
	cf, err := openNPY(clustersPath)
	if err != nil {
		return nil, err
	}
	if tf.Kind != 'f' {
		return nil, fmt.Errorf("%s: dtype %q: ALF spike times are seconds as floats (integers would be samples: Kilosort's spike_times.npy)", timesPath, tf.Descr)
	}
	if cf.Kind != 'i' && cf.Kind != 'u' {
		return nil, fmt.Errorf("%s: dtype %q: cluster ids must be integers", clustersPath, cf.Descr)
	}
	if tf.N != cf.N {
		return nil, fmt.Errorf("%s has %d spikes but %s has %d", timesPath, tf.N, clustersPath, cf.N)
	}
	return &alfSpikes{times: tf, clusters: cf}, nil
}

func (s *alfSpikes) Describe() string {
	return s.times.Path + " + " + filepath.Base(s.clusters.Path)
}

func (s *alfSpikes) Notes() []string { return s.notes }

// Scan reads both files in chunks of alfChunk spikes.
func (s *alfSpikes) Scan(fn func(units []int64, times []float64) error) error {
	tr, err := s.times.reader()
	if err != nil {
		return err
	}
	defer tr.Close()
	cr, err := s.clusters.reader()
	if err != nil {
		return err
	}
	defer cr.Close()
	t := make([]float64, alfChunk)
	u := make([]int64, alfChunk)
	for done := 0; done < s.times.N; {
		nt, err := tr.Floats(t)
		if err != nil {
			return err
		}
		nc, err := cr.Ints(u)
		if err != nil {
			return err
		}
		if nt != nc || nt == 0 {
			return errors.New(s.Describe() + ": the two files ended at different spikes")
		}
		if err := fn(u[:nt], t[:nt]); err != nil {
			return err
		}
		done += nt
	}
	return nil
}
