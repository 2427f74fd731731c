"""The synthetic world's ground truth (``<world>/ground_truth.jsonl``, docs/CONTRACTS.md).

One row per fact: ``fact_id``, ``probe_id``, ``culture``, ``lang``, ``subject``, ``relation``,
``object``, and per corpus the true number of documents stating it (``counts``) and their ids
(``doc_ids``); worlds with a design add ``design``, ``statements``, ``doc_ids_by_value`` and
``alt_object`` or ``wrong_object``. `bridgelab synth` writes it; dose, count, frequency and the
calibration read it with :func:`load_ground_truth` / :func:`parse_ground_truth_row`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bridgelab.contracts.records import read_jsonl_records
from bridgelab.errors import DataError

GROUND_TRUTH = "ground_truth.jsonl"


GROUND_TRUTH_KEYS = (
    "fact_id",
    "probe_id",
    "culture",
    "lang",
    "subject",
    "relation",
    "object",
    "counts",
    "doc_ids",
)


def parse_ground_truth_row(row: dict[str, Any], where: str) -> dict[str, Any]:
    """Check one ground-truth row (the keys every consumer relies on)."""
    missing = [k for k in GROUND_TRUTH_KEYS if k not in row]
    if missing:
        raise DataError(f"{where}: missing key '{missing[0]}'")
    if not isinstance(row["counts"], dict) or not isinstance(row["doc_ids"], dict):
        raise DataError(f"{where}: 'counts' and 'doc_ids' must be mappings")
    return row


def load_ground_truth(world_dir: str | Path) -> list[dict[str, Any]]:
    """The rows of ``<world>/ground_truth.jsonl``; a missing file or bad row is a DataError."""
    return list(read_jsonl_records(Path(world_dir) / GROUND_TRUTH, parse_ground_truth_row))
