package table

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// allKinds is a small table with every kind and awkward values: NaN, ±Inf,
// -0, extreme ints, unicode, empty and long strings, names needing quoting.
func allKinds() *Table {
	long := strings.Repeat("long string ", 10000) // 120 kB, spans pages
	return New().
		AddFloat("time (s)", []float64{0, math.Copysign(0, -1), 1.5, math.NaN(), math.Inf(1), math.Inf(-1), math.SmallestNonzeroFloat64, math.MaxFloat64}).
		AddInt("unit", []int64{0, -1, 1, math.MinInt64, math.MaxInt64, 42, 7, -7}).
		AddString("label, \"quoted\"\nnewline", []string{"", "a", "naïve ∂x/∂t", "日本語", "emoji 🧠", long, "a,b", "\"q\""}).
		AddBool("ok", []bool{true, false, true, true, false, false, true, false}).
		AddFloat("", []float64{1, 2, 3, 4, 5, 6, 7, 8}).
		SetMeta("stage", "test").SetMeta("a", "first key").SetMeta("ñ", "ü")
}

func writeBytes(t testing.TB, tb *Table) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteParquet(&buf, tb); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readBytes(t testing.TB, b []byte) *Table {
	t.Helper()
	tb, err := ReadParquet(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func TestParquetRoundTrip(t *testing.T) {
	zeroRows := New().AddFloat("x", nil).AddInt("i", nil).AddString("s", nil).AddBool("b", nil)
	cases := map[string]*Table{
		"all kinds":    allKinds(),
		"no columns":   New(),
		"zero rows":    zeroRows,
		"nil meta":     {Cols: []*Col{{Name: "x", Kind: Float, F64: []float64{1}}}},
		"one row":      New().AddInt("n", []int64{1}),
		"many columns": manyColumns(300, 3),
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			got := readBytes(t, writeBytes(t, in))
			if !Equal(in, got) {
				t.Fatalf("round trip differs: %v", Compare(in, got, 0))
			}
			// Equal treats NaNs alike; the file must also keep -0 and the bits.
			for i, c := range in.Cols {
				for r, v := range c.F64 {
					if !math.IsNaN(v) && math.Float64bits(v) != math.Float64bits(got.Cols[i].F64[r]) {
						t.Fatalf("column %q row %d: bits %x, want %x", c.Name, r, math.Float64bits(got.Cols[i].F64[r]), math.Float64bits(v))
					}
				}
			}
		})
	}
}

func manyColumns(n, rows int) *Table {
	tb := New()
	for i := range n {
		v := make([]int64, rows)
		for r := range v {
			v[r] = int64(i*rows + r)
		}
		tb.AddInt(strings.Repeat("c", i%7)+string(rune('A'+i%26))+string(rune('0'+i/26%10))+string(rune('a'+i/260)), v)
	}
	return tb
}

// The file layout the rest of nmdyn relies on: column order, physical and
// logical types, required fields, metadata sorted, created_by, codec.
func TestParquetLayout(t *testing.T) {
	b := writeBytes(t, allKinds())
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	md := f.Metadata()
	if md.CreatedBy != "nmdyn" {
		t.Errorf("created_by %q, want nmdyn", md.CreatedBy)
	}
	want := []struct {
		name, phys, logical string
	}{
		{"time (s)", "DOUBLE", ""},
		{"unit", "INT64", "INT(64,true)"},
		{"label, \"quoted\"\nnewline", "BYTE_ARRAY", "STRING"},
		{"ok", "BOOLEAN", ""},
		{"", "DOUBLE", ""},
	}
	if len(md.Schema) != len(want)+1 {
		t.Fatalf("%d schema elements, want %d", len(md.Schema), len(want)+1)
	}
	for i, w := range want {
		el := md.Schema[i+1]
		if el.Name != w.name || el.Type.V.String() != w.phys || el.LogicalType.String() != w.logical {
			t.Errorf("column %d: %q %s %q, want %q %s %q", i, el.Name, el.Type.V, el.LogicalType.String(), w.name, w.phys, w.logical)
		}
		if el.RepetitionType.V.String() != "REQUIRED" {
			t.Errorf("column %q is %s, want REQUIRED", el.Name, el.RepetitionType.V)
		}
	}
	var keys []string
	for _, kv := range md.KeyValueMetadata {
		keys = append(keys, kv.Key)
	}
	if got := strings.Join(keys, "|"); got != "a|stage|ñ" {
		t.Errorf("metadata keys %q, want sorted a|stage|ñ", got)
	}
	for _, rg := range md.RowGroups {
		for _, cc := range rg.Columns {
			if cc.MetaData.Codec.String() != "ZSTD" {
				t.Errorf("column %v codec %s, want ZSTD", cc.MetaData.PathInSchema, cc.MetaData.Codec)
			}
		}
	}
}

// bigTable has n rows of an int unit, a float time and a bool: the shape of
// a spike table.
func bigTable(n int, seed uint64) *Table {
	rng := rand.New(rand.NewPCG(seed, 1))
	unit := make([]int64, n)
	tm := make([]float64, n)
	flag := make([]bool, n)
	acc := 0.0
	for i := range n {
		unit[i] = int64(rng.IntN(400))
		acc += rng.ExpFloat64() * 1e-4
		tm[i] = acc
		flag[i] = rng.IntN(3) == 0
	}
	return New().AddInt("unit", unit).AddFloat("time", tm).AddBool("flag", flag).SetMeta("source", "bigTable")
}

func TestParquetRowGroups(t *testing.T) {
	n := 2*RowGroupRows + 777
	in := bigTable(n, 1)
	b := writeBytes(t, in)
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int64
	for _, rg := range f.RowGroups() {
		sizes = append(sizes, rg.NumRows())
	}
	if len(sizes) != 3 || sizes[0] != RowGroupRows || sizes[1] != RowGroupRows || sizes[2] != 777 {
		t.Fatalf("row groups %v, want [%d %d 777]", sizes, RowGroupRows, RowGroupRows)
	}
	if got := readBytes(t, b); !Equal(in, got) {
		t.Fatalf("round trip differs: %v", Compare(in, got, 0))
	}
}

// Same table, same bytes: twice in a row, and whatever GOMAXPROCS.
func TestParquetDeterministic(t *testing.T) {
	in := withMeta(bigTable(300_000, 2))
	first := writeBytes(t, in)
	if !bytes.Equal(first, writeBytes(t, in)) {
		t.Fatal("two writes of the same table differ")
	}
	old := runtime.GOMAXPROCS(1)
	one := writeBytes(t, in)
	runtime.GOMAXPROCS(max(4, old))
	many := writeBytes(t, in)
	runtime.GOMAXPROCS(old)
	if !bytes.Equal(first, one) || !bytes.Equal(first, many) {
		t.Fatal("bytes depend on GOMAXPROCS")
	}
	// A copy with the map built in another order gives the same bytes.
	cp := &Table{Cols: in.Cols, Meta: map[string]string{}}
	keys := in.MetaKeys()
	for i := len(keys) - 1; i >= 0; i-- {
		cp.Meta[keys[i]] = in.Meta[keys[i]]
	}
	if !bytes.Equal(first, writeBytes(t, cp)) {
		t.Fatal("bytes depend on the metadata map")
	}
}

// withMeta adds metadata keys, so determinism covers a map of several entries.
func withMeta(tb *Table) *Table {
	for _, k := range []string{"z", "m", "b", "k", "a"} {
		tb.SetMeta(k, "value of "+k)
	}
	return tb
}

// The bytes of a fixed table are pinned: cached outputs are addressed by
// content, so any change here (a new parquet-go, another codec level) changes
// every cache key. If this fails after a deliberate change, update the hash
// and say so in the commit.
func TestParquetGoldenHash(t *testing.T) {
	sum := sha256.Sum256(writeBytes(t, allKinds()))
	const want = "a0adfbd1b776403925c97a9e123297ed1bf743381ececc85e6d9f40c88d5d3cf"
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("sha256 of the allKinds file is %s, want %s", got, want)
	}
}

func TestParquetStreamingSameBytes(t *testing.T) {
	n := 2*RowGroupRows + 4321
	in := bigTable(n, 3)
	want := writeBytes(t, in)
	rng := rand.New(rand.NewPCG(9, 9))
	var random []int
	for left := n; left > 0; {
		k := min(left, 1+rng.IntN(300_000))
		random = append(random, k)
		left -= k
	}
	patterns := map[string][]int{
		"one chunk":        {n},
		"1 then rest":      {1, n - 1},
		"row group - 1":    {RowGroupRows - 1, 2, n - RowGroupRows - 1},
		"random":           random,
		"empty chunks too": {0, 1000, 0, n - 1000, 0},
	}
	for name, sizes := range patterns {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			pw := NewParquetWriter(&buf)
			lo := 0
			for _, k := range sizes {
				if err := pw.Write(in.Slice(lo, lo+k)); err != nil {
					t.Fatal(err)
				}
				lo += k
			}
			if err := pw.Close(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Fatalf("streamed file (%d bytes) differs from WriteParquet (%d bytes)", buf.Len(), len(want))
			}
		})
	}
}

func TestParquetStreamingStrings(t *testing.T) {
	in := allKinds()
	for range 6 {
		next, err := Concat(in, in)
		if err != nil {
			t.Fatal(err)
		}
		in = next
	}
	want := writeBytes(t, in)
	for _, k := range []int{1, 3, 7, 100} {
		var buf bytes.Buffer
		pw := NewParquetWriter(&buf)
		for lo := 0; lo < in.Len(); lo += k {
			if err := pw.Write(in.Slice(lo, min(lo+k, in.Len()))); err != nil {
				t.Fatal(err)
			}
		}
		if err := pw.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Fatalf("chunks of %d rows: streamed bytes differ from WriteParquet", k)
		}
	}
}

func TestParquetWriterErrors(t *testing.T) {
	first := New().AddInt("a", []int64{1}).AddFloat("b", []float64{1}).SetMeta("k", "v")
	cases := map[string]struct {
		chunk *Table
		want  string
	}{
		"missing column": {New().AddInt("a", []int64{1}), "chunk has 1 columns"},
		"renamed":        {New().AddInt("a", []int64{1}).AddFloat("c", []float64{1}), `chunk column 1 is "c"`},
		"kind":           {New().AddInt("a", []int64{1}).AddInt("b", []int64{1}), "(int64), first chunk had \"b\" (float64)"},
		"meta":           {New().AddInt("a", []int64{1}).AddFloat("b", []float64{1}).SetMeta("k", "w"), "metadata differs"},
		"ragged": {&Table{Cols: []*Col{{Name: "a", Kind: Int, I64: []int64{1, 2}}, {Name: "b", Kind: Float, F64: []float64{1}}}},
			`column "b" has 1 rows`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			pw := NewParquetWriter(&bytes.Buffer{})
			if err := pw.Write(first); err != nil {
				t.Fatal(err)
			}
			err := pw.Write(c.chunk)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			// Same meta or none is fine.
			if err := pw.Write(New().AddInt("a", []int64{2}).AddFloat("b", []float64{2})); err != nil {
				t.Fatal(err)
			}
		})
	}
	bad := map[string]struct {
		tb   *Table
		want string
	}{
		"duplicate":    {&Table{Cols: []*Col{{Name: "a", Kind: Int, I64: []int64{}}, {Name: "a", Kind: Int, I64: []int64{}}}}, `duplicate column "a"`},
		"bad utf8":     {New().AddString("s", []string{"ok", "\xff"}), `column "s" row 1: string is not valid UTF-8`},
		"bad name":     {New().AddInt("\xfe", []int64{1}), "not valid UTF-8"},
		"unknown kind": {&Table{Cols: []*Col{{Name: "a", Kind: Kind(9)}}}, "unknown kind"},
	}
	for name, c := range bad {
		t.Run(name, func(t *testing.T) {
			err := WriteParquet(&bytes.Buffer{}, c.tb)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestParquetWriterClose(t *testing.T) {
	// Close without Write: the same file as an empty table.
	var buf bytes.Buffer
	pw := NewParquetWriter(&buf)
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), writeBytes(t, New())) {
		t.Fatal("Close without Write differs from WriteParquet(New())")
	}
	if err := pw.Write(New()); err == nil {
		t.Fatal("write after close accepted")
	}
	// An error from the destination is returned (and sticks).
	pw = NewParquetWriter(failWriter{})
	err := pw.Write(bigTable(RowGroupRows+1, 4))
	if err == nil {
		err = pw.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("error %v, want the destination's", err)
	}
	if pw.Close() == nil {
		t.Fatal("Close after a failed Write returned nil")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestScanParquet(t *testing.T) {
	n := RowGroupRows + 10
	in := bigTable(n, 5)
	b := writeBytes(t, in)
	var got []*Table
	err := ScanParquet(bytes.NewReader(b), int64(len(b)), []string{"time", "unit"}, func(c *Table) error {
		got = append(got, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Len() != RowGroupRows || got[1].Len() != 10 {
		t.Fatalf("chunks of %d and ... rows, want one per row group", got[0].Len())
	}
	all, err := Concat(got...)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := in.Select("time", "unit")
	if !Equal(all, want) {
		t.Fatalf("scan differs: %v", Compare(want, all, 0))
	}

	stop := errors.New("stop")
	calls := 0
	err = ScanParquet(bytes.NewReader(b), int64(len(b)), nil, func(c *Table) error {
		calls++
		if len(c.Cols) != 3 {
			t.Errorf("nil columns gave %q", c.Names())
		}
		return stop
	})
	if err != stop || calls != 1 {
		t.Fatalf("error %v after %d calls, want the callback's after 1", err, calls)
	}
	err = ScanParquet(bytes.NewReader(b), int64(len(b)), []string{"nope"}, func(*Table) error { return nil })
	if err == nil || !strings.Contains(err.Error(), `no column "nope"`) {
		t.Fatalf("error %v, want one naming the missing column", err)
	}

	// A file without rows still shows its columns, once.
	empty := writeBytes(t, New().AddInt("unit", nil).AddFloat("time", nil))
	calls = 0
	err = ScanParquet(bytes.NewReader(empty), int64(len(empty)), nil, func(c *Table) error {
		calls++
		if c.Len() != 0 || strings.Join(c.Names(), ",") != "unit,time" {
			t.Errorf("empty file chunk: %d rows, columns %q", c.Len(), c.Names())
		}
		return nil
	})
	if err != nil || calls != 1 {
		t.Fatalf("empty file: error %v, %d calls, want nil and 1", err, calls)
	}
}

func TestReadParquetCorrupt(t *testing.T) {
	b := writeBytes(t, bigTable(5000, 6))
	cases := map[string][]byte{
		"empty":        {},
		"magic only":   []byte("PAR1"),
		"truncated":    b[:len(b)/2],
		"no footer":    b[:len(b)-8],
		"not parquet":  []byte("unit,time\n1,2\n"),
		"bad body":     flip(b, 200),
		"bad footer":   flip(b, len(b)-40),
		"bad length":   flip(b, len(b)-6),
		"zeroed pages": zero(b, 4, len(b)/2),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ReadParquet(bytes.NewReader(data), int64(len(data)))
			if err == nil && name != "bad body" && name != "bad footer" { // these two may hit bytes that do not matter
				t.Fatalf("read %d rows from a corrupt file without error", got.Len())
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0xff
	return c
}

func zero(b []byte, lo, hi int) []byte {
	c := bytes.Clone(b)
	clear(c[lo:hi])
	return c
}

// A legitimate file can hold far more rows than bytes: the reader must not
// take that for a damaged footer.
func TestParquetHighCompression(t *testing.T) {
	in := New().AddBool("b", make([]bool, 3<<20)).AddInt("zero", make([]int64, 3<<20))
	b := writeBytes(t, in)
	if int64(in.Len()) <= 1<<16+64*int64(len(b)) {
		t.Fatalf("%d rows in %d bytes: not past the preallocation bound, the test shows nothing", in.Len(), len(b))
	}
	if got := readBytes(t, b); !Equal(in, got) {
		t.Fatalf("round trip differs: %q", Compare(in, got, 0))
	}
}

// A panic in the callback is the caller's: it must not be reported as a
// corrupt file.
func TestScanParquetCallbackPanic(t *testing.T) {
	b := writeBytes(t, allKinds())
	defer func() {
		if p := recover(); p != "callback bug" {
			t.Fatalf("recovered %v, want the callback's panic", p)
		}
	}()
	_ = ScanParquet(bytes.NewReader(b), int64(len(b)), nil, func(*Table) error { panic("callback bug") })
	t.Fatal("ScanParquet returned after its callback panicked")
}
