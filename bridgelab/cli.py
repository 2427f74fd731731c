"""The `bridgelab` command: one subcommand per stage.

Subcommands are declared in each package's light ``commands.py`` (a list of
:class:`~bridgelab.stage.Stage` and :class:`~bridgelab.stage.Command`), so ``bridgelab --help``
imports no torch and every stage's heavy imports happen only when that stage runs. Every stage
runs through the one wrapper :func:`bridgelab.stage.run_stage`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from bridgelab import __version__
from bridgelab.errors import EXIT_STOPPED, BridgelabError, Stopped
from bridgelab.stage import (
    Command,
    Stage,
    all_commands,
    configure_stage,
    describe_config,
    run_stage,
)


def build_parser(commands: list[Command], selected: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bridgelab",
        description="Controlled cross-lingual transfer: corpora, pretraining, CPT with and "
        "without bridges, bilingual probes and frequency analysis.",
    )
    parser.add_argument("--version", action="version", version=f"bridgelab {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="<stage>")
    for cmd in commands:
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        if cmd.name == selected:
            if isinstance(cmd, Stage):
                configure_stage(p, cmd)
            else:
                importlib.import_module(cmd.module).configure(p)
            describe_config(p, cmd)  # presets and --keys in the command's --help
    return parser


def _quiet_libraries(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or not record.name.startswith(("bm25s", "faiss"))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = all_commands()
    names = {c.name: c for c in commands}
    selected = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(commands, selected if selected in names else None)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    if not args.verbose:
        # bm25s sets its own logger to DEBUG when imported (later, by the frequency stage) and
        # faiss logs every CPU-feature probe at INFO: a handler filter, which their loggers
        # cannot undo, lets only their warnings through without -v
        for handler in logging.getLogger().handlers:
            handler.addFilter(_quiet_libraries)
    if args.command is None:
        parser.print_help()
        return 2
    cmd = names[args.command]
    try:
        if isinstance(cmd, Stage):
            return run_stage(cmd, args)
        return int(importlib.import_module(cmd.module).main(args) or 0)
    except BridgelabError as exc:
        print(f"bridgelab {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except Stopped as exc:
        # one line and EX_TEMPFAIL, so SLURM requeue logic (slurm/*.sbatch) works through
        # every command that trains: pretrain, grid, study
        print(f"bridgelab {args.command}: {exc}; run the same command to resume", file=sys.stderr)
        return EXIT_STOPPED


if __name__ == "__main__":
    sys.exit(main())
