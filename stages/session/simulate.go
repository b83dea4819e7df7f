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
// importer checks files.
func generate(path string) (*simulated, error) {
	cfg, err := groundtruth.LoadConfig(path)
	if err != nil {
		return nil, err
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
