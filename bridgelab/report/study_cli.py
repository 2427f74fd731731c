"""CLI wrapper of :mod:`bridgelab.report.study`."""

from __future__ import annotations

import argparse
from pathlib import Path

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
        choices=STAGE_NAMES,
        metavar="STAGE",
        help=f"run only these stages (others must be complete); among {', '.join(STAGE_NAMES)}",
    )
    parser.add_argument(
        "--export-configs",
        metavar="DIR",
        help="write each stage's resolved config to DIR/<stage>.yaml and exit (for SLURM)",
    )


def main(args: argparse.Namespace) -> int:
    cfg = load_stage_config(args, StudyConfig)
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

        plan = []
        for spec in selected_stages(cfg):
            stage_cfg = resolve_stage(cfg, spec)
            plan.append(f"{spec.name}: {spec.what}")
            plan.extend(f"  {line}" for line in study_plan(spec.name, stage_cfg))
        resolved = {spec.name: resolve_stage(cfg, spec) for spec in selected_stages(cfg)}
        plan.extend(f"compute: {line}" for line in study_totals(resolved))
        print_dry_run(cfg, plan)
        return 0
    run_study(cfg, force=args.force, only=args.only)
    return 0
