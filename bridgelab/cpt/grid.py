"""`bridgelab grid`: continued pretraining over languages x bridge settings x seeds.

Each run ``<lang>-<setting>-s<seed>`` is the pretraining stage started from ``init_from`` on the
mixture of its language and setting. Mixtures depend on the language and setting only (the
run seed changes the data order and nothing else), so each is built once, under
``<out_dir>/mixtures/<lang>-<setting>``, and shared by the seeds. Runs go under
``<out_dir>/runs/<name>``. A local executor runs the grid in order; under SLURM each array task
runs one (``--index $SLURM_ARRAY_TASK_ID``). Finished runs are skipped and unfinished ones
resume from their last resume state, so re-running a half-finished grid completes it.

``grid.json`` lists every run; since array tasks finish concurrently, each run also writes
``status/<name>.json`` and ``grid.json`` is rebuilt from those (``load_grid`` does the same).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridgelab.config import Config, apply_override, config_hash, param
from bridgelab.contracts.markers import DONE_MARKER, is_done, mark_done
from bridgelab.contracts.provenance import lineage, marker_identity, refuse_if_stale
from bridgelab.contracts.runs import SCRATCH, resolve_init, run_name
from bridgelab.contracts.scripts import TARGET_LANGS
from bridgelab.contracts.settings import Setting
from bridgelab.cpt.mixture import CptMixtureConfig, build_mixture
from bridgelab.cpt.runs import check_same_run, locked, write_status
from bridgelab.errors import ConfigError, Stopped
from bridgelab.stage import Step
from bridgelab.utils.io import atomic_write_json

log = logging.getLogger(__name__)
PLACEHOLDERS = ("lang", "world", "data_root")


@dataclass
class GridConfig(Config):
    out_dir: str = param("runs/cpt", help="grid folder: grid.json, mixtures/, runs/, status/")
    languages: list[str] = param(["ko"], help="target languages (ko, zh, bo, mn)")
    settings: list[Setting] = param(["bridge", "nobridge"], help="bridge settings to compare")
    seeds: list[int] = param([0], help="training seeds (data order); mixtures are shared by seeds")
    init_from: str = param(
        "",
        help="HF checkpoint folder, or a pretraining run (its last export); 'scratch': every run "
        "pretrains from random weights on its mixture (the joint regime: English replay and the "
        "target language learnt together from the start)",
    )
    tokenizer: str = param("", help="tokenizer folder of the base model")
    world: str = param("", help="synthetic world folder; fills {world} in mixture paths")
    data_root: str = param("", help="shared real-data folder; fills {data_root} in mixture paths")
    mixture: CptMixtureConfig = param(
        CptMixtureConfig(pairs=[]),
        help="mixture template; {lang}, {world}, {data_root} in its paths are filled per run, "
        "and lang, setting, tokenizer, seq_len and out_dir are set by the grid",
    )
    lang_overrides: dict[str, list[str]] = param(
        {}, help="per language, dot-path overrides of the mixture template (e.g. other pair sets)"
    )
    pretrain: str | None = param(None, help="base PretrainConfig YAML (null: the defaults)")
    pretrain_overrides: list[str] = param([], help="dot-path overrides of the base pretrain config")

    def validate(self) -> None:
        super().validate()
        for i, lang in enumerate(self.languages):
            if lang not in TARGET_LANGS:
                raise ConfigError(
                    f"languages[{i}]: unknown language '{lang}' (known: {', '.join(TARGET_LANGS)})"
                )
        for lang in self.lang_overrides:
            if lang not in self.languages:
                raise ConfigError(f"lang_overrides.{lang}: not one of the grid's languages")
        for key in ("languages", "settings", "seeds"):
            values = getattr(self, key)
            if not values or len(set(values)) != len(values):
                raise ConfigError(f"{key}: must be a non-empty list without repeats, got {values}")


def expand(cfg: GridConfig) -> list[dict[str, Any]]:
    """The grid's runs in execution order (language, then setting, then seed)."""
    out = Path(cfg.out_dir)
    return [
        {
            "name": run_name(lang, setting, seed),
            "lang": lang,
            "setting": setting,
            "seed": seed,
            "run_dir": str(out / "runs" / run_name(lang, setting, seed)),
            "mixture_dir": str(out / "mixtures" / f"{lang}-{setting}"),
        }  # fmt: skip
        for lang in cfg.languages
        for setting in cfg.settings
        for seed in cfg.seeds
    ]


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, sub in values.items():
            value = value.replace("{" + key + "}", sub)
        return value
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    return value


def pretrain_config(cfg: GridConfig, run: dict[str, Any], init: Path | None) -> Any:
    from bridgelab.pretrain.config import PretrainConfig

    base = PretrainConfig.load(cfg.pretrain, cfg.pretrain_overrides)
    data = base.to_dict()
    data.update(
        out_dir=run["run_dir"],
        seed=run["seed"],
        tokenizer=cfg.tokenizer,
        init_from=None if init is None else str(init),
    )
    data["data"]["path"] = run["mixture_dir"]
    return PretrainConfig.from_dict(data, source=f"grid run {run['name']}")


def mixture_config(cfg: GridConfig, run: dict[str, Any], seq_len: int) -> CptMixtureConfig:
    values = {"lang": run["lang"], "world": cfg.world, "data_root": cfg.data_root}
    data = copy.deepcopy(cfg.mixture.to_dict())
    for item in cfg.lang_overrides.get(run["lang"], []):
        apply_override(data, item, CptMixtureConfig)
    data = _fill(data, values)
    data.update(lang=run["lang"], setting=run["setting"], tokenizer=cfg.tokenizer,
                seq_len=seq_len, out_dir=run["mixture_dir"])  # fmt: skip
    return CptMixtureConfig.from_dict(data, source=f"grid mixture {run['lang']}-{run['setting']}")


def load_grid(grid_dir: str | Path) -> list[dict[str, Any]]:
    """Every run of a grid with its current status and HF checkpoints (rebuilds grid.json)."""
    from bridgelab.contracts.runs import list_hf_checkpoints

    out = Path(grid_dir)
    cfg = GridConfig.load(out / "grid.yaml")
    runs = []
    for run in expand(cfg):
        status_file = out / "status" / f"{run['name']}.json"
        row = json.loads(status_file.read_text(encoding="utf-8")) if status_file.is_file() else {}
        row = {
            **run,
            "status": row.get("status", "pending"),
            **{k: v for k, v in row.items() if k not in run and k != "status"},
        }
        if is_done(run["run_dir"]):
            row["status"] = "done"
        row["checkpoints"] = [[step, str(p)] for step, p in list_hf_checkpoints(run["run_dir"])]
        runs.append(row)
    atomic_write_json(out / "grid.json", {"runs": runs})
    return runs


def run_grid(cfg: GridConfig, *, force: bool = False, only: list[str] | None = None) -> Path:
    """Run the grid's runs (or those named in ``only``) one after another; return the grid folder."""
    from bridgelab.pretrain.stage import run as pretrain_run

    out = Path(cfg.out_dir)
    runs = expand(cfg)
    names = [r["name"] for r in runs]
    unknown = [n for n in only or [] if n not in names]
    if unknown:
        raise ConfigError(f"only: unknown run '{unknown[0]}' (runs: {', '.join(names)})")
    init = resolve_init(cfg.init_from)
    configs = {r["name"]: pretrain_config(cfg, r, init) for r in runs}  # fail early on bad config
    out.mkdir(parents=True, exist_ok=True)
    cfg.dump(out / "grid.yaml")
    load_grid(out)
    todo = [r for r in runs if not only or r["name"] in only]
    if force or not all(is_done(r["run_dir"]) for r in todo):
        # the grid's identity changes with any of its runs: its DONE comes back at the end
        (out / DONE_MARKER).unlink(missing_ok=True)
    inputs = lineage(cfg)
    built: set[str] = set()
    for run in runs:
        if only and run["name"] not in only:
            continue
        pcfg = configs[run["name"]]
        if is_done(run["run_dir"]) and not force:
            check_same_run(Path(run["run_dir"]), pcfg)
            # the same config, but its mixture or init checkpoint may have been rebuilt since
            refuse_if_stale(run["run_dir"], f"CPT run {run['name']}")
            log.info("%s: finished; skipping", run["name"])
            write_status(out, run, "done", config=pcfg.to_dict())
            continue
        t0 = time.time()
        write_status(out, run, "running", config=pcfg.to_dict())
        try:
            mcfg = mixture_config(cfg, run, pcfg.data.seq_len)
            with locked(out / "mixtures" / f".{run['lang']}-{run['setting']}.lock"):
                build_mixture(mcfg, force=force and run["mixture_dir"] not in built)
            built.add(run["mixture_dir"])
            pretrain_run(pcfg, force=force)
        except Stopped:  # preempted: the run resumes on the next call
            write_status(out, run, "preempted", config=pcfg.to_dict())
            load_grid(out)
            raise
        except BaseException as exc:
            write_status(
                out, run, "failed", config=pcfg.to_dict(), error=str(exc) or type(exc).__name__
            )
            load_grid(out)
            raise
        write_status(out, run, "done", config=pcfg.to_dict(), seconds=round(time.time() - t0, 1))
        load_grid(out)
        log.info("%s: done in %.1f s", run["name"], time.time() - t0)
    load_grid(out)
    _mark_grid_done(cfg, out, runs, inputs)
    return out


def _mark_grid_done(cfg: GridConfig, out: Path, runs: list[dict[str, Any]], inputs: dict) -> None:
    """Once every run is finished, the grid gets a DONE whose id is a hash of its runs' ids, so
    a stage reading the grid records which runs it read (utils.provenance). It is rewritten only
    when that changes: its mtime tells `study` when the grid last did work."""
    if not all(is_done(r["run_dir"]) for r in runs):
        return
    idents = sorted(f"{r['name']}={marker_identity(r['run_dir'])}" for r in runs)
    info = {
        "config_hash": config_hash(cfg, exclude=("out_dir",)),
        "id": hashlib.sha256("\n".join(idents).encode()).hexdigest()[:16],
        "runs": len(runs),
        "inputs": inputs,
    }
    marker = out / DONE_MARKER
    if marker.is_file() and json.loads(marker.read_text(encoding="utf-8") or "{}") == info:
        return
    mark_done(out, info)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--index", type=int, help="run only the run with this index (SLURM array task id)"
    )
    parser.add_argument(
        "--only", action="append", metavar="NAME", help="run only this run (repeatable)"
    )


def options(args: argparse.Namespace) -> dict[str, Any]:
    return {"only": list(args.only or []) or None, "index": args.index}


def tasks(cfg: GridConfig) -> list[str]:
    """The grid's runs by name, in index order: one SLURM array task each (``--index``)."""
    return [run["name"] for run in expand(cfg)]


def plan(cfg: GridConfig) -> list[Step]:
    """One run's estimate (each run of the grid costs about the same), then every run with its
    state and mixture (``data``: the run's name, folders and mixture tokens)."""
    from bridgelab.pretrain.estimate import estimate
    from bridgelab.pretrain.stage import compute, estimate_steps

    runs = expand(cfg)
    first = pretrain_config(cfg, runs[0], None if cfg.init_from == SCRATCH else Path(cfg.init_from))
    n = len(runs)
    out = [Step(f"{n} runs from init_from {cfg.init_from}; each run (estimate x {n}):",
                data={"runs": n, "label": f"CPT grid ({n} runs)",
                      "compute": compute(estimate(first), n)},
                steps=tuple(estimate_steps(first)))]  # fmt: skip
    for i, run in enumerate(runs):
        manifest = Path(run["mixture_dir"]) / "manifest.json"
        tokens = (
            json.loads(manifest.read_text(encoding="utf-8"))["num_tokens"]
            if manifest.is_file()
            else None
        )
        mix = f"{tokens:,} tokens" if tokens is not None else "not built yet"
        out.append(Step(f"[{i}] {run['name']}: mixture {run['mixture_dir']} ({mix})",
                        out=run["run_dir"], state="done" if is_done(run["run_dir"]) else "pending",
                        data={"index": i, "name": run["name"], "mixture_dir": run["mixture_dir"],
                              "mixture_tokens": tokens}))  # fmt: skip
    return out


def run(cfg: GridConfig, *, force: bool = False, only: list[str] | None = None,
        index: int | None = None) -> Path:  # fmt: skip
    """Run the grid (or the runs named in ``only``, or the one at ``index``: a SLURM array task)."""
    if index is not None:
        runs = expand(cfg)
        if not 0 <= index < len(runs):
            raise ConfigError(f"--index {index}: the grid has runs 0-{len(runs) - 1}")
        only = [*(only or []), runs[index]["name"]]
    return run_grid(cfg, force=force, only=only)
