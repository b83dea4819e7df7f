package recording

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/goccy/go-yaml"
)

// ConfigFile is the name of a session's optional settings file.
const ConfigFile = "session.yaml"

// LoadConfig reads a session.yaml. Unknown keys are errors (a misspelt key would
// otherwise be silently ignored) and every error names the file, line and column.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseConfig(path, data)
}

// ParseConfig parses session.yaml content; path is used in error messages.
func ParseConfig(path string, data []byte) (*Config, error) {
	cfg := &Config{}
	data = []byte(strings.TrimPrefix(string(data), "\ufeff"))
	if strings.TrimSpace(string(data)) != "" {
		if err := yaml.UnmarshalWithOptions(data, cfg, yaml.Strict()); err != nil {
			return nil, fmt.Errorf("%s: %s", path, yaml.FormatError(err, false, false))
		}
	}
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return cfg, nil
}

// check rejects values that parse but make no sense.
func (c *Config) check() error {
	if c.SampleRateHz < 0 || math.IsNaN(c.SampleRateHz) || math.IsInf(c.SampleRateHz, 0) {
		return fmt.Errorf("sample_rate %v: want a positive number of Hz", c.SampleRateHz)
	}
	if math.IsNaN(c.ClockOffsetSeconds) || math.IsInf(c.ClockOffsetSeconds, 0) {
		return errors.New("clock_offset_s must be a finite number of seconds")
	}
	if c.BlockSeconds < 0 || math.IsNaN(c.BlockSeconds) || math.IsInf(c.BlockSeconds, 0) {
		return fmt.Errorf("block_s %v: want a positive number of seconds", c.BlockSeconds)
	}
	if c.WindowSeconds != nil {
		w := c.WindowSeconds
		if len(w) != 2 || !(w[0] >= 0 && w[1] > w[0]) || math.IsInf(w[1], 0) {
			return fmt.Errorf("window_s %v: want [start, end] seconds with 0 <= start < end", w)
		}
	}
	for _, k := range c.Keep {
		if strings.TrimSpace(k) == "" {
			return errors.New("keep: empty label")
		}
	}
	// Files must stay inside the session folder: the pipeline hashes that folder to
	// decide whether a session changed, so a file elsewhere could change unseen.
	for _, f := range []struct{ key, path string }{{"photometry.file", c.Photometry.File}, {"events.file", c.Events.File}} {
		if f.path != "" && !filepath.IsLocal(f.path) {
			return fmt.Errorf("%s %q: name a file inside the session folder (absolute paths and .. are not allowed: the folder's content is what the cache tracks)", f.key, f.path)
		}
	}
	if c.Photometry.NoControl && c.Photometry.ControlCol != "" {
		return errors.New("photometry: both no_control and control_col are set")
	}
	return nil
}

// KeepLabels is the list of unit labels to keep (["good"] by default).
func (c *Config) KeepLabels() []string {
	if len(c.Keep) == 0 {
		return []string{"good"}
	}
	return c.Keep
}
