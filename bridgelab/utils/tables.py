"""Row tables (lists of dicts) as CSV (full precision) and Markdown (rounded), written atomically."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from bridgelab.utils.io import atomic_write_text

Row = dict[str, Any]


def format_cell(value: Any) -> str:
    """Missing and NaN as '-', floats to 4 significant digits (3 in scientific notation for the
    very small and the very large), everything else as text."""
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return (
            f"{value:.3g}" if value and (abs(value) < 1e-3 or abs(value) >= 1e5) else f"{value:.4g}"
        )
    return str(value)


def columns(rows: list[Row]) -> list[str]:
    """The union of the rows' keys, in first-seen order."""
    return list(dict.fromkeys(c for r in rows for c in r))


def markdown(rows: list[Row]) -> str:
    if not rows:
        return "(no rows)\n"
    cols = columns(rows)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(format_cell(r.get(c)) for c in cols) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def write_table(rows: list[Row], stem: Path) -> None:
    """``stem.csv`` and ``stem.md``; columns are the union of the rows' keys, in order."""
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=columns(rows), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    atomic_write_text(stem.with_suffix(".csv"), buf.getvalue())
    atomic_write_text(stem.with_suffix(".md"), markdown(rows))
