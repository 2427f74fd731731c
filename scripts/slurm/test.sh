#!/usr/bin/env bash
# `make test-slurm`: a one-node SLURM cluster on localhost for the length of the SLURM tests.
#   bash scripts/slurm/test.sh PYTHON [pytest args ...]
# The cluster's state (config, logs, jobcomp.txt, pid files) lives in a fresh temporary folder;
# the EXIT trap stops exactly the daemons started here (by their pid files), whatever happens.
# KEEP_SLURM_STATE=1 keeps that folder for inspection.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${1:?usage: scripts/slurm/test.sh PYTHON [pytest args ...]}
shift
started=$(date +%s)

bash scripts/slurm/cluster.sh install
STATE=$(mktemp -d /tmp/bridgelab-slurm.XXXXXX)
cleanup() {
    local rc=$?
    bash scripts/slurm/cluster.sh stop "$STATE" || true
    if [ "${KEEP_SLURM_STATE:-0}" = 1 ] || [ "$rc" != 0 ]; then
        echo "test-slurm: cluster state kept in $STATE (logs in $STATE/log)"
    else
        rm -rf "$STATE"
    fi
    echo "test-slurm: exit $rc after $(( $(date +%s) - started )) s"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash scripts/slurm/cluster.sh start "$STATE"
export SLURM_CONF="$STATE/slurm.conf" BRIDGELAB_SLURM_TEST=1
# every job (and the in-process reference study) on one thread: the machine is shared
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false

rc=0
"$PY" -m pytest -q -m slurm -p no:cacheprovider tests/test_slurm_cluster.py "$@" || rc=$?

echo
echo "test-slurm: job table (JobCompType=jobcomp/filetxt, $STATE/jobcomp.txt):"
"$PY" scripts/slurm/jobtable.py "$STATE/jobcomp.txt" || true
exit $rc
