#!/usr/bin/env bash
# A one-node SLURM cluster on localhost, for development and CI (docs/slurm.md):
#
#   scripts/slurm/cluster.sh install          # Debian's slurm-wlm + munge, if missing (root)
#   scripts/slurm/cluster.sh start STATE_DIR  # munged, slurmctld, slurmd; state, logs, pids there
#   scripts/slurm/cluster.sh stop STATE_DIR   # cancel its jobs, stop exactly those daemons
#   export SLURM_CONF=STATE_DIR/slurm.conf    # then sbatch/squeue/scontrol talk to it
#
# Everything lives in STATE_DIR: the munge key and socket, slurm.conf, spool and state folders,
# the daemons' logs and pid files, and jobcomp.txt (the job table: there is no accounting
# database). `stop` acts only on the pids recorded there, so other munge/slurm daemons on the
# machine (a real cluster's, another developer's test cluster) are never touched. Ports are
# chosen free at start time for the same reason. SlurmUser=root: it runs as whoever starts it.
#
# Environment: SLURM_TEST_CPUS (default: all cores), SLURM_TEST_MEMORY_MB (default: the
# machine's memory less 2 GiB, at most 16 GiB), SLURM_TEST_PARTITION (default: debug).
set -euo pipefail

die() { echo "cluster.sh: $*" >&2; exit 1; }

install_packages() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
        && command -v munged >/dev/null && command -v sbatch >/dev/null; then
        return 0
    fi
    [ "$(id -u)" = 0 ] || die "slurm-wlm/munge are missing and installing them needs root"
    echo "cluster.sh: installing slurm-wlm and munge from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq slurm-wlm munge >/dev/null
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# pid from a pid file, only if that process is alive
alive_pid() {
    local file=$1 pid
    [ -s "$file" ] || return 1
    pid=$(tr -dc 0-9 <"$file")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
    local limit=$1 what=$2
    shift 2
    for _ in $(seq $((limit * 5))); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    return 1
}

start() {
    local state=$1
    install_packages
    mkdir -p "$state"
    state=$(cd "$state" && pwd)
    # unix socket paths are limited to 108 bytes
    [ ${#state} -le 70 ] || die "state folder path too long for munge's socket: $state"
    if alive_pid "$state/slurmctld.pid" >/dev/null || alive_pid "$state/munged.pid" >/dev/null; then
        die "a cluster is already running from $state (stop it first)"
    fi
    mkdir -p "$state/munge" "$state/ctld" "$state/spool" "$state/log"
    chmod 700 "$state/munge"

    # munge: a private key and socket, so this never depends on (or disturbs) a system munged
    if [ ! -s "$state/munge/munge.key" ]; then
        dd if=/dev/urandom of="$state/munge/munge.key" bs=1024 count=1 status=none
        chmod 400 "$state/munge/munge.key"
    fi
    local socket="$state/munge/munge.socket"
    munged --key-file="$state/munge/munge.key" --socket="$socket" \
        --pid-file="$state/munged.pid" --log-file="$state/log/munged.log" \
        --seed-file="$state/munge/munge.seed" --force
    wait_for 10 munged munge --socket="$socket" -n \
        || die "munged did not answer on $socket (log: $state/log/munged.log)"

    local host cpus mem total_mb ctld_port d_port
    host=$(hostname -s)
    cpus=${SLURM_TEST_CPUS:-$(nproc)}
    total_mb=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
    mem=${SLURM_TEST_MEMORY_MB:-$(( total_mb - 2048 < 16384 ? total_mb - 2048 : 16384 ))}
    ctld_port=$(free_port)
    d_port=$(free_port)
    [ "$ctld_port" != "$d_port" ] || d_port=$(free_port)
    cat >"$state/slurm.conf" <<EOF
# One-node test cluster written by scripts/slurm/cluster.sh; everything lives in $state.
ClusterName=bridgelab-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire also delays a requeued job's restart (default 120 s); 10 s keeps tests short
AuthInfo=socket=$socket,cred_expire=10
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# no cgroups: plain process tracking works in containers and on any kernel
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
SwitchType=switch/none
# cores are the consumable, so two 1-CPU jobs (two array tasks) run side by side
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# a node that went down (e.g. slurmd restarted) comes back by itself
ReturnToService=2
# jobs leave the controller's memory 10 s after they end (jobcomp.txt keeps the record)
MinJobAge=10
# requeue on preemption (the sbatch scripts call scontrol requeue after exit code 75)
JobRequeue=1
# schedule often: a requeued or newly eligible job starts within seconds
SchedulerParameters=sched_interval=2,bf_interval=2,defer_batch=0
# no accounting database; the job table goes to a text file
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$state/jobcomp.txt
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=10
Waittime=0
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=${SLURM_TEST_PARTITION:-debug} Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    export SLURM_CONF="$state/slurm.conf"
    # -c: start from an empty state (no jobs left from an earlier cluster in this folder)
    slurmctld -c -f "$SLURM_CONF" \
        || die "slurmctld did not start (log: $state/log/slurmctld.log)"
    wait_for 20 slurmctld scontrol ping \
        || die "slurmctld does not answer (log: $state/log/slurmctld.log)"
    slurmd -f "$SLURM_CONF" || die "slurmd did not start (log: $state/log/slurmd.log)"
    node_idle() { sinfo -h -N -o '%T' | grep -qx idle; }
    wait_for 30 slurmd node_idle || {
        sinfo -N -l >&2 || true
        die "the node did not become idle (logs: $state/log/slurmd.log, slurmctld.log)"
    }
    echo "cluster.sh: one-node cluster up: $cpus CPUs, ${mem} MB; export SLURM_CONF=$SLURM_CONF"
}

# Send SIGTERM to the daemon recorded in a pid file, then SIGKILL after 10 s.
stop_pid_file() {
    local file=$1 pid
    pid=$(alive_pid "$file") || return 0
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.2
    done
    echo "cluster.sh: $(basename "$file" .pid) ($pid) ignored SIGTERM; killing it" >&2
    kill -9 "$pid" 2>/dev/null || true
}

stop() {
    local state=$1
    [ -d "$state" ] || return 0
    state=$(cd "$state" && pwd)
    export SLURM_CONF="$state/slurm.conf"
    # Jobs first, through the controller, so their processes (slurmstepd and the job's own)
    # end the ordinary way: slurmd does not kill running jobs when it stops.
    if alive_pid "$state/slurmctld.pid" >/dev/null && [ -f "$SLURM_CONF" ]; then
        scancel --full --signal=KILL --user="$(id -un)" 2>/dev/null || true
        scancel --user="$(id -un)" 2>/dev/null || true
        for _ in $(seq 100); do
            [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
            sleep 0.2
        done
        # and any step daemon still finishing up on the node
        for _ in $(seq 50); do
            [ -z "$(ls "$state/spool" 2>/dev/null | grep -E "^$(hostname -s)_" || true)" ] && break
            sleep 0.2
        done
    fi
    stop_pid_file "$state/slurmd.pid"
    stop_pid_file "$state/slurmctld.pid"
    stop_pid_file "$state/munged.pid"
    echo "cluster.sh: stopped the cluster of $state"
}

case "${1:-}" in
    install) install_packages ;;
    start) start "${2:?usage: cluster.sh start STATE_DIR}" ;;
    stop) stop "${2:?usage: cluster.sh stop STATE_DIR}" ;;
    *) die "usage: cluster.sh install | start STATE_DIR | stop STATE_DIR" ;;
esac
