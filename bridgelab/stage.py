"""What every config-driven subcommand shares: `--config FILE key.sub=value ... [--dry-run]`.

A stage module exposes ``configure(parser)`` and ``main(args) -> int``. Config stages call
:func:`add_config_args` in ``configure`` and :func:`load_stage_config` in ``main``; with
``--dry-run`` they print the resolved config (:func:`print_dry_run`) and the work they would do,
and touch nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

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


# --- presets and keys in `--help` ------------------------------------------------------------
# `bridgelab <stage> --help` lists the stage's presets and how to see every key. Both come from
# names (strings), never from importing the stage: the config class is imported only by
# `--keys`, so help stays as light as the stage module itself.

CONFIGS_DIR = Path(__file__).resolve().parents[1] / "configs"

# The config class each config-driven subcommand loads ("module:Class").
COMMAND_CONFIGS: dict[str, str] = {
    "synth": "bridgelab.synth.config:SynthConfig",
    "tokenizer": "bridgelab.data.tokenizer:TokenizerConfig",
    "prepare": "bridgelab.data.prepare:PrepareConfig",
    "pretrain": "bridgelab.pretrain.config:PretrainConfig",
    "mixture": "bridgelab.cpt.mixture:CptMixtureConfig",
    "grid": "bridgelab.cpt.grid:GridConfig",
    "calibrate": "bridgelab.calibrate.config:CalibrateConfig",
    "probe": "bridgelab.probes.config:ProbeConfig",
    "lint-probes": "bridgelab.probes.config:ProbeConfig",  # --config: lint a probe config's sets
    "transfer": "bridgelab.probes.transfer:TransferConfig",
    "frequency": "bridgelab.retrieval.config:FrequencyConfig",
    "study": "bridgelab.report.study:StudyConfig",
    "submit": "bridgelab.report.study:StudyConfig",
    "report": "bridgelab.report.build:ReportConfig",
    "dose": "bridgelab.dose.config:DoseConfig",
    "count": "bridgelab.count.config:CountConfig",
}


def preset_schema(path: Path, root: Path = CONFIGS_DIR) -> str:
    """The config class ("module:Class") of a preset YAML under ``root``, from its folder (and,
    where one folder holds two kinds, from its file name)."""
    folder, name = Path(path).relative_to(root).parts[0], Path(path).stem
    if folder == "data":
        if name.startswith("tokenizer"):
            return "bridgelab.data.tokenizer:TokenizerConfig"
        return "bridgelab.data.prepare:PrepareConfig"
    if folder == "cpt":
        if name.startswith("mixture"):
            return "bridgelab.cpt.mixture:CptMixtureConfig"
        return "bridgelab.cpt.grid:GridConfig"
    if folder == "probes":
        if name == "transfer":
            return "bridgelab.probes.transfer:TransferConfig"
        return "bridgelab.probes.config:ProbeConfig"
    folders = {
        "synth": "bridgelab.synth.config:SynthConfig",
        "pretrain": "bridgelab.pretrain.config:PretrainConfig",
        "retrieval": "bridgelab.retrieval.config:FrequencyConfig",
        "study": "bridgelab.report.study:StudyConfig",
        "calibrate": "bridgelab.calibrate.config:CalibrateConfig",
        "slurm": "bridgelab.slurm.profile:SlurmProfile",
        "dose": "bridgelab.dose.config:DoseConfig",
        "count": "bridgelab.count.config:CountConfig",
    }
    if folder not in folders:
        raise KeyError(f"{path}: no config schema is known for the folder configs/{folder}/")
    return folders[folder]


def presets_for(schema: str, root: Path = CONFIGS_DIR) -> list[Path]:
    """Every preset YAML under ``root`` whose schema is ``schema``, sorted."""
    if not root.is_dir():
        return []
    return [p for p in sorted(root.rglob("*.yaml")) if preset_schema(p, root) == schema]


def _import_config(schema: str) -> type[Config]:
    import importlib

    module, _, name = schema.partition(":")
    return getattr(importlib.import_module(module), name)


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
        print(format_keys(_import_config(self.schema)))
        parser.exit()


def describe_config(parser: argparse.ArgumentParser, command: str) -> None:
    """Add the stage's presets and how to see every key to ``parser``'s help, and `--keys`."""
    schema = COMMAND_CONFIGS.get(command)
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
