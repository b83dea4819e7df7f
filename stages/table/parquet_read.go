package table

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/parquet-go/parquet-go/format"
)

// Reading Parquet files written by others (pandas/pyarrow, polars, DuckDB,
// parquet-go) into tables. Only flat schemas are accepted. Physical and logical
// types map to kinds as follows:
//
//	BOOLEAN                                   -> Bool
//	INT32, INT64 (no annotation, or INT(8/16/32/64, signed or not))
//	                                          -> Int (a UINT64 above 2^63-1 is an error)
//	FLOAT, DOUBLE                             -> Float
//	BYTE_ARRAY (no annotation, STRING/UTF8, ENUM, JSON)
//	                                          -> String (bytes as they are)
//
// Anything else (DECIMAL, DATE, TIME, TIMESTAMP, INT96, FIXED_LEN_BYTE_ARRAY,
// nested or repeated fields) is an error naming the column: convert it to one of
// the types above before handing the file to nmdyn.
//
// Nulls in optional columns: a null in a Float column reads as NaN (what pandas
// does for a float column); a null in an Int, String or Bool column is an error
// naming the column and the row, because no value of those kinds can stand for
// "missing" without being mistaken for data.
//
// A pandas index stored as a column (such as __index_level_0__) is kept as an
// ordinary column; the caller decides what to do with it. The metadata keys
// "ARROW:schema" and "pandas" are dropped (see writerLayoutKeys); every other
// key-value pair becomes Meta.

// writerLayoutKeys are metadata keys that describe the in-memory layout of
// the library that wrote the file (pyarrow's Arrow schema, pandas' index and
// dtypes). They are dropped on read: carried into a table and written again
// after columns changed, they would describe columns that no longer exist and
// mislead pandas when it opens the new file.
var writerLayoutKeys = map[string]bool{"ARROW:schema": true, "pandas": true}

// readBufferBytes is the buffer parquet-go reads column chunks through.
const readBufferBytes = 1 << 20

// ReadParquet reads a whole Parquet file of the given size into one table.
// The file's key-value metadata becomes the table's Meta (less the keys in
// writerLayoutKeys). Errors say what is wrong, not which file: the caller
// adds the name.
func ReadParquet(r io.ReaderAt, size int64) (t *Table, err error) {
	defer recoverCorrupt(&err)
	pf, err := openParquet(r, size, nil)
	if err != nil {
		return nil, err
	}
	n := pf.f.NumRows()
	if err := pf.checkRows(n); err != nil {
		return nil, err
	}
	t = pf.newTable(pf.capacity(n))
	var row int64
	for i, rg := range pf.f.RowGroups() {
		if err := pf.readRowGroup(i, rg, t, row); err != nil {
			return nil, err
		}
		row += rg.NumRows()
	}
	return t, nil
}

// ScanParquet calls fn with one table per row group holding only the named
// columns, in the order asked for (nil means all columns in the file's order;
// an unknown name is an error). Each chunk is freshly allocated, so fn may
// keep it; memory held is one row group of the selected columns. A file
// without row groups gives one call with an empty table, so fn always sees
// the columns. Every chunk carries the file's metadata as Meta. An error
// returned by fn stops the scan and is returned as it is.
func ScanParquet(r io.ReaderAt, size int64, columns []string, fn func(chunk *Table) error) (err error) {
	inCallback := false
	defer func() {
		// A panic inside fn is the caller's bug, not a corrupt file: let it
		// go. (recover must be called by the deferred function itself.)
		if inCallback {
			return
		}
		if p := recover(); p != nil {
			err = corruptError(p)
		}
	}()
	pf, err := openParquet(r, size, columns)
	if err != nil {
		return err
	}
	if err := pf.checkRows(pf.f.NumRows()); err != nil {
		return err
	}
	if len(pf.f.RowGroups()) == 0 {
		// No rows: one empty chunk, so the caller still sees the columns.
		inCallback = true
		return fn(pf.newTable(0))
	}
	var row int64
	for i, rg := range pf.f.RowGroups() {
		chunk := pf.newTable(pf.capacity(rg.NumRows()))
		if err := pf.readRowGroup(i, rg, chunk, row); err != nil {
			return err
		}
		row += rg.NumRows()
		inCallback = true
		if err := fn(chunk); err != nil {
			return err
		}
		inCallback = false
	}
	return nil
}

// recoverCorrupt turns a panic inside parquet-go (which trusts the lengths
// and offsets it decodes) into an error: a damaged file must not crash nmdyn.
func recoverCorrupt(err *error) {
	if p := recover(); p != nil {
		*err = corruptError(p)
	}
}

func corruptError(p any) error { return fmt.Errorf("corrupt parquet file: %v", p) }

// column is the plan for reading one leaf column.
type column struct {
	name     string
	leaf     int         // index among the file's leaf columns
	kind     Kind        // kind in the table
	phys     format.Type // physical type in the file
	unsigned bool        // INT(.., false) annotation: values are unsigned
}

type parquetFile struct {
	r    io.ReaderAt
	size int64
	f    *parquet.File
	cols []column
	meta map[string]string
}

func openParquet(r io.ReaderAt, size int64, names []string) (*parquetFile, error) {
	if err := checkFooter(r, size); err != nil {
		return nil, err
	}
	if err := checkFooterThrift(r, size); err != nil {
		return nil, err
	}
	f, err := parquet.OpenFile(r, size,
		parquet.SkipPageIndex(true),
		parquet.SkipBloomFilters(true),
		parquet.ReadBufferSize(readBufferBytes),
	)
	if err != nil {
		return nil, fmt.Errorf("not a readable parquet file: %w", err)
	}
	md := f.Metadata()
	cols, err := planColumns(md.Schema)
	if err != nil {
		return nil, err
	}
	if names != nil {
		byName := make(map[string]column, len(cols))
		for _, c := range cols {
			byName[c.name] = c
		}
		picked := make([]column, 0, len(names))
		seen := map[string]bool{}
		for _, name := range names {
			c, ok := byName[name]
			if !ok {
				return nil, fmt.Errorf("no column %q (the file has %q)", name, columnNames(cols))
			}
			if seen[name] {
				return nil, fmt.Errorf("column %q asked for twice", name)
			}
			seen[name] = true
			picked = append(picked, c)
		}
		cols = picked
	}
	meta := make(map[string]string, len(md.KeyValueMetadata))
	for _, kv := range md.KeyValueMetadata {
		if !writerLayoutKeys[kv.Key] {
			meta[kv.Key] = kv.Value
		}
	}
	return &parquetFile{r: r, size: size, f: f, cols: cols, meta: meta}, nil
}

// checkFooter checks the magic bytes and the footer length before
// parquet-go allocates a buffer of the length the file claims.
func checkFooter(r io.ReaderAt, size int64) error {
	const magic = "PAR1"
	if size < 12 {
		return fmt.Errorf("not a parquet file: %d bytes, too short", size)
	}
	var head [4]byte
	var tail [8]byte
	if err := readAt(r, head[:], 0); err != nil {
		return fmt.Errorf("reading parquet header: %w", err)
	}
	if err := readAt(r, tail[:], size-8); err != nil {
		return fmt.Errorf("reading parquet footer: %w", err)
	}
	if string(tail[4:]) == "PARE" {
		return errors.New("encrypted parquet files are not supported")
	}
	if string(head[:]) != magic || string(tail[4:]) != magic {
		return errors.New("not a parquet file: no PAR1 magic bytes at both ends")
	}
	if n := int64(binary.LittleEndian.Uint32(tail[:4])); n > size-12 {
		return fmt.Errorf("not a readable parquet file: footer of %d bytes in a file of %d", n, size)
	}
	return nil
}

func columnNames(cols []column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.name
	}
	return out
}

// planColumns checks that the schema is flat and maps each leaf to a kind.
func planColumns(schema []format.SchemaElement) ([]column, error) {
	if len(schema) == 0 {
		return nil, errors.New("parquet file has no schema")
	}
	root := schema[0]
	nChildren := int(root.NumChildren.V)
	if !root.NumChildren.Valid && len(schema) > 1 {
		return nil, errors.New("parquet schema root has no children count")
	}
	if nChildren != len(schema)-1 {
		return nil, fmt.Errorf("nested parquet schema (%d top-level fields, %d schema elements): only flat tables are supported", nChildren, len(schema)-1)
	}
	cols := make([]column, 0, nChildren)
	seen := make(map[string]bool, nChildren)
	for i, el := range schema[1:] {
		c := column{name: el.Name, leaf: i}
		if el.NumChildren.Valid && el.NumChildren.V > 0 || !el.Type.Valid {
			return nil, fmt.Errorf("column %q is a nested group: only flat tables are supported", el.Name)
		}
		if seen[el.Name] {
			return nil, fmt.Errorf("duplicate column %q", el.Name)
		}
		seen[el.Name] = true
		switch el.RepetitionType.V { // unset means required
		case format.Required, format.Optional: // nulls are handled per value
		default:
			return nil, fmt.Errorf("column %q is repeated: only flat tables are supported", el.Name)
		}
		c.phys = el.Type.V
		if err := c.mapType(el); err != nil {
			return nil, fmt.Errorf("column %q: %w", el.Name, err)
		}
		cols = append(cols, c)
	}
	return cols, nil
}

// mapType sets the kind from the physical type and its annotation (the
// logical type, or for old writers the converted type).
func (c *column) mapType(el format.SchemaElement) error {
	logical := el.LogicalType.Value
	var converted *deprecated.ConvertedType
	if el.ConvertedType.Valid {
		converted = &el.ConvertedType.V
	}
	switch c.phys {
	case format.Boolean:
		c.kind = Bool
		if logical != nil || converted != nil {
			return fmt.Errorf("BOOLEAN with annotation %s is not supported", annotation(el))
		}
	case format.Int32, format.Int64:
		c.kind = Int
		switch lt := logical.(type) {
		case nil:
			if converted != nil {
				switch *converted {
				case deprecated.Int8, deprecated.Int16, deprecated.Int32, deprecated.Int64:
				case deprecated.Uint8, deprecated.Uint16, deprecated.Uint32, deprecated.Uint64:
					c.unsigned = true
				default:
					return fmt.Errorf("%s with annotation %s is not supported (want a plain integer)", c.phys, annotation(el))
				}
			}
		case *format.IntType:
			c.unsigned = !lt.IsSigned
		default:
			return fmt.Errorf("%s with annotation %s is not supported (want a plain integer)", c.phys, annotation(el))
		}
	case format.Float, format.Double:
		c.kind = Float
		if logical != nil || converted != nil {
			return fmt.Errorf("%s with annotation %s is not supported", c.phys, annotation(el))
		}
	case format.ByteArray:
		c.kind = String
		switch logical.(type) {
		case nil:
			if converted != nil {
				switch *converted {
				case deprecated.UTF8, deprecated.Enum, deprecated.Json:
				default:
					return fmt.Errorf("BYTE_ARRAY with annotation %s is not supported (want a string)", annotation(el))
				}
			}
		case *format.StringType, *format.EnumType, *format.JsonType:
		default:
			return fmt.Errorf("BYTE_ARRAY with annotation %s is not supported (want a string)", annotation(el))
		}
	default:
		return fmt.Errorf("physical type %s is not supported (want BOOLEAN, INT32, INT64, FLOAT, DOUBLE or BYTE_ARRAY)", c.phys)
	}
	return nil
}

// convertedNames are the legacy converted types, by value (parquet.thrift).
var convertedNames = [...]string{
	"UTF8", "MAP", "MAP_KEY_VALUE", "LIST", "ENUM", "DECIMAL", "DATE", "TIME_MILLIS", "TIME_MICROS",
	"TIMESTAMP_MILLIS", "TIMESTAMP_MICROS", "UINT_8", "UINT_16", "UINT_32", "UINT_64",
	"INT_8", "INT_16", "INT_32", "INT_64", "JSON", "BSON", "INTERVAL",
}

func annotation(el format.SchemaElement) string {
	if el.LogicalType.Value != nil {
		return el.LogicalType.Value.String()
	}
	if el.ConvertedType.Valid {
		if i := int(el.ConvertedType.V); i >= 0 && i < len(convertedNames) {
			return convertedNames[i]
		}
		return fmt.Sprintf("converted type %d", int(el.ConvertedType.V))
	}
	return "none"
}

// checkRows checks the row counts of the footer against each other. They
// are not trusted for allocation (see capacity).
func (pf *parquetFile) checkRows(total int64) error {
	var sum int64
	for i, rg := range pf.f.RowGroups() {
		n := rg.NumRows()
		if n < 0 || n > math.MaxInt32 {
			return fmt.Errorf("row group %d claims %d rows", i, n)
		}
		sum += n
	}
	if sum != total {
		return fmt.Errorf("file claims %d rows but its row groups hold %d", total, sum)
	}
	return nil
}

// capacity is how many rows to allocate up front for a claim of n rows. A
// damaged footer can claim any count, and a legitimate file can hold many
// rows per byte (a constant bool column compresses to almost nothing), so
// claims beyond a generous bytes-based bound are not preallocated: the
// columns then grow as pages are actually decoded.
func (pf *parquetFile) capacity(n int64) int {
	if limit := 1<<16 + 64*pf.f.Size(); n > limit {
		return int(limit)
	}
	return int(n)
}

func (pf *parquetFile) newTable(capacity int) *Table {
	t := &Table{Meta: make(map[string]string, len(pf.meta))}
	for k, v := range pf.meta {
		t.Meta[k] = v
	}
	for _, c := range pf.cols {
		col := &Col{Name: c.name, Kind: c.kind}
		switch c.kind {
		case Float:
			col.F64 = make([]float64, 0, capacity)
		case Int:
			col.I64 = make([]int64, 0, capacity)
		case String:
			col.Str = make([]string, 0, capacity)
		case Bool:
			col.Bools = make([]bool, 0, capacity)
		}
		t.Cols = append(t.Cols, col)
	}
	return t
}

// readRowGroup appends the planned columns of rg to t; fileRow is the index
// in the file of the group's first row (for errors).
func (pf *parquetFile) readRowGroup(index int, rg parquet.RowGroup, t *Table, fileRow int64) error {
	if err := pf.checkRowGroup(index); err != nil {
		return err
	}
	chunks := rg.ColumnChunks()
	for i, c := range pf.cols {
		if c.leaf >= len(chunks) {
			return fmt.Errorf("column %q: row group has %d column chunks", c.name, len(chunks))
		}
		d := decoder{col: c, dst: t.Cols[i], want: int(rg.NumRows()), fileRow: fileRow}
		if err := d.chunk(chunks[c.leaf]); err != nil {
			return err
		}
	}
	return nil
}

// decoder appends one column chunk to one table column.
type decoder struct {
	col       column
	dst       *Col
	want, got int   // rows the row group claims, rows decoded so far
	fileRow   int64 // file row of the row group's first row (for errors)
	values    []parquet.Value
}

func (d *decoder) chunk(cc parquet.ColumnChunk) error {
	pages := cc.Pages()
	defer pages.Close()
	for {
		p, err := pages.ReadPage()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("column %q: reading page: %w", d.col.name, err)
		}
		err = d.page(p)
		parquet.Release(p)
		if err != nil {
			return err
		}
	}
	if d.got != d.want {
		return fmt.Errorf("column %q: row group holds %d rows, its pages %d", d.col.name, d.want, d.got)
	}
	return nil
}

func (d *decoder) page(p parquet.Page) error {
	n := int(p.NumValues())
	if n < 0 || n > d.want-d.got {
		return fmt.Errorf("column %q: page of %d values overflows the row group (%d rows left)", d.col.name, n, d.want-d.got)
	}
	if d.fast(p, n) {
		d.got += n
		return nil
	}
	if cap(d.values) == 0 {
		d.values = make([]parquet.Value, 4096)
	}
	r := p.Values()
	end := d.got + n
	for {
		k, err := r.ReadValues(d.values)
		if d.got+k > end {
			return fmt.Errorf("column %q: page yields more than its %d values", d.col.name, n)
		}
		for _, v := range d.values[:k] {
			if err := d.add(v); err != nil {
				return err
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("column %q: decoding page: %w", d.col.name, err)
		}
		if k == 0 {
			return fmt.Errorf("column %q: page decoder made no progress", d.col.name)
		}
	}
	if d.got != end {
		return fmt.Errorf("column %q: page holds %d values, decoded %d", d.col.name, n, n-(end-d.got))
	}
	return nil
}

// fast appends a page of plain, non-null numbers straight from its buffer.
func (d *decoder) fast(p parquet.Page, n int) bool {
	if p.Dictionary() != nil || p.NumNulls() != 0 || len(p.DefinitionLevels()) != 0 || len(p.RepetitionLevels()) != 0 {
		return false
	}
	data := p.Data()
	switch {
	case d.col.phys == format.Double && data.Kind() == encoding.Double:
		src := data.Double()
		if len(src) != n {
			return false
		}
		d.dst.F64 = append(d.dst.F64, src...)
	case d.col.phys == format.Int64 && !d.col.unsigned && data.Kind() == encoding.Int64:
		src := data.Int64()
		if len(src) != n {
			return false
		}
		d.dst.I64 = append(d.dst.I64, src...)
	default:
		return false
	}
	return true
}

// add converts one parquet value and appends it to the column.
func (d *decoder) add(v parquet.Value) error {
	row := d.fileRow + int64(d.got)
	d.got++
	if v.IsNull() {
		if d.col.kind == Float {
			d.dst.F64 = append(d.dst.F64, math.NaN())
			return nil
		}
		return fmt.Errorf("column %q row %d: null value (only float columns may hold nulls, read as NaN)", d.col.name, row)
	}
	switch d.col.phys {
	case format.Boolean:
		d.dst.Bools = append(d.dst.Bools, v.Boolean())
	case format.Int32:
		if d.col.unsigned {
			d.dst.I64 = append(d.dst.I64, int64(uint32(v.Int32())))
		} else {
			d.dst.I64 = append(d.dst.I64, int64(v.Int32()))
		}
	case format.Int64:
		x := v.Int64()
		if d.col.unsigned && x < 0 {
			return fmt.Errorf("column %q row %d: unsigned value %d does not fit in int64", d.col.name, row, uint64(x))
		}
		d.dst.I64 = append(d.dst.I64, x)
	case format.Float:
		d.dst.F64 = append(d.dst.F64, float64(v.Float()))
	case format.Double:
		d.dst.F64 = append(d.dst.F64, v.Double())
	case format.ByteArray:
		d.dst.Str = append(d.dst.Str, string(v.ByteArray()))
	}
	return nil
}
