package table

import (
	"math"
	"strings"
	"testing"
)

func TestSlice(t *testing.T) {
	in := allKinds()
	s := in.Slice(2, 5)
	if s.Len() != 3 || s.Cols[1].I64[0] != 1 || s.Cols[2].Str[2] != "emoji 🧠" {
		t.Fatalf("slice [2:5] wrong: %d rows, unit[0] %d", s.Len(), s.Cols[1].I64[0])
	}
	if s.Meta["stage"] != "test" {
		t.Fatal("slice lost the meta")
	}
	s.SetMeta("stage", "changed")
	if in.Meta["stage"] != "test" {
		t.Fatal("slice shares the meta map")
	}
	// A view: appending to it must not overwrite the parent's next row.
	s.Cols[1].I64 = append(s.Cols[1].I64, 99)
	if in.Cols[1].I64[5] != 42 {
		t.Fatal("append to a slice overwrote the parent")
	}
	if e := in.Slice(8, 8); e.Len() != 0 || len(e.Cols) != 5 {
		t.Fatal("empty slice at the end")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("out-of-range slice did not panic")
		}
	}()
	in.Slice(3, 9)
}

func TestSelect(t *testing.T) {
	in := allKinds()
	s, err := in.Select("ok", "unit")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(s.Names(), ",") != "ok,unit" || s.Len() != 8 {
		t.Fatalf("select gave %q", s.Names())
	}
	s.Cols[0].Name = "renamed"
	if !in.Has("ok") {
		t.Fatal("renaming a selected column renamed the parent's")
	}
	if _, err := in.Select("unit", "nope"); err == nil || !strings.Contains(err.Error(), `missing column "nope"`) {
		t.Fatalf("error %v, want one naming the column", err)
	}
	if _, err := in.Select("unit", "unit"); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("error %v, want one about a repeated name", err)
	}
}

func TestConcat(t *testing.T) {
	in := allKinds()
	got, err := Concat(in.Slice(0, 3), in.Slice(3, 3), in.Slice(3, 8))
	if err != nil {
		t.Fatal(err)
	}
	if !Equal(in, got) {
		t.Fatalf("concat of slices differs: %q", Compare(in, got, 0))
	}
	got.Cols[1].I64[0] = 5
	if in.Cols[1].I64[0] != 0 {
		t.Fatal("concat shares data")
	}
	if e, err := Concat(); err != nil || len(e.Cols) != 0 {
		t.Fatal("concat of nothing")
	}
	a := New().AddInt("x", []int64{1})
	for name, b := range map[string]*Table{
		"name": New().AddInt("y", []int64{1}),
		"kind": New().AddFloat("x", []float64{1}),
		"cols": New().AddInt("x", []int64{1}).AddInt("y", []int64{1}),
		"meta": New().AddInt("x", []int64{1}).SetMeta("k", "v"),
	} {
		if _, err := Concat(a, b); err == nil {
			t.Errorf("%s mismatch accepted", name)
		}
	}
}

func TestEqual(t *testing.T) {
	a := New().AddFloat("x", []float64{math.NaN(), 0}).AddString("s", []string{"a", "b"})
	same := New().AddFloat("x", []float64{math.Float64frombits(0x7ff8000000000001), 0}).AddString("s", []string{"a", "b"})
	if !Equal(a, same) {
		t.Fatal("NaNs with other payloads should be equal")
	}
	for name, b := range map[string]*Table{
		"negative zero": New().AddFloat("x", []float64{math.NaN(), math.Copysign(0, -1)}).AddString("s", []string{"a", "b"}),
		"string":        New().AddFloat("x", []float64{math.NaN(), 0}).AddString("s", []string{"a", "c"}),
		"name":          New().AddFloat("y", []float64{math.NaN(), 0}).AddString("s", []string{"a", "b"}),
		"order":         New().AddString("s", []string{"a", "b"}).AddFloat("x", []float64{math.NaN(), 0}),
		"meta":          New().AddFloat("x", []float64{math.NaN(), 0}).AddString("s", []string{"a", "b"}).SetMeta("k", ""),
		"rows":          New().AddFloat("x", []float64{math.NaN()}).AddString("s", []string{"a"}),
	} {
		if Equal(a, b) {
			t.Errorf("%s difference not seen", name)
		}
	}
}

func TestCompare(t *testing.T) {
	a := New().AddFloat("x", []float64{1, 100, 0, math.NaN(), math.Inf(1), 1e-300}).
		AddInt("n", []int64{1, 2, 3, 4, 5, 6}).AddString("only a", []string{"", "", "", "", "", ""})
	b := New().AddFloat("x", []float64{1 + 1e-10, 100.001, 0, math.NaN(), math.Inf(1), 0}).
		AddInt("n", []int64{1, 2, 3, 4, 5, 7}).AddBool("only b", make([]bool, 6))
	got := Compare(a, b, 1e-9)
	want := []string{
		`column "only a" only in the first table`,
		`column "only b" only in the second table`,
		// 100 vs 100.001: relative 1e-5 > 1e-9; 1e-300 vs 0: relative 1 (no absolute floor).
		`column "x": 2 of 6 rows differ beyond relTol 1e-09; largest relative difference 1 at row 5 (1e-300 vs 0); first rows: 1 (100 vs 100.001) 5 (1e-300 vs 0)`,
		`column "n": 1 of 6 rows differ; first rows: 5 (6 vs 7)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d := Compare(a, a, 0); d != nil {
		t.Fatalf("a table differs from itself: %q", d)
	}
	if d := Compare(a, b.Slice(0, 2), 0); len(d) != 3 || d[2] != "6 rows vs 2" {
		t.Fatalf("row count difference: %q", d)
	}
	kinds := Compare(New().AddInt("k", []int64{1}), New().AddFloat("k", []float64{1}), 0)
	if len(kinds) != 1 || kinds[0] != `column "k": int64 vs float64` {
		t.Fatalf("kind difference: %q", kinds)
	}
	// Opposite infinities and NaN vs number always differ.
	inf := Compare(New().AddFloat("v", []float64{math.Inf(1), math.NaN()}), New().AddFloat("v", []float64{math.Inf(-1), 1}), 1)
	if len(inf) != 1 || !strings.HasPrefix(inf[0], `column "v": 2 of 2 rows differ`) {
		t.Fatalf("infinities: %q", inf)
	}
}
