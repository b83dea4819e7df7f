package dag

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const executorYAML = `params:
  fit: {seeds: [1]}
stages:
  - {name: prep, run: prep}
  - {name: fit, run: fit, inputs: [prep], params: [fit]}
executor:
  use: slurm
  slurm:
    partition: debug
    account: lab-1
    time: "1:00:00"
    mem: 2G
    cpus: 1
    sbatch_args: [--qos=normal]
    max_jobs: 8
    retries: 1
    poll: 2s
    stages:
      fit: {time: "8:00:00", cpus: 2, mem: 8192, sbatch_args: [--constraint=avx2]}
`

func TestExecutorSection(t *testing.T) {
	p, err := Parse("pipeline.yaml", []byte(executorYAML))
	if err != nil {
		t.Fatal(err)
	}
	c := p.Executor
	if c == nil || c.Use != "slurm" || c.Slurm == nil {
		t.Fatalf("executor %+v", c)
	}
	s := c.Slurm
	if s.MaxJobs != 8 || s.Retries != 1 || s.Poll != 2*time.Second {
		t.Errorf("slurm %+v", s)
	}
	if r := s.Resources("prep"); fmt.Sprint(r) != "{debug lab-1 1:00:00 2G 1 [--qos=normal]}" {
		t.Errorf("prep resources %v", r)
	}
	// Overrides replace, sbatch_args append.
	if r := s.Resources("fit"); fmt.Sprint(r) != "{debug lab-1 8:00:00 8192 2 [--qos=normal --constraint=avx2]}" {
		t.Errorf("fit resources %v", r)
	}
	// Not given: the defaults.
	p, err = Parse("pipeline.yaml", []byte(strings.Replace(executorYAML, "    max_jobs: 8\n    retries: 1\n    poll: 2s\n", "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	e := &SlurmExecutor{Config: p.Executor.Slurm}
	if e.Slots() != DefaultSlurmMaxJobs || p.Executor.Slurm.retries() != DefaultSlurmRetries || e.poll() != DefaultSlurmPoll {
		t.Errorf("defaults: %d slots, %d retries, poll %v", e.Slots(), p.Executor.Slurm.retries(), e.poll())
	}
	// A pipeline without the section has none (the local executor).
	p, _ = Parse("pipeline.yaml", []byte(executorYAML[:strings.Index(executorYAML, "executor:")]))
	if p.Executor != nil {
		t.Errorf("executor %+v without a section", p.Executor)
	}
}

// Every mistake in the section is an error at its line and column.
func TestExecutorSectionErrors(t *testing.T) {
	for _, c := range []struct{ old, new, want string }{
		{"use: slurm", "use: pbs", `pipeline.yaml:7:8: executor.use: "pbs" is not an executor; want local or slurm`},
		{"  use: slurm", "  uses: slurm", `pipeline.yaml:7:3: unknown key "uses" in executor (did you mean "use"?)`},
		{"    partition: debug", "    partitoin: debug", `pipeline.yaml:9:5: unknown key "partitoin" in executor.slurm (did you mean "partition"?)`},
		{`time: "1:00:00"`, `time: "1 hour"`, `pipeline.yaml:11:11: executor.slurm.time: "1 hour" is not a Slurm time limit`},
		{"mem: 2G", "mem: 2GB", `pipeline.yaml:12:10: executor.slurm.mem: "2GB" is not a Slurm memory size`},
		{"cpus: 1", "cpus: 0", `pipeline.yaml:13:11: executor.slurm.cpus: 0 is out of range [1, 4096]`},
		{"cpus: 1", "cpus: two", `pipeline.yaml:13:11: executor.slurm.cpus: want a whole number, found a string`},
		{"[--qos=normal]", "[--job-name=x]", `pipeline.yaml:14:19: executor.slurm.sbatch_args: "--job-name=x": --job-name is set by nmdyn`},
		{"[--qos=normal]", "[qos]", `pipeline.yaml:14:19: executor.slurm.sbatch_args: "qos": want an option starting with '-'`},
		{"poll: 2s", "poll: soon", `pipeline.yaml:17:11: executor.slurm.poll: "soon" is not a duration`},
		{"poll: 2s", "poll: 10ms", `pipeline.yaml:17:11: executor.slurm.poll: 10ms is out of range [100ms, 1h]`},
		{"account: lab-1", "account: lab 1", `pipeline.yaml:10:14: executor.slurm.account: "lab 1" is not a Slurm account name`},
		{"      fit: {", "      fitt: {", `pipeline.yaml:19:7: executor.slurm.stages: "fitt" is not a stage (did you mean "fit"?); stages: prep, fit`},
		{"{time: \"8:00:00\",", "{tme: \"8:00:00\",", `pipeline.yaml:19:13: unknown key "tme" in executor.slurm.stages.fit (did you mean "time"?)`},
	} {
		if !strings.Contains(executorYAML, c.old) {
			t.Fatalf("%q not in the YAML", c.old)
		}
		_, err := Parse("pipeline.yaml", []byte(strings.Replace(executorYAML, c.old, c.new, 1)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s -> %s:\n got %v\nwant %s", c.old, c.new, err, c.want)
		}
	}
}
