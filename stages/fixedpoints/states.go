package fixedpoints

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	"nmdyn/stages/rnn"
	"nmdyn/stages/table"
	"nmdyn/stages/task"
)

// statesTable is the select output holding states on the fitted trajectories.
const statesTable = "winner_states"

// readModel decodes the select output tables <prefix>_neurons and <prefix>_globals.
func readModel(in task.Input, prefix string) (*rnn.Model, error) {
	return modelFrom(in, "select", prefix)
}

// modelFrom reads the model in the tables <prefix>_neurons and <prefix>_globals
// of stage's output.
func modelFrom(in task.Input, stage, prefix string) (*rnn.Model, error) {
	m, err := rnn.ReadModel(in, prefix)
	if err != nil {
		return nil, fmt.Errorf("fixedpoints: %s output %w", stage, err)
	}
	return m, nil
}

// readStarts returns, for each level of grid, up to k states of winner_states (each
// of length N, in the model's row order) whose nu is nearest to the level, the
// earlier row first among equals. It reads the table twice: the nu column to choose
// the rows, then the unit columns of the rows chosen.
func readStarts(in task.Input, m *rnn.Model, grid []float64, k int) ([][][]float64, error) {
	where := "fixedpoints: select output " + statesTable
	var nus []float64
	err := in.ScanTable(statesTable, []string{"nu"}, func(c *table.Table) error {
		v, err := c.Float("nu")
		if err != nil {
			return err
		}
		nus = append(nus, v...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	for row, v := range nus {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%s: row %d has nu = %v", where, row, v)
		}
	}
	if len(nus) == 0 {
		return nil, fmt.Errorf("%s: no rows", where)
	}
	chosen := make([][]int, len(grid))
	want := map[int]bool{}
	order := make([]int, len(nus))
	for j, level := range grid {
		for r := range order {
			order[r] = r
		}
		sort.SliceStable(order, func(a, b int) bool {
			return math.Abs(nus[order[a]]-level) < math.Abs(nus[order[b]]-level)
		})
		chosen[j] = append([]int(nil), order[:min(k, len(order))]...)
		for _, r := range chosen[j] {
			want[r] = true
		}
	}
	cols := make([]string, m.N)
	for i, u := range m.Units {
		cols[i] = "x_u" + strconv.FormatInt(u, 10)
	}
	states := map[int][]float64{}
	offset := 0
	err = in.ScanTable(statesTable, cols, func(c *table.Table) error {
		vals := make([][]float64, m.N)
		for i, name := range cols {
			v, err := c.Float(name)
			if err != nil {
				return err
			}
			vals[i] = v
		}
		for r := 0; r < c.Len(); r++ {
			if !want[offset+r] {
				continue
			}
			x := make([]float64, m.N)
			for i := range x {
				x[i] = vals[i][r]
				if math.IsNaN(x[i]) || math.IsInf(x[i], 0) {
					return fmt.Errorf("row %d column %s is %v", offset+r, cols[i], x[i])
				}
			}
			states[offset+r] = x
		}
		offset += c.Len()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if offset != len(nus) {
		return nil, fmt.Errorf("%s: %d rows of states but %d values of nu", where, offset, len(nus))
	}
	out := make([][][]float64, len(grid))
	for j, rows := range chosen {
		for _, r := range rows {
			out[j] = append(out[j], states[r])
		}
	}
	return out, nil
}
