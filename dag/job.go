package dag

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/afero"

	"nmdyn/cache"
	"nmdyn/stages/task"
)

// JobSchema versions JobSpec.
const JobSchema = "nmdyn-job-v1"

// JobSpec is everything needed to run one task, in or out of process: an
// out-of-process executor writes it to a file and runs `run exec FILE`, which
// commits to the shared cache with the same atomic rules; the controller then
// reads the manifest. It carries the key rather than recomputing it, so the
// worker needs neither pipeline.yaml nor the upstream params.
type JobSpec struct {
	Schema     string           `json:"schema"`
	Stage      string           `json:"stage"`
	Run        string           `json:"run"` // registry name of the Go stage
	Label      string           `json:"label"`
	Item       []ItemField      `json:"item"`
	Key        string           `json:"key"`
	Components cache.Components `json:"components"`
	// Params is the YAML text a stage's Decode reads: its params plus "item".
	Params string `json:"params"`
	// ParamValues are the params flattened (for the ref `run why` reads).
	ParamValues map[string]string `json:"param_values"`
	Inputs      []JobInput        `json:"inputs"`
	ProjectRoot string            `json:"project_root"`
	CacheRoot   string            `json:"cache_root"`
	Threads     int               `json:"threads"`
	Executor    string            `json:"executor"`
	JobID       string            `json:"job_id,omitempty"`
}

// JobInput is the upstream tasks of one input stage, sorted by item.
type JobInput struct {
	Stage string        `json:"stage"`
	Tasks []JobUpstream `json:"tasks"`
}

// JobUpstream is one upstream task: its outputs are found through its key.
type JobUpstream struct {
	Label string      `json:"label"`
	Item  []ItemField `json:"item"`
	Key   string      `json:"key"`
}

// ItemField is one fan-out dimension's value with its type, so that an item
// survives JSON (which would turn int64 1 into float64 1).
type ItemField struct {
	Dim   string `json:"dim"`
	Kind  string `json:"kind"` // string, int, float, bool
	Value string `json:"value"`
}

func encodeItem(it task.Item) []ItemField {
	dims := make([]string, 0, len(it))
	for d := range it {
		dims = append(dims, d)
	}
	sort.Strings(dims)
	out := make([]ItemField, 0, len(dims))
	for _, d := range dims {
		f := ItemField{Dim: d}
		switch v := it[d].(type) {
		case string:
			f.Kind, f.Value = "string", v
		case int64:
			f.Kind, f.Value = "int", strconv.FormatInt(v, 10)
		case float64:
			f.Kind, f.Value = "float", strconv.FormatFloat(v, 'g', -1, 64)
		case bool:
			f.Kind, f.Value = "bool", strconv.FormatBool(v)
		default:
			panic(fmt.Sprintf("dag: item value %T", v))
		}
		out = append(out, f)
	}
	return out
}

func decodeItem(fields []ItemField) (task.Item, error) {
	it := task.Item{}
	for _, f := range fields {
		var v any
		var err error
		switch f.Kind {
		case "string":
			v = f.Value
		case "int":
			v, err = strconv.ParseInt(f.Value, 10, 64)
		case "float":
			v, err = strconv.ParseFloat(f.Value, 64)
		case "bool":
			v, err = strconv.ParseBool(f.Value)
		default:
			err = fmt.Errorf("unknown kind %q", f.Kind)
		}
		if err != nil {
			return nil, fmt.Errorf("item %s: %w", f.Dim, err)
		}
		it[f.Dim] = v
	}
	return it, nil
}

// JobEnv is what a process running jobs provides.
type JobEnv struct {
	Store    *cache.Store
	Registry map[string]task.Func
	// Code, when set, recomputes the stage's code identity and refuses to run a
	// job whose key was computed for other code (a worker built from another
	// version than the controller).
	Code     func(run string, fn task.Func) (string, error)
	Progress func(fraction float64, note string)
	Log      func(line string)
	// RSSScope says whose peak RSS the provenance records: "process" when the
	// process runs other tasks too (in-process executor), "task" for a worker.
	RSSScope string
	Version  string
}

// RunJob runs one task and commits it: objects as the stage writes them, then the
// manifest (the commit point), then the ref of its (stage, item). A failed task
// commits nothing. Failures to read an upstream task's outputs come back as
// *CorruptInputError, so the caller can recompute that task.
func RunJob(ctx context.Context, env JobEnv, spec *JobSpec) (*cache.Manifest, error) {
	if spec.Schema != JobSchema {
		return nil, fmt.Errorf("job %s: schema %q, want %q", spec.Label, spec.Schema, JobSchema)
	}
	fn, ok := env.Registry[spec.Run]
	if !ok {
		return nil, fmt.Errorf("job %s: stage %q is not registered in this binary", spec.Label, spec.Run)
	}
	if env.Code != nil {
		id, err := env.Code(spec.Run, fn)
		if err != nil {
			return nil, fmt.Errorf("job %s: %w", spec.Label, err)
		}
		if id != spec.Components.Code {
			return nil, fmt.Errorf("job %s: this binary's code for stage %s (%.12s) differs from the controller's (%.12s): rebuild so both run the same source", spec.Label, spec.Run, id, spec.Components.Code)
		}
	}
	item, err := decodeItem(spec.Item)
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", spec.Label, err)
	}
	c := &taskContext{ctx: ctx, spec: spec, item: item, store: env.Store, inputs: map[string][]task.Input{},
		threads: max(1, spec.Threads), onProg: env.Progress, onLog: env.Log,
		outputs: map[string]cache.Object{}, reserved: map[string]bool{}, open: map[string]*tableWriter{}}
	for _, in := range spec.Inputs {
		list := make([]task.Input, 0, len(in.Tasks))
		for _, u := range in.Tasks {
			m, err := env.Store.ReadManifest(u.Key)
			if err != nil {
				return nil, &CorruptInputError{Key: u.Key, Label: u.Label, Err: err}
			}
			uit, err := decodeItem(u.Item)
			if err != nil {
				return nil, fmt.Errorf("job %s: input %s: %w", spec.Label, u.Label, err)
			}
			list = append(list, &input{c: c, label: u.Label, key: u.Key, item: uit, m: m})
		}
		c.inputs[in.Stage] = list
	}

	start := time.Now()
	err = callStage(fn, c)
	if open := c.abortOpen(); err == nil && len(open) > 0 {
		err = fmt.Errorf("stage %s: streamed output(s) %s not closed", spec.Stage, strings.Join(open, ", "))
	}
	if len(c.corrupt) > 0 {
		// Whatever the stage made of it, an input could not be read intact.
		return nil, c.corrupt[0]
	}
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The key holds the input files' hashes from when the run was planned; if a file
	// changed while the stage read it, its outputs belong to neither version.
	if len(spec.Components.Files) > 0 {
		files := env.Store.FileHasher()
		for _, f := range spec.Components.Files {
			h, err := files.Hash(f.Path)
			if err != nil {
				return nil, fmt.Errorf("job %s: input %s: %w", spec.Label, f.Path, err)
			}
			if h != f.Hash {
				return nil, fmt.Errorf("job %s: input %s (%s) changed while the task ran; nothing was committed: run again", spec.Label, f.Path, f.Param)
			}
		}
	}
	end := time.Now()

	m := &cache.Manifest{Key: spec.Key, Components: spec.Components, Log: c.log}
	for name, o := range c.outputs {
		m.Outputs = append(m.Outputs, cache.Output{Name: name, Object: o})
	}
	host, _ := os.Hostname()
	m.Provenance = cache.Provenance{Executor: spec.Executor, Host: host, PID: os.Getpid(), JobID: spec.JobID,
		Start: start, End: end, WallSeconds: end.Sub(start).Seconds(), PeakRSSBytes: peakRSS(),
		PeakRSSScope: env.RSSScope, Threads: c.threads, Version: env.Version, GoVersion: runtime.Version()}
	if err := env.Store.CommitManifest(m); err != nil {
		return nil, fmt.Errorf("job %s: commit: %w", spec.Label, err)
	}
	ref := &cache.Ref{Key: spec.Key, Components: spec.Components, ParamValues: spec.ParamValues, Committed: end}
	if err := env.Store.WriteRef(ref); err != nil {
		// The task is committed; only `run why` loses its explanation.
		if env.Log != nil {
			env.Log(fmt.Sprintf("warning: could not record the ref of %s: %v", spec.Label, err))
		}
	}
	return m, nil
}

// callStage runs a stage, turning a panic into an error with the stack.
func callStage(fn task.Func, c *taskContext) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("stage %s panicked: %v\n%s", c.spec.Stage, r, debug.Stack())
		}
	}()
	return fn(c)
}

// peakRSS is the process's maximum resident set size so far, in bytes.
func peakRSS() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss) // bytes there
	}
	return int64(ru.Maxrss) * 1024 // kilobytes on Linux
}

// JobResult is what `run exec` leaves next to the job description: the outcome as
// the controller needs it (an out-of-process executor's truth besides the exit
// code).
type JobResult struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	// CorruptKey and CorruptLabel name an upstream task whose outputs could not
	// be read intact: the controller recomputes it, then this task.
	CorruptKey   string `json:"corrupt_key,omitempty"`
	CorruptLabel string `json:"corrupt_label,omitempty"`
}

// ResultOf describes the outcome of RunJob.
func ResultOf(err error) *JobResult {
	if err == nil {
		return &JobResult{OK: true}
	}
	r := &JobResult{Error: err.Error()}
	var ce *CorruptInputError
	if errors.As(err, &ce) {
		r.CorruptKey, r.CorruptLabel = ce.Key, ce.Label
	}
	return r
}

// Err turns a result back into the error RunJob gave (nil when OK).
func (r *JobResult) Err() error {
	if r.OK {
		return nil
	}
	err := errors.New(r.Error)
	if r.CorruptKey != "" {
		return &CorruptInputError{Key: r.CorruptKey, Label: r.CorruptLabel, Err: err}
	}
	return err
}

// WriteJSONAtomic writes v as JSON to path atomically (job descriptions and
// results on a shared filesystem must never be read half-written).
func WriteJSONAtomic(fs afero.Fs, path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return cache.WriteFileAtomic(fs, path, append(b, '\n'), 0o644)
}

// ReadJobSpec reads a job description written by an executor.
func ReadJobSpec(fs afero.Fs, path string) (*JobSpec, error) {
	b, err := afero.ReadFile(fs, path)
	if err != nil {
		return nil, err
	}
	var s JobSpec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}

// ReadJobResult reads the result `run exec` wrote.
func ReadJobResult(fs afero.Fs, path string) (*JobResult, error) {
	b, err := afero.ReadFile(fs, path)
	if err != nil {
		return nil, err
	}
	var r JobResult
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}
