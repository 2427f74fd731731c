"""CLI wrapper of :mod:`bridgelab.report.study`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bridgelab.errors import ConfigError
from bridgelab.report.study import (
    STAGE_NAMES,
    StudyConfig,
    resolve_stage,
    run_study,
    selected_stages,
)
from bridgelab.stage import add_config_args, load_stage_config, print_dry_run


def configure(parser: argparse.ArgumentParser) -> None:
    add_config_args(parser)
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="STAGE",
        # no `choices`: nargs="+" also swallows overrides written after it
        # (`--only report out_dir=X`); main() hands those back to the overrides
        help=f"run only these stages (others must be complete); among {', '.join(STAGE_NAMES)}",
    )
    parser.add_argument(
        "--export-configs",
        metavar="DIR",
        help="write each stage's resolved config to DIR/<stage>.yaml and exit (for SLURM)",
    )
    parser.add_argument(
        "--plan-json",
        action="store_true",
        help="print the plan as JSON (stages, resolved configs, output folders, which earlier "
        "stages each reads, grid runs) and exit; what `bridgelab submit` schedules",
    )


def _split_only(args: argparse.Namespace) -> None:
    """Move ``key=value`` items that ``--only`` swallowed back to the overrides; check names."""
    if not args.only:
        return
    args.overrides = list(args.overrides or []) + [x for x in args.only if "=" in x]
    args.only = [x for x in args.only if "=" not in x]
    unknown = [x for x in args.only if x not in STAGE_NAMES]
    if unknown:
        raise ConfigError(f"--only: unknown stage '{unknown[0]}' (known: {', '.join(STAGE_NAMES)})")


def main(args: argparse.Namespace) -> int:
    _split_only(args)
    cfg = load_stage_config(args, StudyConfig)
    if getattr(args, "plan_json", False):
        import json

        from bridgelab.report.study import study_plan_data

        print(json.dumps(study_plan_data(cfg), indent=1))
        return 0
    if args.export_configs:
        # One resolved YAML per stage, for schedulers that run each stage as its own job
        # (slurm/submit_study.sh): `bridgelab <stage> --config <dir>/<stage>.yaml`.
        out = Path(args.export_configs)
        for spec in selected_stages(cfg):
            resolve_stage(cfg, spec).dump(out / f"{spec.name}.yaml")
            print(out / f"{spec.name}.yaml")
        return 0
    if args.dry_run:
        from bridgelab.report.estimate import study_plan, study_totals
        from bridgelab.report.study import missing_inputs, stage_states

        # missing inputs first: a study that cannot run should say so before any estimate
        plan = [f"MISSING INPUT {line}" for line in missing_inputs(cfg)]
        states = stage_states(cfg)
        for spec in selected_stages(cfg):
            stage_cfg = resolve_stage(cfg, spec)
            plan.append(f"{spec.name}: {spec.what} [{states[spec.name]}]")
            plan.extend(f"  {line}" for line in study_plan(spec.name, stage_cfg))
        resolved = {spec.name: resolve_stage(cfg, spec) for spec in selected_stages(cfg)}
        plan.extend(f"compute: {line}" for line in study_totals(resolved))
        print_dry_run(cfg, plan)
        return 0
    from bridgelab.pretrain.cli import EXIT_PREEMPTED
    from bridgelab.pretrain.trainer import Preempted
    from bridgelab.report.study import StudyStopped

    try:
        run_study(cfg, force=args.force, only=args.only)
    except (Preempted, StudyStopped) as exc:
        # the same one line and exit status as `bridgelab pretrain` / `grid`, so SLURM requeue
        # logic (slurm/*.sbatch) works through `study`
        print(f"bridgelab study: {exc}; run the same command to resume", file=sys.stderr)
        return EXIT_PREEMPTED
    return 0
