#!/bin/bash
# Submit a whole study as a chain of dependent SLURM jobs (afterok), each stage calling the
# same CLI as `bridgelab study` does in one process:
#   slurm/submit_study.sh configs/study/paper.yaml [NODES]
# 1. `bridgelab study --export-configs` writes every stage's resolved config to
#    <out_dir>/configs/<stage>.yaml (the study's wiring, fixed at submission time);
# 2. CPU stages go through slurm/stage.sbatch, pretraining through the multi-node script, the
#    CPT grid as a job array (one run per task), the frequency analysis through the vLLM judge
#    script; each waits for the stages it reads.
# Set SBATCH_ACCOUNT / SBATCH_PARTITION in the environment as your cluster needs.
set -euo pipefail

STUDY=${1:?usage: slurm/submit_study.sh STUDY.yaml [NODES]}
NODES=${2:-4}
OUT_DIR=$(bridgelab study --config "$STUDY" --dry-run | sed -n 's/^out_dir: //p' | head -n 1)
CONFIGS="$OUT_DIR/configs"
mkdir -p "$CONFIGS"
bridgelab study --config "$STUDY" --export-configs "$CONFIGS" >/dev/null
cp "$0" "$STUDY" "$CONFIGS/"

has() { [ -f "$CONFIGS/$1.yaml" ]; }
after() { [ -n "${1:-}" ] && echo "--dependency=afterok:$1" || true; }
dep=""
for stage in synth tokenizer prepare; do
  if has "$stage"; then
    dep=$(sbatch --parsable $(after "$dep") --job-name="bl-$stage" \
      slurm/stage.sbatch "$stage" "$CONFIGS/$stage.yaml")
    echo "$stage: job $dep"
  fi
done
if has pretrain; then
  dep=$(sbatch --parsable $(after "$dep") --nodes="$NODES" \
    slurm/pretrain_multinode.sbatch "$CONFIGS/pretrain.yaml")
  echo "pretrain: job $dep ($NODES nodes)"
fi
if has grid; then
  runs=$(bridgelab grid --config "$CONFIGS/grid.yaml" --dry-run | grep -c '^- \[[0-9]*\] ')
  dep=$(sbatch --parsable $(after "$dep") --array=0-$((runs - 1)) \
    slurm/cpt_grid.sbatch "$CONFIGS/grid.yaml")
  echo "grid: job array $dep ($runs runs)"
fi
if has probe; then
  dep=$(sbatch --parsable $(after "$dep") --job-name=bl-probe --gpus=1 \
    slurm/stage.sbatch probe "$CONFIGS/probe.yaml")
  echo "probe: job $dep"
fi
last="$dep"
if has transfer; then
  t=$(sbatch --parsable $(after "$dep") --job-name=bl-transfer \
    slurm/stage.sbatch transfer "$CONFIGS/transfer.yaml")
  echo "transfer: job $t"; last="$t"
fi
if has frequency; then
  f=$(sbatch --parsable $(after "$dep") slurm/judge.sbatch "$CONFIGS/frequency.yaml")
  echo "frequency: job $f"; last="$last:$f"
fi
if has report; then
  r=$(sbatch --parsable $(after "$last") --job-name=bl-report \
    slurm/stage.sbatch report "$CONFIGS/report.yaml")
  echo "report: job $r"
fi
