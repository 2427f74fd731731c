"""`bridgelab probe`: score every checkpoint of a grid (and a null model) on the probe sets.

Output folder::

    config.yaml                      the resolved ProbeConfig
    items/<run>/step_NNNNNN/<set>.jsonl  item-level rows of one (checkpoint, probe set), all scorers
    lint/<set>.json                  the linter's report of every probe set
    results.jsonl                    every item-level row (docs/CONTRACTS.md "Probe results")
    summary.csv                      accuracy per run, step, set and scorer, beside null and chance
    DONE                             the units scored

A unit file is written atomically when its (checkpoint, probe set) is finished, so a run killed
mid-grid resumes where it stopped and never rescores a finished checkpoint.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from bridgelab.config import config_hash
from bridgelab.contracts.markers import (
    DONE_MARKER,
    is_done,
    mark_done,
    move_aside,
    prepare_run_folder,
)
from bridgelab.contracts.probe_sets import ProbeSet
from bridgelab.contracts.provenance import lineage, refuse_if_stale
from bridgelab.contracts.results import chance_credit, read_rows, summarize
from bridgelab.contracts.runs import Checkpoint
from bridgelab.errors import DataError, RunFolderError
from bridgelab.probes.config import ProbeConfig
from bridgelab.probes.lint import lint
from bridgelab.probes.units import load_sets, load_units, null_units, plan_work, unit_file
from bridgelab.stage import Step
from bridgelab.utils.io import atomic_path, atomic_write_json, atomic_write_jsonl

log = logging.getLogger(__name__)


def _rows(unit: Checkpoint, pset: ProbeSet, results: dict, items: dict) -> list[dict[str, Any]]:
    rows = []
    for scores in results.values():
        for s in scores:
            item = items[s.item_id]
            rows.append(
                {
                    "run": unit.run,
                    "run_lang": unit.run_lang,
                    "lang": pset.culture_lang,
                    "culture_lang": pset.culture_lang,
                    "question_lang": pset.question_lang,
                    # only mixed-language rows carry it: other rows stay as they were
                    **({"options_lang": pset.options_lang} if pset.options_lang else {}),
                    "probe_set": pset.name,
                    "setting": unit.setting,
                    "seed": unit.seed,
                    "step": unit.step,
                    "checkpoint": unit.path,
                    **s.to_row(),
                    "chance": chance_credit(item.options, item.answer),
                }
            )
    return rows


def _check_unit_file(path: Path, unit: Checkpoint) -> None:
    """A finished unit file must come from the same checkpoint (and null-ness) as planned."""
    with path.open(encoding="utf-8") as fh:
        first = fh.readline()
    if not first.strip():
        return  # every item of the set was skipped under the policy
    row = json.loads(first)
    if row.get("checkpoint") != unit.path or row.get("setting") != unit.setting:
        raise RunFolderError(
            f"{path} was scored from {row.get('checkpoint')} ({row.get('setting')}), not "
            f"{unit.path} ({unit.setting}); use another out_dir or --force"
        )


def score_plan(cfg: ProbeConfig, out: Path, work: list[tuple[Checkpoint, ProbeSet]]) -> None:
    """Score every unit whose file is missing. Each checkpoint folder is opened once and each
    of its sets scored once, then written for every unit that shares it (the runs of a grid
    share their step-0 model; its scores do not depend on the run)."""
    from bridgelab.probes.models import build_null_model, load_model, load_tokenizer
    from bridgelab.probes.scoring import score_items_multi

    # (checkpoint folder, null?) -> set name -> (the set, the units waiting for it)
    todo: dict[tuple[str, bool], dict[str, tuple[ProbeSet, list[Checkpoint]]]] = {}
    for unit, pset in work:
        path = unit_file(out, unit, pset.name)
        if path.is_file():
            _check_unit_file(path, unit)
        else:
            sets = todo.setdefault((unit.path, unit.null), {})
            sets.setdefault(pset.name, (pset, []))[1].append(unit)
    left = sum(len(units) for sets in todo.values() for _, units in sets.values())
    if left < len(work):
        log.info("resuming: %d of %d (checkpoint, probe set) units already scored",
                 len(work) - left, len(work))  # fmt: skip
    for (ckpt, null), sets in tqdm(todo.items(), desc="checkpoints", unit="ckpt"):
        tokenizer = load_tokenizer(ckpt)
        if null:
            model = build_null_model(ckpt, seed=cfg.null_seed, dtype=cfg.dtype, device=cfg.device)
        else:
            model = load_model(ckpt, dtype=cfg.dtype, device=cfg.device)
        for pset, units in sets.values():
            results, skipped = score_items_multi(
                model, tokenizer, pset.items, cfg.scorers, batch_size=cfg.batch_size,
                policy=cfg.policy.build(), permutations=cfg.permutations,
            )  # fmt: skip
            items = {it.id: it for it in pset.items}
            for unit in units:
                n = atomic_write_jsonl(
                    unit_file(out, unit, pset.name), _rows(unit, pset, results, items)
                )
                log.info("%s step %d %s: %d rows, skipped %s", unit.run, unit.step, pset.name,
                         n, {k: len(v) for k, v in skipped.items()})  # fmt: skip
        del model


def _work(cfg: ProbeConfig) -> tuple[list[ProbeSet], list[Checkpoint], list]:
    """The probe sets, the checkpoints (null models added) and the (checkpoint, set) pairs."""
    sets, units = load_sets(cfg), load_units(cfg)
    if cfg.null_model:
        units = units + null_units(units, cfg.null_seed)
    return sets, units, plan_work(cfg, units, sets)


def plan(cfg: ProbeConfig) -> list[Step]:
    try:
        sets, units, work = _work(cfg)
    except DataError as exc:
        # inputs written by earlier stages may not exist yet when a whole study is planned
        return [Step(f"inputs not readable yet: {exc}")]
    out = [Step(f"probe set {s.name}: {len(s.items)} items from {s.source}",
                data={"set": s.name, "items": len(s.items)}) for s in sets]  # fmt: skip
    out.append(Step(f"{len(units)} checkpoints ({sum(u.null for u in units)} null models)"))
    out.append(Step(f"{len(work)} (checkpoint, probe set) units x scorers "
                    f"{', '.join(cfg.scorers)}", out=cfg.out_dir,
                    data={"units": len(work), "scorers": list(cfg.scorers)}))  # fmt: skip
    return out


def summary(out: Path) -> list[str]:
    return [f"probe results in {out} (results.jsonl, summary.csv)"]


def run(cfg: ProbeConfig, *, force: bool = False) -> Path:
    """Score the plan into ``cfg.out_dir``; skip what is already scored; return the folder."""
    sets, units, work = _work(cfg)
    out = Path(cfg.out_dir)
    digest = config_hash(cfg, exclude=("out_dir",))
    names = sorted(str(unit_file(out, u, s.name).relative_to(out)) for u, s in work)
    saved = out / "config.yaml"
    if is_done(out) and not force:
        info = json.loads((out / DONE_MARKER).read_text(encoding="utf-8"))
        if info.get("config_hash") == digest and set(names) <= set(info.get("units", [])):
            refuse_if_stale(out, "probe run")  # e.g. the grid's checkpoints were retrained
            log.info("%s already holds these results; nothing to do", out)
            return out
    if saved.is_file() and not force:
        previous = json.loads((out / "probe.json").read_text(encoding="utf-8")).get("config_hash")
        if previous != digest:
            raise RunFolderError(
                f"{out} holds probe results of another config (hash {previous} != {digest}); "
                "use another out_dir or --force to move it aside"
            )
        (out / DONE_MARKER).unlink(
            missing_ok=True
        )  # new checkpoints appeared: resume, then re-mark
    else:
        if force and saved.is_file() and not is_done(out):
            # a partial run of another config: keep it, start clean
            log.warning("moved the unfinished %s aside to %s", out, move_aside(out))
        out = prepare_run_folder(out, force=force, what="probe run")
    cfg.dump(saved)
    inputs = lineage(cfg)  # as consumed: scoring may take long, and DONE records these
    atomic_write_json(out / "probe.json", {"config_hash": digest})
    for s in sets:
        atomic_write_json(
            out / "lint" / f"{s.name.replace(':', '__')}.json", lint(s.items, name=s.name).to_dict()
        )
    score_plan(cfg, out, work)
    rows = [r for name in names for r in read_rows(out / name)]
    atomic_write_jsonl(out / "results.jsonl", rows)
    table = summarize(rows)
    with atomic_path(out / "summary.csv") as tmp:
        table.to_csv(tmp, index=False)
    mark_done(out, {"config_hash": digest, "units": names, "rows": len(rows), "inputs": inputs})
    return out
