"""What every config-driven subcommand shares: `--config FILE key.sub=value ... [--dry-run]`.

A stage module exposes ``configure(parser)`` and ``main(args) -> int``. Config stages call
:func:`add_config_args` in ``configure`` and :func:`load_stage_config` in ``main``; with
``--dry-run`` they print the resolved config (:func:`print_dry_run`) and the work they would do,
and touch nothing.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import TypeVar

from bridgelab.config import Config

C = TypeVar("C", bound=Config)


@dataclass(frozen=True)
class Command:
    """A subcommand: its name, one line of help, and the module holding configure/main."""

    name: str
    help: str
    module: str


def add_config_args(parser: argparse.ArgumentParser, *, force: bool = True) -> None:
    parser.add_argument("--config", "-c", help="YAML config file (defaults apply where omitted)")
    parser.add_argument(
        "overrides", nargs="*", metavar="key.path=value", help="dot-path overrides of the config"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the resolved config and the plan; do nothing"
    )
    if force:
        parser.add_argument(
            "--force",
            action="store_true",
            help="move a finished output folder aside (to NAME.old-N) and redo the work",
        )


def load_stage_config(args: argparse.Namespace, config_cls: type[C]) -> C:
    return config_cls.load(args.config, args.overrides)


def print_dry_run(cfg: Config, plan: list[str] | None = None, *, file=None) -> None:
    """Print the resolved config as YAML, then the plan, one line per item."""
    out = file or sys.stdout
    print("# resolved config", file=out)
    print(cfg.to_yaml().rstrip(), file=out)
    if plan:
        print("# plan", file=out)
        for line in plan:
            print(f"- {line}", file=out)
