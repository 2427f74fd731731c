"""Completion markers and the one way a finished output folder is moved aside.

A stage's output folder is complete when it holds ``DONE`` (a JSON object with at least an
``id``; stages add ``config_hash`` and ``inputs``, the identities of what they read, see
:mod:`bridgelab.contracts.provenance`). A finished folder is never overwritten: ``--force``
moves it aside to ``<folder>.old-N`` (:func:`move_aside`), so nothing is lost.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from pathlib import Path
from typing import Any

from bridgelab.errors import RunFolderError
from bridgelab.utils.io import atomic_write_json

log = logging.getLogger(__name__)

DONE_MARKER = "DONE"


def is_done(folder: str | Path) -> bool:
    return (Path(folder) / DONE_MARKER).is_file()


def mark_done(folder: str | Path, info: dict[str, Any] | None = None) -> None:
    """Write the DONE marker. It always carries an ``id`` (a random one unless the stage gives a
    content hash), which later stages record as this folder's identity (utils.provenance)."""
    info = dict(info or {})
    info.setdefault("id", uuid.uuid4().hex[:16])
    atomic_write_json(Path(folder) / DONE_MARKER, info)


def done_with_config(folder: str | Path, chash: str, *, force: bool, what: str) -> bool:
    """True when ``folder`` is finished with the config hash ``chash`` (nothing to do; logged);
    a folder finished with another config is an error unless ``force``."""
    folder = Path(folder)
    if force or not is_done(folder):
        return False
    done = json.loads((folder / DONE_MARKER).read_text(encoding="utf-8") or "{}")
    if done.get("config_hash") == chash:
        from bridgelab.contracts.provenance import refuse_if_stale

        refuse_if_stale(folder, what)  # same config, but made from inputs that changed since
        log.info("%s is already complete; nothing to do", folder)
        return True
    raise RunFolderError(f"{folder} holds a {what} built from another config; pass --force")


def prepare_run_folder(folder: str | Path, *, force: bool = False, what: str = "run") -> Path:
    """Make sure ``folder`` may receive a new run.

    A finished run (DONE marker present) is never overwritten unless ``force`` is given; with
    ``force`` it is moved aside to ``<folder>.old-N`` rather than deleted, so nothing is lost.
    """
    folder = Path(folder)
    if is_done(folder):
        if not force:
            raise RunFolderError(
                f"{folder} already holds a finished {what}; pass --force to move it aside "
                f"and start again, or choose another output folder"
            )
        move_aside(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def aside_name(folder: str | Path, n: int) -> Path:
    """``<folder>.old-N``: where the N-th finished run of ``folder`` was moved aside."""
    folder = Path(folder)
    return folder.with_name(f"{folder.name}.old-{n}")


def moved_aside(folder: str | Path) -> list[Path]:
    """Every ``<folder>.old-N`` that exists, oldest (lowest N) first."""
    folder = Path(folder)
    found = [
        p for p in folder.parent.glob(f"{folder.name}.old-*") if p.name.rsplit("-", 1)[1].isdigit()
    ]
    return sorted(found, key=lambda p: int(p.name.rsplit("-", 1)[1]))


def move_aside(folder: str | Path) -> Path:
    """Rename ``folder`` to the first free ``<folder>.old-N`` and return that path."""
    n = 1
    while aside_name(folder, n).exists():
        n += 1
    backup = aside_name(folder, n)
    os.replace(folder, backup)
    return backup
