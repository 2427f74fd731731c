"""The probe linter: content defects of cloze items, and the distribution of the answer's position.

A blank is any run of underscores (``_+``), the same rule the paper's scorer uses to place the
option, so the linter and the scorers agree on where (and whether) a blank is. Defects are
reported, never repaired; the scorers apply the policy documented in docs/probes.md.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from scipy.stats import chisquare

from bridgelab.data.records import BLANK, ProbeItem

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
