"""`bridgelab lint-probes PATH...`: lint probe files or folders and print what is wrong.

A PATH is a file of the paper's release (``<lang>-culture-cloze_<q>.json``), a ProbeItem JSONL
file (``<world>/probes/<lang>.<q>.jsonl``), an LNewKnow chat JSONL file, or a folder holding
such files. ``--config FILE`` lints the ``probe_sets`` of a `bridgelab probe` config with the
loaders `bridgelab probe` uses, so a multiple-choice table (``kind: mc`` and its field mapping)
is linted exactly as it will be scored. English and native sets of the same culture are also
checked against each other.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from bridgelab.errors import ConfigError, DataError
from bridgelab.probes.lint import LintReport, format_report, lint, lint_aligned
from bridgelab.probes.sets import (
    MC_SUFFIXES,
    ProbeSet,
    load_lnewknow,
    load_paper_set,
    load_synthetic_set,
)
from bridgelab.utils.io import atomic_write_json, iter_lines

_PAPER_RE = re.compile(r"^(\w+)-culture-cloze_(\w+)\.json$")
_SYNTH_RE = re.compile(r"^(\w+)\.(\w+)\.jsonl$")


def _is_chat_jsonl(path: Path) -> bool:
    for _, line in iter_lines(path):
        if line.strip():
            return '"messages"' in line
    return False


def load_path(path: Path) -> ProbeSet:
    """Recognise a probe file by its name (and, for JSONL, its first record)."""
    if m := _PAPER_RE.match(path.name):
        return load_paper_set(path.parent, m.group(1), m.group(2))
    if path.suffix == ".jsonl" and _is_chat_jsonl(path):
        return load_lnewknow(path)
    if m := _SYNTH_RE.match(path.name):
        return load_synthetic_set(path.parent.parent, m.group(1), m.group(2))
    raise DataError(
        f"{path}: not a recognised probe file (<lang>-culture-cloze_<q>.json, "
        "<lang>.<q>.jsonl or an LNewKnow chat .jsonl)"
    )


def expand(paths: list[str], skipped: list[Path] | None = None) -> list[Path]:
    """The probe files among ``paths``; a folder's other files go to ``skipped`` (the caller
    lists them: a folder of CSV probes must not lint as "0 sets, 0 defects")."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(p.iterdir()):
                if f.is_file() and f.suffix in (".json", ".jsonl"):
                    files.append(f)
                elif f.is_file() and not f.name.startswith(".") and skipped is not None:
                    skipped.append(f)
        elif p.is_file():
            files.append(p)
        else:
            raise DataError(f"probe path not found: {p}")
    return files


def lint_paths(paths: list[str], skipped: list[Path] | None = None) -> list[LintReport]:
    """Lint every set; a native set is also checked against its English twin when both given."""
    return lint_sets([load_path(f) for f in expand(paths, skipped)])


def config_sets(config: str, overrides: list[str] | None = None) -> list[ProbeSet]:
    """The probe sets of a `bridgelab probe` config, loaded as `bridgelab probe` loads them."""
    from bridgelab.probes.config import ProbeConfig  # imports the scorers (torch): only here
    from bridgelab.probes.units import load_sets

    return load_sets(ProbeConfig.load(config, overrides))


def lint_sets(sets: list[ProbeSet]) -> list[LintReport]:
    """Lint every set; a native set is also checked against its English twin when both given
    (the twin of ``<kind>:<lang>.<q>`` is ``<kind>:<lang>.en``)."""
    reports = {s.name: lint(s.items, name=f"{s.name} ({s.source})") for s in sets}
    by_name = {s.name: s for s in sets}
    for s in sets:
        kind = s.name.split(":", 1)[0]
        twin = by_name.get(f"{kind}:{s.culture_lang}.en")
        if s.question_lang != "en" and twin is not None:
            lint_aligned(reports[s.name], s.items, twin.items)
    return list(reports.values())


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH | key.path=value",
        help="probe files or folders; with --config, also dot-path overrides of that config",
    )
    parser.add_argument(
        "--config",
        "-c",
        help="also lint the probe_sets of this `bridgelab probe` config (any kind, mc included)",
    )
    parser.add_argument("--json", help="also write the full report (every issue) to this file")
    parser.add_argument(
        "--max-issues", type=int, default=50, help="issues printed per set (all go to --json)"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit with status 1 when any set has a defect, a folder file was skipped as "
        "unsupported, or no set was found",
    )


def main(args: argparse.Namespace) -> int:
    skipped: list[Path] = []
    # key.path=value words are config overrides, unless such a file exists
    overrides = [p for p in args.paths if "=" in p and not Path(p).exists()]
    paths = [p for p in args.paths if p not in overrides]
    if not paths and not args.config:
        raise ConfigError("lint-probes: give probe files or folders, or --config FILE")
    if overrides and not args.config:
        raise ConfigError(f"lint-probes: override '{overrides[0]}' needs --config FILE")
    sets = [load_path(f) for f in expand(paths, skipped)]
    if args.config:
        sets += config_sets(args.config, overrides)
    reports = lint_sets(sets)
    for report in reports:
        print(format_report(report, max_issues=args.max_issues))
    if args.json:
        atomic_write_json(args.json, [r.to_dict() for r in reports])
        print(f"report written to {args.json}")
    total = sum(r.n_defects for r in reports)
    for path in skipped:
        hint = " (a multiple-choice table? lint it with --config: kind mc)" * (
            path.suffix.lower() in MC_SUFFIXES
        )
        print(f"skipped {path}: not a supported probe file (.json/.jsonl){hint}")
    print(f"{len(reports)} sets, {total} defects, {len(skipped)} files skipped")
    return 1 if (args.strict and (total or skipped or not reports)) else 0


__all__ = ["lint_paths", "lint_sets", "config_sets", "load_path", "configure", "main"]
