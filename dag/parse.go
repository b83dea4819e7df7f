package dag

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"nmdyn/cache"
	"nmdyn/stages/task"
)

// Pipeline is a parsed, checked pipeline.yaml.
type Pipeline struct {
	File   string // the path it was read from, as given (for messages)
	Dir    string // the directory holding it: the project root
	Params *Params
	Stages []*Stage // in file order
	// Executor is the `executor:` section (nil: none; see ExecutorConfig).
	Executor *ExecutorConfig

	byName map[string]*Stage
	order  []*Stage // topological; ties in file order
}

// Stage is one entry of `stages:`.
type Stage struct {
	Name    string
	Pos     Pos // of its name
	Run     Ref // the registered Go stage it runs
	Inputs  []Ref
	Params  []Ref  // param paths it reads
	Files   []Ref  // param paths whose values are files or folders hashed into the key
	Foreach []*Dim // sorted by name
	Publish Ref    // project directory its outputs are copied into ("" if none)

	index      int
	inputs     []*Stage // sorted by name
	downstream []*Stage
}

// Dim is one fan-out dimension: a literal list of values or a reference
// ${param.path} to a list param.
type Dim struct {
	Name   string
	Pos    Pos
	Values []any // the literal list (nil for a reference)
	Ref    *Ref  // the referenced param path
}

// InputStages are the stages this one reads, sorted by name.
func (s *Stage) InputStages() []*Stage { return s.inputs }

// Downstream are the stages reading this one, in file order.
func (s *Stage) Downstream() []*Stage { return s.downstream }

// Stage returns the named stage, or nil.
func (p *Pipeline) Stage(name string) *Stage { return p.byName[name] }

// Order is the stages in topological order (inputs first; ties in file order).
func (p *Pipeline) Order() []*Stage { return p.order }

// StageNames lists the stage names in file order.
func (p *Pipeline) StageNames() []string {
	out := make([]string, len(p.Stages))
	for i, s := range p.Stages {
		out[i] = s.Name
	}
	return out
}

// Load reads and parses a pipeline file.
func Load(file string) (*Pipeline, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return Parse(file, data)
}

// sections are the top-level keys of pipeline.yaml and their decoders. A new
// section (the Slurm work adds `executor:`) is one more entry here plus a field
// of Pipeline; unknown keys stay errors.
var sections = map[string]func(p *Pipeline, d *decoder, n ast.Node){
	"params":   decodeParams,
	"stages":   decodeStages,
	"executor": decodeExecutor,
	"root":     decodeRoot,
}

// decodeRoot reads `root:`, the project directory relative to the pipeline file
// (default: the file's own directory). A pipeline kept in a subdirectory (e.g.
// pipelines/recovery.yaml with `root: ..`) then shares the project's paths, cache
// and figures/.
func decodeRoot(p *Pipeline, d *decoder, n ast.Node) {
	v, ok := d.str(n, "root")
	if !ok {
		return
	}
	if filepath.IsAbs(v) {
		d.errorf(n, "root %q: give the project directory relative to this file", v)
		return
	}
	p.Dir = filepath.Join(p.Dir, v)
}

var (
	stageNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)
	dimNameRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	paramRefRE  = regexp.MustCompile(`^\$\{\s*([^{}\s]+)\s*\}$`)
)

// Parse parses and checks a pipeline file's content. Every error names the file,
// line and column: unknown keys, duplicate stage names, missing inputs, cycles,
// bad fan-outs, references to params that do not exist. Which Go stages exist is
// checked separately (CheckRegistry), so the file can be checked without them.
func Parse(file string, data []byte) (*Pipeline, error) {
	dir, err := filepath.Abs(filepath.Dir(file))
	if err != nil {
		return nil, err
	}
	p := &Pipeline{File: file, Dir: dir, Params: &Params{Root: map[string]any{}, pos: map[string]Pos{}, set: map[string]bool{}},
		byName: map[string]*Stage{}}
	d := &decoder{file: file}
	body, err := parseYAML(file, data)
	if err != nil {
		return nil, err
	}
	if body == nil {
		return nil, &Error{Pos: Pos{File: file}, Msg: "empty pipeline: want `params:` and `stages:`"}
	}
	known := map[string]func(entry){}
	for name, dec := range sections {
		dec := dec
		known[name] = func(e entry) { dec(p, d, e.value) }
	}
	d.fields(body, "the pipeline file", known)
	if len(d.errs) == 0 && len(p.Stages) == 0 {
		d.errorf(body, "no stages: want a `stages:` list")
	}
	if len(d.errs) == 0 {
		p.check(d)
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	return p, nil
}

func decodeParams(p *Pipeline, d *decoder, n ast.Node) {
	v, ok := d.value(n, "", p.Params.pos)
	if !ok {
		return
	}
	switch m := v.(type) {
	case nil:
	case map[string]any:
		if _, bad := m["item"]; bad {
			d.errAt(p.Params.pos["item"], "param group name \"item\" is reserved (a stage's Decode puts its fan-out item there)")
		}
		p.Params.Root = m
	default:
		d.errorf(n, "params: want a mapping of param groups, found %s", describe(n))
	}
}

func decodeStages(p *Pipeline, d *decoder, n ast.Node) {
	items, ok := d.seq(n, "stages")
	if !ok {
		return
	}
	for _, it := range items {
		s := &Stage{index: len(p.Stages)}
		namePos := Pos{}
		var foreachN ast.Node
		d.fields(it, "a stage", map[string]func(entry){
			"name": func(e entry) {
				s.Name, _ = d.str(e.value, "name")
				namePos = d.pos(e.value)
			},
			"run": func(e entry) {
				if v, ok := d.str(e.value, "run"); ok {
					s.Run = Ref{Name: v, Pos: d.pos(e.value)}
				}
			},
			"inputs":  func(e entry) { s.Inputs = d.strList(e.value, "inputs") },
			"params":  func(e entry) { s.Params = d.strList(e.value, "params") },
			"files":   func(e entry) { s.Files = d.strList(e.value, "files") },
			"foreach": func(e entry) { foreachN = e.value; s.Foreach = decodeForeach(d, e.value) },
			"publish": func(e entry) {
				if v, ok := d.str(e.value, "publish"); ok {
					s.Publish = Ref{Name: v, Pos: d.pos(e.value)}
				}
			},
		})
		if s.Name == "" {
			if len(d.errs) == 0 {
				d.errorf(it, "a stage without a name")
			}
			continue
		}
		s.Pos = namePos
		if !stageNameRE.MatchString(s.Name) {
			d.errAt(namePos, "stage name %q: use a letter then letters, digits, '_' or '-'", s.Name)
		}
		if s.Run.Name == "" {
			d.errAt(namePos, "stage %q: no `run:` (the registered Go stage it runs)", s.Name)
		}
		if foreachN != nil && len(s.Foreach) == 0 && len(d.errs) == 0 {
			d.errorf(foreachN, "stage %q: empty foreach", s.Name)
		}
		if prev, dup := p.byName[s.Name]; dup {
			d.errAt(namePos, "duplicate stage name %q (first at %s)", s.Name, prev.Pos)
			continue
		}
		p.byName[s.Name] = s
		p.Stages = append(p.Stages, s)
	}
}

func decodeForeach(d *decoder, n ast.Node) []*Dim {
	ents, ok := d.mapping(n, "foreach")
	if !ok {
		return nil
	}
	var dims []*Dim
	for _, e := range ents {
		dim := &Dim{Name: e.key, Pos: d.pos(e.keyN)}
		if !dimNameRE.MatchString(e.key) {
			d.errorf(e.keyN, "foreach dimension %q: use a letter or '_' then letters, digits or '_'", e.key)
			continue
		}
		if s, ok := e.value.(*ast.StringNode); ok {
			m := paramRefRE.FindStringSubmatch(s.Value)
			if m == nil {
				d.errorf(e.value, "foreach %s: want a list of values or a reference ${param.path} to a list param, found the string %q", e.key, s.Value)
				continue
			}
			dim.Ref = &Ref{Name: m[1], Pos: d.pos(e.value)}
			dims = append(dims, dim)
			continue
		}
		items, ok := d.seq(e.value, "foreach "+e.key)
		if !ok {
			continue
		}
		vals, ok := d.dimValues(items, e.key)
		if !ok {
			continue
		}
		if len(vals) == 0 {
			d.errorf(e.value, "foreach %s: empty list (a stage with no task)", e.key)
			continue
		}
		dim.Values = vals
		dims = append(dims, dim)
	}
	sort.Slice(dims, func(i, j int) bool { return dims[i].Name < dims[j].Name })
	return dims
}

// dimValues decodes a literal fan-out list: scalars, no duplicates.
func (d *decoder) dimValues(items []ast.Node, dim string) ([]any, bool) {
	vals := make([]any, 0, len(items))
	seen := map[string]Pos{}
	good := true
	for i, it := range items {
		v, ok := d.value(it, fmt.Sprintf("foreach %s[%d]", dim, i), nil)
		if !ok {
			good = false
			continue
		}
		if err := checkItemValue(v); err != "" {
			d.errorf(it, "foreach %s[%d]: %s", dim, i, err)
			good = false
			continue
		}
		c := cache.MustCanonical(v)
		if prev, dup := seen[c]; dup {
			d.errorf(it, "foreach %s: value %s twice (first at %s)", dim, c, prev)
			good = false
			continue
		}
		seen[c] = d.pos(it)
		vals = append(vals, v)
	}
	return vals, good
}

// checkItemValue tells what is wrong with a fan-out value ("" if nothing).
func checkItemValue(v any) string {
	switch v.(type) {
	case string, int64, float64, bool:
		return ""
	case nil:
		return "a fan-out value cannot be null"
	}
	return "a fan-out value must be a string, number or boolean, not a list or mapping"
}

// check resolves references and checks the graph.
func (p *Pipeline) check(d *decoder) {
	for _, s := range p.Stages {
		for _, in := range s.Inputs {
			u := p.byName[in.Name]
			switch {
			case in.Name == s.Name:
				d.errAt(in.Pos, "stage %q lists itself as an input", s.Name)
			case u == nil:
				msg := fmt.Sprintf("stage %q: input %q is not a stage", s.Name, in.Name)
				if sg := suggest(in.Name, p.StageNames()); sg != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", sg)
				}
				d.errAt(in.Pos, "%s", msg)
			default:
				s.inputs = append(s.inputs, u)
				u.downstream = append(u.downstream, s)
			}
		}
		sort.Slice(s.inputs, func(i, j int) bool { return s.inputs[i].Name < s.inputs[j].Name })
		for _, r := range s.Params {
			p.checkParamRef(d, s, r, "params")
		}
		for _, r := range s.Files {
			if p.checkParamRef(d, s, r, "files") {
				if v, _ := p.Params.Lookup(r.Name); !isString(v) {
					d.errAt(r.Pos, "stage %q: files: param %s is not a path (a string) but %s (%s)", s.Name, r.Name, cache.MustCanonical(v), p.Params.Pos(r.Name))
				}
			}
		}
		for _, dim := range s.Foreach {
			if dim.Ref == nil {
				continue
			}
			if p.checkParamRef(d, s, *dim.Ref, "foreach "+dim.Name) {
				v, _ := p.Params.Lookup(dim.Ref.Name)
				if _, err := dimList(v); err != "" {
					d.errAt(dim.Ref.Pos, "stage %q: foreach %s: ${%s} (%s) %s", s.Name, dim.Name, dim.Ref.Name, p.Params.Pos(dim.Ref.Name), err)
				}
			}
		}
		if s.Publish.Name != "" {
			if msg := checkPublishDir(s.Publish.Name); msg != "" {
				d.errAt(s.Publish.Pos, "stage %q: publish %q: %s", s.Name, s.Publish.Name, msg)
			}
			if len(s.Foreach) > 0 {
				d.errAt(s.Publish.Pos, "stage %q: publish needs a stage without foreach (its tasks would write the same files)", s.Name)
			}
		}
	}
	p.checkExecutor(d)
	if len(d.errs) == 0 {
		p.checkCycles(d)
	}
	if len(d.errs) == 0 {
		p.order = topoOrder(p.Stages)
	}
}

func isString(v any) bool { _, ok := v.(string); return ok }

// checkParamRef reports a param path that does not exist.
func (p *Pipeline) checkParamRef(d *decoder, s *Stage, r Ref, what string) bool {
	if _, ok := p.Params.Lookup(r.Name); ok {
		return true
	}
	msg := fmt.Sprintf("stage %q: %s: unknown param %q", s.Name, what, r.Name)
	var all []string
	for k := range p.Params.pos {
		if k != "" && !strings.Contains(k, "[") {
			all = append(all, k)
		}
	}
	sort.Strings(all)
	if sg := suggest(r.Name, all); sg != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", sg)
	}
	d.errAt(r.Pos, "%s", msg)
	return false
}

// dimList checks that a referenced fan-out param is a non-empty list of distinct
// scalars and returns it.
func dimList(v any) ([]any, string) {
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Sprintf("is %s, not a list", cache.MustCanonical(v))
	}
	if len(l) == 0 {
		return nil, "is an empty list (a stage with no task)"
	}
	seen := map[string]bool{}
	for i, e := range l {
		if msg := checkItemValue(e); msg != "" {
			return nil, fmt.Sprintf("item %d: %s", i, msg)
		}
		c := cache.MustCanonical(e)
		if seen[c] {
			return nil, fmt.Sprintf("has %s twice", c)
		}
		seen[c] = true
	}
	return l, ""
}

// checkPublishDir tells what is wrong with a publish directory ("" if nothing):
// it must be a clean relative path inside the project.
func checkPublishDir(dir string) string {
	switch {
	case dir == "" || dir == ".":
		return "want a directory inside the project, e.g. figures"
	case filepath.IsAbs(dir) || strings.HasPrefix(dir, "/"):
		return "want a path relative to the pipeline file's directory"
	case path.Clean(dir) != dir || strings.Contains(dir, "\\"):
		return "want a clean path (no ./, // or trailing /)"
	case dir == ".." || strings.HasPrefix(dir, "../"):
		return "must stay inside the project"
	case strings.HasPrefix(dir, ".nmdyn") || strings.HasPrefix(dir, ".git"):
		return "must not be inside .nmdyn or .git"
	}
	return ""
}

// checkCycles reports each cycle once, at the input reference that closes it.
func (p *Pipeline) checkCycles(d *decoder) {
	const (
		white = iota
		grey
		black
	)
	color := make([]int, len(p.Stages))
	var stack []*Stage
	var visit func(s *Stage)
	visit = func(s *Stage) {
		color[s.index] = grey
		stack = append(stack, s)
		for _, in := range s.Inputs {
			u := p.byName[in.Name]
			switch color[u.index] {
			case white:
				visit(u)
			case grey:
				// The stack from u to s, then u again: each reads the next.
				var names []string
				for i := len(stack) - 1; i >= 0; i-- {
					if stack[i] == u {
						for _, t := range stack[i:] {
							names = append(names, t.Name)
						}
						break
					}
				}
				names = append(names, u.Name)
				d.errAt(in.Pos, "cycle: %s (each stage reads the next)", strings.Join(names, " -> "))
			}
		}
		stack = stack[:len(stack)-1]
		color[s.index] = black
	}
	for _, s := range p.Stages {
		if color[s.index] == white {
			visit(s)
		}
	}
}

// topoOrder orders stages inputs-first, ties broken by file order.
func topoOrder(stages []*Stage) []*Stage {
	indeg := make([]int, len(stages))
	for _, s := range stages {
		indeg[s.index] = len(s.inputs)
	}
	var ready []*Stage
	for _, s := range stages {
		if indeg[s.index] == 0 {
			ready = append(ready, s)
		}
	}
	var out []*Stage
	for len(ready) > 0 {
		sort.Slice(ready, func(i, j int) bool { return ready[i].index < ready[j].index })
		s := ready[0]
		ready = ready[1:]
		out = append(out, s)
		for _, dn := range s.downstream {
			if indeg[dn.index]--; indeg[dn.index] == 0 {
				ready = append(ready, dn)
			}
		}
	}
	return out
}

// CheckRegistry reports stages whose `run:` names no registered Go stage.
func (p *Pipeline) CheckRegistry(reg map[string]task.Func) error {
	d := &decoder{file: p.File}
	names := make([]string, 0, len(reg))
	for k := range reg {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, s := range p.Stages {
		if _, ok := reg[s.Run.Name]; ok {
			continue
		}
		msg := fmt.Sprintf("stage %q: run %q is not a registered Go stage", s.Name, s.Run.Name)
		if sg := suggest(s.Run.Name, names); sg != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", sg)
		}
		if len(names) == 0 {
			msg += " (the registry, stages.Registry, is empty)"
		} else {
			msg += "; registered: " + strings.Join(names, ", ")
		}
		d.errAt(s.Run.Pos, "%s", msg)
	}
	return d.err()
}
