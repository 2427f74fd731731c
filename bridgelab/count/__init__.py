"""Exact n-gram counts over token shards (`bridgelab count`, docs/count.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def run(cfg: Any, *, force: bool = False) -> Path:
    """`bridgelab.count.stage.run`, imported on call so the package stays light."""
    from bridgelab.count.stage import run as run_stage

    return run_stage(cfg, force=force)
