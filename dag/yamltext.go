package dag

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// yamlText writes a param value as YAML (flow style) that goccy/go-yaml reads
// back to the same value: what Decode hands a stage. The YAML library's own
// encoder is not used because it rounds floats (0.30000000000000004 becomes 0.3)
// and writes 1e-07, which it then reads back as a string.
//
// Integral floats are written as integers, as in the canonical key text, so two
// params with the same key decode alike.
func yamlText(v any) string {
	var b strings.Builder
	writeYAML(&b, v)
	return b.String()
}

func writeYAML(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int:
		b.WriteString(strconv.Itoa(x))
	case float64:
		b.WriteString(yamlFloat(x))
	case string:
		b.WriteString(yamlQuote(x))
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeYAML(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(yamlQuote(k))
			b.WriteString(": ")
			writeYAML(b, x[k])
		}
		b.WriteByte('}')
	default:
		panic(fmt.Sprintf("dag: yamlText of %T", v))
	}
}

func yamlFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return ".nan"
	case math.IsInf(f, 1):
		return ".inf"
	case math.IsInf(f, -1):
		return "-.inf"
	case f == 0:
		return "0"
	case f == math.Trunc(f) && math.Abs(f) < 1<<53:
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if i := strings.IndexByte(s, 'e'); i >= 0 && !strings.Contains(s[:i], ".") {
		s = s[:i] + ".0" + s[i:] // 1e-07 -> 1.0e-07: a float to goccy/go-yaml
	}
	return s
}

// yamlQuote writes a double-quoted YAML string. YAML's double-quoted escapes
// (\n, \t, \", \\, \xXX, \uXXXX, \UXXXXXXXX) cover what strconv.Quote emits, except
// that invalid UTF-8 bytes are written as \xXX, which YAML reads as the code
// point U+00XX: such strings do not round trip and are not expected in params.
func yamlQuote(s string) string {
	return strconv.Quote(s)
}
