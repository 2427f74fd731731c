"""The report's exact-count section: the judge's estimate against suffix-array counts.

Shown only when the frequency analysis was run with ``counts:`` (it then wrote
``agreement.{csv,md}``); a report without exact counts is left as it was.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EXPLANATION = (
    "`bridgelab count` counts, in the token shards themselves (a tokengrams suffix array per "
    "shard), the documents that hold both a fact's subject and its answer as whole words "
    "(Kandpal et al. 2023's co-occurrence; answer documents where a probe names no subject). "
    "*spearman* is the rank correlation of that exact count with the judge's occurrences among "
    "the top k, per probe. On a synthetic world, *judge_mae* and *exact_mae* are each one's "
    "mean absolute error against the true number of documents stating the fact "
    "(*judge_mae_capped*: against min(true, k), the most the judge can find)."
)


def section_exact_counts(w: Any, cfg: Any) -> None:
    folder = getattr(cfg, "frequency", None)
    if not folder or not (Path(folder) / "agreement.csv").is_file():
        return
    fdir = Path(folder)
    w.attach(fdir / "agreement.csv")
    w.add(
        "### Exact counts beside the judge",
        "",
        EXPLANATION,
        "",
        (fdir / "agreement.md").read_text(encoding="utf-8"),
        "[csv](csv/agreement.csv)",
        "",
    )
    summary = json.loads((fdir / "summary.json").read_text(encoding="utf-8"))
    if "agreement" in summary:
        w.headline["exact_agreement"] = summary["agreement"]
