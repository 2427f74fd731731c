"""One stage interface and the one command wrapper every stage shares.

A *stage* (:class:`Stage`, declared in its package's light ``commands.py``) names its config class
and the module that implements it. That module exports:

- ``plan(cfg) -> list[Step]``: the work ``run`` would do, as data, computed from the config and
  what is on disk (nothing is written); ``--dry-run`` renders it as text, ``--dry-run --json``
  prints it as JSON;
- ``run(cfg, *, force=False, **options) -> Path``: do the work into the output folder, skip what
  is complete, resume what is partial; ``force`` moves a finished folder aside;
- optionally ``add_arguments(parser)`` and ``options(args) -> dict`` for flags of its own
  (``options`` runs before the config is loaded: it may add overrides to ``args.overrides``
  and returns keyword arguments for ``run``), and
  ``summary(out) -> list[str]``, the lines printed after a run (default: the output folder),
  and ``tasks(cfg) -> list[str]``, the independent runs of a stage that schedulers start as a
  job array (the CPT grid's runs, each run by ``--index I``).

:func:`run_stage` is the whole command: load the config (``--config FILE key.sub=value ...``),
then print the plan or run. `bridgelab study` calls the same ``plan``/``run`` in-process. A
*tool* (:class:`Command`: checkers, linters, the SLURM submitter) has its own
``configure(parser)`` and ``main(args)`` instead.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

from bridgelab.config import Config

C = TypeVar("C", bound=Config)

# every package that declares commands in a light `commands.py`, in the order `--help` lists them
COMMAND_PACKAGES = ("synth", "data", "pretrain", "cpt", "calibrate", "probes", "dose", "count", "retrieval", "report", "study", "slurm")  # fmt: skip


@dataclass(frozen=True)
class Command:
    """A tool: its name, one line of help, the module holding ``configure``/``main``, and the
    config class it reads with ``--config`` ("module:Class"; '' for none)."""

    name: str
    help: str
    module: str
    config: str = ""


@dataclass(frozen=True)
class Stage(Command):
    """A config-driven stage: ``module`` exports ``plan`` and ``run``; ``config`` is its config
    class ("module:Class"); the command is :func:`run_stage`."""


@dataclass(frozen=True)
class Step:
    """One item of a plan: what will be done, the folder or file it writes (``out``), its state
    where known (``done``, ``pending``, ...), numbers for machines (``data``) and sub-steps."""

    what: str
    out: str = ""
    state: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    steps: tuple[Step, ...] = ()

    def lines(self, indent: str = "") -> list[str]:
        text = self.what
        if self.state:
            text += f" [{self.state}]"
        if self.out:
            text += f" -> {self.out}"
        out = [indent + text]
        for step in self.steps:
            out.extend(step.lines(indent + "  "))
        return out

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"what": self.what}
        if self.out:
            out["out"] = self.out
        if self.state:
            out["state"] = self.state
        if self.data:
            out["data"] = self.data
        if self.steps:
            out["steps"] = [s.to_dict() for s in self.steps]
        return out


def steps(lines: list[str]) -> list[Step]:
    """Plain descriptive lines as steps (for plans with nothing structured to say)."""
    return [Step(line) for line in lines]


def render_plan(plan: list[Step]) -> list[str]:
    return [line for step in plan for line in step.lines()]


def all_commands() -> list[Command]:
    commands: list[Command] = []
    for pkg in COMMAND_PACKAGES:
        commands.extend(importlib.import_module(f"bridgelab.{pkg}.commands").COMMANDS)
    return commands


def stages() -> dict[str, Stage]:
    """Every stage by command name."""
    return {c.name: c for c in all_commands() if isinstance(c, Stage)}


def stage_module(stage: Stage) -> Any:
    return importlib.import_module(stage.module)


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


def configure_stage(parser: argparse.ArgumentParser, stage: Stage) -> None:
    add_config_args(parser)
    parser.add_argument(
        "--json",
        action="store_true",
        help="with --dry-run: print the resolved config and the plan as one JSON object",
    )
    module = stage_module(stage)
    if hasattr(module, "add_arguments"):
        module.add_arguments(parser)


def run_stage(stage: Stage, args: argparse.Namespace) -> int:
    """The command of every stage: load the config, then print the plan or run."""
    module = stage_module(stage)
    options = module.options(args) if hasattr(module, "options") else {}
    cfg = import_object(stage.config).load(args.config, args.overrides)
    if args.dry_run:
        plan = module.plan(cfg)
        if args.json:
            data = {"config": cfg.to_dict(), "plan": [s.to_dict() for s in plan]}
            print(json.dumps(data, indent=1, default=str))
        else:
            print_dry_run(cfg, plan)
        return 0
    out = module.run(cfg, force=args.force, **options)
    for line in module.summary(out) if hasattr(module, "summary") else [str(out)]:
        print(line)
    return 0


def print_dry_run(cfg: Config, plan: list[Step] | None = None, *, file=None) -> None:
    """Print the resolved config as YAML, then the plan, one line per step."""
    out = file or sys.stdout
    print("# resolved config", file=out)
    print(cfg.to_yaml().rstrip(), file=out)
    if plan:
        print("# plan", file=out)
        for line in render_plan(plan):
            print(f"- {line}", file=out)


def import_object(target: str) -> Any:
    """``"module:name"`` -> the object."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


# --- presets and keys in `--help` ------------------------------------------------------------
# `bridgelab <command> --help` lists the command's presets and how to see every key. Both come
# from names: the presets from each YAML's `schema:` key, the class from the command's declared
# "module:Class", which only `--keys` imports, so help stays as light as the stage module.

CONFIGS_DIR = Path(__file__).resolve().parents[1] / "configs"


def command_configs() -> dict[str, str]:
    """The config class ("module:Class") of each command that takes ``--config``."""
    return {c.name: c.config for c in all_commands() if c.config}


def known_schemas() -> dict[str, str]:
    """Config class name -> "module:Class", for every class a YAML may name as its ``schema``:
    the commands' configs and those other packages declare (``SCHEMAS`` in commands.py)."""
    targets = set(command_configs().values())
    for pkg in COMMAND_PACKAGES:
        targets.update(getattr(importlib.import_module(f"bridgelab.{pkg}.commands"), "SCHEMAS", ()))
    return {t.rpartition(":")[2]: t for t in sorted(targets)}


def preset_schema(path: Path) -> str:
    """The config class ("module:Class") a YAML names with its top-level ``schema:`` key."""
    from bridgelab.config import yaml_schema
    from bridgelab.errors import ConfigError

    name = yaml_schema(path)
    schemas = known_schemas()
    if name not in schemas:
        raise ConfigError(f"{path}: schema '{name}' is not a known config class "
                          f"(known: {', '.join(schemas)})")  # fmt: skip
    return schemas[name]


def presets_for(schema: str, root: Path = CONFIGS_DIR) -> list[Path]:
    """Every preset YAML under ``root`` whose schema is ``schema``, sorted."""
    if not root.is_dir():
        return []
    return [p for p in sorted(root.rglob("*.yaml")) if preset_schema(p) == schema]


def _type_label(tp: Any) -> str:
    if get_origin(tp) is not None:
        return str(tp).replace("typing.", "").replace("bridgelab.", "")
    return getattr(tp, "__name__", str(tp))


def config_keys(cls: type[Config], prefix: str = "") -> list[tuple[str, str, str, str]]:
    """(dotted key, type, default, help) of every key of ``cls``; nested configs give
    ``outer.inner`` keys and lists of configs ``outer[].inner`` keys."""
    rows: list[tuple[str, str, str, str]] = []
    hints = get_type_hints(cls)
    for f in dataclasses.fields(cls):
        key, tp = f"{prefix}{f.name}", hints[f.name]
        if f.default is not dataclasses.MISSING:
            default: Any = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = "(required)"
        help_text = f.metadata.get("help", "")
        item = (get_args(tp) or (None,))[0] if get_origin(tp) is list else None
        if isinstance(tp, type) and issubclass(tp, Config):
            rows.append((key, tp.__name__, "", help_text))
            rows.extend(config_keys(tp, f"{key}."))
        elif isinstance(item, type) and issubclass(item, Config):
            rows.append((key, f"list[{item.__name__}]", repr(default), help_text))
            rows.extend(config_keys(item, f"{key}[]."))
        else:
            rows.append((key, _type_label(tp), repr(default), help_text))
    return rows


def format_keys(cls: type[Config]) -> str:
    """Every key of ``cls`` as ``key (type) = default`` and its help, indented below it."""
    import textwrap

    lines = []
    for key, tp, default, help_text in config_keys(cls):
        value = f" = {default}" if default else ""
        lines.append(f"{key} ({tp}){value}")
        lines.append(textwrap.fill(help_text, 96, initial_indent="    ", subsequent_indent="    "))
    return "\n".join(lines)


class _KeysAction(argparse.Action):
    """`--keys`: print every key of the stage's config and exit (like --help)."""

    def __init__(self, option_strings, dest, *, schema: str, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)
        self.schema = schema

    def __call__(self, parser, namespace, values, option_string=None):
        print(format_keys(import_object(self.schema)))
        parser.exit()


def describe_config(parser: argparse.ArgumentParser, cmd: Command) -> None:
    """Add the command's presets and how to see every key to ``parser``'s help, and `--keys`."""
    schema, command = cmd.config or None, cmd.name
    options = {o for a in parser._actions for o in a.option_strings}
    if schema is None or "--config" not in options:
        return
    parser.add_argument(
        "--keys",
        action=_KeysAction,
        schema=schema,
        help="list every config key with its type, default and help, then exit",
    )
    presets = presets_for(schema)
    here = Path.cwd()
    shown = [str(p.relative_to(here)) if p.is_relative_to(here) else str(p) for p in presets]
    lines = [f"config: {schema.replace(':', '.')}", "presets (--config FILE):"]
    lines += [f"  {p}" for p in shown] or ["  none under configs/ (every key has a default)"]
    lines += [
        "every key:",
        f"  bridgelab {command} --keys              each key with its type, default and help",
    ]
    if "--dry-run" in options:
        lines.append(f"  bridgelab {command} -c FILE --dry-run   the resolved config and the plan")
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = "\n".join(lines)
