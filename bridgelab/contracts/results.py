"""Accuracy tables from item-level rows, every accuracy beside its null model and chance.

A scorer or probe set that lets a randomly initialised model score above chance (answer
position, option length, ties) is flagged in the ``null_flag`` column of every table, so it
cannot hide in a footnote.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bridgelab.contracts.records import read_json_objects
from bridgelab.contracts.settings import NULL_SETTING
from bridgelab.errors import DataError
from bridgelab.utils.stats import bootstrap_mean_ci

GROUP = [
    "run",
    "run_lang",
    "setting",
    "seed",
    "step",
    "probe_set",
    "culture_lang",
    "question_lang",
    "scorer",
]
NULL_FLAG = "NULL>CHANCE"


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    return read_json_objects(path)


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV table written by the probe or transfer stage, read back as it was written: an
    unflagged row's ``null_flag`` is an empty cell, which pandas reads as NaN and a report then
    prints as "nan" in every row; it is the empty string again here."""
    frame = pd.read_csv(path)
    if "null_flag" in frame.columns:
        frame["null_flag"] = frame["null_flag"].astype(object).fillna("").astype(str)
    return frame


def chance_credit(options: Iterable[str], answer: str) -> float:
    """Expected credit of a uniform guess among the distinct options."""
    distinct = set(options)
    return 1.0 / len(distinct) if answer in distinct else 0.0


def summarize(rows: list[dict[str, Any]], *, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """One line per (run, step, probe set, scorer): accuracy with a bootstrap CI, ties,
    accuracy under option permutations, and the null model's accuracy and chance beside it."""
    if not rows:
        raise DataError("no item-level rows to summarise")
    df = pd.DataFrame(rows)
    group = GROUP
    if "options_lang" in df.columns:
        # mixed-language rows (bridgelab.probes.mixed) are told apart by their options'
        # language; a matched row's options are in its question's language. Without mixed
        # rows the table keeps its columns, so earlier summaries stay byte-identical.
        df["options_lang"] = df["options_lang"].fillna(df["question_lang"])
        group = [*GROUP, "options_lang"]
    out = []
    for key, g in df.groupby(group, sort=True, dropna=False):
        lo, hi = bootstrap_mean_ci(g["correct"].to_numpy(), n_boot=n_boot, seed=seed)
        perm = g["perm_correct"].dropna()
        out.append(
            {
                **dict(zip(group, key)),
                "n": len(g),
                "accuracy": g["correct"].mean(),
                "ci_low": lo,
                "ci_high": hi,
                "perm_accuracy": perm.mean() if len(perm) else np.nan,
                "ties": int(g["tie"].sum()),
                "tie_decided": int(g["tie_decided"].sum()),
                "chance": g["chance"].mean(),
            }
        )
    table = pd.DataFrame(out)
    return attach_null(table)


def attach_null(table: pd.DataFrame) -> pd.DataFrame:
    """Add the null model's accuracy (same probe set and scorer) and flag null > chance."""
    null = table[table["setting"] == NULL_SETTING]
    keys = ["probe_set", "scorer"]
    ref = null.groupby(keys).agg(null_accuracy=("accuracy", "mean"), null_ci_low=("ci_low", "min"))
    table = table.join(ref, on=keys)
    above = table["null_ci_low"] > table["chance"]
    table["null_flag"] = np.where(above, NULL_FLAG, "")
    return table.drop(columns=["null_ci_low"])
