package table

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
)

// Files as other writers make them, built with parquet-go's general writer:
// optional columns, narrow and unsigned ints, float32, dictionary pages,
// every codec, both data page versions, several row groups.

type foreignCol struct {
	name string
	node parquet.Node
	vals []any // nil is a null
}

// foreignFile writes the columns with parquet-go's row writer.
func foreignFile(t *testing.T, cols []foreignCol, opts ...parquet.WriterOption) []byte {
	t.Helper()
	fields := make([]parquet.Field, len(cols))
	for i, c := range cols {
		fields[i] = field{name: c.name, Node: c.node}
	}
	schema := parquet.NewSchema("schema", orderedGroup(fields))
	var buf bytes.Buffer
	w := parquet.NewWriter(&buf, append([]parquet.WriterOption{schema}, opts...)...)
	n := len(cols[0].vals)
	rows := make([]parquet.Row, n)
	for r := range n {
		row := make(parquet.Row, len(cols))
		for j, c := range cols {
			def := 0
			if c.node.Optional() {
				def = 1
			}
			var v parquet.Value
			switch x := c.vals[r].(type) {
			case nil:
				v, def = parquet.NullValue(), 0
			case bool:
				v = parquet.BooleanValue(x)
			case int32:
				v = parquet.Int32Value(x)
			case int64:
				v = parquet.Int64Value(x)
			case uint64:
				v = parquet.Int64Value(int64(x))
			case float32:
				v = parquet.FloatValue(x)
			case float64:
				v = parquet.DoubleValue(x)
			case string:
				v = parquet.ByteArrayValue([]byte(x))
			default:
				t.Fatalf("value %T", x)
			}
			row[j] = v.Level(0, def, j)
		}
		rows[r] = row
	}
	if _, err := w.WriteRows(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadForeignTypes(t *testing.T) {
	nan := math.NaN()
	cols := []foreignCol{
		{"__index_level_0__", parquet.Leaf(parquet.Int64Type), []any{int64(10), int64(11), int64(12), int64(13)}},
		{"i8", parquet.Int(8), []any{int32(-128), int32(127), int32(0), int32(-1)}},
		{"i16", parquet.Int(16), []any{int32(-32768), int32(32767), int32(1), int32(2)}},
		{"i32", parquet.Leaf(parquet.Int32Type), []any{int32(math.MinInt32), int32(math.MaxInt32), int32(3), int32(4)}},
		{"u8", parquet.Uint(8), []any{int32(0), int32(255), int32(5), int32(6)}},
		{"u32", parquet.Uint(32), []any{int32(0), int32(-1), int32(7), int32(8)}}, // -1 is 2^32-1 unsigned
		{"u64", parquet.Uint(64), []any{uint64(0), uint64(math.MaxInt64), uint64(9), uint64(10)}},
		{"f32", parquet.Leaf(parquet.FloatType), []any{float32(0.5), float32(-1.25), float32(math.Inf(1)), float32(3)}},
		{"f64 nullable", parquet.Optional(parquet.Leaf(parquet.DoubleType)), []any{1.5, nil, -2.0, nil}},
		{"f32 nullable", parquet.Optional(parquet.Leaf(parquet.FloatType)), []any{nil, float32(2), nil, float32(4)}},
		{"int nullable, no nulls", parquet.Optional(parquet.Leaf(parquet.Int64Type)), []any{int64(1), int64(2), int64(3), int64(4)}},
		{"str", parquet.String(), []any{"a", "", "ü", "a"}},
		{"dict str", parquet.Encoded(parquet.String(), &parquet.RLEDictionary), []any{"x", "y", "x", "x"}},
		{"dict f64", parquet.Encoded(parquet.Leaf(parquet.DoubleType), &parquet.RLEDictionary), []any{0.25, 0.25, 1.0, 0.25}},
		{"dict i64", parquet.Encoded(parquet.Leaf(parquet.Int64Type), &parquet.RLEDictionary), []any{int64(7), int64(7), int64(7), int64(8)}},
		{"bytes", parquet.Leaf(parquet.ByteArrayType), []any{"raw", "b", "c", "d"}},
		{"enum", parquet.Enum(), []any{"on", "off", "on", "on"}},
		{"json", parquet.JSON(), []any{"{}", "[1]", "null", "2"}},
		{"bool", parquet.Leaf(parquet.BooleanType), []any{true, false, false, true}},
		{"bool nullable", parquet.Optional(parquet.Leaf(parquet.BooleanType)), []any{true, false, true, true}},
	}
	want := New().
		AddInt("__index_level_0__", []int64{10, 11, 12, 13}).
		AddInt("i8", []int64{-128, 127, 0, -1}).
		AddInt("i16", []int64{-32768, 32767, 1, 2}).
		AddInt("i32", []int64{math.MinInt32, math.MaxInt32, 3, 4}).
		AddInt("u8", []int64{0, 255, 5, 6}).
		AddInt("u32", []int64{0, math.MaxUint32, 7, 8}).
		AddInt("u64", []int64{0, math.MaxInt64, 9, 10}).
		AddFloat("f32", []float64{0.5, -1.25, math.Inf(1), 3}).
		AddFloat("f64 nullable", []float64{1.5, nan, -2, nan}).
		AddFloat("f32 nullable", []float64{nan, 2, nan, 4}).
		AddInt("int nullable, no nulls", []int64{1, 2, 3, 4}).
		AddString("str", []string{"a", "", "ü", "a"}).
		AddString("dict str", []string{"x", "y", "x", "x"}).
		AddFloat("dict f64", []float64{0.25, 0.25, 1, 0.25}).
		AddInt("dict i64", []int64{7, 7, 7, 8}).
		AddString("bytes", []string{"raw", "b", "c", "d"}).
		AddString("enum", []string{"on", "off", "on", "on"}).
		AddString("json", []string{"{}", "[1]", "null", "2"}).
		AddBool("bool", []bool{true, false, false, true}).
		AddBool("bool nullable", []bool{true, false, true, true})
	codecs := map[string]compress.Codec{
		"none": &parquet.Uncompressed, "snappy": &parquet.Snappy, "gzip": &parquet.Gzip,
		"zstd": &parquet.Zstd, "lz4": &parquet.Lz4Raw, "brotli": &parquet.Brotli,
	}
	for name, codec := range codecs {
		for _, version := range []int{1, 2} {
			for _, perGroup := range []int64{1, 3, 100} {
				b := foreignFile(t, cols, parquet.Compression(codec), parquet.DataPageVersion(version),
					parquet.MaxRowsPerRowGroup(perGroup), parquet.KeyValueMetadata("pandas", "{}"),
					parquet.KeyValueMetadata("origin", "test"))
				got, err := ReadParquet(bytes.NewReader(b), int64(len(b)))
				if err != nil {
					t.Fatalf("%s, page v%d, %d rows per group: %v", name, version, perGroup, err)
				}
				// The pandas key is dropped; the others are kept.
				want.Meta = map[string]string{"origin": "test"}
				if !Equal(want, got) {
					t.Fatalf("%s, page v%d, %d rows per group: %q", name, version, perGroup, Compare(want, got, 0))
				}
			}
		}
	}
}

func TestReadForeignErrors(t *testing.T) {
	cases := []struct {
		name string
		cols []foreignCol
		want string
	}{
		{"null int", []foreignCol{{"n", parquet.Optional(parquet.Leaf(parquet.Int64Type)), []any{int64(1), int64(2), nil}}},
			`column "n" row 2: null value`},
		{"null string", []foreignCol{{"s", parquet.Optional(parquet.String()), []any{"a", nil}}},
			`column "s" row 1: null value`},
		{"null bool", []foreignCol{{"b", parquet.Optional(parquet.Leaf(parquet.BooleanType)), []any{nil}}},
			`column "b" row 0: null value`},
		{"uint64 overflow", []foreignCol{{"u", parquet.Uint(64), []any{uint64(1), uint64(math.MaxInt64 + 1)}}},
			`column "u" row 1: unsigned value 9223372036854775808 does not fit in int64`},
		{"timestamp", []foreignCol{{"t", parquet.Timestamp(parquet.Nanosecond), []any{int64(1)}}},
			`column "t": INT64 with annotation TIMESTAMP`},
		{"date", []foreignCol{{"d", parquet.Date(), []any{int32(1)}}},
			`column "d": INT32 with annotation DATE`},
		{"decimal", []foreignCol{{"d", parquet.Decimal(2, 9, parquet.Int32Type), []any{int32(1)}}},
			`column "d": INT32 with annotation DECIMAL`},
		{"repeated", []foreignCol{{"r", parquet.Repeated(parquet.Leaf(parquet.DoubleType)), []any{1.0}}},
			`column "r" is repeated`},
		{"nested", []foreignCol{{"g", parquet.Group{"x": parquet.Leaf(parquet.DoubleType)}, nil}},
			`nested`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b []byte
			if c.name == "nested" {
				b = nestedFile(t)
			} else {
				b = foreignFile(t, c.cols)
			}
			if c.name == "null int" {
				// Rows are counted over the file, not the row group.
				b = foreignFile(t, c.cols, parquet.MaxRowsPerRowGroup(1))
			}
			_, err := ReadParquet(bytes.NewReader(b), int64(len(b)))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func nestedFile(t *testing.T) []byte {
	type inner struct{ X float64 }
	type row struct {
		A int64
		G inner
	}
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[row](&buf)
	if _, err := w.Write([]row{{1, inner{2}}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// realDataDir is <project root>/../shared/data/real, the root being the
// directory holding go.mod above the test's working directory.
func realDataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "data", "real")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

func readFile(t *testing.T, path string) *Table {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	tb, err := ReadParquet(f, st.Size())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return tb
}

// Files written by pandas (pyarrow), facts from shared/data/real/README.md.
func TestReadPandasFiles(t *testing.T) {
	dir := filepath.Join(realDataDir(t), "neurophotometrics_pqt")
	raw := readFile(t, filepath.Join(dir, "_neurophotometrics_fpData.raw.pqt"))
	wantCols := "FrameCounter:int64 Timestamp:float64 Flags:int64 Region0R:float64 Region1G:float64 " +
		"Region2R:float64 Region3R:float64 Region4G:float64 Region5R:float64 Region6G:float64"
	if got := schemaString(raw); got != wantCols {
		t.Fatalf("columns %s, want %s", got, wantCols)
	}
	if raw.Len() != 86936 {
		t.Fatalf("%d rows, want 86,936 (README)", raw.Len())
	}
	// README: 30 fps in total over 2898 s; the observed Flags values; the
	// pandas layout keys are dropped.
	ts, _ := raw.Float("Timestamp")
	if d := ts[len(ts)-1] - ts[0]; math.Abs(d-2898) > 1 {
		t.Errorf("recording spans %.1f s, want about 2898 s (README)", d)
	}
	if fps := float64(len(ts)-1) / (ts[len(ts)-1] - ts[0]); math.Abs(fps-30) > 0.1 {
		t.Errorf("%.3f frames per second, want 30 (README)", fps)
	}
	flags, _ := raw.Int("Flags")
	seen := map[int64]bool{}
	for _, f := range flags {
		seen[f] = true
	}
	for _, f := range []int64{16, 17, 18, 273, 274, 529, 530, 785, 786} {
		if !seen[f] {
			t.Errorf("Flags value %d not found (README lists it as observed)", f)
		}
		delete(seen, f)
	}
	if len(seen) > 0 {
		t.Errorf("Flags values %v not in the README's list", seen)
	}
	frames, _ := raw.Int("FrameCounter")
	for i := 1; i < len(frames); i++ {
		if frames[i] != frames[i-1]+1 {
			t.Fatalf("FrameCounter not consecutive at row %d", i)
		}
	}
	if len(raw.Meta) != 0 {
		t.Errorf("meta keys %v, want none (pandas/ARROW:schema dropped)", raw.MetaKeys())
	}

	din := readFile(t, filepath.Join(dir, "_neurophotometrics_fpData.digitalInputs.pqt"))
	if got := schemaString(din); got != "Timestamp:float64 Value:bool" || din.Len() != 358 {
		t.Fatalf("digitalInputs: %s, %d rows; want Timestamp:float64 Value:bool, 358 rows (README)", got, din.Len())
	}

	// Re-written by us, the data comes back the same.
	back := readBytes(t, writeBytes(t, raw))
	if !Equal(raw, back) {
		t.Fatalf("rewrite differs: %v", Compare(raw, back, 0))
	}
}

func schemaString(t *Table) string {
	parts := make([]string, len(t.Cols))
	for i, c := range t.Cols {
		parts[i] = c.Name + ":" + c.Kind.String()
	}
	return strings.Join(parts, " ")
}

// Old writers annotate with converted types only; planColumns reads those too.
func TestPlanColumnsConvertedTypes(t *testing.T) {
	leaf := func(name string, phys format.Type, conv *deprecated.ConvertedType) format.SchemaElement {
		el := format.SchemaElement{Name: name}
		el.Type.Set(phys)
		el.RepetitionType.Set(format.Required)
		if conv != nil {
			el.ConvertedType.Set(*conv)
		}
		return el
	}
	ct := func(c deprecated.ConvertedType) *deprecated.ConvertedType { return &c }
	cases := []struct {
		el   format.SchemaElement
		want string // "kind unsigned" or an error fragment
	}{
		{leaf("u16", format.Int32, ct(deprecated.Uint16)), "int64 true"},
		{leaf("i8", format.Int32, ct(deprecated.Int8)), "int64 false"},
		{leaf("plain", format.Int64, nil), "int64 false"},
		{leaf("utf8", format.ByteArray, ct(deprecated.UTF8)), "string false"},
		{leaf("ts", format.Int64, ct(deprecated.TimestampMillis)), `column "ts": INT64 with annotation TIMESTAMP_MILLIS is not supported`},
		{leaf("dec", format.ByteArray, ct(deprecated.Decimal)), `column "dec": BYTE_ARRAY with annotation DECIMAL`},
		{leaf("i96", format.Int96, nil), `column "i96": physical type INT96 is not supported`},
		{leaf("flba", format.FixedLenByteArray, nil), `physical type FIXED_LEN_BYTE_ARRAY is not supported`},
		{format.SchemaElement{Name: "norep", Type: leaf("", format.Double, nil).Type}, "float64 false"},
	}
	for _, c := range cases {
		root := format.SchemaElement{Name: "schema"}
		root.NumChildren.Set(1)
		cols, err := planColumns([]format.SchemaElement{root, c.el})
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = fmt.Sprint(cols[0].kind, " ", cols[0].unsigned)
		}
		if !strings.Contains(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.el.Name, got, c.want)
		}
	}
}
