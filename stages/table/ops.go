package table

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// Slice returns rows [lo, hi) of t as a view: the columns share their backing
// arrays with t (no copy; writing a value through one shows in the other), the
// Meta is a copy. It panics if the range is out of bounds, as slicing does.
func (t *Table) Slice(lo, hi int) *Table {
	if lo < 0 || hi < lo || hi > t.Len() {
		panic(fmt.Sprintf("table: slice [%d:%d] of a table with %d rows", lo, hi, t.Len()))
	}
	out := &Table{Meta: maps.Clone(t.Meta), Cols: make([]*Col, len(t.Cols))}
	for i, c := range t.Cols {
		s := &Col{Name: c.Name, Kind: c.Kind}
		switch c.Kind {
		case Float:
			s.F64 = c.F64[lo:hi:hi]
		case Int:
			s.I64 = c.I64[lo:hi:hi]
		case String:
			s.Str = c.Str[lo:hi:hi]
		case Bool:
			s.Bools = c.Bools[lo:hi:hi]
		}
		out.Cols[i] = s
	}
	if out.Meta == nil {
		out.Meta = map[string]string{}
	}
	return out
}

// Select returns a table of the named columns in the given order, sharing
// their data with t (no copy) and with a copy of the Meta. A missing or
// repeated name is an error.
func (t *Table) Select(names ...string) (*Table, error) {
	out := &Table{Meta: maps.Clone(t.Meta), Cols: make([]*Col, 0, len(names))}
	if out.Meta == nil {
		out.Meta = map[string]string{}
	}
	for i, name := range names {
		c := t.Col(name)
		if c == nil {
			return nil, fmt.Errorf("select: missing column %q (have %q)", name, t.Names())
		}
		if slices.Contains(names[:i], name) {
			return nil, fmt.Errorf("select: column %q asked for twice", name)
		}
		cp := *c
		out.Cols = append(out.Cols, &cp)
	}
	return out, nil
}

// Concat stacks tables row-wise into a new table (data copied). All tables
// must have the same column names and kinds in the same order. The Meta is the
// first table's; a later table's Meta must be empty or equal to it (the rule
// of ParquetWriter, so Concat of the chunks is what the writer writes).
// Concat of no tables is an empty table.
func Concat(tables ...*Table) (*Table, error) {
	if len(tables) == 0 {
		return New(), nil
	}
	first := tables[0]
	total := 0
	for i, t := range tables {
		if len(t.Cols) != len(first.Cols) {
			return nil, fmt.Errorf("concat: table %d has columns %q, table 0 has %q", i, t.Names(), first.Names())
		}
		for j, c := range t.Cols {
			if c.Name != first.Cols[j].Name || c.Kind != first.Cols[j].Kind {
				return nil, fmt.Errorf("concat: table %d column %d is %q (%s), table 0 has %q (%s)",
					i, j, c.Name, c.Kind, first.Cols[j].Name, first.Cols[j].Kind)
			}
		}
		if i > 0 && len(t.Meta) > 0 && !maps.Equal(t.Meta, first.Meta) {
			return nil, fmt.Errorf("concat: table %d has metadata different from table 0", i)
		}
		total += t.Len()
	}
	out := &Table{Meta: maps.Clone(first.Meta), Cols: make([]*Col, len(first.Cols))}
	if out.Meta == nil {
		out.Meta = map[string]string{}
	}
	for j, c := range first.Cols {
		dst := &Col{Name: c.Name, Kind: c.Kind}
		switch c.Kind {
		case Float:
			dst.F64 = make([]float64, 0, total)
		case Int:
			dst.I64 = make([]int64, 0, total)
		case String:
			dst.Str = make([]string, 0, total)
		case Bool:
			dst.Bools = make([]bool, 0, total)
		}
		for _, t := range tables {
			src := t.Cols[j]
			dst.F64 = append(dst.F64, src.F64...)
			dst.I64 = append(dst.I64, src.I64...)
			dst.Str = append(dst.Str, src.Str...)
			dst.Bools = append(dst.Bools, src.Bools...)
		}
		out.Cols[j] = dst
	}
	return out, nil
}

// Equal reports whether a and b hold exactly the same thing: the same columns
// (names, kinds, order), the same values and the same Meta. Floats are equal
// when their bits are, except that every NaN equals every NaN (so -0 and +0
// differ, as they would in a file). A nil Meta equals an empty one.
func Equal(a, b *Table) bool {
	if len(a.Cols) != len(b.Cols) || a.Len() != b.Len() || !maps.Equal(a.Meta, b.Meta) {
		return false
	}
	for i, ca := range a.Cols {
		cb := b.Cols[i]
		if ca.Name != cb.Name || ca.Kind != cb.Kind || ca.Len() != cb.Len() {
			return false
		}
		switch ca.Kind {
		case Float:
			for r, x := range ca.F64 {
				y := cb.F64[r]
				if math.Float64bits(x) != math.Float64bits(y) && !(x != x && y != y) {
					return false
				}
			}
		case Int:
			if !slices.Equal(ca.I64, cb.I64) {
				return false
			}
		case String:
			if !slices.Equal(ca.Str, cb.Str) {
				return false
			}
		case Bool:
			if !slices.Equal(ca.Bools, cb.Bools) {
				return false
			}
		}
	}
	return true
}

// maxReportedRows is how many differing rows Compare lists per column.
const maxReportedRows = 5

// Compare describes how b differs from a, one line per difference; nil means
// they match. It compares data, not Meta (which carries provenance). Columns
// are matched by name; their order is not compared. Ints, strings and bools
// must be equal; two floats x, y match when
//
//	|x - y| <= relTol * max(|x|, |y|)
//
// or both are NaN, or both are the same infinity. The tolerance is purely
// relative, so a value near zero must match to relTol of its own size: round
// values first if an absolute floor is wanted.
func Compare(a, b *Table, relTol float64) []string {
	var out []string
	for _, c := range a.Cols {
		if b.Col(c.Name) == nil {
			out = append(out, fmt.Sprintf("column %q only in the first table", c.Name))
		}
	}
	for _, c := range b.Cols {
		if a.Col(c.Name) == nil {
			out = append(out, fmt.Sprintf("column %q only in the second table", c.Name))
		}
	}
	if a.Len() != b.Len() {
		out = append(out, fmt.Sprintf("%d rows vs %d", a.Len(), b.Len()))
		return out
	}
	for _, ca := range a.Cols {
		cb := b.Col(ca.Name)
		if cb == nil {
			continue
		}
		if ca.Kind != cb.Kind {
			out = append(out, fmt.Sprintf("column %q: %s vs %s", ca.Name, ca.Kind, cb.Kind))
			continue
		}
		if line := compareCol(ca, cb, relTol); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// compareCol returns a one-line summary of the rows where ca and cb differ.
func compareCol(ca, cb *Col, relTol float64) string {
	var rows []int
	count := 0
	worst, worstRow := 0.0, -1
	note := func(r int) {
		count++
		if len(rows) < maxReportedRows {
			rows = append(rows, r)
		}
	}
	n := ca.Len()
	for r := 0; r < n; r++ {
		switch ca.Kind {
		case Float:
			x, y := ca.F64[r], cb.F64[r]
			if ok, rel := floatsMatch(x, y, relTol); !ok {
				note(r)
				if rel > worst || worstRow < 0 {
					worst, worstRow = rel, r
				}
			}
		case Int:
			if ca.I64[r] != cb.I64[r] {
				note(r)
			}
		case String:
			if ca.Str[r] != cb.Str[r] {
				note(r)
			}
		case Bool:
			if ca.Bools[r] != cb.Bools[r] {
				note(r)
			}
		}
	}
	if count == 0 {
		return ""
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "column %q: %d of %d rows differ", ca.Name, count, n)
	if ca.Kind == Float {
		fmt.Fprintf(&sb, " beyond relTol %g; largest relative difference %.3g at row %d (%v vs %v)",
			relTol, worst, worstRow, ca.F64[worstRow], cb.F64[worstRow])
	}
	sb.WriteString("; first rows:")
	for _, r := range rows {
		fmt.Fprintf(&sb, " %d (%s vs %s)", r, cellString(ca, r), cellString(cb, r))
	}
	return sb.String()
}

// floatsMatch applies Compare's rule and returns the relative difference
// (+Inf when one side is NaN or infinite and the other is not the same).
func floatsMatch(x, y, relTol float64) (bool, float64) {
	switch {
	case x == y: // includes equal infinities
		return true, 0
	case x != x && y != y:
		return true, 0
	case x != x || y != y || math.IsInf(x, 0) || math.IsInf(y, 0):
		return false, math.Inf(1)
	}
	d := math.Abs(x - y)
	scale := max(math.Abs(x), math.Abs(y))
	rel := d / scale // scale > 0 since x != y
	return d <= relTol*scale, rel
}

func cellString(c *Col, r int) string {
	switch c.Kind {
	case Float:
		return fmt.Sprint(c.F64[r])
	case Int:
		return fmt.Sprint(c.I64[r])
	case String:
		return fmt.Sprintf("%q", c.Str[r])
	default:
		return fmt.Sprint(c.Bools[r])
	}
}
