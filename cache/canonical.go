package cache

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Canonical returns the canonical text of a param value, the form that enters task
// keys. Values are those of a parsed YAML tree: nil, bool, integers, float64,
// string, []any and map[string]any (or maps/slices of those with other static
// types). The encoding is JSON-like:
//
//   - maps are written with their keys sorted, so key order in the file does not
//     matter;
//   - a number is written in its shortest round-trip decimal form, and an integral
//     float64 below 1e21 as the integer it equals, so 50 and 50.0 agree;
//     -0 is written as 0; NaN and ±Inf as NaN, +Inf, -Inf;
//   - strings are quoted (Go syntax), so the string "1" and the number 1 differ.
func Canonical(v any) (string, error) {
	var b strings.Builder
	if err := appendCanonical(&b, v); err != nil {
		return "", err
	}
	return b.String(), nil
}

// MustCanonical is Canonical for values known to be encodable; it panics otherwise.
func MustCanonical(v any) string {
	s, err := Canonical(v)
	if err != nil {
		panic(err)
	}
	return s
}

// CanonicalFloat is the canonical text of a number (see Canonical).
func CanonicalFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case f == 0:
		return "0"
	case f == math.Trunc(f) && math.Abs(f) < 1e21:
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func appendCanonical(b *strings.Builder, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int32:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case uint64:
		b.WriteString(strconv.FormatUint(x, 10))
	case uint:
		b.WriteString(strconv.FormatUint(uint64(x), 10))
	case float64:
		b.WriteString(CanonicalFloat(x))
	case float32:
		b.WriteString(CanonicalFloat(float64(x)))
	case string:
		b.WriteString(strconv.Quote(x))
	case []any:
		return appendList(b, len(x), func(i int) any { return x[i] })
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		return appendMap(b, keys, func(k string) any { return x[k] })
	default:
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.Slice, reflect.Array:
			return appendList(b, rv.Len(), func(i int) any { return rv.Index(i).Interface() })
		case reflect.Map:
			if rv.Type().Key().Kind() != reflect.String {
				return fmt.Errorf("canonical: map with %s keys", rv.Type().Key())
			}
			keys := make([]string, 0, rv.Len())
			for _, k := range rv.MapKeys() {
				keys = append(keys, k.String())
			}
			return appendMap(b, keys, func(k string) any {
				return rv.MapIndex(reflect.ValueOf(k).Convert(rv.Type().Key())).Interface()
			})
		}
		return fmt.Errorf("canonical: unsupported value %v of type %T", v, v)
	}
	return nil
}

func appendList(b *strings.Builder, n int, at func(int) any) error {
	b.WriteByte('[')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := appendCanonical(b, at(i)); err != nil {
			return err
		}
	}
	b.WriteByte(']')
	return nil
}

func appendMap(b *strings.Builder, keys []string, at func(string) any) error {
	sort.Strings(keys)
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(k))
		b.WriteByte(':')
		if err := appendCanonical(b, at(k)); err != nil {
			return err
		}
	}
	b.WriteByte('}')
	return nil
}
