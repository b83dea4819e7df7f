package dag

import (
	"fmt"
	"sort"
	"strings"

	"nmdyn/cache"
)

// Status is whether a task is fresh, and if not, why.
type Status struct {
	Task    *Task
	Fresh   bool
	Reasons []string   // params, code, input, upstream, schema or missing
	Last    *cache.Ref // the last commit of this (stage, item); nil if none
}

// Status decides every task's freshness from keys alone: a task is fresh when a
// manifest for its key exists (one stat, no read). A stale task's reasons come
// from comparing its key components with those of the last commit of the same
// (stage, item).
func (p *Plan) Status() []Status {
	out := make([]Status, len(p.Tasks))
	for i, t := range p.Tasks {
		out[i] = p.status(t)
	}
	return out
}

func (p *Plan) status(t *Task) Status {
	st := Status{Task: t}
	if p.e.Store.HasManifest(t.Key) {
		st.Fresh = true
		return st
	}
	st.Last = p.e.Store.ReadRef(t.Stage.Name, t.ItemText)
	if st.Last != nil && st.Last.Key != t.Key {
		st.Reasons = t.Components.Changed(&st.Last.Components)
	}
	if len(st.Reasons) == 0 {
		st.Reasons = []string{cache.ReasonMissing}
	}
	return st
}

// Why explains a task's status component by component: a line per component
// (params, code, input, upstream) saying whether it changed since the last
// commit of the task (stage and item) and how. A fresh task is compared with the
// commit of its own key, so every component reads "same".
func (p *Plan) Why(t *Task) (Status, []string) {
	st := p.status(t)
	last := st.Last
	if st.Fresh {
		// Compare with the commit of this very key (a later commit of the same
		// task with other params does not make this one less fresh).
		if m, err := p.e.Store.ReadManifest(t.Key); err == nil {
			last = &cache.Ref{Key: t.Key, Components: m.Components, ParamValues: t.ParamValues, Committed: m.Provenance.End}
		}
	}
	if last == nil {
		return st, []string{"never committed in this cache"}
	}
	var lines []string
	c, o := &t.Components, &last.Components
	// params
	if c.Params == o.Params {
		lines = append(lines, "params    same")
	} else {
		var diffs []string
		for k, v := range t.ParamValues {
			if ov, ok := last.ParamValues[k]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s: (none) -> %s", k, v))
			} else if ov != v {
				diffs = append(diffs, fmt.Sprintf("%s: %s -> %s", k, ov, v))
			}
		}
		for k, ov := range last.ParamValues {
			if _, ok := t.ParamValues[k]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s: %s -> (none)", k, ov))
			}
		}
		sort.Strings(diffs)
		lines = append(lines, "params    CHANGED: "+strings.Join(diffs, "; "))
	}
	// code
	if c.Code == o.Code {
		lines = append(lines, fmt.Sprintf("code      same (%.12s)", c.Code))
	} else {
		lines = append(lines, fmt.Sprintf("code      CHANGED: %.12s -> %.12s (the Go source of the stage's package or of an in-module package it imports, a module version, or the Go version)", o.Code, c.Code))
	}
	// input files
	if slicesEqualFiles(c.Files, o.Files) {
		if len(c.Files) == 0 {
			lines = append(lines, "input     none")
		} else {
			lines = append(lines, "input     same")
		}
	} else {
		var diffs []string
		old := map[string]cache.FileHash{}
		for _, f := range o.Files {
			old[f.Param] = f
		}
		for _, f := range c.Files {
			if of, ok := old[f.Param]; !ok || of.Hash != f.Hash {
				diffs = append(diffs, fmt.Sprintf("%s (%s): content changed", f.Param, f.Path))
			}
		}
		lines = append(lines, "input     CHANGED: "+strings.Join(diffs, "; "))
	}
	// upstream
	if equalUpstream(c.Upstream, o.Upstream) {
		if len(c.Upstream) == 0 {
			lines = append(lines, "upstream  none")
		} else {
			lines = append(lines, "upstream  same")
		}
	} else {
		old := map[string]string{}
		for _, u := range o.Upstream {
			old[u.Stage+"\x00"+u.Item] = u.Key
		}
		var diffs []string
		for _, g := range t.Inputs {
			for _, u := range g.Tasks {
				k, ok := old[u.Stage.Name+"\x00"+u.ItemText]
				switch {
				case !ok:
					diffs = append(diffs, u.Label+" (new)")
				case k != u.Key:
					diffs = append(diffs, u.Label)
				}
				delete(old, u.Stage.Name+"\x00"+u.ItemText)
			}
		}
		if len(old) > 0 {
			diffs = append(diffs, fmt.Sprintf("%d upstream task(s) no longer read", len(old)))
		}
		lines = append(lines, "upstream  CHANGED: "+strings.Join(diffs, ", "))
	}
	if c.Schema != o.Schema {
		lines = append(lines, fmt.Sprintf("schema    CHANGED: %s -> %s (a new version of the engine's keys)", o.Schema, c.Schema))
	}
	lines = append(lines, fmt.Sprintf("last commit %s, key %.12s; current key %.12s", last.Committed.Format("2006-01-02 15:04:05"), last.Key, t.Key))
	return st, lines
}

func slicesEqualFiles(a, b []cache.FileHash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Param != b[i].Param || a[i].Hash != b[i].Hash {
			return false
		}
	}
	return true
}

func equalUpstream(a, b []cache.Upstream) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
