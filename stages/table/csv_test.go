package table

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func nanF() float64 { return math.NaN() }

func TestReadCSV(t *testing.T) {
	inf := math.Inf(1)
	cases := []struct {
		name string
		in   string
		want *Table
	}{
		{"kinds", "i,f,b,s\n1,1.5,true,x\n-2,3,false,y\n",
			New().AddInt("i", []int64{1, -2}).AddFloat("f", []float64{1.5, 3}).AddBool("b", []bool{true, false}).AddString("s", []string{"x", "y"})},
		{"CRLF", "a,b\r\n1,x\r\n2,y\r\n",
			New().AddInt("a", []int64{1, 2}).AddString("b", []string{"x", "y"})},
		{"no final newline", "a,b\n1,x\n2,y",
			New().AddInt("a", []int64{1, 2}).AddString("b", []string{"x", "y"})},
		{"CRLF, no final newline", "a,b\r\n1,x\r\n2,y\r",
			New().AddInt("a", []int64{1, 2}).AddString("b", []string{"x", "y"})},
		{"BOM", "\xef\xbb\xbfa\n1\n", New().AddInt("a", []int64{1})},
		{"trailing blank lines", "a\n1\n\n\r\n\n", New().AddInt("a", []int64{1})},
		{"header only", "a,b\n", New().AddFloat("a", nil).AddFloat("b", nil)},
		{"header only, no newline", "a", New().AddFloat("a", nil)},
		{"quoted", "s,n\n\"a,b\",1\n\"say \"\"hi\"\"\",2\n\"two\nlines\",3\n\"\",4\n",
			New().AddString("s", []string{"a,b", `say "hi"`, "two\nlines", ""}).AddInt("n", []int64{1, 2, 3, 4})},
		{"quoted CRLF inside kept", "s\r\n\"a\r\nb\"\r\n", New().AddString("s", []string{"a\r\nb"})},
		{"quoted header", "\"x,y\",\"z\"\"\"\n1,2\n", New().AddInt("x,y", []int64{1}).AddInt(`z"`, []int64{2})},
		{"quoted numbers are numbers", "a\n\"1\"\n\"2\"\n", New().AddInt("a", []int64{1, 2})},
		{"NaN and Inf spellings", "x\nNaN\nnan\nInf\n+Inf\n-inf\nInfinity\n1e400\n",
			New().AddFloat("x", []float64{nanF(), nanF(), inf, inf, -inf, inf, inf})},
		{"missing values make floats", "x,y\n1,\n,2.5\nNA,NULL\nnull,n/a\n",
			New().AddFloat("x", []float64{1, nanF(), nanF(), nanF()}).AddFloat("y", []float64{nanF(), 2.5, nanF(), nanF()})},
		{"all empty is float", "x,y\n,1\n,2\n", New().AddFloat("x", []float64{nanF(), nanF()}).AddInt("y", []int64{1, 2})},
		{"int overflow is float", "x\n9223372036854775807\n9223372036854775808\n",
			New().AddFloat("x", []float64{9223372036854775807, 9223372036854775808})},
		{"int64 extremes", "x\n9223372036854775807\n-9223372036854775808\n",
			New().AddInt("x", []int64{math.MaxInt64, math.MinInt64})},
		{"spaces around numbers", "x,b\n 1 ,\tTrue\n2, false\n", New().AddInt("x", []int64{1, 2}).AddBool("b", []bool{true, false})},
		{"bool spellings", "b\ntrue\nTrue\nTRUE\nfalse\nFalse\nFALSE\n", New().AddBool("b", []bool{true, true, true, false, false, false})},
		{"bool with missing is string", "b\ntrue\n\nfalse\n", New().AddString("b", []string{"true", "", "false"})},
		{"0/1 are ints", "b\n0\n1\n", New().AddInt("b", []int64{0, 1})},
		{"mixed is string", "s\n1\nx\n2.5\n", New().AddString("s", []string{"1", "x", "2.5"})},
		{"strings kept verbatim", "s\n x \nNA\n", New().AddString("s", []string{" x ", "NA"})},
		{"bare quote inside unquoted field", "s\n5\" tall\n", New().AddString("s", []string{`5" tall`})},
		{"lone CR is data", "s\na\rb\n", New().AddString("s", []string{"a\rb"})},
		{"blank line in one column", "s\nx\n\ny\n", New().AddString("s", []string{"x", "", "y"})},
		{"unicode", "naïve,日本\nü,🧠\n", New().AddString("naïve", []string{"ü"}).AddString("日本", []string{"🧠"})},
		{"hex float", "x\n0x1p-2\n", New().AddFloat("x", []float64{0.25})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ReadCSV(strings.NewReader(c.in))
			if err != nil {
				t.Fatal(err)
			}
			if !Equal(c.want, got) {
				t.Fatalf("got %s %v, want %s: %q", schemaString(got), got.Cols, schemaString(c.want), Compare(c.want, got, 0))
			}
		})
	}
}

func TestReadCSVErrors(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"empty input", "", "empty CSV: no header line"},
		{"only blank lines", "\n\r\n", "empty CSV: no header line"},
		{"BOM only", "\xef\xbb\xbf", "empty CSV"},
		{"empty column name", "a,,c\n1,2,3\n", "line 1: column 2 has an empty name"},
		{"duplicate name", "a,b,a\n1,2,3\n", `line 1: duplicate column name "a" (columns 1 and 3)`},
		{"short row", "a,b,c\n1,2,3\n4,5\n", `line 3: 2 fields, header has 3 (no value for column "c")`},
		{"long row", "a,b\n1,2\n3,4,5\n", "line 3: 3 fields, header has 2 columns"},
		{"blank line, two columns", "a,b\n1,2\n\n3,4\n", `line 3: 1 fields, header has 2 (no value for column "b")`},
		{"line counts quoted newlines", "a,b\n\"x\ny\",1\n2\n", `line 4: 1 fields`},
		{"unclosed quote", "a,b\n1,\"oops\n2,3\n", `line 2, column "b": quoted field not closed`},
		{"text after quote", "a,b\n\"x\"y,1\n", `line 2, column "a": unexpected text after closing quote`},
		{"invalid utf8", "a,b\n1,\xff\n", `line 2, column "b": invalid UTF-8`},
		{"invalid utf8 header", "a,\xff\n", "line 1, column 2: invalid UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadCSV(strings.NewReader(c.in))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestWriteCSV(t *testing.T) {
	cases := []struct {
		name string
		in   *Table
		want string
	}{
		{"floats shortest", New().AddFloat("x", []float64{0.1, 1e6, 1e21, 1.5e-7, math.Copysign(0, -1), 100, math.NaN(), math.Inf(1), math.Inf(-1)}),
			"x\n0.1\n1e+06\n1e+21\n1.5e-07\n-0\n100\nNaN\n+Inf\n-Inf\n"},
		{"kinds", New().AddInt("i", []int64{-3}).AddBool("b", []bool{true}).AddString("s", []string{"plain"}),
			"i,b,s\n-3,true,plain\n"},
		{"quoting", New().AddString("a,b", []string{"x,y", `say "hi"`, "two\nlines", "cr\r", " space ", ""}).AddInt("n", []int64{1, 2, 3, 4, 5, 6}),
			"\"a,b\",n\n\"x,y\",1\n\"say \"\"hi\"\"\",2\n\"two\nlines\",3\n\"cr\r\",4\n space ,5\n,6\n"},
		{"empty string alone on its line", New().AddString("s", []string{"", "x"}), "s\n\"\"\nx\n"},
		{"no rows", New().AddInt("a", nil).AddFloat("b", nil), "a,b\n"},
		{"no columns", New(), "\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteCSV(&buf, c.in); err != nil {
				t.Fatal(err)
			}
			if buf.String() != c.want {
				t.Fatalf("got\n%q\nwant\n%q", buf.String(), c.want)
			}
		})
	}
}

// A table whose kinds CSV can carry comes back equal, floats bit for bit
// (shortest round-trip formatting).
func TestCSVRoundTrip(t *testing.T) {
	in := New().
		AddFloat("time (s)", []float64{0.1, 1.0 / 3, math.Pi * 1e-300, math.MaxFloat64, math.SmallestNonzeroFloat64, math.NaN(), math.Inf(-1), -2.5}).
		AddInt("unit", []int64{0, -1, 1, math.MinInt64, math.MaxInt64, 42, 7, -7}).
		AddString("label, \"quoted\"\nnewline", []string{"a", "naïve", "日本語", "emoji 🧠", strings.Repeat("long,", 5000), "a,b", "\"q\"", "x\r\ny"}).
		AddBool("ok", []bool{true, false, true, true, false, false, true, false})
	var buf bytes.Buffer
	if err := WriteCSV(&buf, in); err != nil {
		t.Fatal(err)
	}
	got, err := ReadCSV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	in.Meta = map[string]string{}
	if !Equal(in, got) {
		t.Fatalf("round trip differs: %q", Compare(in, got, 0))
	}
}

func TestCSVFiles(t *testing.T) {
	path := t.TempDir() + "/t.csv"
	in := New().AddInt("a", []int64{1, 2})
	if err := WriteCSVFile(path, in); err != nil {
		t.Fatal(err)
	}
	got, err := ReadCSVFile(path)
	if err != nil || !Equal(in, got) {
		t.Fatalf("file round trip: %v %v", err, got)
	}
	_, err = ReadCSVFile(t.TempDir() + "/missing.csv")
	if err == nil || !strings.Contains(err.Error(), "missing.csv") {
		t.Fatalf("error %v, want one naming the file", err)
	}
}
