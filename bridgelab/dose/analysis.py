"""Dose-response tables: accuracy per count, fitted curves, thresholds, transfer per count,
and the prioritisation and robustness tables of the dose worlds.

A *curve* is one question language read against one corpus's count, holding the other corpus's
count at zero, so that only the counted corpus can have taught the fact:

=================  ==============  ===========  ======================================
direction          questions       counted      reads
=================  ==============  ===========  ======================================
``en->en``         English         English      direct knowledge (English)
``X->X``           native          native       direct knowledge (native)
``en->X``          native          English      transfer English -> X
``X->en``          English         native       transfer X -> English
=================  ==============  ===========  ======================================

Priority and robust facts state competing values, so they stay out of the curves.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bridgelab.dose.fit import Fit, fit_dose, wilson
from bridgelab.probes.transfer import compare

GROUP = ["culture_lang", "direction", "role", "question_lang", "corpus", "setting", "step"]
CURVE_DESIGNS = ("ordinary", "dose")


def curve_rows(merged: pd.DataFrame) -> pd.DataFrame:
    """Each result row once per curve it belongs to, with its ``count`` on that curve."""
    rows = merged[merged["design"].isin(CURVE_DESIGNS)]
    parts = []
    for questions in ("en", "native"):
        for corpus in ("en", "native"):
            other = "native" if corpus == "en" else "en"
            part = rows[(rows["questions"] == questions) & (rows[f"count_{other}"] == 0)]
            if part.empty:
                continue
            code = np.where(corpus == "en", "en", part["culture_lang"])
            qcode = np.where(questions == "en", "en", part["culture_lang"])
            parts.append(
                part.assign(
                    count=part[f"count_{corpus}"],
                    corpus=code,
                    direction=[f"{c}->{q}" for c, q in zip(code, qcode)],
                    role="direct" if questions == corpus else "transfer",
                )
            )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def dose_table(curves: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per group and count: rows (items x seeds), facts, accuracy and its Wilson interval."""
    out = []
    for key, g in curves.groupby([*GROUP, "count"], sort=True):
        lo, hi = wilson(float(g["correct"].sum()), len(g), level)
        out.append({**dict(zip([*GROUP, "count"], key)), "n": len(g),
                    "facts": g["item_id"].nunique(), "accuracy": float(g["correct"].mean()),
                    "ci_low": lo, "ci_high": hi, "chance": float(g["chance"].mean())})  # fmt: skip
    return pd.DataFrame(out)


def grid_table(merged: pd.DataFrame) -> pd.DataFrame:
    """Dose facts only: accuracy per question language and (English count, native count) cell,
    the whole crossed design (the curves use its two edges)."""
    rows = merged[merged["design"] == "dose"]
    if rows.empty:
        return pd.DataFrame()
    by = ["culture_lang", "question_lang", "setting", "step", "count_en", "count_native"]
    table = rows.groupby(by, sort=True).agg(n=("correct", "size"), facts=("item_id", "nunique"),
                                            accuracy=("correct", "mean"))  # fmt: skip
    return table.reset_index()


def fit_groups(
    curves: pd.DataFrame, *, floor: str, n_boot: int, level: float, seed: int
) -> tuple[pd.DataFrame, dict[tuple, Fit]]:
    """One fit per group: the fit table and the fits themselves (for the figure)."""
    rows, fits = [], {}
    for key, g in curves.groupby(GROUP, sort=True):
        c = float(g["chance"].mean()) if floor == "chance" else 0.0
        fit = fit_dose(g["count"].to_numpy(), g["correct"].to_numpy(), g["item_id"].to_numpy(),
                       floor=c, n_boot=n_boot, level=level, seed=seed)  # fmt: skip
        fits[key] = fit
        counts = sorted(set(g["count"]))
        rows.append({**dict(zip(GROUP, key)), "n": len(g), "facts": g["item_id"].nunique(),
                     "levels": len(counts), "min_count": counts[0], "max_count": counts[-1],
                     "floor": c, "a": fit.a, "b": fit.b, "a_se": fit.a_se, "b_se": fit.b_se,
                     "threshold": fit.threshold, "threshold_low": fit.threshold_low,
                     "threshold_high": fit.threshold_high, "status": fit.status,
                     "note": fit.note})  # fmt: skip
    return pd.DataFrame(rows), fits


def transfer_by_count(
    curves: pd.DataFrame, *, baseline: str, treatments: list[str], n_boot: int, seed: int
) -> pd.DataFrame:
    """Treatment minus baseline on each transfer curve, per source count, paired over items and
    seeds (the transfer stage's test, one count level at a time)."""
    rows = curves[curves["role"] == "transfer"].rename(columns={"correct": "credit"})
    out = []
    for (culture, dirn, count), g in rows.groupby(["culture_lang", "direction", "count"]):
        base = g[g["setting"] == baseline]
        for treatment in treatments:
            treat = g[g["setting"] == treatment]
            for step in sorted(set(treat["step"]) & set(base["step"])):
                res = compare(treat[treat["step"] == step], base[base["step"] == step],
                              n_boot=n_boot or 1000, seed=seed)  # fmt: skip
                if res is not None:
                    out.append({"culture_lang": culture, "direction": dirn, "count": count,
                                "treatment": treatment, "baseline": baseline, "step": step,
                                **res})  # fmt: skip
    return pd.DataFrame(out)


def _choice(merged: pd.DataFrame, options: dict[str, dict[str, int]], keys: list[str]) -> pd.Series:
    """Which value each row answered: the first of ``keys`` whose option index is ``pred``."""

    def pick(row: Any) -> str:
        index = options[row["item_id"]]
        for key in keys:
            if index.get(key) == row["pred"]:
                return key
        return "other"

    return merged.apply(pick, axis=1)


def _shares(rows: pd.DataFrame, by: list[str], labels: dict[str, str]) -> pd.DataFrame:
    out = []
    for key, g in rows.groupby(by, sort=True):
        rec = {**dict(zip(by, key)), "n": len(g), "facts": g["item_id"].nunique()}
        for choice, column in labels.items():
            rec[column] = float((g["choice"] == choice).mean())
        out.append(rec)
    return pd.DataFrame(out)


def priority_table(merged: pd.DataFrame, options: dict[str, dict[str, int]]) -> pd.DataFrame:
    """Share answering the English-corpus value, the native-corpus value or another option, per
    question language and (English count, native count) cell."""
    rows = merged[merged["design"] == "priority"]
    if rows.empty:
        return pd.DataFrame()
    rows = rows.assign(choice=_choice(rows, options, ["object", "alt_object"]))
    by = ["culture_lang", "question_lang", "setting", "step", "count_en", "count_native"]
    labels = {"object": "english_value", "alt_object": "native_value", "other": "other"}
    return _shares(rows, by, labels)


def robust_table(merged: pd.DataFrame, options: dict[str, dict[str, int]]) -> pd.DataFrame:
    """Share answering the true value, the wrong value or another option, per true:wrong ratio."""
    rows = merged[merged["design"] == "robust"]
    if rows.empty:
        return pd.DataFrame()
    rows = rows.assign(choice=_choice(rows, options, ["object", "wrong_object"]))
    rows = rows.astype({"true_count": int, "wrong_count": int})
    by = ["culture_lang", "question_lang", "setting", "step", "corpora", "true_count",
          "wrong_count"]  # fmt: skip
    labels = {"object": "true_value", "wrong_object": "wrong_value", "other": "other"}
    table = _shares(rows, by, labels)
    with np.errstate(divide="ignore"):
        table.insert(7, "ratio", table["true_count"] / table["wrong_count"].astype(float))
    majority = np.sign(table["true_count"] - table["wrong_count"])
    table["majority"] = majority.map({1: "true", -1: "wrong", 0: "tie"})
    table["follows_majority"] = np.where(
        majority > 0, table["true_value"], np.where(majority < 0, table["wrong_value"], np.nan)
    )
    return table.sort_values([*by[:5], "ratio"]).reset_index(drop=True)


def true_wins_from(robust: pd.DataFrame) -> pd.DataFrame:
    """Per culture, question language and setting: the smallest true:wrong ratio from which the
    true value is answered more often than the wrong one at that ratio and every larger one."""
    out = []
    keys = ["culture_lang", "question_lang", "setting", "step", "corpora"]
    for key, g in robust.groupby(keys, sort=True):
        g = g.sort_values("ratio")
        wins = (g["true_value"] > g["wrong_value"]).to_numpy()
        # the last losing ratio; the true value wins from the next one on
        losing = np.flatnonzero(~wins)
        start = 0 if not len(losing) else losing[-1] + 1
        if start < len(g):
            first = g.iloc[start]
            ratio, cell = float(first["ratio"]), f"{first['true_count']}:{first['wrong_count']}"
        else:
            ratio, cell = float("nan"), ""
        out.append({**dict(zip(keys, key)), "true_wins_from_ratio": ratio,
                    "true_wins_from": cell})  # fmt: skip
    return pd.DataFrame(out)
