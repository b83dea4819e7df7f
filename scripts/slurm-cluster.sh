#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for nmdyn's Slurm executor tests and
# for trying `run all --executor slurm` by hand. Needs root (the daemons run as
# root: SlurmUser=root) and Debian's slurm-wlm and munge packages.
#
#   scripts/slurm-cluster.sh install   apt-get install slurm-wlm munge
#   scripts/slurm-cluster.sh start     write the config, start munged, slurmctld, slurmd;
#                                      wait until the node is idle
#   scripts/slurm-cluster.sh status    daemons, sinfo, squeue
#   scripts/slurm-cluster.sh stop      stop slurmd and slurmctld (and munged if started here)
#   scripts/slurm-cluster.sh env       print `export SLURM_CONF=...` (for eval)
#
# Everything lives under $NMDYN_SLURM_DIR (default /var/tmp/nmdyn-slurm): slurm.conf,
# state, spool, logs, pid files. The config is also installed as
# /etc/slurm/slurm.conf unless a config not written by this script is there (a real
# cluster node): then clients need SLURM_CONF (see `env`).
#
# The cluster: one node named after `hostname -s` at 127.0.0.1 with the machine's
# cores (at most NMDYN_SLURM_CPUS, default 2) and ~90 % of its memory; partition
# `debug` (default); select/cons_tres with CR_Core_Memory (cores and memory are
# both consumable, 1 GiB per core unless a job asks); no cgroups
# (proctrack/linuxproc, task/none) and no accounting (sacct answers "accounting
# storage is disabled", as it does here without slurmdbd); ReturnToService=2 so
# a restarted node comes back by itself. Each start is a fresh cluster (its
# state directory is emptied): jobs of an earlier start are gone.
set -euo pipefail

DIR=${NMDYN_SLURM_DIR:-/var/tmp/nmdyn-slurm}
CONF=$DIR/slurm.conf
ETC_CONF=/etc/slurm/slurm.conf
MARK="# written by nmdyn scripts/slurm-cluster.sh"
MAX_CPUS=${NMDYN_SLURM_CPUS:-2}

die() { echo "slurm-cluster: $*" >&2; exit 1; }
say() { echo "slurm-cluster: $*"; }

need_root() { [ "$(id -u)" = 0 ] || die "run as root (the daemons need it)"; }

need_packages() {
	for b in /usr/sbin/slurmctld /usr/sbin/slurmd /usr/bin/sbatch /usr/sbin/munged; do
		[ -x "$b" ] || die "$b missing: run '$0 install' (apt-get install slurm-wlm munge)"
	done
}

cmd_install() {
	need_root
	export DEBIAN_FRONTEND=noninteractive
	if ! [ -x /usr/sbin/slurmctld ] || ! [ -x /usr/sbin/munged ]; then
		apt-get update -qq
		apt-get install -y -qq slurm-wlm munge >/dev/null
	fi
	say "installed: $(dpkg-query -W -f '${Package} ${Version}\n' slurm-wlm munge | tr '\n' ' ')"
}

munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
	if munge_ok; then
		say "munged already running"
		return
	fi
	install -d -m 0700 -o munge -g munge /etc/munge
	if ! [ -s /etc/munge/munge.key ]; then
		dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
	fi
	chown munge:munge /etc/munge/munge.key
	chmod 0400 /etc/munge/munge.key
	install -d -m 0755 -o munge -g munge /run/munge
	install -d -m 0700 -o munge -g munge /var/log/munge /var/lib/munge
	# As the munge user when that works; as root (--force) otherwise.
	runuser -u munge -- /usr/sbin/munged 2>/dev/null || /usr/sbin/munged --force
	for _ in $(seq 50); do
		munge_ok && break
		sleep 0.1
	done
	munge_ok || die "munged does not answer (munge -n | unmunge)"
	touch "$DIR/munged.started-here"
	say "munged started"
}

write_conf() {
	local host cpus mem_mb
	host=$(hostname -s)
	cpus=$(nproc)
	[ "$cpus" -gt "$MAX_CPUS" ] && cpus=$MAX_CPUS
	mem_mb=$(awk '/^MemTotal:/ {printf "%d", $2 / 1024 * 0.9}' /proc/meminfo)
	mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
	cat >"$CONF" <<EOF
$MARK
ClusterName=nmdyn-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
SchedulerType=sched/backfill
# Quick turnaround for tests: scheduling passes, the SIGTERM -> SIGKILL grace of
# scancel and timeouts, and how long finished jobs stay visible to scontrol.
SchedulerParameters=sched_interval=2
KillWait=5
MinJobAge=300
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
	if [ -e "$ETC_CONF" ] && ! grep -qF "$MARK" "$ETC_CONF"; then
		say "note: $ETC_CONF is not ours; clients need: export SLURM_CONF=$CONF"
	else
		mkdir -p /etc/slurm
		cp "$CONF" "$ETC_CONF"
	fi
}

pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

cmd_start() {
	need_root
	need_packages
	mkdir -p "$DIR"
	if pid_alive "$DIR/slurmctld.pid" || pid_alive "$DIR/slurmd.pid"; then
		die "already running (stop it first: $0 stop)"
	fi
	start_munge
	rm -rf "$DIR/state" "$DIR/spool"
	write_conf
	export SLURM_CONF=$CONF
	/usr/sbin/slurmctld -f "$CONF"
	/usr/sbin/slurmd -f "$CONF"
	local state=""
	for _ in $(seq 60); do
		state=$(sinfo -h -N -o '%t' 2>/dev/null | head -1 || true)
		case "$state" in idle | mix | alloc) break ;; esac
		sleep 0.5
	done
	case "$state" in
	idle | mix | alloc) ;;
	drain* | down* | "")
		# A node left down by an earlier run: give it back.
		scontrol update nodename="$(hostname -s)" state=resume >/dev/null 2>&1 || true
		sleep 1
		state=$(sinfo -h -N -o '%t' 2>/dev/null | head -1 || true)
		;;
	esac
	case "$state" in
	idle | mix | alloc) say "up: node $(hostname -s) $state, config $CONF" ;;
	*)
		sinfo -R 2>&1 || true
		tail -20 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" 2>/dev/null || true
		die "the node did not become idle (state '$state')"
		;;
	esac
}

stop_pid() {
	local file=$1 name=$2 pid
	[ -s "$file" ] || return 0
	pid=$(cat "$file")
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
		say "stopped $name (pid $pid)"
	fi
	rm -f "$file"
}

cmd_stop() {
	need_root
	export SLURM_CONF=$CONF
	# Jobs first: their processes belong to slurmstepd, which outlives slurmd.
	if pid_alive "$DIR/slurmctld.pid"; then
		scancel --user=root --quiet >/dev/null 2>&1 || true
		for _ in $(seq 100); do
			[ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
			sleep 0.1
		done
	fi
	stop_pid "$DIR/slurmd.pid" slurmd
	stop_pid "$DIR/slurmctld.pid" slurmctld
	if [ -e "$DIR/munged.started-here" ]; then
		stop_pid /run/munge/munged.pid munged
		rm -f "$DIR/munged.started-here"
	fi
	if [ -e "$ETC_CONF" ] && grep -qF "$MARK" "$ETC_CONF"; then
		rm -f "$ETC_CONF"
	fi
}

cmd_status() {
	export SLURM_CONF=$CONF
	local up=0
	pid_alive "$DIR/slurmctld.pid" && { echo "slurmctld: running (pid $(cat "$DIR/slurmctld.pid"))"; up=1; } || echo "slurmctld: not running"
	pid_alive "$DIR/slurmd.pid" && echo "slurmd: running (pid $(cat "$DIR/slurmd.pid"))" || echo "slurmd: not running"
	munge_ok && echo "munged: running" || echo "munged: not running"
	if [ $up = 1 ]; then
		sinfo
		squeue
	fi
	[ $up = 1 ]
}

case "${1:-}" in
install) cmd_install ;;
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
env) echo "export SLURM_CONF=$CONF" ;;
*)
	sed -n '2,12p' "$0" >&2
	exit 2
	;;
esac
