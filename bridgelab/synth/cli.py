"""`bridgelab synth --config configs/synth/<name>.yaml [key=value ...] [--dry-run] [--force]`."""

from __future__ import annotations

import argparse

from bridgelab.stage import add_config_args, load_stage_config, print_dry_run
from bridgelab.synth.config import SynthConfig
from bridgelab.synth.output import plan, run


def configure(parser: argparse.ArgumentParser) -> None:
    add_config_args(parser)


def main(args: argparse.Namespace) -> int:
    cfg = load_stage_config(args, SynthConfig)
    if args.dry_run:
        print_dry_run(cfg, plan(cfg))
        return 0
    out = run(cfg, force=args.force)
    print(out)
    return 0
