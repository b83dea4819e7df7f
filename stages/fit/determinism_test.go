package fit

import (
	"bytes"
	"testing"

	"nmdyn/stages/rnn"
	"nmdyn/stages/table"
	"nmdyn/stages/task/tasktest"
)

// TestSameBytesAnyThreads: the same seed and data give byte-identical Parquet
// outputs with 1 and 3 threads (the batch gradient is reduced in a fixed order).
func TestSameBytesAnyThreads(t *testing.T) {
	b, _ := simulate(rnn.LowRank, 24, 3000, 9)
	s := Defaults()
	s.Epochs = 8
	encode := func(threads int) map[string][]byte {
		ctx := tasktest.New(nil)
		ctx.NThreads = threads
		res, err := Fit(ctx, b, rnn.LowRank, 4, s)
		if err != nil {
			t.Fatal(err)
		}
		neurons, globals := res.Model.Tables()
		out := map[string][]byte{}
		for name, tab := range map[string]*table.Table{"neurons": neurons, "globals": globals,
			"curve": res.CurveTable(), "heldout": res.HeldoutTable(), "fit_summary": res.SummaryTable()} {
			var buf bytes.Buffer
			if err := table.WriteParquet(&buf, tab); err != nil {
				t.Fatal(err)
			}
			out[name] = buf.Bytes()
		}
		return out
	}
	one, three := encode(1), encode(3)
	for name := range one {
		if !bytes.Equal(one[name], three[name]) {
			t.Errorf("%s differs between 1 and 3 threads", name)
		}
	}
}
