"""What `bridgelab study --dry-run` prints under each stage: the work and its compute."""

from __future__ import annotations

from typing import Any


def study_plan(stage: str, cfg: Any) -> list[str]:
    """Lines describing one stage's work, from its resolved config (each stage's own plan)."""
    if stage == "synth":
        from bridgelab.synth import plan

        return plan(cfg)
    if stage == "pretrain":
        from bridgelab.pretrain.cli import plan

        return plan(cfg)
    if stage == "grid":
        from bridgelab.cpt.grid import plan

        return plan(cfg)
    if stage == "frequency":
        from bridgelab.retrieval.pipeline import plan

        return plan(cfg)
    out = getattr(cfg, "out_dir", None)
    return [f"write {out}"] if out else []
