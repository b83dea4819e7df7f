package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunInspect(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"spikes.csv":     "unit,time\n1,0.5\n2,1.0\n1,2.5\n3,9.5\n",
		"events.csv":     "time,label\n5,tone\n2,reward\n7,tone\n",
		"photometry.csv": "time,signal\n0,1\n2.5,1\n5,1\n7.5,1\n10,1\n",
		"session.yaml":   "id: tiny\n",
	}
	for k, v := range files {
		if err := os.WriteFile(filepath.Join(dir, k), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := runInspect(context.Background(), &inspectOptions{stdout: &out}, []string{dir}); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	t.Log("\n" + text)
	for _, want := range []string{
		"session  tiny",
		"units    3 units, 4 spikes, keep: good",
		"good      3       4",
		"0.4 Hz, 0.000 - 10.000 s",
		"signal: signal, control: none",
		"tone      2",
		"no control channel: bleaching correction only",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// Bad input: the importer's error, naming the file.
	os.WriteFile(filepath.Join(dir, "spikes.csv"), []byte("unit,time\n1,2\n1,1\n"), 0o644)
	err := runInspect(context.Background(), &inspectOptions{stdout: &out}, []string{dir})
	if err == nil || !strings.Contains(err.Error(), "spikes.csv") {
		t.Errorf("unsorted spikes: %v", err)
	}
}
