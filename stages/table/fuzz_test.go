package table

import (
	"bytes"
	"testing"
)

// FuzzReadCSV: no input makes ReadCSV panic, and what it accepts is stable
// after one write: read(write(t)) == t for t = read(write(read(input))).
// (The first read may narrow kinds: "1.0" reads as a float, is written "1"
// and then reads as an int.)
func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n", "x\nNaN\n+Inf\n\n", "s\n\"a,\"\"b\"\"\nc\"\r\n", "\xef\xbb\xbfa\r\n1\r\n",
		"a,b\n1\n", "a,a\n", "b\ntrue\nFALSE\n", "x\n1e400\n-0\n0x1p3\n", "s\n\n\n", "a\n\"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		t1, err := ReadCSV(bytes.NewReader(in))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := WriteCSV(&buf, t1); err != nil {
			t.Fatalf("cannot write what was read: %v", err)
		}
		t2, err := ReadCSV(bytes.NewReader(buf.Bytes()))
		if err != nil {
			if len(t1.Cols) == 0 {
				return
			}
			t.Fatalf("cannot read what was written (%q): %v", buf.String(), err)
		}
		buf.Reset()
		if err := WriteCSV(&buf, t2); err != nil {
			t.Fatal(err)
		}
		t3, err := ReadCSV(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if !Equal(t2, t3) {
			t.Fatalf("not stable: %q", Compare(t2, t3, 0))
		}
	})
}

// FuzzReadParquet: no input makes ReadParquet or ScanParquet panic, and a
// file it accepts writes and reads back equal.
func FuzzReadParquet(f *testing.F) {
	var buf bytes.Buffer
	for _, tb := range []*Table{
		allKinds(),
		New(),
		New().AddFloat("x", nil),
		bigTable(3000, 7),
	} {
		buf.Reset()
		if err := WriteParquet(&buf, tb); err != nil {
			f.Fatal(err)
		}
		f.Add(bytes.Clone(buf.Bytes()))
	}
	f.Add([]byte("PAR1PAR1"))
	f.Fuzz(func(t *testing.T, in []byte) {
		tb, err := ReadParquet(bytes.NewReader(in), int64(len(in)))
		_ = ScanParquet(bytes.NewReader(in), int64(len(in)), nil, func(*Table) error { return nil })
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := WriteParquet(&out, tb); err != nil {
			// Files by others may hold strings that are not UTF-8, which we
			// refuse to write; nothing else may fail.
			if validate(tb) == nil {
				t.Fatalf("cannot write what was read: %v", err)
			}
			return
		}
		back, err := ReadParquet(bytes.NewReader(out.Bytes()), int64(out.Len()))
		if err != nil {
			t.Fatalf("cannot read what was written: %v", err)
		}
		if !Equal(tb, back) {
			t.Fatalf("round trip differs: %q", Compare(tb, back, 0))
		}
	})
}
