package dag

import (
	"fmt"
	"sort"
	"strings"

	"nmdyn/cache"
)

// Params is the tree of global params (`params:` in pipeline.yaml): group ->
// subtree of maps, lists and scalars (nil, bool, int64, float64, string).
// Dotted paths (fit.epochs) address it.
type Params struct {
	Root map[string]any
	pos  map[string]Pos  // where each path is written in the file
	set  map[string]bool // paths overridden with --set
}

// Lookup returns the value at a dotted path.
func (p *Params) Lookup(path string) (any, bool) {
	var cur any = p.Root
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// Pos is where a param path is written in pipeline.yaml (zero if unknown).
func (p *Params) Pos(path string) Pos { return p.pos[path] }

// Overridden tells whether a path (or a param containing it) was set with --set.
func (p *Params) Overridden(path string) bool {
	for s := range p.set {
		if s == path || strings.HasPrefix(path, s+".") {
			return true
		}
	}
	return false
}

// Clone returns a deep copy (overrides on it leave p alone).
func (p *Params) Clone() *Params {
	set := make(map[string]bool, len(p.set))
	for k := range p.set {
		set[k] = true
	}
	return &Params{Root: deepCopy(p.Root).(map[string]any), pos: p.pos, set: set}
}

// Set overrides the param at path (which must exist: a typo must not silently
// add a param nobody reads) with v.
func (p *Params) Set(path string, v any) error {
	parts := strings.Split(path, ".")
	var cur any = p.Root
	for i, part := range parts {
		m, ok := cur.(map[string]any)
		if !ok {
			return fmt.Errorf("--set %s: %s is not a group of params", path, strings.Join(parts[:i], "."))
		}
		next, ok := m[part]
		if !ok {
			known := make([]string, 0, len(m))
			for k := range m {
				known = append(known, k)
			}
			sort.Strings(known)
			msg := fmt.Sprintf("--set %s: unknown param %q", path, strings.Join(parts[:i+1], "."))
			if s := suggest(part, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", strings.Join(append(parts[:i:i], s), "."))
			}
			if len(known) > 0 {
				msg += "; known here: " + strings.Join(known, ", ")
			}
			return fmt.Errorf("%s", msg)
		}
		if i == len(parts)-1 {
			m[part] = v
			p.set[path] = true
			return nil
		}
		cur = next
	}
	return nil
}

// ParseValue reads the value of --set key=value as YAML: a scalar (50, 0.01,
// true, text) or a flow list or mapping ([1, 2, 3], {a: 1}).
func ParseValue(text string) (any, error) {
	d := &decoder{file: "--set"}
	body, err := parseYAML("--set value", []byte(text))
	if err != nil {
		return nil, err
	}
	v, ok := d.value(body, "value", nil)
	if !ok {
		return nil, d.err()
	}
	return v, nil
}

// subtree returns the params a stage reads: a nested map holding only the given
// paths (overlapping paths merge), minus the excluded paths.
func (p *Params) subtree(paths []string, exclude []string) map[string]any {
	out := map[string]any{}
	for _, path := range paths {
		v, ok := p.Lookup(path)
		if !ok {
			continue
		}
		parts := strings.Split(path, ".")
		m := out
		for _, part := range parts[:len(parts)-1] {
			next, ok := m[part].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[part] = next
			}
			m = next
		}
		// A wider path copies the whole subtree, so overlapping paths merge
		// whatever their order.
		m[parts[len(parts)-1]] = deepCopy(v)
	}
	for _, path := range exclude {
		parts := strings.Split(path, ".")
		m := out
		for _, part := range parts[:len(parts)-1] {
			next, ok := m[part].(map[string]any)
			if !ok {
				m = nil
				break
			}
			m = next
		}
		if m != nil {
			delete(m, parts[len(parts)-1])
		}
	}
	return out
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// flatten lists the leaves of a param tree as dotted path -> canonical value (a
// list is a leaf), for `run why` to name what changed.
func flatten(v any, prefix string, out map[string]string) {
	if m, ok := v.(map[string]any); ok {
		if len(m) == 0 && prefix != "" {
			out[prefix] = "{}"
		}
		for k, e := range m {
			sub := k
			if prefix != "" {
				sub = prefix + "." + k
			}
			flatten(e, sub, out)
		}
		return
	}
	out[prefix] = cache.MustCanonical(v)
}
