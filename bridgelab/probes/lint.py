"""The probe linter: content defects of cloze items, and the distribution of the answer's position.

A blank is any run of underscores (``_+``), the same rule the paper's scorer uses to place the
option, so the linter and the scorers agree on where (and whether) a blank is. Defects are
reported, never repaired; the scorers apply the policy documented in docs/probes.md.

The command, `bridgelab lint-probes PATH...`: lint probe files or folders and print what is wrong.

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
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from scipy.stats import chisquare

from bridgelab.contracts.probe_sets import (
    MC_SUFFIXES,
    ProbeSet,
    load_lnewknow,
    load_paper_set,
    load_synthetic_set,
)
from bridgelab.contracts.records import BLANK, ProbeItem
from bridgelab.errors import ConfigError, DataError
from bridgelab.utils.io import atomic_write_json, iter_lines

BLANK_RE = re.compile(r"_+")
# Defects that change what a scorer computes; "nonstandard_blank" (a blank unlike the set's
# usual one) is style only: every run of underscores is a blank to the scorers.
DEFECT_KINDS = (
    "no_blank",
    "multiple_blanks",
    "answer_not_in_options",
    "duplicate_options",
    "empty_option",
    "option_count",
    "answer_index_mismatch",
)
STYLE_KINDS = ("nonstandard_blank",)


@dataclass(frozen=True)
class Issue:
    item_id: str
    index: int  # position of the item in its set (the paper's files have no ids)
    kind: str
    detail: str


@dataclass
class LintReport:
    name: str
    n_items: int
    issues: list[Issue] = field(default_factory=list)
    position_counts: dict[int, int] = field(default_factory=dict)
    position_p_value: float | None = None  # chi-square test of a uniform answer position

    def count(self, kind: str) -> int:
        return sum(1 for i in self.issues if i.kind == kind)

    @property
    def n_defects(self) -> int:
        return sum(1 for i in self.issues if i.kind in DEFECT_KINDS)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "n_items": self.n_items,
            "counts": {k: self.count(k) for k in DEFECT_KINDS + STYLE_KINDS},
            "position_counts": {str(k): v for k, v in sorted(self.position_counts.items())},
            "position_p_value": self.position_p_value,
            "issues": [vars(i) for i in self.issues],
        }


def blank_runs(question: str) -> list[str]:
    return BLANK_RE.findall(question)


def lint(items: list[ProbeItem] | tuple[ProbeItem, ...], *, name: str = "probes") -> LintReport:
    """Find items with no or several blanks, a missing answer, duplicate or empty options, an
    unusual number of options; count where the answer sits and test that against uniform."""
    report = LintReport(name=name, n_items=len(items))
    n_options = Counter(len(it.options) for it in items)
    usual = n_options.most_common(1)[0][0] if items else 0
    # The set's own usual blank (the paper writes "____"), so only the outliers are flagged.
    blank_forms = Counter(r for it in items for r in blank_runs(it.question))
    usual_blank = blank_forms.most_common(1)[0][0] if blank_forms else BLANK
    positions: Counter[int] = Counter()
    for i, it in enumerate(items):
        add = lambda kind, detail, it=it, i=i: report.issues.append(Issue(it.id, i, kind, detail))  # noqa: E731
        runs = blank_runs(it.question)
        if not runs:
            add("no_blank", f"no blank in {it.question[:80]!r}")
        elif len(runs) > 1:
            add("multiple_blanks", f"{len(runs)} blanks {runs} in {it.question[:80]!r}")
        if any(r != usual_blank for r in runs):
            forms = ", ".join(repr(r) for r in runs)
            add(
                "nonstandard_blank",
                f"blank written as {forms} (the set mostly uses {usual_blank!r})",
            )
        if it.answer_index is None:
            add("answer_not_in_options", f"answer {it.answer!r} not among {list(it.options)}")
        else:
            positions[it.answer_index] += 1
        dups = sorted(o for o, c in Counter(it.options).items() if c > 1)
        if dups:
            add("duplicate_options", f"options repeated: {dups}")
        if any(not o.strip() for o in it.options):
            add("empty_option", f"an empty option in {list(it.options)}")
        if len(it.options) != usual:
            add("option_count", f"{len(it.options)} options where the set usually has {usual}")
    report.position_counts = {k: positions.get(k, 0) for k in range(usual)} if usual else {}
    observed = list(report.position_counts.values())
    if sum(observed) > 0 and len(observed) > 1:
        report.position_p_value = float(chisquare(observed).pvalue)
    return report


def lint_aligned(native: LintReport, native_items, english_items) -> None:
    """Add to ``native`` the items whose answer sits at a different option index in the two
    languages (a translation that reordered or changed options breaks the pairing)."""
    by_id = {it.id: it for it in english_items}
    for i, it in enumerate(native_items):
        other = by_id.get(it.id)
        if other is None:
            continue
        a, b = it.answer_index, other.answer_index
        if a != b:
            native.issues.append(
                Issue(
                    it.id, i, "answer_index_mismatch", f"answer index {a} ({it.lang}) vs {b} (en)"
                )
            )


def format_report(report: LintReport, *, max_issues: int = 50) -> str:
    """A human-readable summary: counts per defect, the answer positions, then the issues."""
    lines = [f"== {report.name}: {report.n_items} items, {report.n_defects} defects"]
    counts = {k: report.count(k) for k in DEFECT_KINDS + STYLE_KINDS if report.count(k)}
    if counts:
        lines.append("   " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    total = sum(report.position_counts.values()) or 1
    pos = ", ".join(f"{k}: {v} ({v / total:.0%})" for k, v in report.position_counts.items())
    line = f"   answer position: {pos}"
    p = report.position_p_value
    if p is not None:
        line += f"; chi-square vs uniform p={p:.3g}" + (" -> BIASED" if p < 0.01 else "")
    lines.append(line)
    shown = [i for i in report.issues if i.kind in DEFECT_KINDS][:max_issues]
    for issue in shown:
        lines.append(f"   [{issue.index}] {issue.item_id} {issue.kind}: {issue.detail}")
    hidden = report.n_defects - len(shown)
    if hidden > 0:
        lines.append(f"   ... and {hidden} more (see --json)")
    return "\n".join(lines)


# --- the command: `bridgelab lint-probes` ---------------------------------------------------

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
