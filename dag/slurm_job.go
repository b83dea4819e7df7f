package dag

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/afero"
)

// A task's Slurm jobs keep their files in the cache's jobs directory, one
// directory per submission (attempt):
//
//	<cache>/jobs/slurm/<task key>/<attempt>/
//	    job.json        the job description `run exec` reads (dag.JobSpec)
//	    job.sh          the batch script given to sbatch
//	    submitted.json  job id, name, time, controller (written after sbatch)
//	    slurm.out       the job's standard output and error
//	    started         written first by the job: proof the node sees the cache
//	    result.json     `run exec`'s outcome
//	    exit            `run exec`'s exit code, written last and atomically: the truth
//	    cancelled       the controller cancelled this job (Ctrl-C)
//
// The directory of a task is removed once the task is committed; failed
// attempts stay for their logs (`run gc` removes them).

// slurmJobsDir is the Slurm part of the cache's jobs directory.
func slurmJobsDir(jobsDir string) string { return filepath.Join(jobsDir, "slurm") }

// cacheTag names a cache in job names: jobs of two caches (two clones of a
// project, say) computing the same task key are not each other's.
func cacheTag(root string) string {
	h := sha256.Sum256([]byte(root))
	return hex.EncodeToString(h[:4])
}

// SlurmJobPrefix is how the names of the Slurm jobs of a cache's tasks begin:
// nmdyn-<cache tag>-, the tag being 8 hex digits of the sha256 of the cache's
// absolute path (`squeue --format=%j` shows the names).
func SlurmJobPrefix(cacheRoot string) string {
	root, err := filepath.Abs(cacheRoot)
	if err != nil {
		root = cacheRoot
	}
	return "nmdyn-" + cacheTag(root) + "-"
}

// slurmJobName is the name of a task's job: nmdyn-<cache tag>-<key prefix>-<attempt>.
// A restarted controller finds the jobs of its tasks by it.
func slurmJobName(tag, key string, attempt int) string {
	return fmt.Sprintf("nmdyn-%s-%s-%d", tag, key[:16], attempt)
}

// attemptOfName returns the attempt number of a job named by slurmJobName for
// the given key prefix (ok false for another task's job).
func attemptOfName(name, prefix string) (int, bool) {
	if !strings.HasPrefix(name, prefix) {
		return 0, false
	}
	n, err := strconv.Atoi(name[len(prefix):])
	return n, err == nil && n > 0
}

// attempts lists a task's attempt numbers, ascending.
func attempts(fs afero.Fs, keyDir string) []int {
	ents, err := afero.ReadDir(fs, keyDir)
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil && n > 0 && e.IsDir() {
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out
}

// submitRecord is submitted.json.
type submitRecord struct {
	JobID     string    `json:"job_id"`
	Name      string    `json:"name"`
	Attempt   int       `json:"attempt"`
	Submitted time.Time `json:"submitted"`
	Host      string    `json:"controller_host"`
	PID       int       `json:"controller_pid"`
	Sbatch    []string  `json:"sbatch"`
}

// shellQuote quotes s for a POSIX shell: inside single quotes every byte is
// literal, and a single quote is written '\”.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// jobScript is the batch script of one attempt. No value in it is shell text:
// the paths (cache, binary, job directory) and the environment values are
// single-quoted, so spaces, quotes, $, backquotes and newlines in them are
// inert. Its first line after the comment is a command, so sbatch reads no
// #SBATCH directive past it, whatever a path contains. It proves the node sees
// the cache (started), runs `run exec`, and records the exit code last and
// atomically (exit).
func jobScript(binary, cacheRoot, dir string, threads int, env []string) (string, error) {
	for _, v := range append([]string{binary, cacheRoot, dir}, env...) {
		if strings.ContainsRune(v, 0) {
			return "", fmt.Errorf("a NUL byte in %q cannot be passed to a job", v)
		}
	}
	var b strings.Builder
	b.WriteString("#!/bin/sh\n# nmdyn task job, written by the controller: every value below is single-quoted.\n")
	fmt.Fprintf(&b, "dir=%s\n", shellQuote(dir))
	b.WriteString(`host=$(hostname 2>/dev/null || echo unknown)
if ! { printf '%s %s\n' "$host" "${SLURM_JOB_ID:-}" >"$dir/started.tmp" && mv -f "$dir/started.tmp" "$dir/started"; }; then
	echo "nmdyn: job ${SLURM_JOB_ID:-?} on $host cannot write to $dir: the nmdyn cache is not on a filesystem this node sees" >&2
	exit 97
fi
NMDYN_JOB_ID=${SLURM_JOB_ID:-}
export NMDYN_JOB_ID
`)
	if threads > 0 {
		fmt.Fprintf(&b, "GOMAXPROCS=%d\nexport GOMAXPROCS\n", threads)
	}
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !envNameRE.MatchString(k) {
			return "", fmt.Errorf("job environment %q: want NAME=value", kv)
		}
		fmt.Fprintf(&b, "%s=%s\nexport %s\n", k, shellQuote(v), k)
	}
	fmt.Fprintf(&b, "%s exec --cache %s --result \"$dir/result.json\" \"$dir/job.json\"\n", shellQuote(binary), shellQuote(cacheRoot))
	b.WriteString(`code=$?
printf '%s\n' "$code" >"$dir/exit.tmp" && mv -f "$dir/exit.tmp" "$dir/exit"
exit "$code"
`)
	return b.String(), nil
}

// sbatchOutputPath escapes a path for sbatch's --output, which expands %j, %x
// and friends: %% is a literal %. A path with a backslash switches the
// expansion off altogether in some Slurm versions and not in others, so such a
// path gets no Slurm log (the script's own messages are lost, not its result).
func sbatchOutputPath(p string) string {
	if strings.Contains(p, `\`) {
		return "/dev/null"
	}
	return strings.ReplaceAll(p, "%", "%%")
}

// sbatchArgs is the argv of sbatch for one attempt (never a shell line).
func sbatchArgs(name, dir, script string, r SlurmResources) []string {
	args := []string{"--parsable", "--job-name=" + name, "--output=" + sbatchOutputPath(filepath.Join(dir, "slurm.out")),
		"--chdir=" + dir}
	if r.Partition != "" {
		args = append(args, "--partition="+r.Partition)
	}
	if r.Account != "" {
		args = append(args, "--account="+r.Account)
	}
	if r.Time != "" {
		args = append(args, "--time="+r.Time)
	}
	if r.Mem != "" {
		args = append(args, "--mem="+r.Mem)
	}
	if r.CPUs > 0 {
		args = append(args, "--cpus-per-task="+strconv.Itoa(r.CPUs))
	}
	args = append(args, r.SbatchArgs...)
	return append(args, script)
}

// parseSbatch reads the job id from `sbatch --parsable` ("id" or "id;cluster").
func parseSbatch(out []byte) (string, error) {
	s := strings.TrimSpace(string(out))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:] // warnings may come first
	}
	id, _, _ := strings.Cut(s, ";")
	if id == "" || strings.Trim(id, "0123456789_") != "" {
		return "", fmt.Errorf("sbatch printed %q, not a job id", strings.TrimSpace(string(out)))
	}
	return id, nil
}

// tail returns the last n lines of a file ("" if unreadable).
func tail(fs afero.Fs, path string, n int) string {
	b, err := afero.ReadFile(fs, path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
