package recording

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/parquet-go/parquet-go"

	"nmdyn/stages/table"
)

// Neurophotometrics raw exports (FP3001/FP3002, Bonsai; as .csv, or as Parquet
// the way IBL stores them, e.g. _neurophotometrics_fpData.raw.pqt): one row per
// camera frame, with
//
//	FrameCounter, Timestamp (s), Flags (or LedState), Region0R, Region1G, ...
//
// The LEDs take turns frame by frame; the LED lit during a frame is the low
// three bits of Flags,
//
//	Flags & 7:  1 = 415 nm (isosbestic), 2 = 470 nm, 4 = 560 nm,
//
// and the higher bits carry the digital I/O lines (so Flags 17 is 415 nm with
// input 1 high: compare Flags & 7, never Flags itself). Each RegionNX column is
// the mean fluorescence of one fiber's region of the camera image (G and R:
// green and red emission).
//
// De-interleaving: for the chosen region, frames lit by the signal LED (470 nm
// by default) give the signal and frames lit by the control LED (415 nm) the
// control. Both must share a time base, so frames are paired: going through the
// frames in order, a signal frame and a control frame form a pair when they
// follow each other among the signal and control frames and are less than one
// LED cycle apart (FrameCounter distance below the number of LEDs in use), so
// that a dropped frame never pairs samples from different cycles. The pair takes
// the signal frame's timestamp. Unpaired frames (the ends of the recording, the
// partner of a dropped frame) and frames lit by no LED (Flags & 7 = 0) are left
// out and counted in the notes.
//
// A digitalInputs file beside the export (Timestamp, Value: one row per TTL edge)
// gives events: its rising edges.

func init() {
	RegisterPhotometryFormat(PhotometryFormat{
		Name: "Neurophotometrics raw export (.csv or .pqt with Flags/LedState and Region columns)",
		// Before the plain table format (10), which would otherwise claim a
		// .pqt/.csv named in session.yaml: Detect looks at the columns.
		Priority: 5,
		Detect: func(dir string, cfg *Config) bool {
			p, _ := npmExportFile(dir, cfg)
			return p != ""
		},
		Open: openNPMPhotometry,
	})
}

// NPM LED codes (Flags & 7).
const (
	NPMLED415 = 1
	NPMLED470 = 2
	NPMLED560 = 4
)

var (
	npmRegionCol = regexp.MustCompile(`^Region[0-9]+[GR]$`)
	npmTimeCols  = []string{"Timestamp", "SystemTimestamp"}
	npmFlagCols  = []string{"Flags", "LedState"}
)

// npmColumns reads only the column names of a .csv (its first line) or a
// Parquet file (its footer).
func npmColumns(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if strings.EqualFold(filepath.Ext(path), ".csv") {
		buf := make([]byte, 4096)
		n, _ := f.Read(buf)
		line, _, _ := strings.Cut(string(buf[:n]), "\n")
		var cols []string
		for _, c := range strings.Split(strings.TrimRight(line, "\r"), ",") {
			cols = append(cols, strings.Trim(strings.TrimSpace(c), `"`))
		}
		return cols, nil
	}
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return nil, err
	}
	var cols []string
	for _, fl := range pf.Schema().Fields() {
		cols = append(cols, fl.Name())
	}
	return cols, nil
}

// npmLooksLikeExport reports whether the columns are those of a raw export: a
// flags column and at least one region.
func npmLooksLikeExport(cols []string) bool {
	flags, region := false, false
	for _, c := range cols {
		flags = flags || slices.Contains(npmFlagCols, c)
		region = region || npmRegionCol.MatchString(c)
	}
	return flags && region
}

// npmExportFile finds the raw export: the file session.yaml names when its
// columns are an export's, else the one table file of dir whose are ("" when
// none; an error when several).
func npmExportFile(dir string, cfg *Config) (string, error) {
	if f := cfg.Photometry.File; f != "" {
		p := filepath.Join(dir, f)
		if cols, err := npmColumns(p); err == nil && npmLooksLikeExport(cols) {
			return p, nil
		}
		return "", nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	var found []string
	for _, e := range entries {
		name := e.Name()
		ext := strings.ToLower(filepath.Ext(name))
		if ext != ".csv" && ext != ".pqt" && ext != ".parquet" {
			continue
		}
		lower := strings.ToLower(name)
		if strings.Contains(lower, "digitalinput") || strings.HasPrefix(lower, "spikes.") || strings.HasPrefix(lower, "events.") {
			continue
		}
		p := filepath.Join(dir, name)
		if cols, err := npmColumns(p); err == nil && npmLooksLikeExport(cols) {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return "", nil
	case 1:
		return found[0], nil
	}
	sort.Strings(found)
	for i := range found {
		found[i] = filepath.Base(found[i])
	}
	return found[0], fmt.Errorf("session %s: several Neurophotometrics exports (%s): set photometry.file in session.yaml", dir, strings.Join(found, ", "))
}

// NPMExport is a Neurophotometrics raw export read into memory.
type NPMExport struct {
	Path    string
	Time    []float64 // seconds, one per frame
	Frame   []int64   // FrameCounter (the row index when the file has none)
	LED     []uint8   // Flags & 7
	Regions []string  // region columns in file order
	Values  map[string][]float64
}

// ReadNPMExport reads a raw export (.csv, or Parquet: .pqt/.parquet).
func ReadNPMExport(path string) (*NPMExport, error) {
	t, err := readTable(path)
	if err != nil {
		return nil, err
	}
	e := &NPMExport{Path: path, Values: map[string][]float64{}}
	pick := func(cands []string, what string) (string, error) {
		for _, c := range cands {
			if t.Has(c) {
				return c, nil
			}
		}
		return "", fmt.Errorf("%s: no %s column (want one of %s); columns are: %s", path, what, strings.Join(cands, ", "), strings.Join(t.Names(), ", "))
	}
	tc, err := pick(npmTimeCols, "frame time")
	if err != nil {
		return nil, err
	}
	fc, err := pick(npmFlagCols, "LED flags")
	if err != nil {
		return nil, err
	}
	if e.Time, err = t.Float(tc); err != nil {
		return nil, fmt.Errorf("%s: column %q: %v", path, tc, err)
	}
	flags, err := t.Int(fc)
	if err != nil {
		return nil, fmt.Errorf("%s: column %q: %v", path, fc, err)
	}
	n := t.Len()
	if n == 0 {
		return nil, fmt.Errorf("%s: no frames", path)
	}
	e.LED = make([]uint8, n)
	for i, f := range flags {
		if f < 0 {
			return nil, fmt.Errorf("%s: frame %d: %s = %d is negative", path, i, fc, f)
		}
		e.LED[i] = uint8(f & 7)
	}
	if t.Has("FrameCounter") {
		if e.Frame, err = t.Int("FrameCounter"); err != nil {
			return nil, fmt.Errorf("%s: column FrameCounter: %v", path, err)
		}
	} else {
		e.Frame = make([]int64, n)
		for i := range e.Frame {
			e.Frame[i] = int64(i)
		}
	}
	for i := 0; i < n; i++ {
		if !isFinite(e.Time[i]) {
			return nil, fmt.Errorf("%s: frame %d: %s %v is not a finite number", path, i, tc, e.Time[i])
		}
		if i > 0 && !(e.Time[i] > e.Time[i-1]) {
			return nil, fmt.Errorf("%s: frame %d: %s %v s does not come after %v s: frames must be in time order", path, i, tc, e.Time[i], e.Time[i-1])
		}
		if i > 0 && e.Frame[i] <= e.Frame[i-1] {
			return nil, fmt.Errorf("%s: frame %d: FrameCounter %d does not increase (previous %d)", path, i, e.Frame[i], e.Frame[i-1])
		}
	}
	for _, c := range t.Names() {
		if !npmRegionCol.MatchString(c) {
			continue
		}
		v, err := t.Float(c)
		if err != nil {
			return nil, fmt.Errorf("%s: column %q: %v", path, c, err)
		}
		e.Regions = append(e.Regions, c)
		e.Values[c] = v
	}
	if len(e.Regions) == 0 {
		return nil, fmt.Errorf("%s: no region columns (Region0G, Region1R, ...); columns are: %s", path, strings.Join(t.Names(), ", "))
	}
	return e, nil
}

// LEDCounts counts the frames of each LED code (Flags & 7).
func (e *NPMExport) LEDCounts() map[uint8]int {
	c := map[uint8]int{}
	for _, l := range e.LED {
		c[l]++
	}
	return c
}

// Channel returns the frames of one LED in a region: their times and values.
func (e *NPMExport) Channel(region string, led uint8) (times, values []float64) {
	v := e.Values[region]
	for i, l := range e.LED {
		if l == led {
			times = append(times, e.Time[i])
			values = append(values, v[i])
		}
	}
	return times, values
}

// Pairs de-interleaves a region into signal and control samples on the signal
// frames' times (see the package comment on pairing); unpaired counts the
// signal and control frames left out.
func (e *NPMExport) Pairs(region string, sigLED, ctlLED uint8) (times, sig, ctl []float64, unpaired int) {
	v := e.Values[region]
	inUse := 0
	for led, n := range e.LEDCounts() {
		if led != 0 && n > 0 {
			inUse++
		}
	}
	cycle := int64(max(inUse, 2))
	pendSig, pendCtl := -1, -1
	for i, l := range e.LED {
		switch l {
		case sigLED:
			if pendCtl >= 0 && e.Frame[i]-e.Frame[pendCtl] < cycle {
				times = append(times, e.Time[i])
				sig = append(sig, v[i])
				ctl = append(ctl, v[pendCtl])
				pendCtl = -1
				continue
			}
			if pendSig >= 0 {
				unpaired++
			}
			if pendCtl >= 0 {
				unpaired++
				pendCtl = -1
			}
			pendSig = i
		case ctlLED:
			if pendSig >= 0 && e.Frame[i]-e.Frame[pendSig] < cycle {
				times = append(times, e.Time[pendSig])
				sig = append(sig, v[pendSig])
				ctl = append(ctl, v[i])
				pendSig = -1
				continue
			}
			if pendCtl >= 0 {
				unpaired++
			}
			if pendSig >= 0 {
				unpaired++
				pendSig = -1
			}
			pendCtl = i
		}
	}
	if pendSig >= 0 {
		unpaired++
	}
	if pendCtl >= 0 {
		unpaired++
	}
	return times, sig, ctl, unpaired
}

// npmLED turns a session.yaml LED setting (a code 1, 2, 4 or a wavelength 415,
// 470, 560 nm) into a code; def when zero.
func npmLED(v int, def uint8, key string) (uint8, error) {
	switch v {
	case 0:
		return def, nil
	case 1, 415:
		return NPMLED415, nil
	case 2, 470:
		return NPMLED470, nil
	case 4, 560:
		return NPMLED560, nil
	}
	return 0, fmt.Errorf("photometry.%s %d: want a Neurophotometrics LED code (1, 2, 4) or wavelength (415, 470, 560 nm)", key, v)
}

var npmLEDNames = map[uint8]string{NPMLED415: "415nm", NPMLED470: "470nm", NPMLED560: "560nm"}

func openNPMPhotometry(dir string, cfg *Config) (*Photometry, []Event, error) {
	path, err := npmExportFile(dir, cfg)
	if err != nil {
		return nil, nil, err
	}
	if path == "" {
		return nil, nil, fmt.Errorf("session %s: no Neurophotometrics export", dir)
	}
	pc := cfg.Photometry
	cfgPath := filepath.Join(dir, ConfigFile)
	sigLED, err := npmLED(pc.SignalLED, NPMLED470, "signal_led")
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", cfgPath, err)
	}
	ctlLED, err := npmLED(pc.ControlLED, NPMLED415, "control_led")
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", cfgPath, err)
	}
	if sigLED == ctlLED && !pc.NoControl {
		return nil, nil, fmt.Errorf("%s: photometry.signal_led and control_led are the same LED (%s)", cfgPath, npmLEDNames[sigLED])
	}
	e, err := ReadNPMExport(path)
	if err != nil {
		return nil, nil, err
	}
	region := pc.Region
	if region == "" {
		region = e.Regions[0]
		for _, r := range e.Regions {
			if strings.HasSuffix(r, "G") {
				region = r
				break
			}
		}
	} else if e.Values[region] == nil {
		return nil, nil, fmt.Errorf("%s: photometry.region %q: %s has regions %s", cfgPath, region, path, strings.Join(e.Regions, ", "))
	}
	counts := e.LEDCounts()
	base := filepath.Base(path)
	p := &Photometry{Source: path, SignalName: region + " " + npmLEDNames[sigLED]}
	var codes []int
	for c := range counts {
		codes = append(codes, int(c))
	}
	sort.Ints(codes)
	var parts []string
	for _, c := range codes {
		name := npmLEDNames[uint8(c)]
		if name == "" {
			name = fmt.Sprintf("code %d", c)
			if c == 0 {
				name = "no LED"
			}
		}
		parts = append(parts, fmt.Sprintf("%s %d", name, counts[uint8(c)]))
	}
	p.Notes = append(p.Notes, fmt.Sprintf("%s: %d frames by LED (Flags & 7): %s", base, len(e.LED), strings.Join(parts, ", ")))
	if counts[sigLED] == 0 {
		return nil, nil, fmt.Errorf("%s: no frame is lit by the signal LED %s (frames by LED: %s)", path, npmLEDNames[sigLED], strings.Join(parts, ", "))
	}
	if pc.NoControl {
		p.Time, p.Signal = e.Channel(region, sigLED)
	} else {
		if counts[ctlLED] == 0 {
			return nil, nil, fmt.Errorf("%s: no frame is lit by the control LED %s (frames by LED: %s); set photometry.no_control in session.yaml to go without", path, npmLEDNames[ctlLED], strings.Join(parts, ", "))
		}
		var unpaired int
		p.Time, p.Signal, p.Control, unpaired = e.Pairs(region, sigLED, ctlLED)
		p.ControlName = region + " " + npmLEDNames[ctlLED]
		p.Notes = append(p.Notes, fmt.Sprintf("%s: %d signal/control pairs of adjacent frames on the signal frames' times (unpaired frames left out: %d)", base, len(p.Time), unpaired))
		if len(p.Time) < 2 {
			return nil, nil, fmt.Errorf("%s: only %d signal/control frame pairs in %s", path, len(p.Time), region)
		}
	}
	p.RateHz = nominalRate(p.Time)
	events, err := npmDigitalEvents(dir, path, cfg)
	if err != nil {
		return nil, nil, err
	}
	if events != nil {
		p.Notes = append(p.Notes, fmt.Sprintf("%s: %d events from rising edges of the digital inputs", base, len(events)))
	}
	return p, events, nil
}

// npmDigitalEventsFile finds the digital inputs beside an export: the export's
// name with "raw" replaced by "digitalInputs" (IBL's naming), else the one file
// of dir whose name contains "digitalinput".
func npmDigitalEventsFile(dir, export string) string {
	base := filepath.Base(export)
	if strings.Contains(base, "raw") {
		p := filepath.Join(dir, strings.Replace(base, "raw", "digitalInputs", 1))
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	entries, _ := os.ReadDir(dir)
	var found []string
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if strings.Contains(strings.ToLower(e.Name()), "digitalinput") && (ext == ".csv" || ext == ".pqt" || ext == ".parquet") {
			found = append(found, filepath.Join(dir, e.Name()))
		}
	}
	if len(found) == 1 {
		return found[0]
	}
	return ""
}

// npmDigitalEvents reads the rising edges of the digital inputs file: each row is
// an edge (Timestamp, Value); a row with Value true after a false one (or first)
// is a rising edge. With a channel column (Channel, Input or Name) edges are
// tracked per channel and labelled with it.
func npmDigitalEvents(dir, export string, cfg *Config) ([]Event, error) {
	path := npmDigitalEventsFile(dir, export)
	if path == "" {
		return nil, nil
	}
	t, err := readTable(path)
	if err != nil {
		return nil, err
	}
	var tc string
	for _, c := range npmTimeCols {
		if t.Has(c) {
			tc = c
			break
		}
	}
	if tc == "" {
		return nil, fmt.Errorf("%s: no time column (want one of %s); columns are: %s", path, strings.Join(npmTimeCols, ", "), strings.Join(t.Names(), ", "))
	}
	times, err := t.Float(tc)
	if err != nil {
		return nil, fmt.Errorf("%s: column %q: %v", path, tc, err)
	}
	var vc *table.Col
	for _, c := range []string{"Value", "State"} {
		if vc = t.Col(c); vc != nil {
			break
		}
	}
	if vc == nil {
		return nil, fmt.Errorf("%s: no Value column; columns are: %s", path, strings.Join(t.Names(), ", "))
	}
	var chans []string
	for _, c := range []string{"Channel", "Input", "Name"} {
		if col := t.Col(c); col != nil {
			chans = make([]string, t.Len())
			for i := range chans {
				chans[i] = npmCellString(col, i)
			}
			break
		}
	}
	label := "digital_input"
	if cfg.Events.Label != "" && cfg.Events.File == "" {
		label = cfg.Events.Label
	}
	prev := map[string]bool{}
	seen := map[string]bool{}
	var out []Event
	for i, tm := range times {
		high, err := npmCellBool(vc, i)
		if err != nil {
			return nil, fmt.Errorf("%s: row %d: %v", path, i, err)
		}
		ch := ""
		if chans != nil {
			ch = chans[i]
		}
		if high && (!seen[ch] || !prev[ch]) {
			if !isFinite(tm) {
				return nil, fmt.Errorf("%s: row %d: time %v is not a finite number", path, i, tm)
			}
			l := label
			if ch != "" {
				l = label + "_" + ch
			}
			out = append(out, Event{Time: tm, Label: l})
		}
		prev[ch], seen[ch] = high, true
	}
	if out == nil {
		out = []Event{}
	}
	return out, nil
}

func npmCellString(c *table.Col, i int) string {
	switch c.Kind {
	case table.String:
		return c.Str[i]
	case table.Int:
		return fmt.Sprint(c.I64[i])
	case table.Float:
		return fmt.Sprint(c.F64[i])
	default:
		return fmt.Sprint(c.Bools[i])
	}
}

func npmCellBool(c *table.Col, i int) (bool, error) {
	switch c.Kind {
	case table.Bool:
		return c.Bools[i], nil
	case table.Int:
		return c.I64[i] != 0, nil
	case table.Float:
		return c.F64[i] != 0, nil
	}
	switch strings.ToLower(strings.TrimSpace(c.Str[i])) {
	case "true", "1", "high":
		return true, nil
	case "false", "0", "low":
		return false, nil
	}
	return false, fmt.Errorf("value %q is not true/false", c.Str[i])
}
