package dag

import "nmdyn/cache"

func canon(v any) string { return cache.MustCanonical(v) }
