"""The sbatch scripts are valid bash, call the same CLI through srun and requeue on preemption."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

SLURM = Path(__file__).resolve().parents[1] / "slurm"


@pytest.mark.parametrize("name", ["pretrain.sbatch", "pretrain_multinode.sbatch"])
def test_sbatch_script(name):
    path = SLURM / name
    subprocess.run(["bash", "-n", str(path)], check=True)
    text = path.read_text()
    assert "#SBATCH --requeue" in text and "#SBATCH --signal=B:USR1@" in text
    assert 'srun --kill-on-bad-exit=1 bridgelab pretrain --config "$CONFIG"' in text
    assert "scontrol requeue" in text and 'cp "$0" "$COPY_DIR/' in text
    assert "#SBATCH --open-mode=append" in text  # one log across requeues
