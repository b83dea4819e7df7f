package cache

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"github.com/spf13/afero"
)

// ManifestSchema versions the manifest format.
const ManifestSchema = "nmdyn-manifest-v1"

// Manifest is a committed task: its key, what the key was computed from, its
// outputs and where and how it ran. It is written after all its objects, so a
// manifest that exists names only complete objects.
type Manifest struct {
	Schema     string     `json:"schema"`
	Key        string     `json:"key"`
	Components Components `json:"components"`
	Outputs    []Output   `json:"outputs"` // sorted by name
	Provenance Provenance `json:"provenance"`
	Log        []string   `json:"log,omitempty"`
	// Check is the sha256 of the manifest's JSON with Check empty: a flipped byte
	// in a manifest is detected like one in an object.
	Check string `json:"check"`
}

// Output is one named output of a task.
type Output struct {
	Name string `json:"name"` // with its extension, e.g. "counts.parquet"
	Object
}

// Provenance records how a task ran.
type Provenance struct {
	Executor string    `json:"executor"`
	Host     string    `json:"host"`
	PID      int       `json:"pid"`
	JobID    string    `json:"job_id,omitempty"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	// WallSeconds is End - Start.
	WallSeconds float64 `json:"wall_seconds"`
	// PeakRSSBytes is getrusage's maximum resident set size of the process that
	// ran the task. For the in-process executor that process is the whole run,
	// so the figure is process-wide (an upper bound for the task), as
	// PeakRSSScope says.
	PeakRSSBytes int64  `json:"peak_rss_bytes"`
	PeakRSSScope string `json:"peak_rss_scope"`
	Threads      int    `json:"threads"`
	Version      string `json:"nmdyn_version"`
	GoVersion    string `json:"go_version"`
}

// Output returns the named output.
func (m *Manifest) Output(name string) (Output, bool) {
	i := sort.Search(len(m.Outputs), func(i int) bool { return m.Outputs[i].Name >= name })
	if i < len(m.Outputs) && m.Outputs[i].Name == name {
		return m.Outputs[i], true
	}
	return Output{}, false
}

// Names lists the outputs' names, sorted.
func (m *Manifest) Names() []string {
	out := make([]string, len(m.Outputs))
	for i, o := range m.Outputs {
		out[i] = o.Name
	}
	return out
}

func (m *Manifest) check() (string, error) {
	c := *m
	c.Check = ""
	b, err := json.Marshal(&c)
	if err != nil {
		return "", err
	}
	return HashBytes(b), nil
}

func (s *Store) manifestPath(key string) string {
	return filepath.Join(s.root, dirManifests, shard(key), key+".json")
}

// ManifestPath is where the manifest of a task key lives.
func (s *Store) ManifestPath(key string) string { return s.manifestPath(key) }

// HasManifest tells whether a task key is committed, with one stat and no read:
// what `run status` needs.
func (s *Store) HasManifest(key string) bool {
	_, err := s.fs.Stat(s.manifestPath(key))
	return err == nil
}

// CommitManifest commits a task. Every output object must exist already (they are
// checked by size): the manifest is the commit point of the task.
func (s *Store) CommitManifest(m *Manifest) error {
	if !validHash(m.Key) {
		return fmt.Errorf("cache: bad task key %q", m.Key)
	}
	m.Schema = ManifestSchema
	sort.Slice(m.Outputs, func(i, j int) bool { return m.Outputs[i].Name < m.Outputs[j].Name })
	for i, o := range m.Outputs {
		if i > 0 && m.Outputs[i-1].Name == o.Name {
			return fmt.Errorf("cache: task %s: output %q twice", short(m.Key), o.Name)
		}
		if !s.HasObject(o.Object) {
			return fmt.Errorf("cache: task %s: output %q: object %s missing", short(m.Key), o.Name, short(o.Hash))
		}
	}
	c, err := m.check()
	if err != nil {
		return err
	}
	m.Check = c
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(s.fs, s.manifestPath(m.Key), append(b, '\n'), 0o444)
}

// ReadManifest reads the manifest of a task key. A missing manifest gives an error
// wrapping fs.ErrNotExist; a damaged one (bad JSON, wrong check, wrong key) is
// quarantined and gives an *IntegrityError.
func (s *Store) ReadManifest(key string) (*Manifest, error) {
	p := s.manifestPath(key)
	b, err := afero.ReadFile(s.fs, p)
	if err != nil {
		return nil, err
	}
	bad := func(msg string) error {
		e := &IntegrityError{What: "manifest", Name: key, Path: p, Msg: msg}
		if q, err := s.quarantine(p, key+".json"); err == nil {
			e.Msg += "; moved to " + q
		}
		return e
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, bad(err.Error())
	}
	if m.Key != key {
		return nil, bad("it names key " + short(m.Key))
	}
	if c, err := m.check(); err != nil || c != m.Check {
		return nil, bad("check sum mismatch")
	}
	return &m, nil
}

// DeleteManifest uncommits a task (its objects stay until gc): the engine does
// this when one of its objects is found corrupted, so the task reruns.
func (s *Store) DeleteManifest(key string) error {
	err := s.fs.Remove(s.manifestPath(key))
	if notExist(err) {
		return nil
	}
	return err
}
