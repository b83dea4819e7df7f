package dag

import (
	"github.com/spf13/afero"

	"nmdyn/cache"
)

func canon(v any) string { return cache.MustCanonical(v) }

func sha(b []byte) string { return cache.HashBytes(b) }

func osFs() afero.Fs { return afero.NewOsFs() }
