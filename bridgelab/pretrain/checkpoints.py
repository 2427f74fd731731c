"""Run-folder checkpoints: HF exports (``hf/step_NNNNNN``) and DeepSpeed resume states (``ds/``).

An HF export is built in a temporary folder and renamed into place, so a folder named
``step_NNNNNN`` is always complete. A resume state is DeepSpeed's own tag folder plus our
per-rank RNG files; rank 0 writes ``COMPLETE`` last, after every rank has finished, and only
tags holding it are candidates for ``resume: auto``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from bridgelab.contracts.runs import STEP_RE, hf_step_dir, step_folders
from bridgelab.errors import RunFolderError
from bridgelab.utils.io import atomic_dir, atomic_write_json

DS_DIR = "ds"
COMPLETE = "COMPLETE"


def export_hf(
    model: Any,
    tokenizer: Any,
    run_dir: str | Path,
    step: int,
    info: dict[str, Any],
    extra_files: tuple[Path, ...] = (),
) -> Path:
    """Write ``hf/step_NNNNNN`` (safetensors, config, tokenizer, ``extra_files``,
    bridgelab.json) atomically."""
    target = hf_step_dir(run_dir, step)
    with atomic_dir(target) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        if tokenizer is not None:
            tokenizer.save_pretrained(tmp)
        for extra in extra_files:
            shutil.copyfile(extra, tmp / extra.name)
        atomic_write_json(tmp / "bridgelab.json", {"step": step, **info})
    return target


def ds_tag(step: int) -> str:
    return f"step_{step:06d}"


def complete_ds_tags(run_dir: str | Path) -> list[tuple[int, Path]]:
    """Complete DeepSpeed resume states of a run, in step order."""
    return step_folders(Path(run_dir) / DS_DIR, COMPLETE)


def mark_ds_complete(tag_dir: Path, info: dict[str, Any]) -> None:
    atomic_write_json(tag_dir / COMPLETE, info)


def prune_ds_states(run_dir: str | Path, keep_last: int) -> list[Path]:
    """Delete all but the newest ``keep_last`` complete states, and incomplete older ones."""
    complete = complete_ds_tags(run_dir)
    removed = []
    if not complete:
        return removed
    keep = {p for _, p in complete[-keep_last:]}
    newest = complete[-1][0]
    for child in sorted((Path(run_dir) / DS_DIR).iterdir()):
        match = STEP_RE.match(child.name)
        if not match or child in keep:
            continue
        # an incomplete tag newer than the newest complete one may still be being written
        if (child / COMPLETE).is_file() or int(match.group(1)) < newest:
            shutil.rmtree(child, ignore_errors=True)
            removed.append(child)
    return removed


def resolve_resume(run_dir: str | Path, resume: str) -> Path | None:
    """The resume-state folder selected by ``resume`` (auto | never | path), or None."""
    if resume == "never":
        return None
    if resume == "auto":
        tags = complete_ds_tags(run_dir)
        return tags[-1][1] if tags else None
    path = Path(resume)
    if not (path / COMPLETE).is_file():
        raise RunFolderError(
            f"resume: {path} is not a complete resume state (no {COMPLETE} marker); "
            f"use resume=auto to pick the latest complete one"
        )
    return path


def read_ds_info(tag_dir: str | Path) -> dict[str, Any]:
    return json.loads((Path(tag_dir) / COMPLETE).read_text(encoding="utf-8"))
