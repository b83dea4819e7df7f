package main

import (
	"github.com/spf13/afero"

	"nmdyn/dag"
)

func dagWriteJSON(path string, v any) error { return dag.WriteJSONAtomic(afero.NewOsFs(), path, v) }
