package dag

import (
	"path/filepath"
	"strings"
	"testing"
)

// `root:` moves the project directory relative to the pipeline file, so a pipeline in
// a subdirectory shares the project's paths; an absolute root is refused.
func TestPipelineRoot(t *testing.T) {
	body := "params: {}\nstages:\n  - {name: a, run: a}\n"
	p, err := Parse("/proj/pipelines/study.yaml", []byte("root: ..\n"+body))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Clean("/proj"); p.Dir != want {
		t.Errorf("Dir = %s, want %s", p.Dir, want)
	}
	if _, err := Parse("/proj/x.yaml", []byte("root: /elsewhere\n"+body)); err == nil || !strings.Contains(err.Error(), "x.yaml:1") {
		t.Errorf("absolute root: err = %v", err)
	}
}
