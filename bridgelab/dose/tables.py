"""Markdown renderings of the dose tables (fit.md, transfer_dose.md, priority.md, robust.md)."""

from __future__ import annotations

import math

import pandas as pd

FLOOR_NOTE = {
    "chance": "Fit: accuracy = chance + (1 - chance) x sigmoid(a + b log2(count + 1)); the "
    "threshold is the count at which half the facts are known beyond guessing (accuracy 62.5% "
    "with four options).",
    "none": "Fit: accuracy = sigmoid(a + b log2(count + 1)); the threshold is the count at "
    "which accuracy reaches 50%.",
}


def _count(x: float, lo: float, hi: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "?"
    if x > hi:
        return f">{hi:g}"
    if x < lo:
        return f"<{lo:g}"
    return f"{x:.1f}"


def threshold_cell(r: pd.Series) -> str:
    """The threshold with its interval, bounds outside the ladder written as ``<min`` / ``>max``."""
    lo, hi = float(r["min_count"]), float(r["max_count"])
    ci = f"[{_count(r['threshold_low'], lo, hi)}, {_count(r['threshold_high'], lo, hi)}]"
    if r["status"] == "estimated":
        return f"{r['threshold']:.1f} {ci}"
    if r["status"] == "separation":
        return f"between {r['threshold_low']:g} and {r['threshold_high']:g} (separation)"
    if r["status"] in ("not reached", "below the ladder"):
        if math.isnan(float(r["threshold"])):  # a step fit: only the bound is known
            bound = f">{hi:g}" if r["status"] == "not reached" else f"<={lo:g}"
            return f"{r['status']} ({bound})"
        return f"{r['status']} {ci}"
    return r["status"]


def fit_markdown(fits: pd.DataFrame, floor: str, level: float, n_boot: int) -> str:
    if fits.empty:
        return "_No curve: no probed fact of an ordinary or dose design has results._\n"
    interval = (
        f"{level:.0%} bootstrap percentile interval over facts ({n_boot} resamples)"
        if n_boot
        else f"{level:.0%} delta-method interval from the coefficient covariance"
    )
    lines = [
        "| culture | direction | role | setting | step | facts | counts | slope b | "
        f"threshold (count) [{level:.0%} CI] |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for _, r in fits.iterrows():
        slope = "n/a" if math.isnan(r["b"]) else f"{r['b']:.2f}"
        lines.append(
            f"| {r['culture_lang']} | {r['direction']} | {r['role']} | {r['setting']} | "
            f"{r['step']} | {r['facts']} | {r['min_count']:g}-{r['max_count']:g} "
            f"({r['levels']} levels) | {slope} | {threshold_cell(r)} |"
        )
    lines += ["", f"{FLOOR_NOTE[floor]} Interval: {interval}. Direction = counted corpus -> "
              "question language; the other corpus's count is 0 on every curve. `not reached`: "
              "the fitted threshold lies above the largest count of the ladder."]  # fmt: skip
    notes = fits[fits["note"] != ""]
    for _, r in notes.drop_duplicates(["direction", "setting", "note"]).iterrows():
        lines.append(f"- {r['culture_lang']} {r['direction']} {r['setting']}: {r['note']}.")
    return "\n".join(lines) + "\n"


def transfer_markdown(table: pd.DataFrame) -> str:
    if table.empty:
        return "_No transfer curve holds both settings._\n"
    lines = ["| culture | direction | source count | treatment | step | items x seeds | with | "
             "without | diff [95% CI] | McNemar p |", "|" + "---|" * 10]  # fmt: skip
    for _, r in table.iterrows():
        lines.append(
            f"| {r['culture_lang']} | {r['direction']} | {r['count']} | {r['treatment']} | "
            f"{r['step']} | {r['n_items']} x {r['n_seeds']} | {100 * r['acc_treatment']:.1f} | "
            f"{100 * r['acc_baseline']:.1f} | {100 * r['diff']:+.1f} "
            f"[{100 * r['ci_low']:+.1f}, {100 * r['ci_high']:+.1f}] | {r['p_value']:.3g} |"
        )
    lines += ["", "Accuracy in %; the difference is paired over items and seeds (items "
              "resampled), McNemar counts full credit only; p is not corrected."]  # fmt: skip
    return "\n".join(lines) + "\n"


def _pct(x: float) -> str:
    return "n/a" if pd.isna(x) else f"{100 * x:.0f}"


def priority_markdown(table: pd.DataFrame) -> str:
    if table.empty:
        return "_No priority facts in this world._\n"
    lines = ["| culture | questions | setting | step | English count | native count | n | "
             "English value | native value | other |", "|" + "---|" * 10]  # fmt: skip
    for _, r in table.iterrows():
        lines.append(
            f"| {r['culture_lang']} | {r['question_lang']} | {r['setting']} | {r['step']} | "
            f"{r['count_en']} | {r['count_native']} | {r['n']} | {_pct(r['english_value'])} | "
            f"{_pct(r['native_value'])} | {_pct(r['other'])} |"
        )
    lines += ["", "Share of answers (%, items x seeds) naming the value the English corpus "
              "states, the value the native corpus states, or one of the two other options "
              "(chance: 25% each)."]  # fmt: skip
    return "\n".join(lines) + "\n"


def robust_markdown(table: pd.DataFrame, wins: pd.DataFrame) -> str:
    if table.empty:
        return "_No robust facts in this world._\n"
    lines = ["| culture | questions | setting | step | corpora | true:wrong | n | true value | "
             "wrong value | other |", "|" + "---|" * 10]  # fmt: skip
    for _, r in table.iterrows():
        lines.append(
            f"| {r['culture_lang']} | {r['question_lang']} | {r['setting']} | {r['step']} | "
            f"{r['corpora']} | {r['true_count']}:{r['wrong_count']} | {r['n']} | "
            f"{_pct(r['true_value'])} | {_pct(r['wrong_value'])} | {_pct(r['other'])} |"
        )
    lines += ["", "Share of answers (%, items x seeds) naming the true value, the wrong value "
              "stated beside it, or another option."]  # fmt: skip
    for _, r in wins.iterrows():
        cell = r["true_wins_from"]
        said = f"from true:wrong = {cell} on" if cell else "at no ratio"
        lines.append(f"- {r['culture_lang']} {r['question_lang']} questions, {r['setting']} "
                     f"({r['corpora']}): the true value wins {said}.")  # fmt: skip
    return "\n".join(lines) + "\n"


def grid_markdown(table: pd.DataFrame) -> str:
    """One pivot per culture, question language, setting and step: rows = English count,
    columns = native count, cells = accuracy (%)."""
    if table.empty:
        return "_No dose facts in this world._\n"
    lines = []
    for (culture, qlang, setting, step), g in table.groupby(
        ["culture_lang", "question_lang", "setting", "step"], sort=True
    ):
        pivot = g.pivot(index="count_en", columns="count_native", values="accuracy")
        lines += [f"**{culture}, {qlang} questions, {setting}, step {step}** "
                  "(rows: English count, columns: native count)", "",
                  "| en \\ native | " + " | ".join(str(c) for c in pivot.columns) + " |",
                  "|---" * (len(pivot.columns) + 1) + "|"]  # fmt: skip
        for count, row in pivot.iterrows():
            # a cell the design does not have stays empty
            cells = ("" if pd.isna(v) else f"{100 * v:.0f}" for v in row)
            lines.append(f"| {count} | " + " | ".join(cells) + " |")
        lines.append("")
    lines.append("Accuracy in % over the facts of each cell and the seeds.")
    return "\n".join(lines) + "\n"


def _coef(r: pd.Series, name: str) -> str:
    if pd.isna(r[name]):
        return "n/a"
    return f"{r[name]:+.2f} [{r[f'{name}_low']:+.2f}, {r[f'{name}_high']:+.2f}]"


def crossed_markdown(table: pd.DataFrame, level: float) -> str:
    if table.empty:
        return "_No crossed dose design in this world._\n"
    lines = ["| culture | transfer | questions | setting | step | facts | b_own "
             f"[{level:.0%} CI] | b_other [{level:.0%} CI] |", "|" + "---|" * 8]  # fmt: skip
    for _, r in table.iterrows():
        setting = r["comparison"] or r["setting"]
        own = "" if r["comparison"] else _coef(r, "b_own")
        status = "" if r["status"] in ("estimated", "paired difference") else f" ({r['status']})"
        lines.append(
            f"| {r['culture_lang']} | {r['transfer']} | {r['question_lang']} | {setting} | "
            f"{r['step']} | {r['facts']} | {own}{status} | {_coef(r, 'b_other')} |"
        )
    lines += ["", "Fit on every dose fact: accuracy = chance + (1 - chance) x sigmoid(a + b_own "
              "log2(own + 1) + b_other log2(other + 1)), own = documents in the question's "
              "language, other = documents in the other corpus. b_other > 0: stating a fact in "
              "the other corpus raises accuracy at a fixed own count (transfer), in log-odds of "
              "knowing per doubling. Bootstrap percentile intervals over facts; a difference "
              "row is paired (both settings fitted on the same draws of the same facts)."]  # fmt: skip
    return "\n".join(lines) + "\n"
