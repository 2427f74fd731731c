"""The exact counts of `bridgelab count` beside the retrieval-plus-judge estimate.

With ``counts: <count out_dir>`` the density table gains, per culture and corpus:

- ``exact_mean_cooccur``: mean over the probes of documents holding both subject and answer
  (Kandpal et al. 2023), and ``exact_density`` = that / num_docs, the judge density's twin;
- ``exact_mean_answer_count``: mean occurrences of the answer string.

and :func:`agreement_table` gives, per corpus, the Spearman rank correlation between each
probe's judge occurrences and its exact co-occurrence count (its answer-document count where
no subject is known: real probes) and, on a synthetic world, the mean absolute error of each
against the true number of documents stating the fact. The judge estimate is capped at k, the
exact count is not; ``judge_mae_capped`` compares the judge with min(true, k).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from statistics import mean
from typing import Any

from scipy.stats import spearmanr

from bridgelab.contracts.markers import is_done
from bridgelab.errors import DataError

Row = dict[str, Any]


def read_counts(folder: str | Path) -> dict[tuple[str, str], Row]:
    """{(probe_id, corpus): counts row} of a finished `bridgelab count` folder."""
    folder = Path(folder)
    if not is_done(folder) or not (folder / "counts.jsonl").is_file():
        raise DataError(f"counts: {folder} is not a finished `bridgelab count` folder")
    rows: dict[tuple[str, str], Row] = {}
    with open(folder / "counts.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row.get("probe_id") is not None:
                rows[(str(row["probe_id"]), row["corpus"])] = row
    return rows


def exact_measure(row: Row) -> int | None:
    """Co-occurrence documents, else (no subject) answer documents, else None."""
    value = row.get("cooccur_docs")
    return row.get("answer_docs") if value is None else value


def add_exact_columns(
    density: list[Row], occurrences: list[Row], counts: dict[tuple[str, str], Row]
) -> list[Row]:
    """The density rows with the exact columns after ``density``."""
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for occ in occurrences:
        row = counts.get((occ["probe_id"], occ["corpus"]))
        if row is not None:
            groups[(occ["culture"], occ["corpus"])].append(row)
    out = []
    for row in density:
        found = groups.get((row["culture"], row["corpus"]), [])
        cooccur = [exact_measure(r) for r in found if exact_measure(r) is not None]
        answers = [r["answer_count"] for r in found if r.get("answer_count") is not None]
        per_probe = mean(cooccur) if cooccur else math.nan
        extra = {
            "exact_mean_cooccur": per_probe,
            "exact_density": per_probe / row["num_docs"] if row["num_docs"] else math.nan,
            "exact_mean_answer_count": mean(answers) if answers else math.nan,
        }
        keys = list(row)
        at = keys.index("density") + 1
        out.append({k: {**row, **extra}[k] for k in keys[:at] + list(extra) + keys[at:]})
    return out


def agreement_table(
    occurrences: list[Row],
    counts: dict[tuple[str, str], Row],
    truth: dict[str, Row] | None = None,
    k: int | None = None,
) -> list[Row]:
    """Per corpus: rank agreement of judge and exact counts, and (with truth) their errors."""
    table = []
    for corpus in sorted({o["corpus"] for o in occurrences}):
        pairs = []
        for occ in occurrences:
            row = counts.get((occ["probe_id"], corpus))
            if occ["corpus"] == corpus and row is not None and exact_measure(row) is not None:
                pairs.append((occ["probe_id"], int(occ["occurrences"]), int(exact_measure(row))))
        if not pairs:
            continue
        judge = [j for _, j, _ in pairs]
        exact = [e for _, _, e in pairs]
        first = counts[(pairs[0][0], corpus)]
        out: Row = {
            "corpus": corpus,
            "probes": len(pairs),
            "exact_measure": "answer_docs" if first.get("cooccur_docs") is None else "cooccur_docs",
            "judge_total": sum(judge),
            "exact_total": sum(exact),
            "spearman": _spearman(judge, exact),
        }
        if truth:
            true = [
                int(truth[p]["counts"].get(corpus, 0)) if p in truth else None for p, _, _ in pairs
            ]
            known = [(j, e, t) for (_, j, e), t in zip(pairs, true) if t is not None]
            if known:
                out["true_total"] = sum(t for _, _, t in known)
                out["judge_mae"] = mean(abs(j - t) for j, _, t in known)
                if k is not None:
                    out["judge_mae_capped"] = mean(abs(j - min(t, k)) for j, _, t in known)
                out["exact_mae"] = mean(abs(e - t) for _, e, t in known)
                out["exact_match_rate"] = mean(e == t for _, e, t in known)
        table.append(out)
    return table


def _spearman(a: list[int], b: list[int]) -> float:
    if len(set(a)) < 2 or len(set(b)) < 2:
        return math.nan
    return float(spearmanr(a, b).statistic)
