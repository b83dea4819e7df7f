package table

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"unicode/utf8"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/zstd"
	"github.com/parquet-go/parquet-go/encoding"
)

// Fixed encoder settings. Every one of them shapes the bytes of the file, so
// none depends on the input size, the machine or the time: the same table gives
// the same file, which the content-addressed cache relies on.
const (
	// RowGroupRows is the number of rows per row group (the last one may be
	// shorter). 1<<20 rows of float64 is 8 MiB per column before compression:
	// large enough that readers see few row groups, small enough that the
	// streaming writer and ScanParquet hold little.
	RowGroupRows = 1 << 20

	// CreatedBy is the created_by field of every file written here (no
	// version or build, so a rebuild does not change the bytes).
	CreatedBy = "nmdyn"

	// pageBytes is the target uncompressed size of a data page.
	pageBytes = 256 << 10

	// writeBatchRows is how many values are handed to the column writer at a
	// time. parquet-go closes a page when its buffer passes pageBytes after a
	// batch, so page boundaries fall on multiples of writeBatchRows counted
	// from the start of the row group: that, not the caller's chunk sizes,
	// decides them.
	writeBatchRows = 1024

	// schemaName is the name of the root of the schema (pyarrow writes the same).
	schemaName = "schema"
)

// codec is the compression of every column: zstd at its default level, run
// single-threaded (Concurrency 1), so EncodeAll is a pure function of the page
// bytes and the pinned library version. Chosen over snappy (equally
// deterministic) because it compresses real float data better at the same
// write speed: the Neurophotometrics raw export (86,936 rows x 10 columns)
// takes 2.38 MB with zstd, 3.12 MB with snappy (3.43 MB as pandas wrote it),
// and every target reader (pyarrow, polars, DuckDB) decodes zstd.
var codec = &zstd.Codec{Level: zstd.SpeedDefault, Concurrency: 1}

// WriteParquet writes t as one Parquet file: a flat schema with one required
// column per table column in table order (float64 -> DOUBLE, int64 -> INT64,
// string -> BYTE_ARRAY with the String logical type, bool -> BOOLEAN), PLAIN
// encoding, zstd pages (data page v1), row groups of RowGroupRows rows, the
// table's Meta as key-value metadata sorted by key and created_by "nmdyn". The
// same table always gives the same bytes.
//
// Column names may hold any UTF-8 (DuckDB shows an empty name as C<n>). A
// table without columns gives a valid file that arrow readers open but
// DuckDB refuses ("need at least one non-root column").
func WriteParquet(w io.Writer, t *Table) error {
	pw := NewParquetWriter(w)
	if err := pw.Write(t); err != nil {
		return err
	}
	return pw.Close()
}

// ParquetWriter streams tables into one Parquet file, holding at most one row
// group. Its output is byte-identical to WriteParquet of the concatenation of
// the chunks, whatever their sizes.
type ParquetWriter struct {
	out     io.Writer
	schema  *Table // columns (no data) and meta of the first chunk
	w       *parquet.Writer
	cols    []*parquet.ColumnWriter
	pending [][]parquet.Value // per column, values not yet handed to cols
	rows    int64             // rows written so far
	err     error             // first error; the writer is unusable after it
	closed  bool
}

// NewParquetWriter returns a writer to w. Nothing is written until the first
// Write or Close.
func NewParquetWriter(w io.Writer) *ParquetWriter { return &ParquetWriter{out: w} }

// Write appends the rows of chunk. The first chunk fixes the columns (names and
// kinds) and the metadata; later chunks must have the same columns in the same
// order, and a Meta that is empty or equal to the first one.
func (pw *ParquetWriter) Write(chunk *Table) error {
	if pw.err != nil {
		return pw.err
	}
	if pw.closed {
		return errors.New("parquet writer: write after close")
	}
	if err := validate(chunk); err != nil {
		return err
	}
	if pw.schema == nil {
		pw.start(chunk)
	} else if err := pw.sameSchema(chunk); err != nil {
		return err
	}
	n := chunk.Len()
	for lo := 0; lo < n; {
		// Split the chunk at row-group boundaries so each one is flushed at
		// the same absolute row, whatever the chunking.
		room := RowGroupRows - int(pw.rows%RowGroupRows)
		hi := min(n, lo+room)
		for i, c := range chunk.Cols {
			if err := pw.feed(i, c, lo, hi); err != nil {
				return pw.fail(err)
			}
		}
		pw.rows += int64(hi - lo)
		lo = hi
		if pw.rows%RowGroupRows == 0 {
			if err := pw.flushRowGroup(); err != nil {
				return pw.fail(err)
			}
		}
	}
	return nil
}

// Close writes the last row group and the footer. It does not close the
// underlying writer. Closing a writer that got no chunk writes a file with no
// columns and no rows, as WriteParquet(w, New()) does.
func (pw *ParquetWriter) Close() error {
	if pw.err != nil {
		return pw.err
	}
	if pw.closed {
		return nil
	}
	pw.closed = true
	if pw.schema == nil {
		pw.start(New())
	}
	if err := pw.flushRowGroup(); err != nil {
		return pw.fail(err)
	}
	if err := pw.w.Close(); err != nil {
		return pw.fail(fmt.Errorf("writing parquet footer: %w", err))
	}
	return nil
}

func (pw *ParquetWriter) fail(err error) error {
	pw.err = err
	return err
}

// start builds the parquet-go writer for the columns and meta of t.
func (pw *ParquetWriter) start(t *Table) {
	pw.schema = &Table{Meta: maps.Clone(t.Meta)}
	fields := make([]parquet.Field, len(t.Cols))
	for i, c := range t.Cols {
		pw.schema.Cols = append(pw.schema.Cols, &Col{Name: c.Name, Kind: c.Kind})
		fields[i] = field{name: c.Name, Node: leafNode(c.Kind)}
	}
	config := &parquet.WriterConfig{
		CreatedBy:        CreatedBy,
		PageBufferSize:   pageBytes,
		DataPageVersion:  1,
		KeyValueMetadata: maps.Clone(t.Meta), // sorted by key by parquet-go
		Compression:      codec,
		Schema:           parquet.NewSchema(schemaName, orderedGroup(fields)),
	}
	pw.w = parquet.NewWriter(pw.out, config)
	pw.cols = pw.w.ColumnWriters()
	pw.pending = make([][]parquet.Value, len(t.Cols))
	for i := range pw.pending {
		pw.pending[i] = make([]parquet.Value, 0, writeBatchRows)
	}
}

func (pw *ParquetWriter) sameSchema(t *Table) error {
	if len(t.Cols) != len(pw.schema.Cols) {
		return fmt.Errorf("parquet writer: chunk has %d columns %q, first chunk had %d %q",
			len(t.Cols), t.Names(), len(pw.schema.Cols), pw.schema.Names())
	}
	for i, c := range t.Cols {
		want := pw.schema.Cols[i]
		if c.Name != want.Name || c.Kind != want.Kind {
			return fmt.Errorf("parquet writer: chunk column %d is %q (%s), first chunk had %q (%s)",
				i, c.Name, c.Kind, want.Name, want.Kind)
		}
	}
	if len(t.Meta) > 0 && !maps.Equal(t.Meta, pw.schema.Meta) {
		return errors.New("parquet writer: chunk metadata differs from the first chunk's (metadata is written once, from the first chunk)")
	}
	return nil
}

// feed converts rows [lo, hi) of column i to parquet values and hands them to
// the column writer in batches of writeBatchRows, counted from the start of
// the row group.
func (pw *ParquetWriter) feed(i int, c *Col, lo, hi int) error {
	for lo < hi {
		buf := pw.pending[i]
		k := min(hi-lo, writeBatchRows-len(buf))
		n := len(buf)
		buf = buf[:n+k]
		switch c.Kind {
		case Float:
			for j, v := range c.F64[lo : lo+k] {
				buf[n+j] = parquet.DoubleValue(v)
			}
		case Int:
			for j, v := range c.I64[lo : lo+k] {
				buf[n+j] = parquet.Int64Value(v)
			}
		case String:
			// No copy: the column writer copies the bytes into its page
			// buffer; until then the value keeps the string alive.
			for j, s := range c.Str[lo : lo+k] {
				buf[n+j] = parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(s), len(s)))
			}
		case Bool:
			for j, v := range c.Bools[lo : lo+k] {
				buf[n+j] = parquet.BooleanValue(v)
			}
		}
		lo += k
		if len(buf) == writeBatchRows {
			if _, err := pw.cols[i].WriteRowValues(buf); err != nil {
				return fmt.Errorf("column %q: %w", c.Name, err)
			}
			if c.Kind == String {
				clear(buf) // drop the references to the strings
			}
			buf = buf[:0]
		}
		pw.pending[i] = buf
	}
	return nil
}

// flushRowGroup hands the partial batches to the column writers and ends the
// row group (nothing is written for an empty one).
func (pw *ParquetWriter) flushRowGroup() error {
	for i, buf := range pw.pending {
		if len(buf) > 0 {
			if _, err := pw.cols[i].WriteRowValues(buf); err != nil {
				return fmt.Errorf("column %q: %w", pw.schema.Cols[i].Name, err)
			}
		}
		clear(buf)
		pw.pending[i] = buf[:0]
	}
	if err := pw.w.Flush(); err != nil {
		return fmt.Errorf("writing parquet row group: %w", err)
	}
	return nil
}

// validate checks what the Table type does not enforce when built by hand:
// unique valid-UTF-8 names, known kinds, equal lengths, and valid UTF-8
// strings (DuckDB and pyarrow reject a String column holding anything else).
func validate(t *Table) error {
	if t == nil {
		return errors.New("nil table")
	}
	seen := make(map[string]bool, len(t.Cols))
	n := t.Len()
	for _, c := range t.Cols {
		if c == nil {
			return errors.New("nil column")
		}
		if !utf8.ValidString(c.Name) {
			return fmt.Errorf("column name %q is not valid UTF-8", c.Name)
		}
		if seen[c.Name] {
			return fmt.Errorf("duplicate column %q", c.Name)
		}
		seen[c.Name] = true
		if c.Kind < Float || c.Kind > Bool {
			return fmt.Errorf("column %q has unknown kind %s", c.Name, c.Kind)
		}
		if c.Len() != n {
			return fmt.Errorf("column %q has %d rows, column %q has %d", c.Name, c.Len(), t.Cols[0].Name, n)
		}
		if c.Kind == String {
			for r, s := range c.Str {
				if !utf8.ValidString(s) {
					return fmt.Errorf("column %q row %d: string is not valid UTF-8", c.Name, r)
				}
			}
		}
	}
	for k, v := range t.Meta {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("metadata %q is not valid UTF-8", k)
		}
	}
	return nil
}

func leafNode(k Kind) parquet.Node {
	switch k {
	case Float:
		return parquet.Leaf(parquet.DoubleType)
	case Int:
		return parquet.Leaf(parquet.Int64Type)
	case String:
		return parquet.String()
	default:
		return parquet.Leaf(parquet.BooleanType)
	}
}

// orderedGroup is a parquet group whose fields keep the table's column order
// (parquet.Group is a map and sorts its fields by name).
type orderedGroup []parquet.Field

func (g orderedGroup) ID() int                     { return 0 }
func (g orderedGroup) String() string              { return fmt.Sprintf("group(%d fields)", len(g)) }
func (g orderedGroup) Type() parquet.Type          { return parquet.Group(nil).Type() }
func (g orderedGroup) Optional() bool              { return false }
func (g orderedGroup) Repeated() bool              { return false }
func (g orderedGroup) Required() bool              { return true }
func (g orderedGroup) Leaf() bool                  { return false }
func (g orderedGroup) Fields() []parquet.Field     { return g }
func (g orderedGroup) Encoding() encoding.Encoding { return nil }
func (g orderedGroup) Compression() compress.Codec { return nil }

// GoType is only used when mapping Go structs, which this package never does.
func (g orderedGroup) GoType() reflect.Type { return reflect.TypeFor[struct{}]() }

// field names a leaf node inside an orderedGroup.
type field struct {
	parquet.Node
	name string
}

func (f field) Name() string                      { return f.name }
func (f field) Value(reflect.Value) reflect.Value { return reflect.Value{} }
