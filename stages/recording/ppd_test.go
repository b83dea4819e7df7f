package recording

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio"
)

// ppdBytes builds a .ppd file: uint16 header length, header, <u2 words.
func ppdBytes(header string, words []uint16) []byte {
	b := binary.LittleEndian.AppendUint16(nil, uint16(len(header)))
	b = append(b, header...)
	for _, w := range words {
		b = binary.LittleEndian.AppendUint16(b, w)
	}
	return b
}

// ppdWord packs a 15-bit analog value and a digital bit.
func ppdWord(analog uint16, digital bool) uint16 {
	w := analog << 1
	if digital {
		w |= 1
	}
	return w
}

const ppdRealFile = "m53_NAc_L-2019-11-24-093939.ppd"

// Acceptance 2 (import part): facts of pyphotometry_ppd from the data README,
// and the digital_1 rising edges against reward_cue_times.npy.
func TestPPDReal(t *testing.T) {
	dir := fmtRealData(t, "pyphotometry_ppd")
	p, err := ReadPPD(filepath.Join(dir, ppdRealFile))
	if err != nil {
		t.Fatal(err)
	}
	h := p.Header
	if p.Len() != 705249 || h.RateHz != 130 || h.Mode != "2 colour time div." || h.Version != "0.2" ||
		h.VersionParts != [3]int{0, 2, 0} || h.NAnalog != 2 || h.NDigital != 2 || h.Paired {
		t.Fatalf("%d samples, header %+v; the README says 705,249 samples at 130 Hz, 2 colour time div., version 0.2", p.Len(), h)
	}
	if !slices.Equal(h.VoltsPerDivision, []float64{0.00010122, 0.00010122}) {
		t.Errorf("volts_per_division %v", h.VoltsPerDivision)
	}
	mean := func(x []float64) float64 {
		s := 0.0
		for _, v := range x {
			s += v
		}
		return s / float64(len(x))
	}
	// README: analog_1 (dLight) ~1.478 V mean, analog_2 (tdTomato) ~1.449 V
	// (numpy gives 1.47805 and 1.44915).
	if m1, m2 := mean(p.Analog[0]), mean(p.Analog[1]); math.Abs(m1-1.47805) > 5e-5 || math.Abs(m2-1.44915) > 5e-5 {
		t.Errorf("channel means %.5f %.5f V, want 1.47805 1.44915", m1, m2)
	}

	edges := p.RisingEdges(1)
	f, err := os.Open(filepath.Join(dir, "reward_cue_times.npy"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cues []float64
	if err := npyio.Read(f, &cues); err != nil {
		t.Fatal(err)
	}
	if len(edges) != 137 || len(cues) != 137 {
		t.Fatalf("%d rising edges on digital_1 and %d cue times, the README says 137 of each", len(edges), len(cues))
	}
	// The cue times are on another clock: each rising edge comes 0.4982-0.5113 s
	// after its cue (numpy on the same files), i.e. a constant offset of about
	// 0.505 s up to the 1/130 s quantisation of the edges. So "match" means: the
	// same count, and edge - cue constant to within one sample.
	d := make([]float64, len(edges))
	for i := range edges {
		d[i] = edges[i] - cues[i]
	}
	sort.Float64s(d)
	med := d[len(d)/2]
	t.Logf("edge - cue: min %.4f median %.4f max %.4f s", d[0], med, d[len(d)-1])
	if d[0] < 0.4982-1e-4 || d[len(d)-1] > 0.5113+1e-4 || d[len(d)-1]-med > 1/130.0 || med-d[0] > 1/130.0 {
		t.Errorf("edge - cue spans %.4f-%.4f s around %.4f: not a constant offset to within one sample", d[0], d[len(d)-1], med)
	}

	// Through the format, with events from digital_1.
	sdir := fmtSession(t, "", filepath.Join(dir, ppdRealFile))
	cfg := &Config{Events: EventsConfig{DigitalChannel: 1, Label: "reward_cue"}}
	ph, ev, err := openPPDPhotometry(sdir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(ph.Time) != 705249 || ph.Time[130] != 1 || ph.SignalName != "analog_1" || ph.ControlName != "analog_2" || ph.RateHz != 130 || len(ev) != 137 || ev[0].Label != "reward_cue" || ev[0].Time != edges[0] {
		t.Errorf("photometry %q/%q at %v Hz, %d samples, %d events (first %+v)", ph.SignalName, ph.ControlName, ph.RateHz, len(ph.Time), len(ev), ev[0])
	}
}

// Synthetic files of every header generation and mode, values chosen so that
// each channel and each digital input is told apart.
func TestPPDLayouts(t *testing.T) {
	const vpd = 0.5
	for _, tc := range []struct {
		name, header string
		words        []uint16
		analog       [][]float64
		digital      [][]bool
	}{
		{
			name:   "v0.2 two channels, per-channel volts",
			header: `{"mode": "2 colour continuous", "sampling_rate": 10, "volts_per_division": [0.5, 0.25], "version": 0.2}`,
			words:  []uint16{ppdWord(2, true), ppdWord(4, false), ppdWord(6, false), ppdWord(8, true)},
			analog: [][]float64{{1, 3}, {1, 2}}, digital: [][]bool{{true, false}, {false, true}},
		},
		{
			name:   "v1.0 continuous",
			header: `{"mode": "2EX_2EM_continuous", "sampling_rate": 10, "volts_per_division": [0.5], "version": "1.0", "n_analog_signals": 2, "n_digital_signals": 2}`,
			words:  []uint16{ppdWord(2, false), ppdWord(4, true), ppdWord(6, true), ppdWord(8, true)},
			analog: [][]float64{{1, 3}, {2, 4}}, digital: [][]bool{{false, true}, {true, true}},
		},
		{
			name:   "v1.0 pulsed: baseline already subtracted",
			header: `{"mode": "2EX_1EM_pulsed", "sampling_rate": 10, "volts_per_division": [0.5, 0.5], "version": "1.0.2", "n_analog_signals": 2, "n_digital_signals": 2}`,
			words:  []uint16{ppdWord(2, true), ppdWord(4, false)},
			analog: [][]float64{{1}, {2}}, digital: [][]bool{{true}, {false}},
		},
		{
			name:   "v1.1 pulsed: LED-on and baseline words",
			header: `{"mode": "2EX_2EM_pulsed", "sampling_rate": 10, "volts_per_division": [0.5, 0.5], "version": "1.1", "n_analog_signals": 2, "n_digital_signals": 2}`,
			// on1 off1 on2 off2 | ...; digital bits of the off words are noise
			words:  []uint16{ppdWord(10, true), ppdWord(2, false), ppdWord(20, false), ppdWord(4, true), ppdWord(12, false), ppdWord(2, true), ppdWord(21, true), ppdWord(1, false)},
			analog: [][]float64{{4, 5}, {8, 10}}, digital: [][]bool{{true, false}, {false, true}},
		},
		{
			name:   "v1.1 three colours, one digital input",
			header: `{"mode": "3EX_2EM_pulsed", "sampling_rate": 10, "volts_per_division": [0.5, 0.5, 0.5], "version": "1.1.0", "n_analog_signals": 3, "n_digital_signals": 1}`,
			words:  []uint16{ppdWord(10, true), ppdWord(2, false), ppdWord(20, true), ppdWord(4, false), ppdWord(30, true), ppdWord(6, false)},
			analog: [][]float64{{4}, {8}, {12}}, digital: [][]bool{{true}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := DecodePPD(ppdBytes(tc.header, tc.words))
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Analog) != len(tc.analog) || len(p.Digital) != len(tc.digital) {
				t.Fatalf("%d analog and %d digital channels, want %d and %d", len(p.Analog), len(p.Digital), len(tc.analog), len(tc.digital))
			}
			for a := range tc.analog {
				if !slices.Equal(p.Analog[a], tc.analog[a]) {
					t.Errorf("analog_%d = %v, want %v", a+1, p.Analog[a], tc.analog[a])
				}
			}
			for d := range tc.digital {
				if !slices.Equal(p.Digital[d], tc.digital[d]) {
					t.Errorf("digital_%d = %v, want %v", d+1, p.Digital[d], tc.digital[d])
				}
			}
		})
	}
}

func TestPPDRisingEdges(t *testing.T) {
	h := `{"mode": "2 colour continuous", "sampling_rate": 4, "volts_per_division": [1, 1], "version": "0.3.3"}`
	// digital_1: 1 1 0 1 1 0 0 1: a high first sample is not an edge (no
	// preceding low), edges at samples 3 and 7.
	bits := []bool{true, true, false, true, true, false, false, true}
	var words []uint16
	for _, b := range bits {
		words = append(words, ppdWord(1, b), ppdWord(1, false))
	}
	p, err := DecodePPD(ppdBytes(h, words))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.RisingEdges(1); !slices.Equal(got, []float64{0.75, 1.75}) {
		t.Errorf("edges %v, want [0.75 1.75]", got)
	}
	if got := p.RisingEdges(2); len(got) != 0 {
		t.Errorf("digital_2 edges %v, want none", got)
	}
}

// Bad files: every error names the problem (and ReadPPD the file).
func TestPPDBadInput(t *testing.T) {
	good := `{"mode": "2 colour continuous", "sampling_rate": 10, "volts_per_division": [1, 1], "version": 0.2}`
	two := []uint16{2, 4, 6, 8}
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "not a .ppd file"},
		{"header longer than the file", append([]byte{200, 0}, "{}"...), "truncated .ppd file: the header is 200 bytes"},
		{"odd data bytes", append(ppdBytes(good, two), 7), "not a whole number of 2-byte samples"},
		{"partial frame", ppdBytes(good, []uint16{2, 4, 6}), "3 samples after the header, not a whole number of 2-word frames"},
		{"no samples", ppdBytes(good, nil), "no samples"},
		{"binary header", ppdBytes("\x01\x02subject", two), "header is not JSON"},
		{"broken JSON", ppdBytes(`{"mode": "2 colour continuous",`, two), "header is not valid JSON"},
		{"no version", ppdBytes(`{"mode": "2 colour continuous", "sampling_rate": 10, "volts_per_division": [1]}`, two), `no "version"`},
		{"version not a number", ppdBytes(`{"mode": "2 colour continuous", "sampling_rate": 10, "volts_per_division": [1], "version": "beta"}`, two), `version "beta" is not a version number`},
		{"version an object", ppdBytes(`{"mode": "2 colour continuous", "sampling_rate": 10, "volts_per_division": [1], "version": {}}`, two), "want a number or a string"},
		{"unknown mode", ppdBytes(`{"mode": "4 colour magic", "sampling_rate": 10, "volts_per_division": [1], "version": 0.2}`, two), `mode "4 colour magic" is not a mode of pyPhotometry 0.2 files`},
		{"old mode in a v1 file", ppdBytes(`{"mode": "2 colour continuous", "sampling_rate": 10, "volts_per_division": [1], "version": "1.0", "n_analog_signals": 2, "n_digital_signals": 2}`, two), "known: 2EX_2EM_continuous"},
		{"v1 without channel counts", ppdBytes(`{"mode": "2EX_2EM_continuous", "sampling_rate": 10, "volts_per_division": [1], "version": "1.0"}`, two), `no "n_analog_signals"`},
		{"four analog channels", ppdBytes(`{"mode": "2EX_2EM_continuous", "sampling_rate": 10, "volts_per_division": [1], "version": "1.0", "n_analog_signals": 4, "n_digital_signals": 2}`, two), "n_analog_signals 4: want 2 or 3"},
		{"mode and channels disagree", ppdBytes(`{"mode": "3EX_2EM_pulsed", "sampling_rate": 10, "volts_per_division": [1], "version": "1.1", "n_analog_signals": 2, "n_digital_signals": 1}`, two), "3EX_2EM_pulsed records 3 signals"},
		{"zero rate", ppdBytes(`{"mode": "2 colour continuous", "sampling_rate": 0, "volts_per_division": [1], "version": 0.2}`, two), "sampling_rate 0"},
		{"rate a string", ppdBytes(`{"mode": "2 colour continuous", "sampling_rate": "130", "volts_per_division": [1], "version": 0.2}`, two), `"sampling_rate" is "130", want a number`},
		{"negative volts", ppdBytes(`{"mode": "2 colour continuous", "sampling_rate": 10, "volts_per_division": [1, -1], "version": 0.2}`, two), "volts_per_division[1] = -1"},
		{"no volts", ppdBytes(`{"mode": "2 colour continuous", "sampling_rate": 10, "volts_per_division": [], "version": 0.2}`, two), "want a list of numbers"},
	} {
		_, err := DecodePPD(tc.b)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	path := filepath.Join(t.TempDir(), "cut.ppd")
	if err := os.WriteFile(path, ppdBytes(good, []uint16{1, 2, 3}), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPPD(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("ReadPPD error %v does not name the file", err)
	}
}

func TestPPDChannelsFromConfig(t *testing.T) {
	h := `{"mode": "3EX_2EM_pulsed", "sampling_rate": 10, "volts_per_division": [1], "version": "1.0", "n_analog_signals": 3, "n_digital_signals": 1}`
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.ppd"), ppdBytes(h, []uint16{ppdWord(1, false), ppdWord(2, false), ppdWord(3, false)}), 0o644); err != nil {
		t.Fatal(err)
	}
	p, _, err := openPPDPhotometry(dir, &Config{Photometry: PhotometryConfig{SignalChannel: 3, ControlChannel: 1}})
	if err != nil || p.Signal[0] != 3 || p.Control[0] != 1 || p.SignalName != "analog_3" || p.ControlName != "analog_1" {
		t.Fatalf("signal 3 / control 1: %+v %v", p, err)
	}
	p, _, err = openPPDPhotometry(dir, &Config{Photometry: PhotometryConfig{SignalChannel: 2, NoControl: true}})
	if err != nil || p.Signal[0] != 2 || p.Control != nil {
		t.Fatalf("no control: %+v %v", p, err)
	}
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Photometry: PhotometryConfig{SignalChannel: 4}}, "signal_channel 4"},
		{Config{Photometry: PhotometryConfig{SignalChannel: 1, ControlChannel: 1}}, "control_channel 1"},
		{Config{Events: EventsConfig{DigitalChannel: 2}}, "digital_channel 2"},
	} {
		if _, _, err := openPPDPhotometry(dir, &tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "b.ppd"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := openPPDPhotometry(dir, &Config{}); err == nil || !strings.Contains(err.Error(), "several .ppd files (a.ppd, b.ppd)") {
		t.Errorf("two files: %v", err)
	}
}

// FuzzPPDHeader: any header bytes either parse into a header that decodes a
// frame of samples consistently, or give an error; never a panic.
func FuzzPPDHeader(f *testing.F) {
	f.Add([]byte(`{"subject_ID": "m53_NAc_L", "date_time": "2019-11-24T09:39:39", "mode": "2 colour time div.", "sampling_rate": 130, "volts_per_division": [0.00010122, 0.00010122], "LED_current": [100, 40], "version": 0.2}`))
	f.Add([]byte(`{"mode": "2EX_2EM_pulsed", "sampling_rate": 10, "volts_per_division": [0.5], "version": "1.1", "n_analog_signals": 2, "n_digital_signals": 2}`))
	f.Add([]byte(`{"mode": "3EX_2EM_pulsed", "sampling_rate": 1e3, "volts_per_division": [1, 2, 3], "version": "1.1.0", "n_analog_signals": 3, "n_digital_signals": 1}`))
	f.Add([]byte(`{"mode": "2 colour continuous", "sampling_rate": 10, "volts_per_division": [1], "version": "0.3.3rc1"}`))
	f.Add([]byte(`{"version": [1, 2]}`))
	f.Add([]byte("\x00\x01binary"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParsePPDHeader(b)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if !(h.RateHz > 0) || h.NAnalog < 2 || h.NAnalog > 3 || h.NDigital < 1 || h.NDigital > h.NAnalog || len(h.VoltsPerDivision) < h.NAnalog {
			t.Fatalf("inconsistent header %+v", h)
		}
		// Two frames of data decode into two samples per channel.
		words := make([]uint16, 2*h.FrameWords())
		for i := range words {
			words[i] = uint16(i*7919) | 1
		}
		if len(b) > 0xFFFF {
			return
		}
		p, err := DecodePPD(ppdBytes(string(b), words))
		if err != nil {
			t.Fatalf("valid header, two frames: %v", err)
		}
		if p.Len() != 2 || len(p.Digital) != h.NDigital || len(p.Digital[0]) != 2 {
			t.Fatalf("decoded %d samples, %d digital inputs", p.Len(), len(p.Digital))
		}
	})
}
