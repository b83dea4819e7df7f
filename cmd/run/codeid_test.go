package main

import (
	"io/fs"
	"path"
	"runtime"
	"strings"
	"testing"

	"nmdyn"
	"nmdyn/dag"
	"nmdyn/stages/table"
)

// The embedded source gives every stage package a code identity: all its
// in-module imports are embedded and all its external imports are in go.mod.
func TestEmbeddedCodeIdentity(t *testing.T) {
	idx, err := dag.NewCodeIndex(nmdyn.Source, runtime.Version())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = fs.WalkDir(nmdyn.Source, "stages", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		pkg := "nmdyn/" + path.Dir(p)
		if _, err := idx.Package(pkg); err != nil {
			t.Errorf("%s: %v", pkg, err)
		}
		n++
		return nil
	})
	if err != nil || n == 0 {
		t.Fatalf("walked %d files: %v", n, err)
	}
	// A stage function maps to its package, which is embedded.
	if got := dag.FuncPackage(table.WriteParquet); got != "nmdyn/stages/table" {
		t.Errorf("FuncPackage = %q", got)
	}
	if _, err := idx.Func(table.WriteParquet); err != nil {
		t.Error(err)
	}
}

// BenchmarkCodeIndex is the start-up cost of code identities in every engine
// verb: read and parse the imports of the embedded source, hash every package.
func BenchmarkCodeIndex(b *testing.B) {
	for i := 0; i < b.N; i++ {
		idx, err := dag.NewCodeIndex(nmdyn.Source, runtime.Version())
		if err != nil {
			b.Fatal(err)
		}
		fs.WalkDir(nmdyn.Source, "stages", func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".go") {
				idx.Package("nmdyn/" + path.Dir(p))
			}
			return err
		})
	}
}
