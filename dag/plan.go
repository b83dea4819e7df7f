package dag

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/afero"

	"nmdyn/cache"
	"nmdyn/stages/task"
)

// Engine runs a pipeline against a cache.
type Engine struct {
	Pipeline *Pipeline
	// Params are the params in effect: the file's with --set overrides (nil: the
	// file's).
	Params   *Params
	Registry map[string]task.Func
	// Code gives a stage's code identity (normally CodeIndex.Func of its Func).
	Code  func(run string, fn task.Func) (string, error)
	Store *cache.Store
	// Files hashes external inputs (nil: the store's stat-cached hasher).
	Files *cache.FileHasher
	// Report receives progress events (nil: none).
	Report Reporter
	// PublishFS and PublishRoot are where `publish:` directories live (nil and
	// "": the OS filesystem at the pipeline's directory). `run verify` redirects
	// them to a scratch directory.
	PublishFS   afero.Fs
	PublishRoot string
	// Version is nmdyn's version, recorded in provenance.
	Version string
}

// Task is one unit of work: a stage with one fan-out item.
type Task struct {
	Stage    *Stage
	Item     task.Item
	ItemText string // canonical item ("{}" without fan-out)
	Label    string // stage[dim=value,...]
	// Inputs are the upstream tasks per input stage (stages sorted by name,
	// tasks by item).
	Inputs      []InputGroup
	Params      map[string]any // what Decode sees, less the item
	ParamValues map[string]string
	Components  cache.Components
	Key         string

	index      int // in Plan.Tasks
	downstream []*Task
}

// InputGroup is the tasks of one input stage feeding a task.
type InputGroup struct {
	Stage *Stage
	Tasks []*Task
}

// Downstream are the tasks reading this one.
func (t *Task) Downstream() []*Task { return t.downstream }

// Plan is the pipeline expanded into tasks with their keys.
type Plan struct {
	Tasks   []*Task // topological: stages in Order, tasks by item
	byStage map[string][]*Task
	e       *Engine
}

// StageTasks returns the tasks of a stage, sorted by item.
func (p *Plan) StageTasks(name string) []*Task { return p.byStage[name] }

// Plan expands the pipeline into tasks and computes every key (hashing external
// files through the stat cache). No output is read.
func (e *Engine) Plan() (*Plan, error) {
	pl := e.Pipeline
	params := e.Params
	if params == nil {
		params = pl.Params
	}
	if err := pl.CheckRegistry(e.Registry); err != nil {
		return nil, err
	}
	files := e.Files
	if files == nil {
		files = e.Store.FileHasher()
		e.Files = files
	}
	p := &Plan{byStage: map[string][]*Task{}, e: e}
	codes := map[string]string{}
	edges := 0
	fileHashes := map[string]string{}
	for _, s := range pl.Order() {
		items, err := expandItems(pl, params, s)
		if err != nil {
			return nil, err
		}
		code, ok := codes[s.Run.Name]
		if !ok {
			if code, err = e.Code(s.Run.Name, e.Registry[s.Run.Name]); err != nil {
				return nil, fmt.Errorf("stage %s: %w", s.Name, err)
			}
			codes[s.Run.Name] = code
		}
		// Params: the referenced paths minus those the fan-out consumes (the
		// item carries their value).
		paths := make([]string, len(s.Params))
		for i, r := range s.Params {
			paths[i] = r.Name
		}
		var exclude []string
		for _, d := range s.Foreach {
			if d.Ref != nil {
				exclude = append(exclude, d.Ref.Name)
			}
		}
		sub := params.subtree(paths, exclude)
		paramText, err := cache.Canonical(sub)
		if err != nil {
			return nil, fmt.Errorf("stage %s: params: %w", s.Name, err)
		}
		pv := map[string]string{}
		flatten(sub, "", pv)
		var fh []cache.FileHash
		for _, r := range s.Files {
			v, _ := params.Lookup(r.Name)
			rel, ok := v.(string)
			if !ok || rel == "" {
				return nil, fmt.Errorf("%s: stage %s: files: param %s is %s, not a path%s", r.Pos, s.Name, r.Name, cache.MustCanonical(v), setNote(params, r.Name))
			}
			abs := rel
			if !filepath.IsAbs(abs) {
				abs = filepath.Join(pl.Dir, rel)
			}
			h, ok := fileHashes[abs]
			if !ok {
				if h, err = files.Hash(abs); err != nil {
					return nil, fmt.Errorf("stage %s: %s = %s: %w", s.Name, r.Name, rel, err)
				}
				fileHashes[abs] = h
			}
			fh = append(fh, cache.FileHash{Param: r.Name, Path: abs, Hash: h})
		}
		type inputIndex struct {
			shared []string
			groups map[string][]*Task
		}
		index := make([]inputIndex, len(s.inputs))
		for i, u := range s.inputs {
			index[i].shared, index[i].groups = matchIndex(s, u, p.byStage[u.Name])
		}
		for _, it := range items {
			t := &Task{Stage: s, Item: it, Params: sub, ParamValues: pv, index: len(p.Tasks)}
			t.ItemText = cache.MustCanonical(map[string]any(it))
			t.Label = taskLabel(s.Name, it)
			c := cache.Components{Schema: cache.KeySchema, Stage: s.Name, Item: t.ItemText, Code: code, Params: paramText, Files: fh}
			for i, u := range s.inputs {
				ups := index[i].groups[sharedKey(it, index[i].shared)]
				if len(ups) == 0 {
					return nil, fmt.Errorf("%s: stage %s, task %s: no task of its input %s has a matching item (shared dimensions must take the same values)", s.Pos, s.Name, t.Label, u.Name)
				}
				if edges += len(ups); edges > maxEdges {
					return nil, fmt.Errorf("%s: stage %s: more than %d task dependencies in the pipeline (a gathering stage over a large fan-out?)", s.Pos, s.Name, maxEdges)
				}
				t.Inputs = append(t.Inputs, InputGroup{Stage: u, Tasks: ups})
				for _, ut := range ups {
					c.Upstream = append(c.Upstream, cache.Upstream{Stage: u.Name, Item: ut.ItemText, Key: ut.Key})
					ut.downstream = append(ut.downstream, t)
				}
			}
			t.Components = c
			t.Key = c.Key()
			p.Tasks = append(p.Tasks, t)
			p.byStage[s.Name] = append(p.byStage[s.Name], t)
		}
	}
	// The stat cache is only a cache: failing to save it costs time, not truth.
	files.Save()
	return p, nil
}

func setNote(params *Params, path string) string {
	if params.Overridden(path) {
		return " (set with --set)"
	}
	return ""
}

// MaxStageTasks bounds a stage's fan-out: a cartesian product beyond it is more
// likely a mistake than a study.
const MaxStageTasks = 100000

// maxEdges bounds the task dependencies of a pipeline (keys hash them all).
const maxEdges = 10_000_000

// expandItems lists the items of a stage: the cartesian product of its fan-out
// dimensions (sorted by name), each dimension's values sorted (see compareValues).
func expandItems(pl *Pipeline, params *Params, s *Stage) ([]task.Item, error) {
	items := []task.Item{{}}
	for _, d := range s.Foreach {
		vals := d.Values
		if d.Ref != nil {
			v, _ := params.Lookup(d.Ref.Name)
			l, msg := dimList(v)
			if msg != "" {
				return nil, fmt.Errorf("%s: stage %s: foreach %s: ${%s} %s%s", d.Ref.Pos, s.Name, d.Name, d.Ref.Name, msg, setNote(params, d.Ref.Name))
			}
			vals = l
		}
		if len(items)*len(vals) > MaxStageTasks {
			return nil, fmt.Errorf("%s: stage %s: foreach expands to more than %d tasks", d.Pos, s.Name, MaxStageTasks)
		}
		vals = append([]any(nil), vals...)
		sort.SliceStable(vals, func(i, j int) bool { return compareValues(vals[i], vals[j]) < 0 })
		next := make([]task.Item, 0, len(items)*len(vals))
		for _, it := range items {
			for _, v := range vals {
				n := make(task.Item, len(it)+1)
				for k, x := range it {
					n[k] = x
				}
				n[d.Name] = v
				next = append(next, n)
			}
		}
		items = next
	}
	return items, nil
}

// compareValues orders fan-out values: booleans, then numbers (numerically),
// then strings (bytewise).
func compareValues(a, b any) int {
	ra, rb := valueRank(a), valueRank(b)
	if ra != rb {
		return ra - rb
	}
	switch x := a.(type) {
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case string:
		return strings.Compare(x, b.(string))
	}
	fa, fb := toFloat(a), toFloat(b)
	switch {
	case fa < fb:
		return -1
	case fa > fb:
		return 1
	}
	// Equal as floats (or NaN): fall back to the exact text.
	return strings.Compare(cache.MustCanonical(a), cache.MustCanonical(b))
}

func valueRank(v any) int {
	switch v.(type) {
	case bool:
		return 0
	case int64, float64:
		return 1
	}
	return 2
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

// matchIndex applies the fan-out matching rule (see the package comment): the
// tasks of input stage u feeding a task of stage s are those whose items agree on
// every dimension both stages have. They are grouped by the values of those
// shared dimensions, so each task finds its upstream tasks in one look-up; within
// a group they stay sorted by item, as expanded.
func matchIndex(s, u *Stage, ups []*Task) (shared []string, groups map[string][]*Task) {
	dims := map[string]bool{}
	for _, d := range s.Foreach {
		dims[d.Name] = true
	}
	for _, d := range u.Foreach {
		if dims[d.Name] {
			shared = append(shared, d.Name)
		}
	}
	groups = map[string][]*Task{}
	for _, t := range ups {
		k := sharedKey(t.Item, shared)
		groups[k] = append(groups[k], t)
	}
	return shared, groups
}

// sharedKey is the canonical text of an item restricted to some dimensions.
func sharedKey(it task.Item, dims []string) string {
	var b strings.Builder
	for _, d := range dims {
		b.WriteString(cache.MustCanonical(it[d]))
		b.WriteByte(0)
	}
	return b.String()
}

// taskLabel names a task: stage[dim=value,...] (dimensions sorted), or the stage
// name alone without fan-out.
func taskLabel(stage string, it task.Item) string {
	if len(it) == 0 {
		return stage
	}
	dims := make([]string, 0, len(it))
	for d := range it {
		dims = append(dims, d)
	}
	sort.Strings(dims)
	var b strings.Builder
	b.WriteString(stage)
	b.WriteByte('[')
	for i, d := range dims {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(d)
		b.WriteByte('=')
		if s, ok := it[d].(string); ok {
			b.WriteString(s)
		} else {
			b.WriteString(cache.MustCanonical(it[d]))
		}
	}
	b.WriteByte(']')
	return b.String()
}

// CountTasks returns how many tasks each stage expands to with these params
// (without computing keys: no registry or cache needed).
func CountTasks(pl *Pipeline, params *Params) (map[string]int, error) {
	out := map[string]int{}
	for _, s := range pl.Stages {
		items, err := expandItems(pl, params, s)
		if err != nil {
			return nil, err
		}
		out[s.Name] = len(items)
	}
	return out, nil
}
