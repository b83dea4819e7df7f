package dag

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"reflect"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// CodeIndex computes code identities: per in-module Go package, a hash that
// changes when the package's source changes, when the source of an in-module
// package it imports (transitively) changes, when the version of an external
// module it imports changes (go.mod), or with the Go toolchain. A stage's code
// identity is that of the package defining its Func, so editing one stage package
// (or a library package it imports) restales exactly the stages built on it, and
// their downstream through their keys.
//
// The source comes from an fs.FS holding go.mod and the packages' files (the
// binary embeds them: nmdyn.Source); a test passes an fstest.MapFS. Files are
// hashed as bytes, so a comment-only edit restales too (harmless: a rerun gives
// the same outputs). _test.go files are not part of a package's identity. Every
// file of a package counts, whatever its build constraints.
type CodeIndex struct {
	module    string
	goVersion string
	requires  map[string]string // module path -> version (or replacement)
	pkgs      map[string]*srcPackage

	mu     sync.Mutex
	hashes map[string]string
}

type srcPackage struct {
	path    string
	files   map[string][]byte // base name -> content (.go without _test, .s)
	imports []string
}

// NewCodeIndex reads go.mod and the Go source under fsys. goVersion is normally
// runtime.Version().
func NewCodeIndex(fsys fs.FS, goVersion string) (*CodeIndex, error) {
	gomod, err := fs.ReadFile(fsys, "go.mod")
	if err != nil {
		return nil, fmt.Errorf("code identity: %w", err)
	}
	x := &CodeIndex{goVersion: goVersion, pkgs: map[string]*srcPackage{}, hashes: map[string]string{}}
	if x.module, x.requires, err = parseGoMod(gomod); err != nil {
		return nil, err
	}
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := d.Name()
		isGo := strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")
		if !isGo && !strings.HasSuffix(name, ".s") {
			return nil
		}
		dir := path.Dir(p)
		ipath := x.module
		if dir != "." {
			ipath += "/" + dir
		}
		pkg := x.pkgs[ipath]
		if pkg == nil {
			pkg = &srcPackage{path: ipath, files: map[string][]byte{}}
			x.pkgs[ipath] = pkg
		}
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		pkg.files[name] = src
		if isGo {
			f, err := parser.ParseFile(token.NewFileSet(), p, src, parser.ImportsOnly)
			if err != nil {
				return fmt.Errorf("code identity: %w", err)
			}
			for _, im := range f.Imports {
				ip, _ := strconv.Unquote(im.Path.Value)
				pkg.imports = append(pkg.imports, ip)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, p := range x.pkgs {
		sort.Strings(p.imports)
		p.imports = slicesCompact(p.imports)
	}
	return x, nil
}

func slicesCompact(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// parseGoMod reads the module path and the versions of the required modules of a
// go.mod file; a replace directive wins over the required version, since the
// replacement is what is built.
func parseGoMod(b []byte) (string, map[string]string, error) {
	var module string
	req, repl := map[string]string{}, map[string]string{}
	var block string // "require" or "replace" inside ( ... )
	for _, line := range strings.Split(string(b), "\n") {
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if block != "" {
			if f[0] == ")" {
				block = ""
				continue
			}
			f = append([]string{block}, f...)
		}
		switch f[0] {
		case "module":
			if len(f) >= 2 {
				module, _ = unquoteMaybe(f[1])
			}
		case "require", "replace":
			if len(f) == 2 && f[1] == "(" {
				block = f[0]
				continue
			}
			if len(f) < 3 {
				continue
			}
			m, _ := unquoteMaybe(f[1])
			if f[0] == "require" {
				req[m] = f[2]
			} else if i := indexOf(f, "=>"); i > 1 {
				repl[m] = strings.Join(f[i:], " ")
			}
		}
	}
	if module == "" {
		return "", nil, fmt.Errorf("code identity: go.mod has no module line")
	}
	for m, r := range repl {
		req[m] = r
	}
	return module, req, nil
}

func unquoteMaybe(s string) (string, error) {
	if strings.HasPrefix(s, `"`) || strings.HasPrefix(s, "`") {
		return strconv.Unquote(s)
	}
	return s, nil
}

func indexOf(f []string, s string) int {
	for i, v := range f {
		if v == s {
			return i
		}
	}
	return -1
}

// Module is the module path (from go.mod).
func (x *CodeIndex) Module() string { return x.module }

// Package returns the code identity of an in-module package (import path).
func (x *CodeIndex) Package(ipath string) (string, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.hash(ipath, nil)
}

func (x *CodeIndex) hash(ipath string, visiting []string) (string, error) {
	if h, ok := x.hashes[ipath]; ok {
		return h, nil
	}
	for _, v := range visiting {
		if v == ipath {
			return "", fmt.Errorf("code identity: import cycle through %s", ipath)
		}
	}
	pkg := x.pkgs[ipath]
	if pkg == nil {
		return "", fmt.Errorf("code identity: package %s is not in the embedded source (see source.go at the module root)", ipath)
	}
	h := sha256.New()
	// The architecture counts too: the compiler may fuse a*b+c into one rounding on
	// some (arm64, ppc64), so the same source can give other bits there.
	fmt.Fprintf(h, "package %s\ngo %s %s\n", ipath, x.goVersion, runtime.GOARCH)
	names := make([]string, 0, len(pkg.files))
	for n := range pkg.files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(h, "file %s %d\n", n, len(pkg.files[n]))
		h.Write(pkg.files[n])
	}
	for _, im := range pkg.imports {
		switch {
		case im == x.module || strings.HasPrefix(im, x.module+"/"):
			sub, err := x.hash(im, append(visiting, ipath))
			if err != nil {
				return "", err
			}
			fmt.Fprintf(h, "import %s %s\n", im, sub)
		case isStdlib(im):
			// Covered by the Go version.
		default:
			mod, ver := x.moduleOf(im)
			if mod == "" {
				return "", fmt.Errorf("code identity: %s imports %s, which no module required in go.mod provides", ipath, im)
			}
			fmt.Fprintf(h, "module %s %s\n", mod, ver)
		}
	}
	s := hex.EncodeToString(h.Sum(nil))
	x.hashes[ipath] = s
	return s, nil
}

// moduleOf finds the required module providing an import path (longest prefix).
func (x *CodeIndex) moduleOf(im string) (string, string) {
	best := ""
	for m := range x.requires {
		if (im == m || strings.HasPrefix(im, m+"/")) && len(m) > len(best) {
			best = m
		}
	}
	return best, x.requires[best]
}

// isStdlib tells whether an import path is of the standard library (its first
// element has no dot), or cgo's "C".
func isStdlib(im string) bool {
	first, _, _ := strings.Cut(im, "/")
	return !strings.Contains(first, ".")
}

// Func returns the code identity of the package defining fn.
func (x *CodeIndex) Func(fn any) (string, error) {
	return x.Package(FuncPackage(fn))
}

// FuncPackage is the import path of the package defining a function value, from
// the runtime's symbol name (e.g. nmdyn/stages/fit.Run -> nmdyn/stages/fit; a
// closure nmdyn/stages/fit.Run.func1 or a method nmdyn/stages/x.(*T).Run give
// their package too).
func FuncPackage(fn any) string {
	v := reflect.ValueOf(fn)
	if v.Kind() != reflect.Func || v.IsNil() {
		return ""
	}
	f := runtime.FuncForPC(v.Pointer())
	if f == nil {
		return ""
	}
	name := f.Name()
	slash := strings.LastIndexByte(name, '/')
	dot := strings.IndexByte(name[slash+1:], '.')
	if dot < 0 {
		return name
	}
	return name[:slash+1+dot]
}
