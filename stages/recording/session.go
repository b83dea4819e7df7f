// Package recording is the session format of nmdyn: what a session folder may hold
// (spikes, photometry, events, session.yaml) and the importers that read each accepted
// form into one Session, with clear errors naming the file and the problem.
package recording

// Unit is one sorted cluster.
type Unit struct {
	ID    int64
	Label string // good, mua, noise or unsorted (or whatever the sorter wrote)
	// Spikes is the number of spikes of this unit (filled by the importer).
	Spikes int64
}

// SpikeSource streams spikes in chunks, in time order, so that memory need not grow
// with the number of spikes. Scan may be called more than once.
type SpikeSource interface {
	// Scan calls fn with consecutive chunks: unit ids and spike times in seconds
	// (on the spike clock, clock offsets already applied), sorted by time across
	// chunks. The slices are only valid during the call.
	Scan(fn func(units []int64, times []float64) error) error
	// Describe names the files the spikes come from, for error messages.
	Describe() string
}

// Photometry is a fiber photometry recording on the spike clock.
type Photometry struct {
	Time    []float64 // seconds, increasing
	Signal  []float64 // the sensor channel (e.g. 470 nm, GRAB-NE)
	Control []float64 // isosbestic or control channel; nil when there is none
	RateHz  float64   // nominal sampling rate
	Source  string    // file it came from
	// SignalName and ControlName say which channel is which (e.g. "Region1G 470nm").
	SignalName, ControlName string
	// Notes are facts about the trace for the user (e.g. frames dropped); Open
	// adds them to Session.Notes.
	Notes []string
}

// Event is one behavioural event.
type Event struct {
	Time  float64
	Label string
}

// Session is an imported session.
type Session struct {
	ID         string
	Dir        string
	Units      []Unit // every unit found, with labels; selection happens in preprocessing
	Spikes     SpikeSource
	Photometry *Photometry // nil when the session has no photometry
	Events     []Event     // sorted by time
	// StartSeconds and EndSeconds span the spike recording.
	StartSeconds, EndSeconds float64
	// Keep lists the unit labels to keep (from session.yaml; default ["good"]).
	Keep []string
	// BlockSeconds is session.yaml's block_s (0 when not set): it overrides
	// preprocess.block_s for this session.
	BlockSeconds float64
	// Notes are facts the importer wants the user to see (e.g. "no control channel:
	// bleaching correction only").
	Notes []string
}

// Config is a session's session.yaml: everything the files themselves do not say.
// Every field is optional.
type Config struct {
	ID string `yaml:"id"`
	// SampleRateHz converts Kilosort spike_times (samples) to seconds when the
	// folder has no params.py.
	SampleRateHz float64 `yaml:"sample_rate"`
	// Keep lists the unit labels to keep; default ["good"].
	Keep []string `yaml:"keep"`
	// ClockOffsetSeconds is added to photometry and event times to put them on the
	// spike clock.
	ClockOffsetSeconds float64          `yaml:"clock_offset_s"`
	Photometry         PhotometryConfig `yaml:"photometry"`
	Events             EventsConfig     `yaml:"events"`
	// BlockSeconds, when set, overrides preprocess.block_s for this session (short
	// recordings need short blocks).
	BlockSeconds float64 `yaml:"block_s"`
	// WindowSeconds, when set, keeps only [start, end] of the recording (seconds on
	// the spike clock), e.g. to cut a long photometry file to the spikes' length.
	WindowSeconds []float64 `yaml:"window_s"`
}

// PhotometryConfig says where the photometry is and which channel is which.
type PhotometryConfig struct {
	File       string `yaml:"file"`        // relative to the session folder; found by extension when empty
	TimeCol    string `yaml:"time_col"`    // table formats: default "time"
	SignalCol  string `yaml:"signal_col"`  // default "signal"
	ControlCol string `yaml:"control_col"` // default "control"; "" with NoControl
	NoControl  bool   `yaml:"no_control"`
	// Region is the Neurophotometrics region column (e.g. Region1G).
	Region string `yaml:"region"`
	// SignalLED and ControlLED are Neurophotometrics LED codes (Flags & 7) or
	// wavelengths in nm (470 / 415); defaults 470 nm signal, 415 nm control.
	SignalLED  int `yaml:"signal_led"`
	ControlLED int `yaml:"control_led"`
	// SignalChannel and ControlChannel are 1-based analog channels (pyPhotometry);
	// defaults 1 and 2.
	SignalChannel  int `yaml:"signal_channel"`
	ControlChannel int `yaml:"control_channel"`
	// Series names NWB series to use as signal and control when names or
	// wavelengths do not tell.
	SignalSeries  string `yaml:"signal_series"`
	ControlSeries string `yaml:"control_series"`
}

// EventsConfig says where behavioural events are when not in events.parquet/.csv.
type EventsConfig struct {
	File  string `yaml:"file"`  // e.g. reward_cue_times.npy (seconds) or a table
	Label string `yaml:"label"` // label for a file of bare times
	// DigitalChannel takes events from rising edges of a photometry digital input
	// (pyPhotometry digital_1 = 1).
	DigitalChannel int `yaml:"digital_channel"`
}

// SpikeFormat recognises and opens one way of storing spikes in a session folder.
// Formats register themselves (RegisterSpikeFormat in an init function of their file)
// and are tried in registration order of priority (lower Priority first).
type SpikeFormat struct {
	Name     string
	Priority int
	// Detect is a quick check on the folder's file names.
	Detect func(dir string) bool
	// Open reads the units and returns a streaming spike source and the span of
	// the recording in seconds.
	Open func(dir string, cfg *Config) (units []Unit, src SpikeSource, start, end float64, err error)
}

// PhotometryFormat recognises and opens one photometry export in a session folder.
type PhotometryFormat struct {
	Name     string
	Priority int
	Detect   func(dir string, cfg *Config) bool
	// Open returns the trace (on the photometry clock: the caller applies the
	// clock offset) and any events the file carries (e.g. digital inputs).
	Open func(dir string, cfg *Config) (*Photometry, []Event, error)
}

var (
	spikeFormats      []SpikeFormat
	photometryFormats []PhotometryFormat
)

// RegisterSpikeFormat adds a spike format.
func RegisterSpikeFormat(f SpikeFormat) { spikeFormats = append(spikeFormats, f) }

// RegisterPhotometryFormat adds a photometry format.
func RegisterPhotometryFormat(f PhotometryFormat) {
	photometryFormats = append(photometryFormats, f)
}
