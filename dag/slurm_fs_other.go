//go:build !linux

package dag

// localFsType is Linux-only (statfs magic numbers); elsewhere only the path
// prefixes tell a node-local directory.
func localFsType(string) string { return "" }
