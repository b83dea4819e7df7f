package recording

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
)

// NWB (Neurodata Without Borders, NWB:HDF5 2.x) spikes: the Units table.
//
// /units is a DynamicTable: /units/id holds the unit ids; the spike times of all
// units are concatenated in /units/spike_times (seconds) and
// /units/spike_times_index holds, for each unit, the END offset of its spikes in
// that array (cumulative: unit i owns spike_times[index[i-1]:index[i]], with
// index[-1] = 0). A label, when the file has one, is a string column such as
// quality, KSLabel or group.
//
// An NWB file stores spikes unit by unit, not in time order, so Scan merges the
// units' sorted spike trains (a k-way merge with a heap over the units). It needs
// the whole spike_times dataset in memory while it runs (the HDF5 reader reads a
// dataset whole), which is the size of the data the file holds anyway: 8 bytes a
// spike, 80 MB for ten million spikes.

func init() {
	RegisterSpikeFormat(SpikeFormat{
		Name:     "NWB file (*.nwb) with a Units table",
		Priority: 40,
		Detect:   detectNWBSpikes,
		Open:     openNWBSpikes,
	})
	RegisterPhotometryFormat(PhotometryFormat{
		Name:     "NWB file (*.nwb) with ndx-fiber-photometry FiberPhotometryResponseSeries",
		Priority: 40,
		Detect:   detectNWBPhotometry,
		Open:     openNWBPhotometry,
	})
}

// nwbLabelColumns are the Units columns tried, in order, for unit labels: NWB's
// own "quality" (used by many converters for curation labels), then Kilosort and
// phy names.
var nwbLabelColumns = []string{"quality", "KSLabel", "group", "label", "ks2_label", "cluster_group"}

// nwbFiles lists the .nwb files of dir, sorted.
func nwbFiles(dir string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, "*.nwb"))
	sort.Strings(m)
	return m
}

// nwbSessionFile is the one .nwb file of dir (an error names them when there are
// several: session.yaml must then say which).
func nwbSessionFile(dir string, cfg *Config) (string, error) {
	if f := cfg.Photometry.File; f != "" && strings.EqualFold(filepath.Ext(f), ".nwb") {
		return filepath.Join(dir, f), nil
	}
	files := nwbFiles(dir)
	switch len(files) {
	case 0:
		return "", fmt.Errorf("session %s: no .nwb file", dir)
	case 1:
		return files[0], nil
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = filepath.Base(f)
	}
	return "", fmt.Errorf("session %s: several .nwb files (%s): keep one per session folder", dir, strings.Join(names, ", "))
}

func detectNWBSpikes(dir string) bool {
	for _, p := range nwbFiles(dir) {
		n, err := openNWB(p)
		if err != nil {
			return true // let Open report why the file cannot be read
		}
		ok := n.group("/units") != nil
		n.Close()
		if ok {
			return true
		}
	}
	return false
}

// nwbUnitsTable is the index of an NWB Units table.
type nwbUnitsTable struct {
	ids      []int64
	ends     []int64 // spike_times_index: cumulative end offsets
	labels   []string
	labelCol string // column the labels came from, "" when none
	nSpikes  int64
}

// readNWBUnits reads and checks /units/id, /units/spike_times_index and a label
// column; it does not read the spike times.
func readNWBUnits(n *nwbFile) (*nwbUnitsTable, error) {
	g := n.group("/units")
	if g == nil {
		return nil, n.missing("no /units group: the file has no Units table (no sorted spikes)")
	}
	idDS := n.dataset("/units/id")
	stDS := n.dataset("/units/spike_times")
	ixDS := n.dataset("/units/spike_times_index")
	switch {
	case idDS == nil:
		return nil, fmt.Errorf("%s: the Units table has no /units/id", n.path)
	case stDS == nil:
		return nil, fmt.Errorf("%s: the Units table has no spike_times column", n.path)
	case ixDS == nil:
		return nil, fmt.Errorf("%s: the Units table has spike_times but no spike_times_index (a ragged column needs its index)", n.path)
	}
	ids, err := n.readInts(idDS, "/units/id")
	if err != nil {
		return nil, err
	}
	ends, err := n.readInts(ixDS, "/units/spike_times_index")
	if err != nil {
		return nil, err
	}
	st, err := n.storage(stDS)
	if err != nil {
		return nil, fmt.Errorf("%s: /units/spike_times: %v", n.path, err)
	}
	if len(ends) != len(ids) {
		return nil, fmt.Errorf("%s: /units/spike_times_index has %d entries for %d units", n.path, len(ends), len(ids))
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%s: the Units table is empty", n.path)
	}
	seen := map[int64]bool{}
	prev := int64(0)
	for i, e := range ends {
		if e < prev {
			return nil, fmt.Errorf("%s: /units/spike_times_index[%d] = %d is below the previous end %d: the index holds cumulative end offsets, which cannot decrease", n.path, i, e, prev)
		}
		prev = e
		if seen[ids[i]] {
			return nil, fmt.Errorf("%s: unit id %d appears twice in /units/id", n.path, ids[i])
		}
		seen[ids[i]] = true
	}
	if uint64(prev) != st.Len() {
		return nil, fmt.Errorf("%s: /units/spike_times_index ends at %d but /units/spike_times holds %d spikes", n.path, prev, st.Len())
	}
	u := &nwbUnitsTable{ids: ids, ends: ends, nSpikes: prev}
	for _, col := range nwbLabelColumns {
		d := n.dataset("/units/" + col)
		if d == nil || n.dataset("/units/"+col+"_index") != nil {
			continue // absent, or ragged (several values a unit)
		}
		s, err := n.storage(d)
		if err != nil || (s.Class != h5ClassString && s.Class != h5ClassVarLen) || s.Len() != uint64(len(ids)) {
			continue // e.g. an integer "group" column
		}
		labels, err := n.readStrings(d, "/units/"+col)
		if err != nil {
			return nil, err
		}
		for i := range labels {
			labels[i] = strings.TrimSpace(labels[i])
		}
		u.labels, u.labelCol = labels, col
		break
	}
	return u, nil
}

func openNWBSpikes(dir string, cfg *Config) ([]Unit, SpikeSource, float64, float64, error) {
	files := nwbFiles(dir)
	if len(files) != 1 {
		_, err := nwbSessionFile(dir, &Config{})
		return nil, nil, 0, 0, err
	}
	path := files[0]
	n, err := openNWB(path)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	defer n.Close()
	tab, err := readNWBUnits(n)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	times, _, err := n.readFloats(n.dataset("/units/spike_times"), "/units/spike_times")
	if err != nil {
		return nil, nil, 0, 0, err
	}
	src := &nwbSpikes{path: path, ids: tab.ids, ends: tab.ends}
	start, end := math.Inf(1), math.Inf(-1)
	units := make([]Unit, len(tab.ids))
	lo := int64(0)
	for i, id := range tab.ids {
		label := "unsorted"
		if tab.labels != nil && tab.labels[i] != "" {
			label = tab.labels[i]
		}
		units[i] = Unit{ID: id, Label: label, Spikes: tab.ends[i] - lo}
		for j := lo; j < tab.ends[i]; j++ {
			t := times[j]
			if math.IsNaN(t) || math.IsInf(t, 0) {
				return nil, nil, 0, 0, fmt.Errorf("%s: /units/spike_times[%d] (unit %d) is %v, not a finite time", path, j, id, t)
			}
			start, end = min(start, t), max(end, t)
		}
		lo = tab.ends[i]
	}
	if tab.nSpikes == 0 {
		return nil, nil, 0, 0, fmt.Errorf("%s: the Units table holds no spikes", path)
	}
	if tab.labelCol != "" {
		src.notes = append(src.notes, fmt.Sprintf("%s: unit labels from the Units column %q", filepath.Base(path), tab.labelCol))
	} else {
		src.notes = append(src.notes, fmt.Sprintf("%s: the Units table has no label column (tried %s): every unit is labelled unsorted (set keep: [unsorted] in session.yaml to use them)",
			filepath.Base(path), strings.Join(nwbLabelColumns, ", ")))
	}
	return units, src, start, end, nil
}

// nwbSpikes streams an NWB Units table in time order.
type nwbSpikes struct {
	path  string
	ids   []int64
	ends  []int64
	notes []string
	// chunk is the number of spikes handed to Scan's fn at a time (default 65536).
	chunk int
}

func (s *nwbSpikes) Describe() string { return s.path + " (/units)" }

func (s *nwbSpikes) Notes() []string { return s.notes }

// Scan reads /units/spike_times and merges the units' spike trains into time
// order. Ties (equal times in different units) go in the order of the units in
// the table, so the order is the same every run. A unit whose own spikes are not
// sorted is sorted first (a spike train is a set of times; NWB does not require
// the order).
func (s *nwbSpikes) Scan(fn func(units []int64, times []float64) error) error {
	n, err := openNWB(s.path)
	if err != nil {
		return err
	}
	d := n.dataset("/units/spike_times")
	if d == nil {
		n.Close()
		return fmt.Errorf("%s: /units/spike_times disappeared", s.path)
	}
	times, _, err := n.readFloats(d, "/units/spike_times")
	n.Close()
	if err != nil {
		return err
	}
	if int64(len(times)) != s.ends[len(s.ends)-1] {
		return fmt.Errorf("%s: /units/spike_times changed since the session was opened", s.path)
	}
	// cursor[k] and stop[k] bound what is left of unit k's spikes.
	k := len(s.ids)
	cursor := make([]int64, k)
	stop := make([]int64, k)
	lo := int64(0)
	for i := range s.ids {
		cursor[i], stop[i] = lo, s.ends[i]
		if !sort.Float64sAreSorted(times[lo:s.ends[i]]) {
			sort.Float64s(times[lo:s.ends[i]])
		}
		lo = s.ends[i]
	}
	h := &nwbMergeHeap{times: times, cursor: cursor}
	for i := 0; i < k; i++ {
		if cursor[i] < stop[i] {
			h.units = append(h.units, i)
		}
	}
	h.init()
	size := s.chunk
	if size <= 0 {
		size = 1 << 16
	}
	outU := make([]int64, 0, size)
	outT := make([]float64, 0, size)
	for len(h.units) > 0 {
		u := h.units[0]
		outU = append(outU, s.ids[u])
		outT = append(outT, times[cursor[u]])
		cursor[u]++
		if cursor[u] == stop[u] {
			h.pop()
		} else {
			h.down(0)
		}
		if len(outT) == size {
			if err := fn(outU, outT); err != nil {
				return err
			}
			outU, outT = outU[:0], outT[:0]
		}
	}
	if len(outT) > 0 {
		return fn(outU, outT)
	}
	return nil
}

// nwbMergeHeap is a binary min-heap of unit indices keyed by (time of the unit's
// next spike, unit index).
type nwbMergeHeap struct {
	units  []int
	times  []float64
	cursor []int64
}

func (h *nwbMergeHeap) less(a, b int) bool {
	ua, ub := h.units[a], h.units[b]
	ta, tb := h.times[h.cursor[ua]], h.times[h.cursor[ub]]
	if ta != tb {
		return ta < tb
	}
	return ua < ub
}

func (h *nwbMergeHeap) init() {
	for i := len(h.units)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *nwbMergeHeap) down(i int) {
	n := len(h.units)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h.units[i], h.units[m] = h.units[m], h.units[i]
		i = m
	}
}

func (h *nwbMergeHeap) pop() {
	last := len(h.units) - 1
	h.units[0] = h.units[last]
	h.units = h.units[:last]
	if last > 0 {
		h.down(0)
	}
}
