package session

import (
	"fmt"
	"sort"

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

// generate runs the ground-truth generator on a simulate.yaml.
//
// The generator (package stages/groundtruth) is not in the tree yet; until it
// is, a simulated session cannot be read and this says so.
func generate(path string) (*simulated, error) {
	return nil, fmt.Errorf("%s: simulated sessions need the ground-truth generator (package stages/groundtruth), which is not built yet", path)
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
