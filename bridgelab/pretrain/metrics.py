"""metrics.jsonl (the record other stages read), TensorBoard and optional Weights & Biases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bridgelab.errors import ConfigError
from bridgelab.pretrain.config import PretrainConfig
from bridgelab.utils.io import atomic_write_text

METRICS = "metrics.jsonl"


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    path = Path(run_dir) / METRICS
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


class MetricsLog:
    """Appends one JSON row per logged step; on resume, drops rows past the resumed step
    (written after the last saved state, they will be written again identically)."""

    def __init__(self, run_dir: Path, cfg: PretrainConfig, start_step: int, *, enabled: bool):
        self.enabled = enabled
        self._fh = self._tb = self._wandb = None
        if not enabled:
            return
        path = run_dir / METRICS
        kept = [r for r in read_metrics(run_dir) if r["step"] <= start_step]
        atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in kept))
        self._fh = open(path, "a", encoding="utf-8")
        if cfg.log.tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self._tb = SummaryWriter(str(run_dir / "tb"), purge_step=start_step + 1)
        if cfg.log.wandb_project:
            try:
                import wandb
            except ImportError:
                raise ConfigError("log.wandb_project: set, but wandb is not installed") from None
            self._wandb = wandb.init(
                project=cfg.log.wandb_project, name=run_dir.name, config=cfg.to_dict(),
                dir=str(run_dir), resume="allow", id=f"{run_dir.name}",
            )  # fmt: skip

    def write(self, row: dict[str, Any]) -> None:
        if not self.enabled:
            return
        self._fh.write(json.dumps(row) + "\n")
        self._fh.flush()
        step = row["step"]
        if self._tb is not None:
            for key, value in row.items():
                if key != "step":
                    self._tb.add_scalar(f"train/{key}", value, step)
        if self._wandb is not None:
            self._wandb.log({f"train/{k}": v for k, v in row.items() if k != "step"}, step=step)

    def close(self) -> None:
        for handle in (self._fh, self._tb):
            if handle is not None:
                handle.close()
        if self._wandb is not None:
            self._wandb.finish()
