"""Transfer on the whole crossed design: does the other corpus's count raise accuracy, holding
the question language's own count fixed?

A curve (``analysis``) reads one edge of an English x native dose square, 1/6 of its facts on a
six-step ladder. Every dose fact can instead enter one fit per question language:

    accuracy = c + (1 - c) * sigmoid(a + b_own * log2(own + 1) + b_other * log2(other + 1))

``own`` is the count in the question's language, ``other`` the count in the other corpus. Since
the design crosses the two counts, ``b_other`` is the causal effect of stating a fact in the
other corpus on answering it in this language: transfer, in log-odds of knowing per doubling.
Bridge minus no bridge on ``b_other`` is paired: both settings are fitted on the same bootstrap
draws of facts (same facts, same seed), so the difference's interval is a paired one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bridgelab.dose.fit import SEPARATION_SPAN, fisher_scoring, percentile_interval, to_x

KEYS = ["culture_lang", "question_lang", "setting", "step"]


def _design(g: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cells (own, other) as design rows, and per fact its cell, credits and rows."""
    own = np.where(g["questions"] == "en", g["count_en"], g["count_native"])
    other = np.where(g["questions"] == "en", g["count_native"], g["count_en"])
    cells, cell_of = np.unique(np.stack([to_x(own), to_x(other)], 1), axis=0, return_inverse=True)
    facts, fact_of = np.unique(g["item_id"].astype(str).to_numpy(), return_inverse=True)
    fact_cell = np.zeros(len(facts), dtype=int)
    fact_cell[fact_of] = cell_of.ravel()
    credit = np.bincount(fact_of, weights=g["correct"].to_numpy(float), minlength=len(facts))
    rows = np.bincount(fact_of, minlength=len(facts)).astype(float)
    design = np.column_stack([np.ones(len(cells)), cells])
    return design, fact_cell, credit, rows


def _fit(
    g: pd.DataFrame, floor: float, n_boot: int, seed: int
) -> tuple[np.ndarray, np.ndarray, bool, float]:
    """The point estimate, ``n_boot`` refits on facts drawn with replacement, whether the point
    estimate is identified (converged, no coefficient running off to a step), and the share of
    refits that are not."""
    design, fact_cell, credit, rows = _design(g)
    onehot = np.zeros((len(fact_cell), len(design)))
    onehot[np.arange(len(fact_cell)), fact_cell] = 1.0
    weights = [np.ones((1, len(fact_cell)))]
    if n_boot:
        draws = np.random.default_rng(seed).integers(0, len(fact_cell), (n_boot, len(fact_cell)))
        weights.append(np.stack([np.bincount(d, minlength=len(fact_cell)) for d in draws]))
    w = np.concatenate(weights).astype(float)
    beta, conv = fisher_scoring(design, w @ (credit[:, None] * onehot),
                                w @ (rows[:, None] * onehot), floor)  # fmt: skip
    span = np.ptp(design[:, 1:], axis=0)
    ok = conv & (np.abs(beta[:, 1:]) * span <= SEPARATION_SPAN).all(axis=1)
    return beta[0], beta[1:], bool(ok[0]), float(1 - ok[1:].mean()) if n_boot else 0.0


def crossed_table(
    merged: pd.DataFrame, *, floor: str, baseline: str, treatments: list[str], n_boot: int,
    level: float, seed: int,
) -> pd.DataFrame:  # fmt: skip
    """One row per culture, question language, setting and step (the dose facts of a crossed
    design), then one per treatment: treatment minus baseline on ``b_other``."""
    rows = merged[merged["design"] == "dose"]
    if rows.empty or rows["count_en"].nunique() < 2 or rows["count_native"].nunique() < 2:
        return pd.DataFrame()
    out: list[dict[str, Any]] = []
    boots: dict[tuple, tuple[frozenset, float, np.ndarray]] = {}
    for key, g in rows.groupby(KEYS, sort=True):
        c = float(g["chance"].mean()) if floor == "chance" else 0.0
        point, reps, identified, runaway = _fit(g, c, n_boot, seed)
        status = "estimated" if identified else "not identified"
        if identified and runaway > 0.05:
            # the interval then mixes in resamples whose coefficients are no estimates
            status = f"unstable: {runaway:.0%} of resamples not identified"
        rec = {**dict(zip(KEYS, key)), "comparison": "", "facts": g["item_id"].nunique(),
               "n": len(g), "floor": c,
               "status": status}  # fmt: skip
        for i, name in ((1, "b_own"), (2, "b_other")):
            lo, hi = (
                percentile_interval(reps[:, i], level)
                if len(reps) and identified
                else (np.nan,) * 2
            )
            value = point[i] if identified else np.nan  # the last iterate is no estimate
            rec.update({name: value, f"{name}_low": lo, f"{name}_high": hi})
        if status == "estimated":  # a difference needs both intervals to be of estimates
            boots[key] = (frozenset(g["item_id"]), float(point[2]), reps[:, 2])
        out.append(rec)
    for (culture, qlang, setting, step), (facts, point, reps) in boots.items():
        base = boots.get((culture, qlang, baseline, step))
        # paired only on the same facts: then both fits saw the same bootstrap draws
        if setting not in treatments or base is None or base[0] != facts or not len(reps):
            continue
        lo, hi = percentile_interval(reps - base[2], level)
        out.append({"culture_lang": culture, "question_lang": qlang, "setting": setting,
                    "step": step, "comparison": f"{setting} - {baseline}",
                    "facts": len(facts), "b_other": point - base[1], "b_other_low": lo,
                    "b_other_high": hi, "status": "paired difference"})  # fmt: skip
    table = pd.DataFrame(out)
    # English questions read the native count's effect (X->en), native ones English's (en->X)
    direction = [f"{c}->en" if q == "en" else f"en->{c}"
                 for c, q in zip(table["culture_lang"], table["question_lang"])]  # fmt: skip
    table.insert(1, "transfer", direction)
    return table
