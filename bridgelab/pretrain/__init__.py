"""bridgelab.pretrain: Qwen2 pretraining (and CPT) with DeepSpeed.

Kept import-light so that the CLI lists commands without importing torch; ``run`` imports the
trainer on first call.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bridgelab.pretrain.config import PretrainConfig


def run(cfg: PretrainConfig, *, force: bool = False) -> Path:
    """Train the run ``cfg`` describes (see :func:`bridgelab.pretrain.trainer.run`)."""
    from bridgelab.pretrain.trainer import run as _run

    return _run(cfg, force=force)


__all__ = ["run"]
