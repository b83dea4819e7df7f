package session

import (
	"fmt"
	"sort"

	"nmdyn/stages/groundtruth"
	"nmdyn/stages/recording"
	"nmdyn/stages/table"
	"nmdyn/stages/task"
)

// simulated is a generated session and the truth the generator records.
type simulated struct {
	session   *recording.Session
	tables    map[string]*table.Table
	truthJSON []byte
}

// generate runs the ground-truth generator (package groundtruth) on a
// simulate.yaml. The generator checks its session with recording.Check, as the
// importer checks files. A fan-out item may override the mechanism (`mechanism`)
// and the seed (`sim_seed`), so that a model-recovery study simulates many sessions
// from one settings file.
func generate(path string, item task.Item) (*simulated, error) {
	cfg, err := groundtruth.LoadConfig(path)
	if err != nil {
		return nil, err
	}
	if v, ok := item["mechanism"]; ok {
		cfg.Mechanism = fmt.Sprint(v)
	}
	if v, ok := item["sim_seed"]; ok {
		seed, ok := v.(int64)
		if !ok {
			if u, isU := v.(uint64); isU {
				seed, ok = int64(u), true
			} else if i, isI := v.(int); isI {
				seed, ok = int64(i), true
			}
		}
		if !ok || seed < 0 {
			return nil, fmt.Errorf("%s: fan-out item sim_seed = %v is not a non-negative integer", path, v)
		}
		cfg.Seed = uint64(seed)
	}
	g, err := groundtruth.Generate(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &simulated{session: g.Session, tables: g.Tables, truthJSON: g.TruthJSON}, nil
}

// write stores the truth outputs as the generator gave them.
func (g *simulated) write(ctx task.Context) error {
	names := make([]string, 0, len(g.tables))
	for name := range g.tables {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		switch name {
		case "spikes", "units", "photometry", "events", "session":
			return fmt.Errorf("ground-truth table %q would overwrite the session output of the same name", name)
		}
		if err := ctx.WriteTable(name, g.tables[name]); err != nil {
			return err
		}
	}
	if g.truthJSON != nil {
		return ctx.WriteFile("truth.json", g.truthJSON)
	}
	return nil
}
