"""Run folders and CPT grids as later stages read them (docs/CONTRACTS.md).

A pretraining or CPT run folder keeps its HF exports in ``hf/step_NNNNNN/`` (each complete once
it holds ``bridgelab.json``); a grid folder lists its runs and their exports in ``grid.json``.
``init_from`` names either an HF checkpoint or a run folder (its last export), or ``scratch``.
The probe and calibration stages find their checkpoints here, never in the trainer or the grid
runner.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridgelab.errors import ConfigError, DataError

HF_DIR = "hf"


STEP_RE = re.compile(r"^step_(\d{6,})$")


def hf_step_dir(run_dir: str | Path, step: int) -> Path:
    return Path(run_dir) / HF_DIR / f"step_{step:06d}"


def step_folders(root: Path, marker: str) -> list[tuple[int, Path]]:
    """``(step, folder)`` of every ``step_NNNNNN`` folder under ``root`` that holds ``marker``
    (written last, so only complete folders count), in step order."""
    if not root.is_dir():
        return []
    found = []
    for child in root.iterdir():
        match = STEP_RE.match(child.name)
        if match and (child / marker).is_file():
            found.append((int(match.group(1)), child))
    return sorted(found)


def list_hf_checkpoints(run_dir: str | Path) -> list[tuple[int, Path]]:
    """The HF exports of a run, as ``(step, folder)`` in step order."""
    return step_folders(Path(run_dir) / HF_DIR, "bridgelab.json")


def read_export_info(folder: str | Path) -> dict[str, Any]:
    path = Path(folder) / "bridgelab.json"
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def run_name(lang: str, setting: str, seed: int) -> str:
    return f"{lang}-{setting}-s{seed}"


SCRATCH = "scratch"


def resolve_init(path: str) -> Path | None:
    """The HF checkpoint folder that ``init_from`` names (a run folder gives its last export);
    None for ``scratch`` (random weights)."""
    if path == SCRATCH:
        return None
    folder = Path(path)
    if not path or not folder.exists():
        raise ConfigError(f"init_from: checkpoint not found: {path or '(empty)'}")
    if (folder / "config.json").is_file():
        return folder
    exports = list_hf_checkpoints(folder)
    if not exports:
        raise ConfigError(
            f"init_from: {folder} is neither an HF checkpoint nor a run with HF exports"
        )
    return exports[-1][1]


@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint to score (the null model has ``path`` = the checkpoint it copies)."""

    run: str
    run_lang: str
    setting: str
    seed: int
    step: int
    path: str
    null: bool = False


def step_of(folder: Path) -> int:
    info = folder / "bridgelab.json"
    return int(json.loads(info.read_text(encoding="utf-8")).get("step", 0)) if info.is_file() else 0


def init_checkpoint(run: dict, grid_file: Path, index: int) -> str:
    """The HF checkpoint a grid run started from: its resolved ``config.init_from`` (the grid
    writes the pretraining run's last export there), else the grid config's ``init_from``;
    '' when the run started from random weights (``init_from: scratch``)."""
    init = (run.get("config") or {}).get("init_from")
    if init:
        return str(init)
    grid_yaml = grid_file.with_name("grid.yaml")
    if not grid_yaml.is_file():
        raise DataError(f"{grid_file}: run {index} names no init_from and {grid_yaml} is missing")
    import yaml

    # only the one key is read: the grid's other settings do not matter for scoring
    saved = yaml.safe_load(grid_yaml.read_text(encoding="utf-8")) or {}
    try:
        init = resolve_init(str(saved.get("init_from") or ""))
    except ConfigError as exc:
        raise DataError(f"{grid_yaml}: {exc}") from None
    return "" if init is None else str(init)


def grid_units(grid: str | Path) -> list[Checkpoint]:
    """Every checkpoint of a grid's runs (grid.json), with each run's step-0 model first."""
    grid_file = Path(grid) / "grid.json"
    if not grid_file.is_file():
        raise DataError(f"grid: {grid_file} not found (run `bridgelab grid` first)")
    data = json.loads(grid_file.read_text(encoding="utf-8"))
    units = []
    for i, run in enumerate(data["runs"] if isinstance(data, dict) else data):
        missing = [k for k in ("name", "lang", "setting", "seed", "checkpoints") if k not in run]
        if missing:
            raise DataError(f"{grid_file}: run {i} has no '{missing[0]}'")
        checkpoints = [(int(step), str(path)) for step, path in run["checkpoints"]]
        init = init_checkpoint(run, grid_file, i) if 0 not in {s for s, _ in checkpoints} else ""
        if init:
            # step 0 is the model the run started from: learning and forgetting curves
            # start there, and "transferred" is judged against it (a run from scratch has
            # no such model: its curves start at the first export)
            checkpoints.insert(0, (0, init))
        for step, path in checkpoints:
            units.append(
                Checkpoint(run["name"], run["lang"], run["setting"], int(run["seed"]), step, path)
            )
    return units
