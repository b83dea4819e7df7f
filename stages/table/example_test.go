package table_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"nmdyn/stages/table"
)

func ExampleWriteParquet() {
	spikes := table.New().
		AddInt("unit", []int64{3, 1, 3}).
		AddFloat("time", []float64{0.010, 0.012, 0.250}).
		SetMeta("source", "example")
	var buf bytes.Buffer
	if err := table.WriteParquet(&buf, spikes); err != nil {
		panic(err)
	}
	back, err := table.ReadParquet(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		panic(err)
	}
	fmt.Println(back.Names(), back.Len(), back.Meta["source"], table.Equal(spikes, back))
	// Output: [unit time] 3 example true
}

func ExampleScanParquet() {
	var buf bytes.Buffer
	pw := table.NewParquetWriter(&buf)
	for i := range 3 { // chunks of any size; the file is the same
		pw.Write(table.New().AddInt("unit", []int64{int64(i)}).AddFloat("time", []float64{float64(i) / 10}))
	}
	if err := pw.Close(); err != nil {
		panic(err)
	}
	sum := 0.0
	err := table.ScanParquet(bytes.NewReader(buf.Bytes()), int64(buf.Len()), []string{"time"}, func(c *table.Table) error {
		times, _ := c.Float("time")
		for _, t := range times {
			sum += t
		}
		return nil
	})
	fmt.Println(sum, err)
	// Output: 0.30000000000000004 <nil>
}

func ExampleReadCSV() {
	in := "unit,time,label\r\n1,0.5,\"a, b\"\r\n2,NaN,c\r\n"
	t, err := table.ReadCSV(strings.NewReader(in))
	if err != nil {
		panic(err)
	}
	for _, c := range t.Cols {
		fmt.Println(c.Name, c.Kind)
	}
	table.WriteCSV(os.Stdout, t)
	// Output:
	// unit int64
	// time float64
	// label string
	// unit,time,label
	// 1,0.5,"a, b"
	// 2,NaN,c
}

func ExampleCompare() {
	a := table.New().AddFloat("rate", []float64{1, 2, 3})
	b := table.New().AddFloat("rate", []float64{1, 2.000001, 3.1})
	for _, d := range table.Compare(a, b, 1e-5) {
		fmt.Println(d)
	}
	// Output: column "rate": 1 of 3 rows differ beyond relTol 1e-05; largest relative difference 0.0323 at row 2 (3 vs 3.1); first rows: 2 (3 vs 3.1)
}
