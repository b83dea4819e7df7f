package cache

import (
	"encoding/json"
	"path/filepath"
	"time"

	"github.com/spf13/afero"
)

// Ref is the last commit of one (stage, item): its key and the components it was
// computed from, so that a task whose key changed can say which component did.
type Ref struct {
	Key        string     `json:"key"`
	Components Components `json:"components"`
	// ParamValues are the params flattened to dotted path -> canonical value, for
	// `run why` to name the params that changed.
	ParamValues map[string]string `json:"param_values,omitempty"`
	Committed   time.Time         `json:"committed"`
}

func (s *Store) refPath(stage, item string) string {
	return filepath.Join(s.root, dirRefs, stage, HashBytes([]byte(item))[:20]+".json")
}

// WriteRef records the last commit of (stage, item).
func (s *Store) WriteRef(r *Ref) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(s.fs, s.refPath(r.Components.Stage, r.Components.Item), append(b, '\n'), 0o644)
}

// ReadRef returns the last commit of (stage, item), or nil if there is none (or it
// is unreadable: a ref only explains staleness, it never decides it).
func (s *Store) ReadRef(stage, item string) *Ref {
	b, err := afero.ReadFile(s.fs, s.refPath(stage, item))
	if err != nil {
		return nil
	}
	var r Ref
	if json.Unmarshal(b, &r) != nil || r.Components.Stage != stage || r.Components.Item != item {
		return nil
	}
	return &r
}
