package recording

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// PyValue is one value of a phy params.py assignment.
type PyValue struct {
	Kind PyKind
	Num  float64 // PyNumber
	Str  string  // PyString
	Bool bool    // PyBool
	Raw  string  // the literal as written
	Line int     // 1-based line of the assignment
}

// PyKind is the type of a params.py value.
type PyKind int

// The kinds of value params.py files hold.
const (
	PyNumber PyKind = iota
	PyString
	PyBool
	PyNone
	PyList // a list or tuple (e.g. dat_path = ['a.dat', 'b.dat']); kept only as Raw
)

// ParseParamsPy parses a phy/Kilosort params.py: lines of the form `name = value`
// where value is a number (25000, 25000., 3e4), a quoted string ('x', "x", r'x'),
// True, False, None, or a flat list or tuple of those. Blank lines and # comments
// are skipped; a UTF-8 BOM and CRLF line ends are accepted. It is not Python: any
// other line is an error naming its line number. A name assigned twice keeps the
// last value, as Python would.
func ParseParamsPy(src []byte) (map[string]PyValue, error) {
	s := strings.TrimPrefix(string(src), "\ufeff")
	out := map[string]PyValue{}
	for i, line := range strings.Split(s, "\n") {
		ln := i + 1
		line = strings.TrimRight(line, "\r")
		code := strings.TrimSpace(stripPyComment(line))
		if code == "" {
			continue
		}
		eq := strings.IndexByte(code, '=')
		if eq < 0 {
			return nil, fmt.Errorf("line %d: %q is not a `name = value` assignment", ln, truncate(code, 40))
		}
		name := strings.TrimSpace(code[:eq])
		if !isPyIdent(name) {
			return nil, fmt.Errorf("line %d: %q is not a valid name", ln, truncate(name, 40))
		}
		raw := strings.TrimSpace(code[eq+1:])
		v, err := parsePyValue(raw, 0)
		if err != nil {
			return nil, fmt.Errorf("line %d: %s = %s: %v", ln, name, truncate(raw, 40), err)
		}
		v.Raw, v.Line = raw, ln
		out[name] = v
	}
	return out, nil
}

// stripPyComment removes a # comment that is not inside a string.
func stripPyComment(line string) string {
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0 && c == '\\':
			i++
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '\'' || c == '"'):
			quote = c
		case quote == 0 && c == '#':
			return line[:i]
		}
	}
	return line
}

func isPyIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		ok := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9'
		if !ok {
			return false
		}
	}
	return true
}

func parsePyValue(raw string, depth int) (PyValue, error) {
	if raw == "" {
		return PyValue{}, errors.New("missing value")
	}
	switch raw {
	case "True", "False":
		return PyValue{Kind: PyBool, Bool: raw == "True"}, nil
	case "None":
		return PyValue{Kind: PyNone}, nil
	}
	c := raw[0]
	if c == 'r' || c == 'R' || c == '\'' || c == '"' {
		return parsePyString(raw)
	}
	if c == '[' || c == '(' {
		if depth > 0 {
			return PyValue{}, errors.New("nested lists are not supported")
		}
		closer := map[byte]byte{'[': ']', '(': ')'}[c]
		if raw[len(raw)-1] != closer {
			return PyValue{}, fmt.Errorf("list not closed by %q", closer)
		}
		for _, item := range splitPyList(raw[1 : len(raw)-1]) {
			item = strings.TrimSpace(item)
			if item == "" {
				continue // trailing comma
			}
			if _, err := parsePyValue(item, depth+1); err != nil {
				return PyValue{}, fmt.Errorf("list item %s: %v", truncate(item, 30), err)
			}
		}
		return PyValue{Kind: PyList}, nil
	}
	lit := strings.ReplaceAll(raw, "_", "") // Python allows 30_000
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil || strings.ContainsAny(lit, "xXpP") || strings.Contains(strings.ToLower(lit), "n") {
		// ParseFloat accepts hex floats, "inf" and "nan", which Python literals
		// are not.
		return PyValue{}, errors.New("not a number, quoted string, True, False, None or list")
	}
	if math.IsInf(f, 0) {
		return PyValue{}, errors.New("number out of range")
	}
	return PyValue{Kind: PyNumber, Num: f}, nil
}

// parsePyString parses a Python string literal: '...' or "..." with backslash
// escapes, or a raw string r'...' in which backslashes are kept (Windows paths).
func parsePyString(raw string) (PyValue, error) {
	rawStr := false
	if raw[0] == 'r' || raw[0] == 'R' {
		rawStr = true
		raw = raw[1:]
	}
	if len(raw) < 2 || (raw[0] != '\'' && raw[0] != '"') {
		return PyValue{}, errors.New("not a number, quoted string, True, False, None or list")
	}
	q := raw[0]
	var b strings.Builder
	for i := 1; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '\\' && i+1 < len(raw):
			if rawStr {
				b.WriteByte(c)
				b.WriteByte(raw[i+1])
			} else {
				b.WriteString(pyEscape(raw[i+1]))
			}
			i++
		case c == q:
			if i != len(raw)-1 {
				return PyValue{}, fmt.Errorf("unexpected %q after the closing quote", truncate(raw[i+1:], 20))
			}
			return PyValue{Kind: PyString, Str: b.String()}, nil
		default:
			b.WriteByte(c)
		}
	}
	return PyValue{}, errors.New("unterminated string")
}

func pyEscape(c byte) string {
	switch c {
	case 'n':
		return "\n"
	case 't':
		return "\t"
	case '\\', '\'', '"':
		return string(c)
	}
	return "\\" + string(c)
}

// splitPyList splits the inside of a list at commas outside quotes.
func splitPyList(s string) []string {
	var parts []string
	var quote byte
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == '\\':
			i++
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '\'' || c == '"'):
			quote = c
		case quote == 0 && c == ',':
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// paramsSampleRate reads sample_rate from a parsed params.py.
func paramsSampleRate(params map[string]PyValue) (float64, bool, error) {
	v, ok := params["sample_rate"]
	if !ok {
		return 0, false, nil
	}
	if v.Kind != PyNumber || !(v.Num > 0) {
		return 0, true, fmt.Errorf("line %d: sample_rate = %s: want a positive number of Hz", v.Line, v.Raw)
	}
	return v.Num, true, nil
}
