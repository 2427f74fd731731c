"""What `bridgelab probe` scores: the probe sets, and the checkpoints (grid, folders, null model)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

from bridgelab.contracts.probe_sets import ProbeSet, check_aligned
from bridgelab.contracts.runs import Checkpoint, grid_units, step_of
from bridgelab.contracts.settings import NULL_SETTING
from bridgelab.errors import DataError
from bridgelab.probes.config import ProbeConfig
from bridgelab.probes.mixed import mixed_sets


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


def load_units(cfg: ProbeConfig) -> list[Checkpoint]:
    units = grid_units(cfg.grid) if cfg.grid else []
    for ck in cfg.checkpoints:
        folder = Path(ck.path)
        if not (folder / "config.json").is_file():
            raise DataError(f"checkpoints: {folder} is not an HF checkpoint (no config.json)")
        step = ck.step if ck.step >= 0 else step_of(folder)
        units.append(
            Checkpoint(ck.run or folder.name, ck.lang, ck.setting, ck.seed, step, str(folder))
        )
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


def null_units(units: list[Checkpoint], seed: int) -> list[Checkpoint]:
    """One randomly initialised model per distinct architecture (config.json content)."""
    by_arch: dict[str, Checkpoint] = {}
    for u in units:
        arch = hashlib.sha256((Path(u.path) / "config.json").read_bytes()).hexdigest()[:8]
        by_arch.setdefault(arch, u)
    named = len(by_arch) > 1
    return [
        Checkpoint(
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


def unit_file(out: Path, unit: Checkpoint, set_name: str) -> Path:
    return (
        out / "items" / unit.run / f"step_{unit.step:06d}" / f"{set_name.replace(':', '__')}.jsonl"
    )


def wanted(unit: Checkpoint, pset: ProbeSet, cfg: ProbeConfig) -> bool:
    """English-culture sets are scored on every run (they measure forgetting of English)."""
    return (
        pset.culture_lang == "en"
        or unit.null
        or not cfg.match_run_lang
        or not unit.run_lang
        or unit.run_lang == pset.culture_lang
    )


def plan_work(
    cfg: ProbeConfig, units: list[Checkpoint], sets: list[ProbeSet]
) -> list[tuple[Checkpoint, ProbeSet]]:
    return [(u, s) for u in units for s in sets if wanted(u, s, cfg)]
