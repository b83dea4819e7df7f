package rnn

import (
	"fmt"
	"strings"
	"testing"

	"nmdyn/stages/table"
)

type tableMap map[string]*table.Table

func (t tableMap) Table(name string) (*table.Table, error) {
	if v, ok := t[name]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("no output %q", name)
}

func TestReadModel(t *testing.T) {
	m, _, _ := randomProblem(LowRank, 3)
	n, g := m.Tables()
	got, err := ReadModel(tableMap{"truth_neurons": n, "truth_globals": g}, "truth")
	if err != nil {
		t.Fatal(err)
	}
	if a, b := got.Flatten(), m.Flatten(); fmt.Sprint(a) != fmt.Sprint(b) || got.Variant != m.Variant {
		t.Errorf("round trip changed the model: %v vs %v", a, b)
	}
	if _, err := ReadModel(tableMap{"neurons": n, "globals": g}, ""); err != nil {
		t.Errorf("no prefix: %v", err)
	}
	_, err = ReadModel(tableMap{"truth_neurons": n}, "truth")
	if err == nil || !strings.HasPrefix(err.Error(), "truth_globals: ") {
		t.Errorf("missing globals: error %v, want it to name truth_globals", err)
	}
	_, err = ReadModel(tableMap{"neurons": g, "globals": g}, "")
	if err == nil || !strings.HasPrefix(err.Error(), "neurons/globals: ") {
		t.Errorf("globals given as neurons: error %v, want it to name both tables", err)
	}
}
