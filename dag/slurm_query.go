package dag

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"time"
)

// SlurmRunner runs one of Slurm's client programs (sbatch, squeue, scontrol,
// sacct, scancel, sinfo) and returns its standard output; a failure's error
// carries its standard error. ExecSlurm runs the real programs; tests pass a
// fake cluster.
type SlurmRunner func(ctx context.Context, name string, args ...string) ([]byte, error)

// slurmCommandTimeout bounds one client call: a controller that does not answer
// must not hang the run (the call is retried at the next poll).
const slurmCommandTimeout = 60 * time.Second

// ExecSlurm runs the named Slurm program from PATH. sbatch gets the
// environment less the SLURM_* variables of an enclosing job (a controller
// itself running inside an allocation would otherwise pass them on, and
// SLURM_MEM_PER_CPU conflicts with --mem), SLURM_CONF excepted.
func ExecSlurm(ctx context.Context, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, slurmCommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if name == "sbatch" {
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "SLURM_") || strings.HasPrefix(kv, "SLURM_CONF=") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		if errors.Is(err, exec.ErrNotFound) {
			return nil, &SlurmError{Cmd: name, Msg: name + " not found on PATH: the Slurm executor needs Slurm's client commands (sbatch, squeue, scontrol, scancel)", NotFound: true}
		}
		if ctx.Err() != nil {
			msg = fmt.Sprintf("no answer within %v", slurmCommandTimeout)
		}
		return stdout.Bytes(), &SlurmError{Cmd: name, Msg: msg, Err: err}
	}
	return stdout.Bytes(), nil
}

// SlurmError is a Slurm client command that failed.
type SlurmError struct {
	Cmd      string
	Msg      string // its standard error
	Err      error
	NotFound bool
}

func (e *SlurmError) Error() string {
	switch {
	case e.Msg == "" && e.Err != nil:
		return fmt.Sprintf("%s: %v", e.Cmd, e.Err)
	case e.NotFound || strings.HasPrefix(e.Msg, e.Cmd+":"):
		return e.Msg // "sbatch: error: ..." names itself
	}
	return fmt.Sprintf("%s: %s", e.Cmd, e.Msg)
}

func (e *SlurmError) Unwrap() error { return e.Err }

// temporarySbatch tells whether an sbatch failure may pass by itself (an
// overloaded or restarting controller, a per-user submission limit) rather
// than being the request's fault (an unknown account or partition).
func temporarySbatch(err error) bool {
	msg := strings.ToLower(err.Error())
	for _, s := range []string{"timed out", "temporarily", "unable to contact", "try again", "connection refused",
		"maxsubmit", "submit limit", "no answer within", "resource busy"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// slurmJob is what Slurm says of a job.
type slurmJob struct {
	ID     string
	Name   string
	State  string // RUNNING, COMPLETED, NODE_FAIL, ... ("CANCELLED by 0" -> CANCELLED)
	Reason string
	Exit   string // "code:signal" (scontrol, sacct)
	Node   string
}

// Slurm job states (squeue/scontrol/sacct long forms), by what they mean here.
var (
	// The job is queued, running, or leaving: wait.
	slurmActive = map[string]bool{"PENDING": true, "RUNNING": true, "CONFIGURING": true, "COMPLETING": true,
		"SUSPENDED": true, "REQUEUED": true, "REQUEUE_FED": true, "REQUEUE_HOLD": true, "RESIZING": true,
		"SIGNALING": true, "STAGE_OUT": true, "STOPPED": true, "RESV_DEL_HOLD": true, "SPECIAL_EXIT": true,
		"POWER_UP_NODE": true, "UPDATE_DB": true}
	// The job died through no fault of the task: run it again (bounded).
	slurmRetryable = map[string]bool{"NODE_FAIL": true, "PREEMPTED": true, "BOOT_FAIL": true}
	// Slurm stopped the job (its own reason, which the task's error gives).
	slurmKilled = map[string]bool{"CANCELLED": true, "TIMEOUT": true, "OUT_OF_MEMORY": true}
)

// normState takes the first word of a state ("CANCELLED by 0").
func normState(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " +"); i >= 0 {
		s = s[:i]
	}
	return strings.ToUpper(s)
}

// squeueFormat is what the executor reads from squeue: id, name, state, nodes,
// reason.
const squeueFormat = "%i|%j|%T|%N|%r"

// parseSqueue reads squeue output in squeueFormat, keeping jobs whose name
// starts with prefix.
func parseSqueue(out []byte, prefix string) []slurmJob {
	var jobs []slurmJob
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.SplitN(strings.TrimSpace(line), "|", 5)
		if len(f) < 3 || !strings.HasPrefix(f[1], prefix) {
			continue
		}
		j := slurmJob{ID: f[0], Name: f[1], State: normState(f[2])}
		if len(f) > 3 {
			j.Node = f[3]
		}
		if len(f) > 4 {
			j.Reason = f[4]
		}
		jobs = append(jobs, j)
	}
	return jobs
}

var scontrolField = regexp.MustCompile(`(?:^|\s)(JobId|JobName|JobState|Reason|ExitCode|NodeList)=(\S*)`)

// parseScontrol reads `scontrol show job -o ID`.
func parseScontrol(out []byte) (slurmJob, bool) {
	var j slurmJob
	for _, m := range scontrolField.FindAllStringSubmatch(string(out), -1) {
		switch m[1] {
		case "JobId":
			j.ID = m[2]
		case "JobName":
			j.Name = m[2]
		case "JobState":
			j.State = normState(m[2])
		case "Reason":
			j.Reason = m[2]
		case "ExitCode":
			j.Exit = m[2]
		case "NodeList":
			if m[2] != "(null)" {
				j.Node = m[2]
			}
		}
	}
	return j, j.ID != "" && j.State != ""
}

// sacctFormat is what the executor reads from sacct.
const sacctFormat = "JobIDRaw,JobName,State,ExitCode,NodeList"

// parseSacct reads `sacct -X -n -P -o sacctFormat`; for a job listed more than
// once (requeued), the last line stands.
func parseSacct(out []byte) map[string]slurmJob {
	jobs := map[string]slurmJob{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(strings.TrimSpace(line), "|")
		if len(f) < 4 || f[0] == "" {
			continue
		}
		j := slurmJob{ID: f[0], Name: f[1], State: normState(f[2]), Exit: f[3]}
		if len(f) > 4 && f[4] != "None assigned" {
			j.Node = f[4]
		}
		jobs[j.ID] = j
	}
	return jobs
}

// exitCodeOf reads the code of Slurm's "code:signal".
func exitCodeOf(s string) string {
	code, _, _ := strings.Cut(s, ":")
	return code
}

// sortIDs sorts job ids numerically where they are numbers.
func sortIDs(ids []string) {
	sort.Slice(ids, func(i, j int) bool {
		if len(ids[i]) != len(ids[j]) {
			return len(ids[i]) < len(ids[j])
		}
		return ids[i] < ids[j]
	})
}
