package table

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"testing"
)

// Benchmarks on the shape of a spike table: 10 million rows of an int64 unit
// and a float64 time (16 bytes a row, 160 MB of values). MB/s counts those
// value bytes.
//
//	go test -run XXX -bench . -benchtime 3x ./stages/table/
//
// Peak memory of a process that only writes, reads or scans (Maximum resident
// set size), with the test binary:
//
//	go test -c -o /tmp/table.test ./stages/table/
//	for m in write read scan; do
//	  NMDYN_TABLE_PROBE=$m NMDYN_TABLE_PROBE_FILE=/tmp/spikes.parquet \
//	    /usr/bin/time -v /tmp/table.test -test.run TestMemoryProbe 2>&1 | grep Maximum
//	done

const benchRows = 10_000_000

// spikeChunk fills rows [lo, hi) of the benchmark table: units drawn
// uniformly from 400, times increasing by exponential gaps (mean 0.1 ms),
// from a generator seeded by the chunk start so any chunking gives the same
// table.
func spikeChunk(lo, hi int, t0 float64) (*Table, float64) {
	rng := rand.New(rand.NewPCG(uint64(lo), 11))
	unit := make([]int64, hi-lo)
	tm := make([]float64, hi-lo)
	for i := range unit {
		unit[i] = int64(rng.IntN(400))
		t0 += rng.ExpFloat64() * 1e-4
		tm[i] = t0
	}
	return New().AddInt("unit", unit).AddFloat("time", tm), t0
}

var benchData = sync.OnceValues(func() (*Table, []byte) {
	tb, _ := spikeChunk(0, benchRows, 0)
	var buf bytes.Buffer
	if err := WriteParquet(&buf, tb); err != nil {
		panic(err)
	}
	return tb, buf.Bytes()
})

func BenchmarkWriteParquet(b *testing.B) {
	tb, file := benchData()
	buf := bytes.NewBuffer(make([]byte, 0, len(file)+1<<20))
	b.SetBytes(16 * benchRows)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		buf.Reset()
		if err := WriteParquet(buf, tb); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(file))/1e6, "file-MB")
}

func BenchmarkReadParquet(b *testing.B) {
	_, file := benchData()
	b.SetBytes(16 * benchRows)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		t, err := ReadParquet(bytes.NewReader(file), int64(len(file)))
		if err != nil || t.Len() != benchRows {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanParquet also reports the largest live heap seen during the
// scan (sampled after a GC at each row group, so its ns/op includes those
// GCs), to compare with the table's 160 MB.
func BenchmarkScanParquet(b *testing.B) {
	_, file := benchData()
	b.SetBytes(16 * benchRows)
	b.ReportAllocs()
	b.ResetTimer()
	var peak uint64
	for range b.N {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		base := ms.HeapAlloc
		rows := 0
		err := ScanParquet(bytes.NewReader(file), int64(len(file)), nil, func(c *Table) error {
			rows += c.Len()
			runtime.GC() // count live memory, not garbage awaiting collection
			runtime.ReadMemStats(&ms)
			runtime.KeepAlive(c) // the chunk is what a caller would hold
			peak = max(peak, ms.HeapAlloc-min(base, ms.HeapAlloc))
			return nil
		})
		if err != nil || rows != benchRows {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
}

// BenchmarkStreamParquet writes the table from chunks of 100,000 rows made on
// the fly, so only the writer holds data; it reports the largest live heap
// (sampled after a GC at each row group).
func BenchmarkStreamParquet(b *testing.B) {
	b.SetBytes(16 * benchRows)
	b.ReportAllocs()
	var peak uint64
	buf := &countWriter{}
	for range b.N {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		base := ms.HeapAlloc
		pw := NewParquetWriter(buf)
		t0 := 0.0
		for lo := 0; lo < benchRows; lo += 100_000 {
			var chunk *Table
			chunk, t0 = spikeChunk(lo, lo+100_000, t0)
			if err := pw.Write(chunk); err != nil {
				b.Fatal(err)
			}
			if lo%(1<<20) < 100_000 {
				runtime.GC() // count live memory, not garbage awaiting collection
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc-min(base, ms.HeapAlloc))
			}
		}
		if err := pw.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// TestMemoryProbe is not a test: it runs one operation on the benchmark table
// when NMDYN_TABLE_PROBE is write (streamed from generated chunks), read or
// scan, so /usr/bin/time -v can report the peak memory of that operation
// alone (see the top of the file).
func TestMemoryProbe(t *testing.T) {
	mode, path := os.Getenv("NMDYN_TABLE_PROBE"), os.Getenv("NMDYN_TABLE_PROBE_FILE")
	if mode == "" || path == "" {
		t.Skip("set NMDYN_TABLE_PROBE and NMDYN_TABLE_PROBE_FILE to run")
	}
	switch mode {
	case "write":
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		pw := NewParquetWriter(f)
		t0 := 0.0
		for lo := 0; lo < benchRows; lo += 100_000 {
			var chunk *Table
			chunk, t0 = spikeChunk(lo, lo+100_000, t0)
			if err := pw.Write(chunk); err != nil {
				t.Fatal(err)
			}
		}
		if err := pw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	case "read", "scan":
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		st, _ := f.Stat()
		rows := 0
		if mode == "read" {
			tb, err := ReadParquet(f, st.Size())
			if err != nil {
				t.Fatal(err)
			}
			rows = tb.Len()
		} else {
			err = ScanParquet(f, st.Size(), nil, func(c *Table) error { rows += c.Len(); return nil })
			if err != nil {
				t.Fatal(err)
			}
		}
		if rows != benchRows {
			t.Fatalf("%d rows", rows)
		}
	default:
		t.Fatalf("unknown probe %q", mode)
	}
	fmt.Println("probe", mode, "done")
}
