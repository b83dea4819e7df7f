package recording

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The Kilosort / phy format: spike_times.npy (sample indices, any integer dtype,
// shape (N,) or (N,1)), spike_clusters.npy (or, before any curation,
// spike_templates.npy) with the unit of each spike, params.py for sample_rate
// (else session.yaml's sample_rate), and the labels in cluster_group.tsv (phy's
// curation), cluster_KSLabel.tsv (Kilosort's automatic labels) and
// cluster_info.tsv (phy's summary: column group, else KSLabel). A cluster takes
// its label from the first of those files that labels it, as phy itself shows it
// (a curated group overrides Kilosort's label); clusters none of them label are
// "unsorted".
//
// Kilosort writes spike_times sorted, and a file that is not is reported (with
// the first spike out of order) rather than sorted here: sorting 10^8 spikes with
// bounded memory would need an external sort for a case no sorter produces.

func init() {
	RegisterSpikeFormat(SpikeFormat{
		Name:     "Kilosort/phy folder (spike_times.npy, spike_clusters.npy, params.py, cluster_*.tsv)",
		Priority: 20,
		Detect:   func(dir string) bool { return firstExisting(dir, "spike_times.npy") != "" },
		Open:     openPhy,
	})
}

// phyLabelFiles are the label tables in order of precedence, with the columns
// each may take its label from.
var phyLabelFiles = []struct {
	name string
	cols []string
}{
	{"cluster_group.tsv", []string{"group", "KSLabel"}},
	{"cluster_KSLabel.tsv", []string{"KSLabel", "group"}},
	{"cluster_info.tsv", []string{"group", "KSLabel"}},
}

type phySpikes struct {
	times, clusters *npyFile
	rateHz          float64
	notes           []string
}

func (p *phySpikes) Describe() string { return p.times.Path }
func (p *phySpikes) Notes() []string  { return p.notes }

// chunkSpikes is how many spikes a Scan chunk holds.
const chunkSpikes = 1 << 16

func (p *phySpikes) Scan(fn func([]int64, []float64) error) error {
	tr, err := p.times.reader()
	if err != nil {
		return err
	}
	defer tr.Close()
	cr, err := p.clusters.reader()
	if err != nil {
		return err
	}
	defer cr.Close()
	samples := make([]int64, chunkSpikes)
	units := make([]int64, chunkSpikes)
	times := make([]float64, chunkSpikes)
	for {
		n, err := tr.Ints(samples)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		m, err := cr.Ints(units[:n])
		if err != nil {
			return err
		}
		if m != n {
			return fmt.Errorf("%s: fewer values than %s", p.clusters.Path, p.times.Path)
		}
		for i := 0; i < n; i++ {
			times[i] = float64(samples[i]) / p.rateHz
		}
		if err := fn(units[:n], times[:n]); err != nil {
			return err
		}
	}
}

func openPhy(dir string, cfg *Config) ([]Unit, SpikeSource, float64, float64, error) {
	src := &phySpikes{}
	fail := func(err error) ([]Unit, SpikeSource, float64, float64, error) { return nil, nil, 0, 0, err }

	// Sampling rate.
	pyPath := filepath.Join(dir, "params.py")
	if data, err := os.ReadFile(pyPath); err == nil {
		params, err := ParseParamsPy(data)
		if err != nil {
			return fail(fmt.Errorf("%s: %v", pyPath, err))
		}
		rate, ok, err := paramsSampleRate(params)
		if err != nil {
			return fail(fmt.Errorf("%s: %v", pyPath, err))
		}
		if ok {
			src.rateHz = rate
			src.notes = append(src.notes, fmt.Sprintf("sample rate %g Hz from params.py", rate))
			if cfg.SampleRateHz != 0 && cfg.SampleRateHz != rate {
				src.notes = append(src.notes, fmt.Sprintf("session.yaml sample_rate %g Hz ignored: params.py says %g Hz", cfg.SampleRateHz, rate))
			}
		}
	} else if !os.IsNotExist(err) {
		return fail(err)
	}
	if src.rateHz == 0 {
		if cfg.SampleRateHz == 0 {
			return fail(fmt.Errorf("%s: spike times are in samples but there is no params.py with sample_rate: give sample_rate (Hz) in session.yaml", filepath.Join(dir, "spike_times.npy")))
		}
		src.rateHz = cfg.SampleRateHz
		src.notes = append(src.notes, fmt.Sprintf("sample rate %g Hz from session.yaml", src.rateHz))
	}

	// The two arrays.
	var err error
	if src.times, err = openNPY(filepath.Join(dir, "spike_times.npy")); err != nil {
		return fail(err)
	}
	if k := src.times.Kind; k != 'i' && k != 'u' {
		return fail(fmt.Errorf("%s: dtype %q: want integer sample indices (Kilosort writes uint64)", src.times.Path, src.times.Descr))
	}
	clPath := firstExisting(dir, "spike_clusters.npy", "spike_templates.npy")
	if clPath == "" {
		return fail(fmt.Errorf("%s: no spike_clusters.npy or spike_templates.npy beside it to say which unit fired", src.times.Path))
	}
	if filepath.Base(clPath) == "spike_templates.npy" {
		src.notes = append(src.notes, "no spike_clusters.npy: units are Kilosort templates (spike_templates.npy)")
	}
	if src.clusters, err = openNPY(clPath); err != nil {
		return fail(err)
	}
	if k := src.clusters.Kind; k != 'i' && k != 'u' {
		return fail(fmt.Errorf("%s: dtype %q: want integer cluster ids", clPath, src.clusters.Descr))
	}
	if src.clusters.N != src.times.N {
		return fail(fmt.Errorf("%s has %d values but %s has %d: they must match spike for spike", clPath, src.clusters.N, src.times.Path, src.times.N))
	}

	// Labels.
	labels := map[int64]string{}
	var from []string
	for _, lf := range phyLabelFiles {
		path := filepath.Join(dir, lf.name)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		l, err := readClusterLabels(path, lf.cols...)
		if err != nil {
			return fail(err)
		}
		added := 0
		for id, lab := range l {
			if _, ok := labels[id]; !ok {
				labels[id] = lab
				added++
			}
		}
		from = append(from, fmt.Sprintf("%s (%d)", lf.name, added))
	}
	if len(from) == 0 {
		src.notes = append(src.notes, "no cluster_group.tsv, cluster_KSLabel.tsv or cluster_info.tsv: every unit is unsorted")
	} else {
		src.notes = append(src.notes, "labels from "+strings.Join(from, ", "))
	}
	ids := make([]int64, 0, len(labels))
	for id := range labels {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	units := make([]Unit, len(ids))
	for i, id := range ids {
		units[i] = Unit{ID: id, Label: labels[id]}
	}
	return units, src, 0, 0, nil
}
