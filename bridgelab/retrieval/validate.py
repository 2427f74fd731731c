"""Checks of retrieval, judge and counts against a synthetic world's ground truth.

The generator records, for every fact, which documents of each corpus state it
(``ground_truth.jsonl``: ``counts`` and ``doc_ids`` per corpus), which no real corpus allows.
Per corpus this reports:

- ``recall_at_k``: share of the true documents that retrieval returned (micro-averaged);
- ``judge_precision`` / ``judge_recall``: over retrieved documents, the judge's Yes against
  "the document is one of the fact's true documents";
- ``count_mae``, ``count_exact``, ``spearman``: estimated occurrences against the true counts.
  The estimate can never exceed k, so ``capped_mae`` compares with ``min(true, k)`` as well.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from scipy.stats import spearmanr

from bridgelab.contracts.records import read_jsonl_records

Row = dict[str, Any]


def read_ground_truth(path: str | Path) -> dict[str, Row]:
    """{probe_id: ground-truth row} of the probed facts (pair-only facts have no probe)."""
    from bridgelab.contracts.truth import parse_ground_truth_row

    rows = read_jsonl_records(path, parse_ground_truth_row)
    return {str(row["probe_id"]): row for row in rows if row["probe_id"] is not None}


def validation_table(
    truth: dict[str, Row],
    retrieved: dict[tuple[str, str], list[str]],
    labels: dict[tuple[str, str], bool],
    k: int,
) -> list[Row]:
    """One row per corpus; ``retrieved[(probe, corpus)]`` are doc ids, ``labels[(probe, doc)]``."""
    corpora = sorted({corpus for _, corpus in retrieved})
    table = []
    for corpus in corpora:
        found = relevant = tp = fp = fn = 0
        est, true = [], []
        for (probe, c), docs in sorted(retrieved.items()):
            if c != corpus or probe not in truth:
                continue
            gold = set(truth[probe]["doc_ids"].get(corpus, []))
            relevant += len(gold)
            found += len(gold & set(docs))
            for doc in docs:
                said_yes = labels[(probe, doc)]
                tp += said_yes and doc in gold
                fp += said_yes and doc not in gold
                fn += (not said_yes) and doc in gold
            est.append(sum(labels[(probe, d)] for d in docs))
            true.append(int(truth[probe]["counts"].get(corpus, 0)))
        if not est:
            continue
        table.append(
            {
                "corpus": corpus,
                "probes": len(est),
                "true_occurrences": sum(true),
                "estimated_occurrences": sum(est),
                "recall_at_k": found / relevant if relevant else math.nan,
                "judge_precision": tp / (tp + fp) if tp + fp else math.nan,
                "judge_recall": tp / (tp + fn) if tp + fn else math.nan,
                "count_mae": sum(abs(e - t) for e, t in zip(est, true)) / len(est),
                "capped_mae": sum(abs(e - min(t, k)) for e, t in zip(est, true)) / len(est),
                "count_exact": sum(e == t for e, t in zip(est, true)) / len(est),
                "spearman": _spearman(est, true),
                "k": k,
            }
        )
    return table


def _spearman(a: list[int], b: list[int]) -> float:
    if len(set(a)) < 2 or len(set(b)) < 2:
        return math.nan
    return float(spearmanr(a, b).statistic)
