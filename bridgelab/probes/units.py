"""What `bridgelab probe` scores: the probe sets, and the checkpoints (grid, folders, null model)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

from bridgelab.errors import ConfigError, DataError
from bridgelab.probes.config import ProbeConfig
from bridgelab.probes.mixed import mixed_sets
from bridgelab.probes.sets import ProbeSet, check_aligned
from bridgelab.probes.summary import NULL_SETTING


@dataclass(frozen=True)
class Unit:
    """One checkpoint to score (the null model has ``path`` = the checkpoint it copies)."""

    run: str
    run_lang: str
    setting: str
    seed: int
    step: int
    path: str
    null: bool = False


def load_sets(cfg: ProbeConfig) -> list[ProbeSet]:
    sets: list[ProbeSet] = []
    for sc in cfg.probe_sets:
        if sc.kind == "lnewknow":
            sets.append(sc.load("", "", seed=cfg.options_seed))
            continue
        for lang in sc.langs:
            twins = {}
            for q in sc.question_langs:
                qlang = lang if q == "native" else q
                twins[qlang] = sc.load(lang, qlang)
            mixed = []
            if sc.mixed and lang != "en":  # an English culture has no native twin to mix
                # built first: it names the file and the id of an item without a partner
                mixed = mixed_sets(twins[lang], twins["en"])
            if "en" in twins and lang in twins and lang != "en":
                check_aligned(twins[lang], twins["en"])
            sets.extend([*twins.values(), *mixed])
    if cfg.limit:
        sets = [replace(s, items=s.items[: cfg.limit]) for s in sets]
    names = [s.name for s in sets]
    if len(set(names)) != len(names):
        raise DataError(f"probe_sets: the same set is listed twice ({names})")
    return sets


def _step_of(folder: Path) -> int:
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

    from bridgelab.cpt.grid import resolve_init

    # only the one key is read: the grid's other settings do not matter for scoring
    saved = yaml.safe_load(grid_yaml.read_text(encoding="utf-8")) or {}
    try:
        init = resolve_init(str(saved.get("init_from") or ""))
    except ConfigError as exc:
        raise DataError(f"{grid_yaml}: {exc}") from None
    return "" if init is None else str(init)


def grid_units(grid: str | Path) -> list[Unit]:
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
                Unit(run["name"], run["lang"], run["setting"], int(run["seed"]), step, path)
            )
    return units


def load_units(cfg: ProbeConfig) -> list[Unit]:
    units = grid_units(cfg.grid) if cfg.grid else []
    for ck in cfg.checkpoints:
        folder = Path(ck.path)
        if not (folder / "config.json").is_file():
            raise DataError(f"checkpoints: {folder} is not an HF checkpoint (no config.json)")
        step = ck.step if ck.step >= 0 else _step_of(folder)
        units.append(Unit(ck.run or folder.name, ck.lang, ck.setting, ck.seed, step, str(folder)))
    if not units:
        raise DataError("nothing to score: give `grid` or `checkpoints`")
    hashes: dict[str, str] = {}
    for u in units:
        if not (Path(u.path) / "config.json").is_file():
            raise DataError(f"checkpoint {u.path} (run {u.run}, step {u.step}) has no config.json")
        info = Path(u.path) / "bridgelab.json"
        if info.is_file():
            tok_hash = json.loads(info.read_text(encoding="utf-8")).get("tokenizer_hash")
            if tok_hash:
                hashes[u.path] = tok_hash
    if len(set(hashes.values())) > 1:
        # Settings compared item by item must share a tokenizer, or the comparison is confounded.
        first = next(iter(hashes.items()))
        other = next((p, h) for p, h in hashes.items() if h != first[1])
        raise DataError(
            f"checkpoints use different tokenizers: {first[0]} ({first[1][:12]}) vs "
            f"{other[0]} ({other[1][:12]})"
        )
    return units


def null_units(units: list[Unit], seed: int) -> list[Unit]:
    """One randomly initialised model per distinct architecture (config.json content)."""
    by_arch: dict[str, Unit] = {}
    for u in units:
        arch = hashlib.sha256((Path(u.path) / "config.json").read_bytes()).hexdigest()[:8]
        by_arch.setdefault(arch, u)
    named = len(by_arch) > 1
    return [
        Unit(
            f"{NULL_SETTING}-{arch}" if named else NULL_SETTING,
            "",
            NULL_SETTING,
            seed,
            0,
            u.path,
            null=True,
        )
        for arch, u in by_arch.items()
    ]


def unit_file(out: Path, unit: Unit, set_name: str) -> Path:
    return (
        out / "items" / unit.run / f"step_{unit.step:06d}" / f"{set_name.replace(':', '__')}.jsonl"
    )


def wanted(unit: Unit, pset: ProbeSet, cfg: ProbeConfig) -> bool:
    """English-culture sets are scored on every run (they measure forgetting of English)."""
    return (
        pset.culture_lang == "en"
        or unit.null
        or not cfg.match_run_lang
        or not unit.run_lang
        or unit.run_lang == pset.culture_lang
    )


def plan(cfg: ProbeConfig, units: list[Unit], sets: list[ProbeSet]) -> list[tuple[Unit, ProbeSet]]:
    return [(u, s) for u in units for s in sets if wanted(u, s, cfg)]
