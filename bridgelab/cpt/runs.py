"""Bookkeeping of grid runs: per-run status files, locks, and the finished-run check.

Array tasks of one grid run concurrently, so each run owns ``status/<name>.json`` and
``grid.json`` is only ever rebuilt from those files (:func:`bridgelab.cpt.grid.load_grid`).
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bridgelab.errors import RunFolderError
from bridgelab.utils.io import atomic_write_json


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock, so that array tasks sharing a mixture build it once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def write_status(out: Path, run: dict[str, Any], status: str, **extra: Any) -> None:
    from bridgelab.contracts.runs import list_hf_checkpoints

    checkpoints = [[step, str(p)] for step, p in list_hf_checkpoints(run["run_dir"])]
    atomic_write_json(out / "status" / f"{run['name']}.json",
                      {**run, "status": status, "checkpoints": checkpoints, **extra})  # fmt: skip


def check_same_run(run_dir: Path, pcfg: Any) -> None:
    """A finished run is skipped only when it is this config's run."""
    from bridgelab.pretrain.inputs import run_config_hash

    saved = run_dir / "run.json"
    theirs = (
        json.loads(saved.read_text(encoding="utf-8")).get("config_hash")
        if saved.is_file()
        else None
    )
    if theirs != run_config_hash(pcfg):
        raise RunFolderError(
            f"{run_dir} holds a finished run of another config; pass --force to move it aside"
        )
