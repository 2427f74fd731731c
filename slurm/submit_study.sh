#!/bin/bash
# Submit a whole study as SLURM jobs, one per stage, each waiting (afterok) for the stages whose
# folders it reads; the CPT grid as a job array. A thin wrapper of `bridgelab submit`
# (docs/slurm.md), kept for its old calling convention:
#   slurm/submit_study.sh STUDY.yaml [NODES] [bridgelab submit options ...]
#   BRIDGELAB_SLURM_PROFILE=cpu slurm/submit_study.sh configs/study/tiny.yaml
# Resources come from a profile (configs/slurm/<name>.yaml; --profile NAME or
# $BRIDGELAB_SLURM_PROFILE, default gpu); NODES sets the pretraining job's node count.
# Accounts, partitions and QoS: --set defaults.account=... or SBATCH_ACCOUNT/SBATCH_PARTITION.
set -euo pipefail

STUDY=${1:?usage: slurm/submit_study.sh STUDY.yaml [NODES] [bridgelab submit options ...]}
shift
NODES_SET=()
if [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]]; then
  NODES_SET=(--set "stages.pretrain.nodes=$1")
  shift
fi
exec bridgelab submit --config "$STUDY" "${NODES_SET[@]}" "$@"
