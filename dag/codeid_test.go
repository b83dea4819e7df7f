package dag

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"nmdyn/stages/task"
)

// srcFS is a small module: stages/lib is a library; stages/a imports it,
// stages/b imports an external module, stages/c only the standard library.
func srcFS() fstest.MapFS {
	return fstest.MapFS{
		"go.mod":                 {Data: []byte("module nmdyn\n\ngo 1.26\n\nrequire (\n\tgithub.com/x/y v1.0.0 // indirect\n\tgonum.org/v1/gonum v0.17.0\n)\n")},
		"stages/lib/lib.go":      {Data: []byte("package lib\n\n// F is used by a.\nfunc F() int { return 1 }\n")},
		"stages/lib/lib_test.go": {Data: []byte("package lib\n")},
		"stages/a/a.go":          {Data: []byte("package a\n\nimport \"nmdyn/stages/lib\"\n\nvar V = lib.F()\n")},
		"stages/b/b.go":          {Data: []byte("package b\n\nimport (\n\t\"fmt\"\n\t\"github.com/x/y/z\"\n)\n\nvar _ = fmt.Sprint(z.X)\n")},
		"stages/c/c.go":          {Data: []byte("package c\n\nimport \"strings\"\n\nvar _ = strings.ToUpper\n")},
		"stages/c/c_amd64.s":     {Data: []byte("TEXT ·f(SB),0,$0\n")},
	}
}

func identities(t *testing.T, fsys fstest.MapFS, goVersion string) map[string]string {
	t.Helper()
	x, err := NewCodeIndex(fsys, goVersion)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range []string{"lib", "a", "b", "c"} {
		h, err := x.Package("nmdyn/stages/" + p)
		if err != nil {
			t.Fatal(err)
		}
		out[p] = h
	}
	return out
}

// changed lists the packages whose identity differs.
func changed(a, b map[string]string) string {
	var out []string
	for _, p := range []string{"lib", "a", "b", "c"} {
		if a[p] != b[p] {
			out = append(out, p)
		}
	}
	return fmt.Sprint(out)
}

func TestCodeIdentity(t *testing.T) {
	base := identities(t, srcFS(), "go1.26.8")
	if again := identities(t, srcFS(), "go1.26.8"); changed(base, again) != "[]" {
		t.Fatal("identities not deterministic")
	}
	for _, c := range []struct {
		name string
		edit func(fstest.MapFS)
		want string
	}{
		{"edit the library: it and its importer", func(f fstest.MapFS) {
			f["stages/lib/lib.go"] = &fstest.MapFile{Data: []byte("package lib\n\nfunc F() int { return 2 }\n")}
		}, "[lib a]"},
		{"add a file to a", func(f fstest.MapFS) {
			f["stages/a/more.go"] = &fstest.MapFile{Data: []byte("package a\n")}
		}, "[a]"},
		{"edit a test file: nothing", func(f fstest.MapFS) {
			f["stages/lib/lib_test.go"] = &fstest.MapFile{Data: []byte("package lib\n\nfunc TestX() {}\n")}
		}, "[]"},
		{"edit assembly of c", func(f fstest.MapFS) {
			f["stages/c/c_amd64.s"] = &fstest.MapFile{Data: []byte("TEXT ·g(SB),0,$0\n")}
		}, "[c]"},
		{"comment-only edit: restales (bytes are hashed)", func(f fstest.MapFS) {
			f["stages/c/c.go"] = &fstest.MapFile{Data: []byte("package c\n\n// why\nimport \"strings\"\n\nvar _ = strings.ToUpper\n")}
		}, "[c]"},
		{"bump the external module b imports", func(f fstest.MapFS) {
			f["go.mod"] = &fstest.MapFile{Data: []byte("module nmdyn\n\nrequire github.com/x/y v1.0.1\nrequire gonum.org/v1/gonum v0.17.0\n")}
		}, "[b]"},
		{"replace the external module", func(f fstest.MapFS) {
			f["go.mod"] = &fstest.MapFile{Data: []byte(string(f["go.mod"].Data) + "replace github.com/x/y => ../y\n")}
		}, "[b]"},
		{"bump a module nobody imports", func(f fstest.MapFS) {
			f["go.mod"] = &fstest.MapFile{Data: []byte(strings.Replace(string(f["go.mod"].Data), "v0.17.0", "v0.18.0", 1))}
		}, "[]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := srcFS()
			c.edit(f)
			if got := changed(base, identities(t, f, "go1.26.8")); got != c.want {
				t.Errorf("changed %s, want %s", got, c.want)
			}
		})
	}
	if got := changed(base, identities(t, srcFS(), "go1.27.0")); got != "[lib a b c]" {
		t.Errorf("new Go version: changed %s", got)
	}

	// Errors: a package that is not embedded, an import no module provides.
	x, _ := NewCodeIndex(srcFS(), "go1")
	if _, err := x.Package("nmdyn/cmd/run"); err == nil || !strings.Contains(err.Error(), "not in the embedded source") {
		t.Errorf("unknown package: %v", err)
	}
	f := srcFS()
	f["stages/d/d.go"] = &fstest.MapFile{Data: []byte("package d\n\nimport \"example.com/nope\"\n")}
	x, _ = NewCodeIndex(f, "go1")
	if _, err := x.Package("nmdyn/stages/d"); err == nil || !strings.Contains(err.Error(), "no module required in go.mod") {
		t.Errorf("unprovided import: %v", err)
	}
}

// Editing one package restales exactly the stages built on it and their
// downstream, through the keys.
func TestCodeIdentityStaleness(t *testing.T) {
	yaml := `
params: {}
stages:
  - {name: sa, run: a}
  - {name: sb, run: b}
  - {name: sc, run: c, inputs: [sa]}
  - {name: sd, run: c, inputs: [sb]}
`
	var cn counts
	reg := map[string]task.Func{"a": fake(&cn, "sa"), "b": fake(&cn, "sb"), "c": fake(&cn, "sc")}
	te := newTestEngine(t, yaml, reg)
	fsys := srcFS()
	code := func(run string, fn task.Func) (string, error) {
		x, err := NewCodeIndex(fsys, "go1.26.8")
		if err != nil {
			return "", err
		}
		return x.Package("nmdyn/stages/" + run) // stage "a" lives in package stages/a, ...
	}
	te.Code = code
	te.run(t, RunOptions{})
	fsys["stages/lib/lib.go"] = &fstest.MapFile{Data: []byte("package lib\n\nfunc F() int { return 3 }\n")}
	if got := fmt.Sprint(stale(te.plan(t))); got != "[sa code sc upstream]" {
		t.Errorf("after editing lib: stale %s", got)
	}
}

type method struct{}

func (method) Run(task.Context) error { return nil }

func TestFuncPackage(t *testing.T) {
	closure := func(task.Context) error { return nil }
	for _, c := range []struct {
		fn   any
		want string
	}{
		{TestFuncPackage, "nmdyn/dag"},
		{closure, "nmdyn/dag"},
		{method{}.Run, "nmdyn/dag"},
		{strings.ToUpper, "strings"},
		{fmt.Sprint, "fmt"},
	} {
		if got := FuncPackage(c.fn); got != c.want {
			t.Errorf("FuncPackage(%T) = %q, want %q", c.fn, got, c.want)
		}
	}
}
