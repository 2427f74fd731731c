"""`bridgelab frequency`: retrieval -> judge -> occurrences, density, instance tables."""

from __future__ import annotations

import argparse

from bridgelab.stage import add_config_args, load_stage_config, print_dry_run


def configure(parser: argparse.ArgumentParser) -> None:
    add_config_args(parser)


def main(args: argparse.Namespace) -> int:
    from bridgelab.retrieval.config import FrequencyConfig
    from bridgelab.retrieval.pipeline import plan, run

    cfg = load_stage_config(args, FrequencyConfig)
    if args.dry_run:
        print_dry_run(cfg, plan(cfg))
        return 0
    out = run(cfg, force=args.force)
    print(f"frequency analysis written to {out}")
    return 0
