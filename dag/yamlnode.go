package dag

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Pos is a place in pipeline.yaml.
type Pos struct {
	File      string
	Line, Col int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Error is a problem in pipeline.yaml, at a position.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// ErrorList is every problem found in one file, in order of position.
type ErrorList []*Error

func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap lets errors.As find the individual errors.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// decoder walks a goccy/go-yaml AST strictly, collecting errors with positions.
type decoder struct {
	file string
	errs ErrorList
}

// maxErrors stops the collection of errors (a file that is all wrong says so
// soon enough).
const maxErrors = 20

func (d *decoder) pos(n ast.Node) Pos {
	if n == nil {
		return Pos{File: d.file}
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return Pos{File: d.file}
	}
	return Pos{File: d.file, Line: tk.Position.Line, Col: tk.Position.Column}
}

func (d *decoder) errorf(n ast.Node, format string, args ...any) {
	d.errAt(d.pos(n), format, args...)
}

func (d *decoder) errAt(p Pos, format string, args ...any) {
	if len(d.errs) < maxErrors {
		d.errs = append(d.errs, &Error{Pos: p, Msg: fmt.Sprintf(format, args...)})
	}
}

func (d *decoder) err() error {
	if len(d.errs) == 0 {
		return nil
	}
	sort.SliceStable(d.errs, func(i, j int) bool {
		a, b := d.errs[i].Pos, d.errs[j].Pos
		return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
	})
	return d.errs
}

// parseYAML parses a document into its body node. goccy/go-yaml's syntax errors
// carry a token; they are turned into positioned errors. A panic inside the YAML
// library (it has had some on odd input) becomes an error too.
func parseYAML(file string, data []byte) (body ast.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &Error{Pos: Pos{File: file}, Msg: fmt.Sprintf("YAML parser failed: %v", r)}
		}
	}()
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, yamlError(file, err)
	}
	if len(f.Docs) == 0 || f.Docs[0] == nil || f.Docs[0].Body == nil {
		return nil, nil
	}
	if len(f.Docs) > 1 {
		return nil, &Error{Pos: Pos{File: file}, Msg: "more than one YAML document"}
	}
	return f.Docs[0].Body, nil
}

// yamlError positions an error of the YAML library.
func yamlError(file string, err error) error {
	type withToken interface {
		error
		GetToken() *token.Token
		GetMessage() string
	}
	var msg string
	var tk *token.Token
	switch e := err.(type) {
	case withToken:
		tk, msg = e.GetToken(), e.GetMessage()
	default:
		msg = err.Error()
	}
	p := Pos{File: file}
	if tk != nil && tk.Position != nil {
		p.Line, p.Col = tk.Position.Line, tk.Position.Column
	}
	return &Error{Pos: p, Msg: "YAML: " + firstLine(msg)}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	// goccy prefixes "[line:col] "; the position is given separately.
	if strings.HasPrefix(s, "[") {
		if i := strings.Index(s, "] "); i >= 0 {
			s = s[i+2:]
		}
	}
	return s
}

// entry is one key: value of a mapping.
type entry struct {
	key   string
	keyN  ast.Node
	value ast.Node
}

// unwrap rejects YAML features the pipeline file does not use (anchors, aliases,
// tags, merge keys), which would make positions and strictness hard to keep.
func (d *decoder) unwrap(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.AnchorNode:
		d.errorf(n, "YAML anchors (&%s) are not supported in a pipeline file", x.Name)
		return nil, false
	case *ast.AliasNode:
		d.errorf(n, "YAML aliases (*) are not supported in a pipeline file")
		return nil, false
	case *ast.TagNode:
		d.errorf(n, "YAML tags (%s) are not supported in a pipeline file", x.Start.Value)
		return nil, false
	case *ast.MergeKeyNode:
		d.errorf(n, "YAML merge keys (<<) are not supported in a pipeline file")
		return nil, false
	case *ast.CommentNode, *ast.CommentGroupNode:
		return nil, true
	}
	return n, true
}

// mapping returns the entries of a mapping node (nil node: an empty mapping),
// or reports that n is not one. Keys must be plain strings and unique.
func (d *decoder) mapping(n ast.Node, what string) ([]entry, bool) {
	n, ok := d.unwrap(n)
	if !ok {
		return nil, false
	}
	var values []*ast.MappingValueNode
	switch x := n.(type) {
	case nil, *ast.NullNode:
		return nil, true
	case *ast.MappingNode:
		values = x.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{x}
	default:
		d.errorf(n, "%s: want a mapping (key: value), found %s", what, describe(n))
		return nil, false
	}
	out := make([]entry, 0, len(values))
	seen := map[string]ast.Node{}
	for _, mv := range values {
		kn, ok := d.unwrap(mv.Key)
		if !ok {
			continue
		}
		var key string
		switch k := kn.(type) {
		case *ast.StringNode:
			key = k.Value
		case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.NullNode:
			key = k.GetToken().Value
		default:
			d.errorf(kn, "%s: want a plain key, found %s", what, describe(kn))
			continue
		}
		if prev, dup := seen[key]; dup {
			d.errorf(kn, "%s: key %q twice (first at %s)", what, key, d.pos(prev))
			continue
		}
		seen[key] = kn
		out = append(out, entry{key: key, keyN: kn, value: mv.Value})
	}
	return out, true
}

// fields decodes a mapping whose keys are fixed: each known key's handler is
// called; an unknown key is an error naming the known ones.
func (d *decoder) fields(n ast.Node, what string, known map[string]func(entry)) {
	ents, ok := d.mapping(n, what)
	if !ok {
		return
	}
	for _, e := range ents {
		h, ok := known[e.key]
		if !ok {
			names := make([]string, 0, len(known))
			for k := range known {
				names = append(names, k)
			}
			sort.Strings(names)
			msg := fmt.Sprintf("unknown key %q in %s", e.key, what)
			if s := suggest(e.key, names); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			d.errorf(e.keyN, "%s; known keys: %s", msg, strings.Join(names, ", "))
			continue
		}
		h(e)
	}
}

// str decodes a scalar string.
func (d *decoder) str(n ast.Node, what string) (string, bool) {
	n, ok := d.unwrap(n)
	if !ok {
		return "", false
	}
	switch x := n.(type) {
	case *ast.StringNode:
		return x.Value, true
	case *ast.LiteralNode:
		return x.Value.Value, true
	}
	d.errorf(n, "%s: want a string, found %s", what, describe(n))
	return "", false
}

// seq returns the items of a sequence node.
func (d *decoder) seq(n ast.Node, what string) ([]ast.Node, bool) {
	n, ok := d.unwrap(n)
	if !ok {
		return nil, false
	}
	switch x := n.(type) {
	case nil, *ast.NullNode:
		return nil, true
	case *ast.SequenceNode:
		return x.Values, true
	}
	d.errorf(n, "%s: want a list, found %s", what, describe(n))
	return nil, false
}

// Ref is a name written in pipeline.yaml (a stage, a param path), with its place.
type Ref struct {
	Name string
	Pos  Pos
}

// strList decodes a list of strings.
func (d *decoder) strList(n ast.Node, what string) []Ref {
	items, ok := d.seq(n, what)
	if !ok {
		return nil
	}
	out := make([]Ref, 0, len(items))
	seen := map[string]Pos{}
	for _, it := range items {
		s, ok := d.str(it, what)
		if !ok {
			continue
		}
		p := d.pos(it)
		if prev, dup := seen[s]; dup {
			d.errAt(p, "%s: %q twice (first at %s)", what, s, prev)
			continue
		}
		seen[s] = p
		out = append(out, Ref{Name: s, Pos: p})
	}
	return out
}

// yaml12Float is the YAML 1.2 core schema's float pattern. goccy/go-yaml reads a
// plain 1e-3 as a string; the pipeline file means a number.
var yaml12Float = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// value converts a node to a param value: nil, bool, int64, float64, string,
// []any or map[string]any. Param names may not contain '.', since dotted paths
// address them.
func (d *decoder) value(n ast.Node, path string, pos map[string]Pos) (any, bool) {
	n, ok := d.unwrap(n)
	if !ok {
		return nil, false
	}
	if pos != nil && n != nil {
		pos[path] = d.pos(n)
	}
	switch x := n.(type) {
	case nil, *ast.NullNode:
		return nil, true
	case *ast.BoolNode:
		return x.Value, true
	case *ast.IntegerNode:
		switch v := x.Value.(type) {
		case int64:
			return v, true
		case uint64:
			if v <= math.MaxInt64 {
				return int64(v), true
			}
		}
		d.errorf(n, "%s: integer %s out of range (64-bit signed)", path, x.Token.Value)
		return nil, false
	case *ast.FloatNode:
		return x.Value, true
	case *ast.InfinityNode:
		return x.Value, true
	case *ast.NanNode:
		return math.NaN(), true
	case *ast.StringNode:
		if x.Token != nil && x.Token.Type == token.StringType && yaml12Float.MatchString(x.Value) {
			if f, err := strconv.ParseFloat(x.Value, 64); err == nil {
				return f, true
			}
		}
		return x.Value, true
	case *ast.LiteralNode:
		return x.Value.Value, true
	case *ast.SequenceNode:
		out := make([]any, 0, len(x.Values))
		for i, it := range x.Values {
			v, ok := d.value(it, fmt.Sprintf("%s[%d]", path, i), nil)
			if !ok {
				return nil, false
			}
			out = append(out, v)
		}
		return out, true
	case *ast.MappingNode, *ast.MappingValueNode:
		ents, ok := d.mapping(n, path)
		if !ok {
			return nil, false
		}
		out := make(map[string]any, len(ents))
		good := true
		for _, e := range ents {
			if e.key == "" || strings.ContainsAny(e.key, ".${}[] \t") {
				d.errorf(e.keyN, "param name %q: use letters, digits, '_' and '-' (dots separate the parts of a param path)", e.key)
				good = false
				continue
			}
			sub := e.key
			if path != "" {
				sub = path + "." + e.key
			}
			v, ok := d.value(e.value, sub, pos)
			if !ok {
				good = false
				continue
			}
			if pos != nil && e.value == nil {
				pos[sub] = d.pos(e.keyN)
			}
			out[e.key] = v
		}
		return out, good
	}
	d.errorf(n, "%s: unsupported YAML value (%s)", path, describe(n))
	return nil, false
}

func describe(n ast.Node) string {
	switch n.(type) {
	case nil, *ast.NullNode:
		return "nothing (null)"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode, *ast.LiteralNode:
		return "a string"
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "a number"
	case *ast.BoolNode:
		return "a boolean"
	}
	return n.Type().String()
}

// suggest returns the candidate closest to s (edit distance at most 2, and at
// most half its length, so one letter is not "corrected" into another), or "".
func suggest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD && 2*d <= len(s) {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
