"""`bridgelab study`: the whole study as one stage (plan and run of :mod:`bridgelab.study.runner`).

``--only STAGE ...`` runs a subset (the others must be complete); ``--export-configs DIR`` writes
each stage's resolved config for schedulers that run a stage per job; ``--dry-run --json`` gives
the plan as data: per stage its state, resolved config, output folder, the earlier stages it
reads and a grid's runs (what `bridgelab submit` schedules).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bridgelab.errors import BridgelabError, ConfigError
from bridgelab.stage import Step, stage_module
from bridgelab.study.runner import (
    STAGE_NAMES,
    StudyConfig,
    missing_inputs,
    resolve_stage,
    run_study,
    selected_stages,
    stage_states,
    study_plan_data,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="STAGE",
        # no `choices`: nargs="+" also swallows overrides written after it
        # (`--only report out_dir=X`); options() hands those back to the overrides
        help=f"run only these stages (others must be complete); among {', '.join(STAGE_NAMES)}",
    )
    parser.add_argument(
        "--export-configs",
        metavar="DIR",
        help="write each stage's resolved config to DIR/<stage>.yaml and exit (for SLURM)",
    )


def split_only(args: argparse.Namespace) -> None:
    """Move ``key=value`` items that ``--only`` swallowed back to the overrides; check names."""
    if not args.only:
        return
    args.overrides = list(args.overrides or []) + [x for x in args.only if "=" in x]
    args.only = [x for x in args.only if "=" not in x]
    unknown = [x for x in args.only if x not in STAGE_NAMES]
    if unknown:
        raise ConfigError(f"--only: unknown stage '{unknown[0]}' (known: {', '.join(STAGE_NAMES)})")


def options(args: argparse.Namespace) -> dict[str, Any]:
    split_only(args)
    return {"only": args.only, "export_configs": args.export_configs}


def plan(cfg: StudyConfig) -> list[Step]:
    """Missing inputs first (a study that cannot run says so before any estimate), then each
    stage with its state, its own plan and its scheduling data, then the compute."""
    from bridgelab.study.estimate import study_totals

    out = [Step(f"MISSING INPUT {line}") for line in missing_inputs(cfg)]
    states = stage_states(cfg)
    data = {entry["name"]: entry for entry in study_plan_data(cfg)["stages"]}
    plans: dict[str, list[Step]] = {}
    for spec in selected_stages(cfg):
        try:
            sub = plans[spec.name] = stage_module(spec.stage).plan(resolve_stage(cfg, spec))
        except BridgelabError as exc:
            # inputs written by earlier stages may not exist yet when a whole study is planned
            sub = [Step(f"inputs not readable yet: {exc}")]
        out.append(Step(f"{spec.name}: {spec.what}", state=states[spec.name],
                        data=data[spec.name], steps=tuple(sub)))  # fmt: skip
    return out + study_totals(plans)


def write_stage_configs(cfg: StudyConfig, folder: str | Path) -> list[Path]:
    """One resolved YAML per stage, for schedulers that run each stage as its own job:
    `bridgelab <stage> --config <dir>/<stage>.yaml`."""
    written = []
    for spec in selected_stages(cfg):
        path = Path(folder) / f"{spec.name}.yaml"
        resolve_stage(cfg, spec).dump(path)
        written.append(path)
    return written


def run(cfg: StudyConfig, *, force: bool = False, only: list[str] | None = None,
        export_configs: str | None = None) -> Path:  # fmt: skip
    if export_configs:
        write_stage_configs(cfg, export_configs)
        return Path(export_configs)
    return run_study(cfg, force=force, only=only)
