package dag

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// ExecutorConfig is the `executor:` section of pipeline.yaml: which executor
// `run all` and `run stage` use unless --executor says otherwise, and the Slurm
// settings. It never enters a task's key: where a task runs does not change
// what it computes.
//
//	executor:
//	  use: slurm                 # local (the default) or slurm
//	  slurm:
//	    partition: debug
//	    account: mylab
//	    time: "2:00:00"          # --time: minutes, [D-]HH:MM:SS, ...
//	    mem: 4G                  # --mem (per node): a number of MB or with K/M/G/T
//	    cpus: 1                  # --cpus-per-task; also the task's threads
//	    sbatch_args: [--qos=normal]
//	    max_jobs: 100            # tasks in Slurm's queue at once (-j overrides)
//	    retries: 2               # resubmissions after NODE_FAIL, PREEMPTED, BOOT_FAIL
//	    poll: 10s                # at most one squeue/sacct round per poll
//	    stages:                  # per-stage overrides of the above resources
//	      fit: {time: "8:00:00", mem: 8G, cpus: 2}
type ExecutorConfig struct {
	Use    string // "local", "slurm", or "" (not said: local)
	UsePos Pos
	Slurm  *SlurmConfig // nil when the section has no `slurm:`
	Pos    Pos
}

// SlurmResources are what sbatch is asked for one task. Empty fields are not
// passed (the cluster's defaults apply).
type SlurmResources struct {
	Partition  string
	Account    string
	Time       string // --time, as Slurm reads it
	Mem        string // --mem, as Slurm reads it
	CPUs       int    // --cpus-per-task (0: not given, Slurm's default of 1)
	SbatchArgs []string
}

// SlurmConfig is the `slurm:` block of the executor section.
type SlurmConfig struct {
	Defaults SlurmResources
	// Stages overrides Defaults per stage name: non-empty fields replace the
	// default, sbatch_args are appended to the default's.
	Stages  map[string]SlurmResources
	MaxJobs int // 0: DefaultSlurmMaxJobs
	// Retries is how many times a task is resubmitted after its job died
	// through no fault of its own; -1 (what the parser leaves when the key is
	// absent) means DefaultSlurmRetries, and a literal SlurmConfig{} has 0.
	Retries int
	Poll    time.Duration // 0: DefaultSlurmPoll

	stagePos map[string]Pos
}

// Defaults of the Slurm settings.
const (
	DefaultSlurmMaxJobs = 100
	DefaultSlurmRetries = 2
	DefaultSlurmPoll    = 5 * time.Second
)

// Resources returns what a task of the named stage asks of Slurm.
func (c *SlurmConfig) Resources(stage string) SlurmResources {
	if c == nil {
		return SlurmResources{}
	}
	r := c.Defaults
	r.SbatchArgs = append([]string(nil), c.Defaults.SbatchArgs...)
	o, ok := c.Stages[stage]
	if !ok {
		return r
	}
	if o.Partition != "" {
		r.Partition = o.Partition
	}
	if o.Account != "" {
		r.Account = o.Account
	}
	if o.Time != "" {
		r.Time = o.Time
	}
	if o.Mem != "" {
		r.Mem = o.Mem
	}
	if o.CPUs > 0 {
		r.CPUs = o.CPUs
	}
	r.SbatchArgs = append(r.SbatchArgs, o.SbatchArgs...)
	return r
}

func (c *SlurmConfig) maxJobs() int {
	if c == nil || c.MaxJobs <= 0 {
		return DefaultSlurmMaxJobs
	}
	return c.MaxJobs
}

func (c *SlurmConfig) retries() int {
	if c == nil || c.Retries < 0 {
		return DefaultSlurmRetries
	}
	return c.Retries
}

func (c *SlurmConfig) poll() time.Duration {
	if c == nil || c.Poll <= 0 {
		return DefaultSlurmPoll
	}
	return c.Poll
}

var (
	// Slurm's --time: minutes, minutes:seconds, hours:minutes:seconds,
	// days-hours, days-hours:minutes, days-hours:minutes:seconds.
	slurmTimeRE = regexp.MustCompile(`^([0-9]+(:[0-9]+){0,2}|[0-9]+-[0-9]+(:[0-9]+){0,2}|UNLIMITED|INFINITE)$`)
	// Slurm's --mem: a number of megabytes, or with a K, M, G or T suffix.
	slurmMemRE = regexp.MustCompile(`^[0-9]+[KMGT]?$`)
	// A partition or account name: no spaces, quotes or control characters
	// (they are argv elements, never shell text, but such a name is a typo).
	slurmNameRE = regexp.MustCompile(`^[A-Za-z0-9_.,+@:-]+$`)
)

// sbatchReserved are sbatch options the executor sets itself: a job name
// carries the task key (adoption after a restart finds jobs by it), the output
// goes beside the exit-code file, and --parsable gives the job id.
var sbatchReserved = []string{"-J", "--job-name", "-o", "--output", "-e", "--error", "--parsable",
	"--wrap", "-a", "--array", "-D", "--chdir", "-W", "--wait", "--test-only", "-H", "--hold"}

// checkSbatchArg tells what is wrong with an extra sbatch argument ("" if nothing).
func checkSbatchArg(a string) string {
	if !strings.HasPrefix(a, "-") {
		return "want an option starting with '-' (e.g. --qos=normal); the job script is nmdyn's"
	}
	if strings.ContainsRune(a, 0) || strings.ContainsAny(a, "\n\r") {
		return "contains a control character"
	}
	name := a
	if i := strings.IndexByte(a, '='); i >= 0 {
		name = a[:i]
	}
	for _, r := range sbatchReserved {
		short := len(r) == 2 && !strings.HasPrefix(a, "--") && strings.HasPrefix(a, r) // -ofile
		// sbatch, like getopt_long, takes any unambiguous prefix of a long option.
		long := strings.HasPrefix(name, "--") && len(name) > 2 && strings.HasPrefix(r, name)
		if name == r || short || long {
			return fmt.Sprintf("%s is set by nmdyn (job name, output and id identify a task's job)", r)
		}
	}
	return ""
}

// decodeExecutor decodes the `executor:` section.
func decodeExecutor(p *Pipeline, d *decoder, n ast.Node) {
	c := &ExecutorConfig{Pos: d.pos(n)}
	d.fields(n, "executor", map[string]func(entry){
		"use": func(e entry) {
			v, ok := d.str(e.value, "executor.use")
			if !ok {
				return
			}
			c.UsePos = d.pos(e.value)
			if v != "local" && v != "slurm" {
				d.errorf(e.value, "executor.use: %q is not an executor; want local or slurm", v)
				return
			}
			c.Use = v
		},
		"slurm": func(e entry) { c.Slurm = decodeSlurm(d, e.value) },
	})
	p.Executor = c
}

func decodeSlurm(d *decoder, n ast.Node) *SlurmConfig {
	c := &SlurmConfig{Retries: -1, Stages: map[string]SlurmResources{}, stagePos: map[string]Pos{}}
	fields := resourceFields(d, "executor.slurm", &c.Defaults)
	fields["max_jobs"] = func(e entry) {
		if v, ok := decodeInt(d, e.value, "executor.slurm.max_jobs", 1, 100000); ok {
			c.MaxJobs = v
		}
	}
	fields["retries"] = func(e entry) {
		if v, ok := decodeInt(d, e.value, "executor.slurm.retries", 0, 100); ok {
			c.Retries = v
		}
	}
	fields["poll"] = func(e entry) {
		if v, ok := decodeDuration(d, e.value, "executor.slurm.poll"); ok {
			c.Poll = v
		}
	}
	fields["stages"] = func(e entry) {
		ents, ok := d.mapping(e.value, "executor.slurm.stages")
		if !ok {
			return
		}
		for _, se := range ents {
			var r SlurmResources
			d.fields(se.value, "executor.slurm.stages."+se.key, resourceFields(d, "executor.slurm.stages."+se.key, &r))
			c.Stages[se.key] = r
			c.stagePos[se.key] = d.pos(se.keyN)
		}
	}
	d.fields(n, "executor.slurm", fields)
	return c
}

// resourceFields are the decoders of the resource keys, shared by the
// defaults and the per-stage blocks.
func resourceFields(d *decoder, what string, r *SlurmResources) map[string]func(entry) {
	name := func(key string, dst *string) func(entry) {
		return func(e entry) {
			v, ok := d.str(e.value, what+"."+key)
			if !ok {
				return
			}
			if !slurmNameRE.MatchString(v) {
				d.errorf(e.value, "%s.%s: %q is not a Slurm %s name", what, key, v, key)
				return
			}
			*dst = v
		}
	}
	return map[string]func(entry){
		"partition": name("partition", &r.Partition),
		"account":   name("account", &r.Account),
		"time": func(e entry) {
			v, ok := scalarText(d, e.value, what+".time")
			if !ok {
				return
			}
			if !slurmTimeRE.MatchString(v) {
				d.errorf(e.value, "%s.time: %q is not a Slurm time limit; want minutes, HH:MM:SS, D-HH:MM:SS or UNLIMITED (quote it: \"2:00:00\")", what, v)
				return
			}
			r.Time = v
		},
		"mem": func(e entry) {
			v, ok := scalarText(d, e.value, what+".mem")
			if !ok {
				return
			}
			if !slurmMemRE.MatchString(v) {
				d.errorf(e.value, "%s.mem: %q is not a Slurm memory size; want megabytes (4096) or a number with K, M, G or T (4G)", what, v)
				return
			}
			r.Mem = v
		},
		"cpus": func(e entry) {
			if v, ok := decodeInt(d, e.value, what+".cpus", 1, 4096); ok {
				r.CPUs = v
			}
		},
		"sbatch_args": func(e entry) {
			for _, a := range d.strList(e.value, what+".sbatch_args") {
				if msg := checkSbatchArg(a.Name); msg != "" {
					d.errAt(a.Pos, "%s.sbatch_args: %q: %s", what, a.Name, msg)
					continue
				}
				r.SbatchArgs = append(r.SbatchArgs, a.Name)
			}
		},
	}
}

// scalarText reads a string or an integer as text (time: 60, mem: 4096).
func scalarText(d *decoder, n ast.Node, what string) (string, bool) {
	v, ok := d.value(n, what, nil)
	if !ok {
		return "", false
	}
	switch x := v.(type) {
	case string:
		return x, true
	case int64:
		return strconv.FormatInt(x, 10), true
	}
	d.errorf(n, "%s: want a string or a whole number, found %s", what, describe(n))
	return "", false
}

func decodeInt(d *decoder, n ast.Node, what string, lo, hi int) (int, bool) {
	v, ok := d.value(n, what, nil)
	if !ok {
		return 0, false
	}
	i, isInt := v.(int64)
	if !isInt {
		d.errorf(n, "%s: want a whole number, found %s", what, describe(n))
		return 0, false
	}
	if i < int64(lo) || i > int64(hi) {
		d.errorf(n, "%s: %d is out of range [%d, %d]", what, i, lo, hi)
		return 0, false
	}
	return int(i), true
}

// decodeDuration reads "10s", "1m" or a number of seconds.
func decodeDuration(d *decoder, n ast.Node, what string) (time.Duration, bool) {
	v, ok := d.value(n, what, nil)
	if !ok {
		return 0, false
	}
	var dur time.Duration
	switch x := v.(type) {
	case int64:
		dur = time.Duration(x) * time.Second
	case float64:
		dur = time.Duration(x * float64(time.Second))
	case string:
		var err error
		if dur, err = time.ParseDuration(x); err != nil {
			d.errorf(n, "%s: %q is not a duration; want e.g. 10s or 1m", what, x)
			return 0, false
		}
	default:
		d.errorf(n, "%s: want a duration (10s) or seconds, found %s", what, describe(n))
		return 0, false
	}
	if dur < 100*time.Millisecond || dur > time.Hour {
		d.errorf(n, "%s: %v is out of range [100ms, 1h]", what, dur)
		return 0, false
	}
	return dur, true
}

// checkExecutor reports per-stage Slurm settings naming no stage.
func (p *Pipeline) checkExecutor(d *decoder) {
	if p.Executor == nil || p.Executor.Slurm == nil {
		return
	}
	c := p.Executor.Slurm
	names := make([]string, 0, len(c.Stages))
	for name := range c.Stages {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if p.byName[name] != nil {
			continue
		}
		msg := fmt.Sprintf("executor.slurm.stages: %q is not a stage", name)
		if sg := suggest(name, p.StageNames()); sg != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", sg)
		}
		d.errAt(c.stagePos[name], "%s; stages: %s", msg, strings.Join(p.StageNames(), ", "))
	}
}
