package recording

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// pyPhotometry .ppd files (Akam & Walton 2019, Sci Rep 9:3521; the layout is
// that of the project's own importer, tools/data_import.py):
//
//	uint16 little-endian header length n, n bytes of JSON header, then <u2 words.
//
// Each word holds an analog sample in its upper 15 bits and a digital input in
// its lowest bit:
//
//	analog  = (word >> 1) * volts_per_division
//	digital = word & 1
//
// Words are interleaved by channel, one frame of words per sample period:
//
//   - version < 1.0: always 2 analog and 2 digital channels, frame = (ch1, ch2);
//     the modes are "2 colour continuous", "1 colour time div." and "2 colour
//     time div." (time-division modes store baseline-subtracted samples);
//   - version >= 1.0: n_analog_signals (2 or 3) and n_digital_signals (1 or 2)
//     in the header, modes "2EX_2EM_continuous", "2EX_1EM_pulsed",
//     "2EX_2EM_pulsed", "3EX_2EM_pulsed"; up to 1.0 a frame is one word a
//     channel;
//   - version >= 1.1 in a pulsed mode: each channel stores an LED-on word and a
//     baseline (LED-off) word, frame = (on1, off1, on2, off2, ...), and the
//     signal is on - off.
//
// Digital input d (1-based) is the low bit of the d-th channel's word (its LED-on
// word in pulsed files), so digital_1 comes from channel 1's samples. Sample i is
// at i / sampling_rate seconds from the start of the recording.

func init() {
	RegisterPhotometryFormat(PhotometryFormat{
		Name:     "pyPhotometry .ppd",
		Priority: 20,
		Detect: func(dir string, cfg *Config) bool {
			if f := cfg.Photometry.File; f != "" {
				return strings.EqualFold(filepath.Ext(f), ".ppd")
			}
			return len(ppdFiles(dir)) > 0
		},
		Open: openPPDPhotometry,
	})
}

// PPDHeader is the decoded JSON header of a .ppd file.
type PPDHeader struct {
	SubjectID string
	DateTime  string
	Mode      string
	RateHz    float64
	// VoltsPerDivision converts each analog channel's 15-bit value to volts.
	VoltsPerDivision []float64
	// Version is the version as written (a JSON number such as 0.2 in early
	// files, a string such as "1.1" later) and VersionParts its numbers.
	Version      string
	VersionParts [3]int
	NAnalog      int
	NDigital     int
	// Paired is true when each analog sample is an LED-on and a baseline word
	// (pulsed modes from version 1.1).
	Paired bool
}

// FrameWords is the number of <u2 words a sample period takes.
func (h PPDHeader) FrameWords() int {
	if h.Paired {
		return 2 * h.NAnalog
	}
	return h.NAnalog
}

// ppdModes lists the acquisition modes of each header generation.
var (
	ppdModesV0 = []string{"2 colour continuous", "1 colour time div.", "2 colour time div."}
	ppdModesV1 = []string{"2EX_2EM_continuous", "2EX_1EM_pulsed", "2EX_2EM_pulsed", "3EX_2EM_pulsed"}
)

// maxPPDRate bounds the sampling rate: pyPhotometry samples at most a few kHz.
const maxPPDRate = 1e6

// ParsePPDHeader decodes and checks a .ppd JSON header.
func ParsePPDHeader(b []byte) (PPDHeader, error) {
	var h PPDHeader
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		if len(b) > 0 && b[0] != '{' {
			return h, fmt.Errorf("header is not JSON (%v): files from before pyPhotometry 0.1's JSON header are not supported", err)
		}
		return h, fmt.Errorf("header is not valid JSON: %v", err)
	}
	str := func(key string, required bool) (string, error) {
		r, ok := raw[key]
		if !ok {
			if required {
				return "", fmt.Errorf("header has no %q", key)
			}
			return "", nil
		}
		var s string
		if err := json.Unmarshal(r, &s); err != nil {
			return "", fmt.Errorf("header %q is %s, want a string", key, truncate(string(r), 40))
		}
		return s, nil
	}
	num := func(key string) (float64, error) {
		r, ok := raw[key]
		if !ok {
			return 0, fmt.Errorf("header has no %q", key)
		}
		var v float64
		if err := json.Unmarshal(r, &v); err != nil {
			return 0, fmt.Errorf("header %q is %s, want a number", key, truncate(string(r), 40))
		}
		return v, nil
	}
	var err error
	h.SubjectID, _ = str("subject_ID", false)
	h.DateTime, _ = str("date_time", false)
	if h.Mode, err = str("mode", true); err != nil {
		return h, err
	}
	if h.RateHz, err = num("sampling_rate"); err != nil {
		return h, err
	}
	if !(h.RateHz > 0 && h.RateHz <= maxPPDRate) {
		return h, fmt.Errorf("header sampling_rate %v: want a positive rate in Hz", h.RateHz)
	}
	r, ok := raw["volts_per_division"]
	if !ok {
		return h, errors.New(`header has no "volts_per_division"`)
	}
	if err := json.Unmarshal(r, &h.VoltsPerDivision); err != nil || len(h.VoltsPerDivision) == 0 {
		return h, fmt.Errorf("header volts_per_division is %s, want a list of numbers", truncate(string(r), 40))
	}
	for i, v := range h.VoltsPerDivision {
		if !(v > 0) || math.IsInf(v, 0) {
			return h, fmt.Errorf("header volts_per_division[%d] = %v: want a positive number", i, v)
		}
	}

	// The version: a JSON number (0.2) or a string ("1.0", "1.1.2").
	r, ok = raw["version"]
	if !ok {
		return h, errors.New(`header has no "version"`)
	}
	var vs string
	if err := json.Unmarshal(r, &vs); err != nil {
		var n json.Number
		d := json.NewDecoder(bytes.NewReader(r))
		d.UseNumber()
		if err := d.Decode(&n); err != nil {
			return h, fmt.Errorf("header version is %s, want a number or a string", truncate(string(r), 40))
		}
		vs = n.String()
	}
	h.Version = vs
	if h.VersionParts, err = parsePPDVersion(vs); err != nil {
		return h, err
	}

	v1 := h.VersionParts[0] >= 1
	known := ppdModesV0
	if v1 {
		known = ppdModesV1
	}
	modeOK := false
	for _, m := range known {
		modeOK = modeOK || m == h.Mode
	}
	if !modeOK {
		return h, fmt.Errorf("header mode %q is not a mode of pyPhotometry %s files (known: %s)", h.Mode, h.Version, strings.Join(known, ", "))
	}
	if !v1 {
		h.NAnalog, h.NDigital = 2, 2
	} else {
		na, err := num("n_analog_signals")
		if err != nil {
			return h, err
		}
		nd, err := num("n_digital_signals")
		if err != nil {
			return h, err
		}
		if na != 2 && na != 3 {
			return h, fmt.Errorf("header n_analog_signals %v: want 2 or 3", na)
		}
		if nd != 1 && nd != 2 {
			return h, fmt.Errorf("header n_digital_signals %v: want 1 or 2", nd)
		}
		h.NAnalog, h.NDigital = int(na), int(nd)
		pulsed := strings.HasSuffix(h.Mode, "_pulsed")
		h.Paired = pulsed && (h.VersionParts[0] > 1 || h.VersionParts[1] >= 1)
		if (h.Mode == "3EX_2EM_pulsed") != (h.NAnalog == 3) {
			return h, fmt.Errorf("header mode %q with n_analog_signals %d: 3EX_2EM_pulsed records 3 signals, the other modes 2", h.Mode, h.NAnalog)
		}
	}
	// Files from version 1.0 write one volts_per_division for all channels
	// (the project's importer uses the first); older ones one per channel.
	for len(h.VoltsPerDivision) < h.NAnalog {
		h.VoltsPerDivision = append(h.VoltsPerDivision, h.VoltsPerDivision[0])
	}
	return h, nil
}

// parsePPDVersion reads "major.minor[.patch]" (trailing text such as "rc1" after
// the numbers is ignored).
func parsePPDVersion(s string) ([3]int, error) {
	var v [3]int
	parts := strings.SplitN(strings.TrimSpace(s), ".", 4)
	n := 0
	for i, p := range parts {
		if i == 3 {
			break
		}
		j := 0
		for j < len(p) && p[j] >= '0' && p[j] <= '9' {
			j++
		}
		if j == 0 {
			break
		}
		x, err := strconv.Atoi(p[:j])
		if err != nil || x > 1000 {
			break
		}
		v[i] = x
		n++
		if j < len(p) {
			break
		}
	}
	if n == 0 {
		return v, fmt.Errorf("header version %q is not a version number", s)
	}
	return v, nil
}

// PPD is a decoded .ppd file.
type PPD struct {
	Path   string
	Header PPDHeader
	// Analog[a][i] is analog channel a+1 at sample i, in volts.
	Analog [][]float64
	// Digital[d][i] is digital input d+1 at sample i.
	Digital [][]bool
}

// Len is the number of samples per channel.
func (p *PPD) Len() int { return len(p.Analog[0]) }

// Times returns the sample times i / rate in seconds.
func (p *PPD) Times() []float64 {
	t := make([]float64, p.Len())
	for i := range t {
		t[i] = float64(i) / p.Header.RateHz
	}
	return t
}

// RisingEdges returns the times (s) of the rising edges of digital input ch
// (1-based): the samples i >= 1 where the input is high and was low at i-1, at
// i / rate, as pyPhotometry's importer defines pulse times.
func (p *PPD) RisingEdges(ch int) []float64 {
	d := p.Digital[ch-1]
	var out []float64
	for i := 1; i < len(d); i++ {
		if d[i] && !d[i-1] {
			out = append(out, float64(i)/p.Header.RateHz)
		}
	}
	return out
}

// ReadPPD reads a whole .ppd file.
func ReadPPD(path string) (*PPD, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := DecodePPD(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	p.Path = path
	return p, nil
}

// DecodePPD decodes the bytes of a .ppd file.
func DecodePPD(b []byte) (*PPD, error) {
	if len(b) < 2 {
		return nil, errors.New("not a .ppd file: shorter than its 2-byte header length")
	}
	n := int(binary.LittleEndian.Uint16(b))
	if n == 0 || 2+n > len(b) {
		return nil, fmt.Errorf("truncated .ppd file: the header is %d bytes, the file holds %d after the length", n, len(b)-2)
	}
	h, err := ParsePPDHeader(b[2 : 2+n])
	if err != nil {
		return nil, err
	}
	data := b[2+n:]
	if len(data)%2 != 0 {
		return nil, fmt.Errorf("truncated .ppd file: %d data bytes after the header, not a whole number of 2-byte samples", len(data))
	}
	words := len(data) / 2
	fw := h.FrameWords()
	if words%fw != 0 {
		return nil, fmt.Errorf("truncated .ppd file: %d samples after the header, not a whole number of %d-word frames (%d channels%s)",
			words, fw, h.NAnalog, map[bool]string{true: " with baselines", false: ""}[h.Paired])
	}
	ns := words / fw
	if ns == 0 {
		return nil, errors.New(".ppd file holds no samples")
	}
	p := &PPD{Header: h, Analog: make([][]float64, h.NAnalog), Digital: make([][]bool, h.NDigital)}
	for a := range p.Analog {
		p.Analog[a] = make([]float64, ns)
	}
	for d := range p.Digital {
		p.Digital[d] = make([]bool, ns)
	}
	word := func(i int) uint16 { return binary.LittleEndian.Uint16(data[2*i:]) }
	for i := 0; i < ns; i++ {
		base := i * fw
		for a := 0; a < h.NAnalog; a++ {
			vpd := h.VoltsPerDivision[a]
			if h.Paired {
				on, off := word(base+2*a), word(base+2*a+1)
				p.Analog[a][i] = float64(on>>1)*vpd - float64(off>>1)*vpd
				if a < h.NDigital {
					p.Digital[a][i] = on&1 == 1
				}
			} else {
				w := word(base + a)
				p.Analog[a][i] = float64(w>>1) * vpd
				if a < h.NDigital {
					p.Digital[a][i] = w&1 == 1
				}
			}
		}
	}
	return p, nil
}

// ppdFiles lists the .ppd files of dir, sorted.
func ppdFiles(dir string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, "*.ppd"))
	sort.Strings(m)
	return m
}

func openPPDPhotometry(dir string, cfg *Config) (*Photometry, []Event, error) {
	pc := cfg.Photometry
	var path string
	if pc.File != "" {
		path = filepath.Join(dir, pc.File)
	} else {
		files := ppdFiles(dir)
		switch len(files) {
		case 0:
			return nil, nil, fmt.Errorf("session %s: no .ppd file", dir)
		case 1:
			path = files[0]
		default:
			for i := range files {
				files[i] = filepath.Base(files[i])
			}
			return nil, nil, fmt.Errorf("session %s: several .ppd files (%s): set photometry.file in session.yaml", dir, strings.Join(files, ", "))
		}
	}
	p, err := ReadPPD(path)
	if err != nil {
		return nil, nil, err
	}
	h := p.Header
	sigCh, ctlCh := pc.SignalChannel, pc.ControlChannel
	if sigCh == 0 {
		sigCh = 1
	}
	if ctlCh == 0 && !pc.NoControl {
		ctlCh = 2
		if sigCh == 2 {
			ctlCh = 1
		}
	}
	cfgPath := filepath.Join(dir, ConfigFile)
	if sigCh < 1 || sigCh > h.NAnalog {
		return nil, nil, fmt.Errorf("%s: photometry.signal_channel %d: %s has analog channels 1-%d", cfgPath, sigCh, path, h.NAnalog)
	}
	if !pc.NoControl && (ctlCh < 1 || ctlCh > h.NAnalog || ctlCh == sigCh) {
		return nil, nil, fmt.Errorf("%s: photometry.control_channel %d: %s has analog channels 1-%d and the signal is channel %d", cfgPath, ctlCh, path, h.NAnalog, sigCh)
	}
	out := &Photometry{
		Time:       p.Times(),
		Signal:     p.Analog[sigCh-1],
		RateHz:     h.RateHz,
		Source:     path,
		SignalName: fmt.Sprintf("analog_%d", sigCh),
		Notes: []string{fmt.Sprintf("%s: pyPhotometry %s, mode %q, %d samples at %g Hz", filepath.Base(path),
			h.Version, h.Mode, p.Len(), h.RateHz)},
	}
	if !pc.NoControl {
		out.Control = p.Analog[ctlCh-1]
		out.ControlName = fmt.Sprintf("analog_%d", ctlCh)
	}
	var events []Event
	if d := cfg.Events.DigitalChannel; d != 0 {
		if d < 1 || d > h.NDigital {
			return nil, nil, fmt.Errorf("%s: events.digital_channel %d: %s has digital inputs 1-%d", cfgPath, d, path, h.NDigital)
		}
		label := fmt.Sprintf("digital_%d", d)
		if cfg.Events.Label != "" && cfg.Events.File == "" {
			label = cfg.Events.Label
		}
		for _, t := range p.RisingEdges(d) {
			events = append(events, Event{Time: t, Label: label})
		}
		out.Notes = append(out.Notes, fmt.Sprintf("%s: %d events (%s) from rising edges of digital_%d", filepath.Base(path), len(events), label, d))
	}
	return out, events, nil
}
