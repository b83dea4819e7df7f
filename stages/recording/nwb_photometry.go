package recording

import (
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/scigolib/hdf5"
)

// NWB fiber photometry: ndx-fiber-photometry's FiberPhotometryResponseSeries, a
// TimeSeries whose data are (time) or (time, fiber), with either timestamps or
// starting_time plus a rate attribute, and an optional
// fiber_photometry_table_region: row indices into the FiberPhotometryTable, which
// in some versions of the extension has an excitation_wavelength_in_nm column
// (later versions point at ExcitationSource devices through object references,
// which the HDF5 reader cannot follow).
//
// Each (series, fiber) is a channel. Which channel is the sensor and which the
// isosbestic control is decided, first one rule that applies winning:
//
//  1. session.yaml photometry.signal_series / control_series name them: a series
//     name or path, with "[j]" for fiber j (0-based) of a 2-D series;
//  2. photometry.signal_led / control_led in nm match the channels' excitation
//     wavelengths (to within 5 nm);
//  3. the excitation wavelength, from the table or, failing that, from a number
//     followed by "nm" (or a bare 3-digit number in 380-600) in the series name
//     or description: 400-420 nm is isosbestic (the control), anything else a
//     sensor, except that a series whose name or description says "isosbestic",
//     "iso" or "control" is a control whatever its wavelength (a red tdTomato
//     channel is often the motion control of a green sensor);
//  4. when exactly one channel remains unclassified it is the signal.
//
// Anything else is an error listing the channels and what is known of each.

func detectNWBPhotometry(dir string, cfg *Config) bool {
	if f := cfg.Photometry.File; f != "" {
		return strings.EqualFold(filepath.Ext(f), ".nwb")
	}
	for _, p := range nwbFiles(dir) {
		n, err := openNWB(p)
		if err != nil {
			continue
		}
		chans, _ := nwbChannels(n, cfg)
		n.Close()
		if len(chans) > 0 {
			return true
		}
	}
	return false
}

// nwbChannel is one candidate photometry channel.
type nwbChannel struct {
	group       *hdf5.Group
	path        string // group path, e.g. /acquisition/fp_470
	col         int    // fiber column of 2-D data, -1 for 1-D
	description string
	wavelength  float64 // excitation wavelength in nm, 0 when unknown
	wlFrom      string  // where the wavelength came from
	control     bool    // marked as a control by a word in name/description
	typ         string  // neurodata_type
}

// Name is the channel's name as session.yaml would give it.
func (c *nwbChannel) Name() string {
	name := strings.TrimPrefix(c.path, "/acquisition/")
	if c.col >= 0 {
		return fmt.Sprintf("%s[%d]", name, c.col)
	}
	return name
}

func (c *nwbChannel) summary() string {
	var parts []string
	if c.wavelength > 0 {
		parts = append(parts, fmt.Sprintf("%g nm (%s)", c.wavelength, c.wlFrom))
	} else {
		parts = append(parts, "wavelength unknown")
	}
	if c.control {
		parts = append(parts, "named as a control")
	}
	if c.description != "" {
		parts = append(parts, fmt.Sprintf("description %q", truncate(c.description, 60)))
	}
	return fmt.Sprintf("%s (%s)", c.Name(), strings.Join(parts, "; "))
}

// role is "control", "signal" or "" (unknown).
func (c *nwbChannel) role() string {
	switch {
	case c.wavelength >= 400 && c.wavelength <= 420:
		return "control"
	case c.control:
		return "control"
	case c.wavelength > 0:
		return "signal"
	}
	return ""
}

const nwbFPType = "FiberPhotometryResponseSeries"

// nwbChannels lists the FiberPhotometryResponseSeries of the file (anywhere in
// it), one channel per fiber, with what is known of their wavelengths, plus any
// group session.yaml names as signal_series or control_series.
func nwbChannels(n *nwbFile, cfg *Config) ([]*nwbChannel, []string) {
	var groups []*hdf5.Group
	var paths []string
	var tables []*hdf5.Group
	n.f.Walk(func(p string, obj hdf5.Object) {
		g, ok := obj.(*hdf5.Group)
		if !ok {
			return
		}
		switch nwbType(g) {
		case nwbFPType:
			groups = append(groups, g)
			paths = append(paths, strings.TrimSuffix(p, "/"))
		case "FiberPhotometryTable":
			tables = append(tables, g)
		}
	})
	// Series named in session.yaml need not be FiberPhotometryResponseSeries.
	for _, want := range []string{cfg.Photometry.SignalSeries, cfg.Photometry.ControlSeries} {
		name, _, _ := nwbSplitCol(want)
		if name == "" {
			continue
		}
		p, g := nwbFindSeries(n, name)
		if g == nil {
			continue
		}
		dup := false
		for _, q := range paths {
			dup = dup || q == p
		}
		if !dup {
			groups = append(groups, g)
			paths = append(paths, p)
		}
	}
	var notes []string
	var wlTable []float64
	if len(tables) == 1 {
		if d, ok := nwbChild(tables[0], "excitation_wavelength_in_nm").(*hdf5.Dataset); ok {
			if v, _, err := n.readFloats(d, "FiberPhotometryTable excitation_wavelength_in_nm"); err == nil {
				wlTable = v
			}
		} else if nwbChild(tables[0], "excitation_source") != nil {
			notes = append(notes, "the FiberPhotometryTable names excitation sources by HDF5 object references, which the reader cannot follow: wavelengths taken from series names and descriptions")
		}
	} else if len(tables) > 1 {
		notes = append(notes, fmt.Sprintf("%d FiberPhotometryTables: their rows cannot be matched to series (object references): wavelengths taken from series names and descriptions", len(tables)))
	}
	var out []*nwbChannel
	for i, g := range groups {
		data, ok := nwbChild(g, "data").(*hdf5.Dataset)
		if !ok {
			continue
		}
		st, err := n.storage(data)
		if err != nil {
			continue
		}
		desc := ""
		if v, ok := nwbGroupAttr(g, "description"); ok {
			desc, _ = nwbAttrString(v)
			if desc == "no description" {
				desc = ""
			}
		}
		var region []int64
		if d, ok := nwbChild(g, "fiber_photometry_table_region").(*hdf5.Dataset); ok {
			region, _ = n.readInts(d, paths[i]+"/fiber_photometry_table_region")
		}
		cols := []int{-1}
		if len(st.Dims) == 2 && st.Dims[1] > 1 {
			cols = cols[:0]
			for j := 0; j < int(st.Dims[1]); j++ {
				cols = append(cols, j)
			}
		} else if len(st.Dims) == 2 {
			cols = []int{0}
		}
		for _, j := range cols {
			c := &nwbChannel{group: g, path: paths[i], col: j, description: desc, typ: nwbType(g)}
			row := int64(-1)
			switch {
			case len(region) == 1:
				row = region[0]
			case j >= 0 && j < len(region):
				row = region[j]
			}
			if row >= 0 && row < int64(len(wlTable)) && wlTable[row] > 0 {
				c.wavelength, c.wlFrom = wlTable[row], "FiberPhotometryTable"
			} else {
				name := g.Name()
				if wl, ok := nwbWavelength(name); ok {
					c.wavelength, c.wlFrom = wl, "series name"
				} else if wl, ok := nwbWavelength(desc); ok {
					c.wavelength, c.wlFrom = wl, "description"
				}
			}
			c.control = nwbControlWords.MatchString(g.Name()) || nwbControlWords.MatchString(desc)
			out = append(out, c)
		}
	}
	return out, notes
}

// nwbFindSeries finds a group by path ("/acquisition/x", "acquisition/x") or by
// its name anywhere in the file (the first in walk order).
func nwbFindSeries(n *nwbFile, name string) (string, *hdf5.Group) {
	if strings.Contains(name, "/") {
		p := "/" + strings.Trim(name, "/")
		return p, n.group(p)
	}
	var found *hdf5.Group
	var fp string
	n.f.Walk(func(p string, obj hdf5.Object) {
		g, ok := obj.(*hdf5.Group)
		if ok && found == nil && g.Name() == name && nwbChild(g, "data") != nil {
			found, fp = g, strings.TrimSuffix(p, "/")
		}
	})
	return fp, found
}

// nwbSplitCol splits "name[j]" into name and column j (-1 without a suffix).
func nwbSplitCol(s string) (string, int, error) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '['); i > 0 && strings.HasSuffix(s, "]") {
		j, err := strconv.Atoi(s[i+1 : len(s)-1])
		if err != nil || j < 0 {
			return s, -1, fmt.Errorf("%q: the fiber index in brackets must be a non-negative integer", s)
		}
		return s[:i], j, nil
	}
	return s, -1, nil
}

var (
	nwbNanometres   = regexp.MustCompile(`(?i)(?:^|[^0-9.])([3-6][0-9]{2})(?:\.[0-9]+)?\s*_?nm`)
	nwbBareNumber   = regexp.MustCompile(`(?:^|[^0-9.])([3-6][0-9]{2})(?:[^0-9.]|$)`)
	nwbControlWords = regexp.MustCompile(`(?i)(isosbestic|(?:^|[^a-z])iso(?:[^a-z]|$)|control)`)
)

// nwbWavelength finds an excitation wavelength in a name or description: a
// number followed by "nm" (preferred), else a bare 3-digit number in 380-600.
func nwbWavelength(s string) (float64, bool) {
	for _, re := range []*regexp.Regexp{nwbNanometres, nwbBareNumber} {
		if m := re.FindStringSubmatch(s); m != nil {
			v, _ := strconv.ParseFloat(m[1], 64)
			if re == nwbNanometres || (v >= 380 && v <= 600) {
				return v, true
			}
		}
	}
	return 0, false
}

// nwbPick chooses the signal and control channels (control nil when there is
// none); reason says how, for the trace's notes.
func nwbPick(path string, chans []*nwbChannel, cfg *Config) (sig, ctl *nwbChannel, reason string, err error) {
	pc := cfg.Photometry
	list := func() string {
		var s []string
		for _, c := range chans {
			s = append(s, c.summary())
		}
		return strings.Join(s, "; ")
	}
	byName := func(want, key string) (*nwbChannel, error) {
		name, col, err := nwbSplitCol(want)
		if err != nil {
			return nil, fmt.Errorf("%s: session.yaml photometry.%s %v", path, key, err)
		}
		var match []*nwbChannel
		for _, c := range chans {
			if c.path == "/"+strings.Trim(name, "/") || c.group.Name() == name || strings.TrimPrefix(c.path, "/acquisition/") == name {
				if col < 0 || c.col == col {
					match = append(match, c)
				}
			}
		}
		switch {
		case len(match) == 0:
			return nil, fmt.Errorf("%s: session.yaml photometry.%s %q: no such series; the file has: %s", path, key, want, list())
		case len(match) > 1:
			return nil, fmt.Errorf("%s: session.yaml photometry.%s %q has %d fibers: name one as %q", path, key, want, len(match), match[0].Name())
		}
		return match[0], nil
	}
	if len(chans) == 0 {
		return nil, nil, "", fmt.Errorf("%s: no FiberPhotometryResponseSeries (ndx-fiber-photometry) found; name another series in session.yaml photometry.signal_series", path)
	}

	// 1. Names from session.yaml.
	if pc.SignalSeries != "" {
		if sig, err = byName(pc.SignalSeries, "signal_series"); err != nil {
			return nil, nil, "", err
		}
		reason = "signal named in session.yaml"
	}
	if pc.ControlSeries != "" && !pc.NoControl {
		if ctl, err = byName(pc.ControlSeries, "control_series"); err != nil {
			return nil, nil, "", err
		}
		reason = "named in session.yaml"
	}
	if sig != nil && (ctl != nil || pc.NoControl) {
		return sig, ctl, reason, nil
	}

	// 2 and 3: wavelengths.
	var sigs, ctls, unknown []*nwbChannel
	ledNm := func(v int) float64 {
		if v > 100 {
			return float64(v)
		}
		return 0
	}
	wantSig, wantCtl := ledNm(pc.SignalLED), ledNm(pc.ControlLED)
	for _, c := range chans {
		if c == sig || c == ctl {
			continue
		}
		near := func(nm float64) bool { return nm > 0 && c.wavelength > 0 && math.Abs(c.wavelength-nm) <= 5 }
		// A wavelength given in session.yaml overrides the default rule for
		// its role: other sensors (or controls) are then neither.
		switch role := c.role(); {
		case near(wantSig):
			sigs = append(sigs, c)
		case near(wantCtl):
			ctls = append(ctls, c)
		case role == "signal" && wantSig == 0:
			sigs = append(sigs, c)
		case role == "control" && wantCtl == 0:
			ctls = append(ctls, c)
		case role == "":
			unknown = append(unknown, c)
		}
	}
	how := "by excitation wavelength"
	if sig == nil {
		switch {
		case len(sigs) == 1:
			sig = sigs[0]
		case len(sigs) == 0 && len(unknown) == 1:
			sig, unknown, how = unknown[0], nil, "the only channel not marked as a control"
		case len(sigs) > 1:
			return nil, nil, "", fmt.Errorf("%s: %d channels could be the sensor: set photometry.signal_series in session.yaml; channels: %s", path, len(sigs), list())
		default:
			return nil, nil, "", fmt.Errorf("%s: cannot tell which channel is the sensor: set photometry.signal_series (and control_series) in session.yaml; channels: %s", path, list())
		}
	}
	if pc.NoControl {
		return sig, nil, how, nil
	}
	if ctl == nil {
		switch {
		case len(ctls) == 1:
			ctl = ctls[0]
		case len(ctls) > 1:
			// Prefer the control recorded on the same fiber as the signal.
			var same []*nwbChannel
			for _, c := range ctls {
				if c.col == sig.col {
					same = append(same, c)
				}
			}
			if len(same) != 1 {
				return nil, nil, "", fmt.Errorf("%s: %d channels could be the isosbestic control: set photometry.control_series in session.yaml; channels: %s", path, len(ctls), list())
			}
			ctl = same[0]
		}
	}
	if reason == "" {
		reason = how
	}
	return sig, ctl, reason, nil
}

func openNWBPhotometry(dir string, cfg *Config) (*Photometry, []Event, error) {
	path, err := nwbSessionFile(dir, cfg)
	if err != nil {
		return nil, nil, err
	}
	n, err := openNWB(path)
	if err != nil {
		return nil, nil, err
	}
	defer n.Close()
	chans, notes := nwbChannels(n, cfg)
	sig, ctl, how, err := nwbPick(path, chans, cfg)
	if err != nil {
		return nil, nil, err
	}
	p := &Photometry{Source: path, Notes: notes}
	p.SignalName = sig.Name() + nwbWLSuffix(sig)
	var sigT []float64
	if p.Signal, sigT, p.RateHz, err = nwbReadChannel(n, sig); err != nil {
		return nil, nil, err
	}
	p.Time = sigT
	if ctl != nil {
		p.ControlName = ctl.Name() + nwbWLSuffix(ctl)
		ctlV, ctlT, _, err := nwbReadChannel(n, ctl)
		if err != nil {
			return nil, nil, err
		}
		// A series without times of its own most likely links to the other's
		// timestamps (pynwb writes timestamps=other_series as a soft link).
		switch {
		case ctlT == nil && sigT != nil && len(ctlV) == len(p.Signal):
			ctlT = sigT
			p.Notes = append(p.Notes, fmt.Sprintf("%s: %s has no times of its own (a timestamps link?): it takes %s's", filepath.Base(path), ctl.Name(), sig.Name()))
		case sigT == nil && ctlT != nil && len(ctlV) == len(p.Signal):
			p.Time, sigT = ctlT, ctlT
			p.Notes = append(p.Notes, fmt.Sprintf("%s: %s has no times of its own (a timestamps link?): it takes %s's", filepath.Base(path), sig.Name(), ctl.Name()))
		}
		if p.Control, err = nwbAlign(path, p, ctlV, ctlT); err != nil {
			return nil, nil, err
		}
	}
	if p.Time == nil {
		return nil, nil, fmt.Errorf("%s: %s has neither starting_time nor a timestamps dataset (a timestamps soft link to another series, which the HDF5 reader cannot follow, would look the same) and no other series gives the times; %s",
			path, sig.path, nwbConvertHint)
	}
	p.Notes = append(p.Notes, fmt.Sprintf("%s: signal %s, control %s (%s)", filepath.Base(path), p.SignalName, orNone(p.ControlName), how))
	return p, nil, nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func nwbWLSuffix(c *nwbChannel) string {
	if c.wavelength > 0 {
		return fmt.Sprintf(" %gnm", c.wavelength)
	}
	return ""
}

// nwbReadChannel reads a channel's values (data * conversion + offset, the NWB
// TimeSeries convention) and times: timestamps, or starting_time + i / rate.
// times is nil when timestamps is a soft link (the reader shows it as an empty
// group and cannot follow it).
func nwbReadChannel(n *nwbFile, c *nwbChannel) (values, times []float64, rateHz float64, err error) {
	d := nwbChild(c.group, "data").(*hdf5.Dataset)
	raw, st, err := n.readFloats(d, c.path+"/data")
	if err != nil {
		return nil, nil, 0, err
	}
	if len(st.Dims) == 0 || len(st.Dims) > 2 {
		return nil, nil, 0, fmt.Errorf("%s: %s/data has shape %v: want (time) or (time, fiber)", n.path, c.path, st.Dims)
	}
	nt := int(st.Dims[0])
	values = raw
	if len(st.Dims) == 2 {
		k := int(st.Dims[1])
		col := max(c.col, 0)
		values = make([]float64, nt)
		for i := range values {
			values[i] = raw[i*k+col]
		}
	}
	conv, off := 1.0, 0.0
	if v, ok := nwbDatasetAttr(d, "conversion"); ok {
		if f, ok := nwbAttrFloat(v); ok && f != 0 {
			conv = f
		}
	}
	if v, ok := nwbDatasetAttr(d, "offset"); ok {
		if f, ok := nwbAttrFloat(v); ok {
			off = f
		}
	}
	if conv != 1 || off != 0 {
		for i := range values {
			values[i] = values[i]*conv + off
		}
	}
	switch ts := nwbChild(c.group, "timestamps").(type) {
	case *hdf5.Dataset:
		times, _, err = n.readFloats(ts, c.path+"/timestamps")
		if err != nil {
			return nil, nil, 0, err
		}
		if len(times) != nt {
			return nil, nil, 0, fmt.Errorf("%s: %s has %d timestamps for %d samples", n.path, c.path, len(times), nt)
		}
		return values, times, 0, nil
	case *hdf5.Group:
		return values, nil, 0, nil // a soft link, listed as an empty group
	}
	sd, ok := nwbChild(c.group, "starting_time").(*hdf5.Dataset)
	if !ok {
		// Neither: timestamps is most likely a soft link to another series'
		// timestamps, which the reader leaves out of the group's children.
		return values, nil, 0, nil
	}
	t0v, _, err := n.readFloats(sd, c.path+"/starting_time")
	if err != nil {
		return nil, nil, 0, err
	}
	if len(t0v) != 1 {
		return nil, nil, 0, fmt.Errorf("%s: %s/starting_time holds %d values, want one", n.path, c.path, len(t0v))
	}
	rv, ok := nwbDatasetAttr(sd, "rate")
	rate, ok2 := nwbAttrFloat(rv)
	if !ok || !ok2 || !(rate > 0) || math.IsInf(rate, 0) {
		return nil, nil, 0, fmt.Errorf("%s: %s/starting_time has no positive rate attribute (Hz)", n.path, c.path)
	}
	times = make([]float64, nt)
	for i := range times {
		times[i] = t0v[0] + float64(i)/rate
	}
	return values, times, rate, nil
}

// nwbAlign puts the control channel on the signal's times: as is when both have
// the same times; by linear interpolation otherwise (interleaved excitation
// gives the two channels times offset by a fraction of a sample), with signal
// samples outside the control's span dropped.
func nwbAlign(path string, p *Photometry, ctlV, ctlT []float64) ([]float64, error) {
	if ctlT == nil {
		return nil, fmt.Errorf("%s: the control series has no times of its own (no starting_time or timestamps dataset: a soft link, which the HDF5 reader cannot follow?) and %d samples to the signal's %d, so it cannot take the signal's", path, len(ctlV), len(p.Signal))
	}
	if len(ctlT) == len(p.Time) {
		same := true
		for i := range ctlT {
			if ctlT[i] != p.Time[i] {
				same = false
				break
			}
		}
		if same {
			return ctlV, nil
		}
	}
	for i := 1; i < len(ctlT); i++ {
		if !(ctlT[i] > ctlT[i-1]) {
			return nil, fmt.Errorf("%s: control timestamps do not increase at sample %d", path, i)
		}
	}
	if len(ctlT) < 2 {
		return nil, fmt.Errorf("%s: the control channel has %d samples", path, len(ctlT))
	}
	lo := sort.SearchFloat64s(p.Time, ctlT[0])
	hi := sort.Search(len(p.Time), func(i int) bool { return p.Time[i] > ctlT[len(ctlT)-1] })
	dropped := len(p.Time) - (hi - lo)
	p.Time, p.Signal = p.Time[lo:hi], p.Signal[lo:hi]
	out := make([]float64, len(p.Time))
	j := 0
	for i, t := range p.Time {
		for j+2 < len(ctlT) && ctlT[j+1] <= t {
			j++
		}
		t0, t1 := ctlT[j], ctlT[j+1]
		w := (t - t0) / (t1 - t0)
		out[i] = ctlV[j] + w*(ctlV[j+1]-ctlV[j])
	}
	p.Notes = append(p.Notes, fmt.Sprintf("%s: control interpolated linearly onto the signal's timestamps (%d signal samples outside the control's span dropped)", filepath.Base(path), dropped))
	return out, nil
}
