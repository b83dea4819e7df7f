// Package table is the columnar table every stage reads and writes: named, typed,
// equal-length columns with deterministic Parquet and CSV encodings.
package table

import (
	"fmt"
	"sort"
)

// Kind is the type of a column.
type Kind int

const (
	Float  Kind = iota // float64
	Int                // int64
	String             // string
	Bool               // bool
)

func (k Kind) String() string {
	switch k {
	case Float:
		return "float64"
	case Int:
		return "int64"
	case String:
		return "string"
	case Bool:
		return "bool"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Col is one column; exactly the slice matching Kind is used.
type Col struct {
	Name  string
	Kind  Kind
	F64   []float64
	I64   []int64
	Str   []string
	Bools []bool
}

// Len is the number of rows of the column.
func (c *Col) Len() int {
	switch c.Kind {
	case Float:
		return len(c.F64)
	case Int:
		return len(c.I64)
	case String:
		return len(c.Str)
	default:
		return len(c.Bools)
	}
}

// Table is an ordered set of equal-length columns plus string metadata (kept sorted
// by key when written, so encodings are deterministic).
type Table struct {
	Cols []*Col
	Meta map[string]string
}

// New returns an empty table.
func New() *Table { return &Table{Meta: map[string]string{}} }

func (t *Table) add(c *Col) *Table {
	if t.Has(c.Name) {
		panic(fmt.Sprintf("table: duplicate column %q", c.Name))
	}
	if len(t.Cols) > 0 && c.Len() != t.Len() {
		panic(fmt.Sprintf("table: column %q has %d rows, table has %d", c.Name, c.Len(), t.Len()))
	}
	t.Cols = append(t.Cols, c)
	return t
}

// AddFloat appends a float64 column (the slice is kept, not copied).
func (t *Table) AddFloat(name string, v []float64) *Table {
	if v == nil {
		v = []float64{}
	}
	return t.add(&Col{Name: name, Kind: Float, F64: v})
}

// AddInt appends an int64 column.
func (t *Table) AddInt(name string, v []int64) *Table {
	if v == nil {
		v = []int64{}
	}
	return t.add(&Col{Name: name, Kind: Int, I64: v})
}

// AddString appends a string column.
func (t *Table) AddString(name string, v []string) *Table {
	if v == nil {
		v = []string{}
	}
	return t.add(&Col{Name: name, Kind: String, Str: v})
}

// AddBool appends a bool column.
func (t *Table) AddBool(name string, v []bool) *Table {
	if v == nil {
		v = []bool{}
	}
	return t.add(&Col{Name: name, Kind: Bool, Bools: v})
}

// SetMeta sets a metadata entry.
func (t *Table) SetMeta(key, value string) *Table {
	if t.Meta == nil {
		t.Meta = map[string]string{}
	}
	t.Meta[key] = value
	return t
}

// Len is the number of rows (0 for a table without columns).
func (t *Table) Len() int {
	if len(t.Cols) == 0 {
		return 0
	}
	return t.Cols[0].Len()
}

// Has reports whether a column exists.
func (t *Table) Has(name string) bool { return t.Col(name) != nil }

// Col returns the named column or nil.
func (t *Table) Col(name string) *Col {
	for _, c := range t.Cols {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Names lists the column names in order.
func (t *Table) Names() []string {
	out := make([]string, len(t.Cols))
	for i, c := range t.Cols {
		out[i] = c.Name
	}
	return out
}

// MetaKeys lists metadata keys sorted.
func (t *Table) MetaKeys() []string {
	keys := make([]string, 0, len(t.Meta))
	for k := range t.Meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Float returns a float64 column; an int64 column is converted (a copy).
func (t *Table) Float(name string) ([]float64, error) {
	c := t.Col(name)
	if c == nil {
		return nil, fmt.Errorf("missing column %q", name)
	}
	switch c.Kind {
	case Float:
		return c.F64, nil
	case Int:
		out := make([]float64, len(c.I64))
		for i, v := range c.I64 {
			out[i] = float64(v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("column %q is %s, want a number", name, c.Kind)
}

// Int returns an int64 column; a float64 column holding only integers is converted.
func (t *Table) Int(name string) ([]int64, error) {
	c := t.Col(name)
	if c == nil {
		return nil, fmt.Errorf("missing column %q", name)
	}
	switch c.Kind {
	case Int:
		return c.I64, nil
	case Float:
		out := make([]int64, len(c.F64))
		for i, v := range c.F64 {
			if v != float64(int64(v)) {
				return nil, fmt.Errorf("column %q row %d: %v is not an integer", name, i, v)
			}
			out[i] = int64(v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("column %q is %s, want an integer", name, c.Kind)
}

// String returns a string column.
func (t *Table) String(name string) ([]string, error) {
	c := t.Col(name)
	if c == nil {
		return nil, fmt.Errorf("missing column %q", name)
	}
	if c.Kind != String {
		return nil, fmt.Errorf("column %q is %s, want string", name, c.Kind)
	}
	return c.Str, nil
}

// Bool returns a bool column.
func (t *Table) Bool(name string) ([]bool, error) {
	c := t.Col(name)
	if c == nil {
		return nil, fmt.Errorf("missing column %q", name)
	}
	if c.Kind != Bool {
		return nil, fmt.Errorf("column %q is %s, want bool", name, c.Kind)
	}
	return c.Bools, nil
}
