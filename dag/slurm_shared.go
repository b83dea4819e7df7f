package dag

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/afero"

	"nmdyn/cache"
)

// StageBinary copies the executable exe into the cache, as
// <cache>/bin/<sha256 of its bytes>, and returns that absolute path. Jobs run
// that copy: `go run` builds into a temporary directory of this machine that
// cluster nodes do not see, while the cache they must see anyway. Content
// addressing makes the copy once per build and leaves the binary of jobs
// still queued from an earlier build in place. (Remove <cache>/bin by hand
// when no run is active to reclaim the space.)
func StageBinary(store *cache.Store, exe string) (string, error) {
	fs := store.Fs()
	root, err := filepath.Abs(store.Root())
	if err != nil {
		return "", err
	}
	f, err := fs.Open(exe)
	if err != nil {
		return "", fmt.Errorf("the nmdyn executable for the jobs: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	size, err := io.Copy(h, f)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", exe, err)
	}
	dir := filepath.Join(root, "bin")
	dst := filepath.Join(dir, hex.EncodeToString(h.Sum(nil)))
	if fi, err := fs.Stat(dst); err == nil && fi.Size() == size {
		return dst, nil
	}
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	tmp, err := afero.TempFile(fs, dir, ".tmp-*")
	if err != nil {
		return "", err
	}
	_, err = io.Copy(tmp, f)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fs.Chmod(tmp.Name(), 0o555)
	}
	if err == nil {
		err = fs.Rename(tmp.Name(), dst)
	}
	if err != nil {
		fs.Remove(tmp.Name())
		return "", fmt.Errorf("copying the nmdyn executable into %s: %w", dir, err)
	}
	return dst, nil
}

// nodeLocalPrefixes are directories that are each machine's own on any
// cluster.
var nodeLocalPrefixes = []string{"/tmp", "/var/tmp", "/dev/shm", "/run", "/var/run"}

// nodeLocal tells why a path is on this machine only ("" if it may be shared).
func nodeLocal(p string) string {
	for _, pre := range nodeLocalPrefixes {
		if p == pre || strings.HasPrefix(p, pre+"/") {
			return "it is under " + pre + ", which every machine has its own of"
		}
	}
	if fsType := localFsType(p); fsType != "" {
		return "it is on a " + fsType + " (memory of this machine)"
	}
	return ""
}

// SharedCheck is what CheckShared found.
type SharedCheck struct {
	Nodes []string // the nodes of the partitions used
	Notes []string // node-local paths allowed because there is one node
}

// CheckShared checks, before any job, that the named paths (the cache, the
// project) can be seen by every node: on a cluster of more than one node a
// node-local path (/tmp, /var/tmp, /dev/shm, /run, a tmpfs) is refused with a
// message saying so; on a one-node cluster it is allowed and noted. It cannot
// prove that another path is shared: a job proves it (Probe, `run
// slurm-check`), and every task's job checks it again.
func (e *SlurmExecutor) CheckShared(paths map[string]string) (*SharedCheck, error) {
	args := []string{"--noheader", "--Node", "--format=%N"}
	if parts := e.partitions(); len(parts) > 0 {
		args = append(args, "--partition="+strings.Join(parts, ","))
	}
	out, err := e.run("sinfo", args...)
	if err != nil {
		return nil, fmt.Errorf("asking Slurm for its nodes: %w", err)
	}
	seen := map[string]bool{}
	res := &SharedCheck{}
	for _, n := range strings.Fields(string(out)) {
		if !seen[n] {
			seen[n] = true
			res.Nodes = append(res.Nodes, n)
		}
	}
	sort.Strings(res.Nodes)
	if len(res.Nodes) == 0 {
		return nil, fmt.Errorf("sinfo lists no nodes%s", partitionNote(e.partitions()))
	}
	names := make([]string, 0, len(paths))
	for what := range paths {
		names = append(names, what)
	}
	sort.Strings(names)
	var bad []string
	for _, what := range names {
		p, err := filepath.Abs(paths[what])
		if err != nil {
			return nil, err
		}
		why := nodeLocal(p)
		if why == "" {
			continue
		}
		if len(res.Nodes) == 1 {
			res.Notes = append(res.Notes, fmt.Sprintf("the %s %s is node-local (%s); fine on this one-node cluster (%s)", what, p, why, res.Nodes[0]))
			continue
		}
		bad = append(bad, fmt.Sprintf("the %s %s: %s", what, p, why))
	}
	if len(bad) > 0 {
		return res, fmt.Errorf("the Slurm executor needs the cache and the project on a filesystem every node sees (at the same path), and this cluster has %d nodes; not so:\n  %s\nUse --cache (or NMDYN_CACHE) with a directory on a shared filesystem (your home or project space, typically), and keep the project there too",
			len(res.Nodes), strings.Join(bad, "\n  "))
	}
	return res, nil
}

func partitionNote(parts []string) string {
	if len(parts) == 0 {
		return ""
	}
	return " in partition(s) " + strings.Join(parts, ",")
}

// partitions are the partitions the configuration names.
func (e *SlurmExecutor) partitions() []string {
	if e.Config == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	add(e.Config.Defaults.Partition)
	for _, r := range e.Config.Stages {
		add(r.Partition)
	}
	sort.Strings(out)
	return out
}

// ProbeResult is what a probe job saw.
type ProbeResult struct {
	JobID   string
	Node    string
	Elapsed time.Duration
}

// Probe submits a small job that writes a file into the cache from its node
// and runs the staged binary (`--help`), and waits for both to be seen here:
// proof that the node sees the cache at the same path and can run nmdyn.
func (e *SlurmExecutor) Probe(store *cache.Store, timeout time.Duration) (*ProbeResult, error) {
	start := time.Now()
	fs := store.Fs()
	root, err := filepath.Abs(store.Root())
	if err != nil {
		return nil, err
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	dir := filepath.Join(slurmJobsDir(filepath.Join(root, filepath.Base(store.JobsDir()))), "probe-"+hex.EncodeToString(rnd[:]))
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	defer fs.RemoveAll(dir)
	script := "#!/bin/sh\n# nmdyn probe job: every value below is single-quoted.\n" +
		"dir=" + shellQuote(dir) + "\n" +
		`host=$(hostname 2>/dev/null || echo unknown)
if ! { printf '%s\n' "$host" >"$dir/probe.tmp" && mv -f "$dir/probe.tmp" "$dir/probe"; }; then
	echo "nmdyn: the probe job on $host cannot write to $dir" >&2
	exit 97
fi
` + shellQuote(e.Binary) + ` --help >/dev/null 2>"$dir/binary.err"
code=$?
printf '%s\n' "$code" >"$dir/exit.tmp" && mv -f "$dir/exit.tmp" "$dir/exit"
`
	scriptPath := filepath.Join(dir, "probe.sh")
	if err := cache.WriteFileAtomic(fs, scriptPath, []byte(script), 0o755); err != nil {
		return nil, err
	}
	r := SlurmResources{Time: "5"}
	if e.Config != nil {
		r.Partition, r.Account = e.Config.Defaults.Partition, e.Config.Defaults.Account
	}
	out, err := e.run("sbatch", sbatchArgs("nmdyn-probe", dir, scriptPath, r)...)
	if err != nil {
		return nil, fmt.Errorf("submitting the probe job: %w", err)
	}
	id, err := parseSbatch(out)
	if err != nil {
		return nil, err
	}
	res := &ProbeResult{JobID: id}
	deadline := time.Now().Add(timeout)
	var goneAt time.Time
	for {
		time.Sleep(min(e.poll(), time.Second))
		if code, ok := readExit(fs, dir); ok {
			b, _ := afero.ReadFile(fs, filepath.Join(dir, "probe"))
			res.Node = strings.TrimSpace(string(b))
			res.Elapsed = time.Since(start)
			if code != 0 {
				msg, _ := afero.ReadFile(fs, filepath.Join(dir, "binary.err"))
				return res, fmt.Errorf("the probe job (Slurm job %s) on node %s sees the cache but cannot run %s (exit %d): %s",
					id, res.Node, e.Binary, code, strings.TrimSpace(string(msg)))
			}
			return res, nil
		}
		if time.Now().After(deadline) {
			e.run("scancel", id)
			return res, fmt.Errorf("the probe job (Slurm job %s) gave no answer within %v (still queued? see squeue -j %s); it was cancelled", id, timeout, id)
		}
		q, err := e.run("squeue", "--noheader", "--format="+squeueFormat, "--jobs="+id)
		if err == nil && len(parseSqueue(q, "nmdyn-probe")) > 0 {
			continue
		}
		if goneAt.IsZero() {
			goneAt = time.Now()
		}
		if time.Since(goneAt) < e.exitGrace() {
			continue
		}
		detail := ""
		if out, err := e.run("scontrol", "show", "job", "-o", id); err == nil {
			if j, ok := parseScontrol(out); ok {
				res.Node = j.Node
				detail = fmt.Sprintf(" (it ended %s, exit %s, on node %s)", j.State, j.Exit, orUnknown(j.Node))
			}
		}
		return res, fmt.Errorf("the probe job (Slurm job %s) wrote nothing into %s that this machine can see%s: "+
			"the nmdyn cache is not on a filesystem the node sees; put it (--cache or NMDYN_CACHE) on a shared filesystem mounted at the same path on every node",
			id, dir, detail)
	}
}
