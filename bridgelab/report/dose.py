"""The report's dose-response section: thresholds, the curves figure, transfer per source
count, and the prioritisation and robustness tables of a `bridgelab dose` folder.

The section appears only when the report config names a dose folder (``dose:``), so a report
without one is byte for byte what it was before the section existed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

INTRO = (
    "How accuracy grows with the number of documents that state a fact, on a world that states "
    "each fact a controlled number of times. Each curve reads one question language against one "
    "corpus's count with the other corpus's count at 0 (direction = counted corpus -> question "
    "language): `en->en` and `X->X` are direct knowledge, `en->X` and `X->en` can only be "
    "answered by transfer. The threshold is the count at which the fitted curve says half the "
    "facts are known (docs/dose.md)."
)
# report csv/ names: prefixed, since the transfer section already attaches a curves.csv
ATTACH = {
    "dose.csv": "dose.csv",
    "fit.csv": "dose_fit.csv",
    "curves.csv": "dose_curves.csv",
    "transfer_dose.csv": "dose_transfer.csv",
    "grid.csv": "dose_grid.csv",
    "crossed.csv": "dose_crossed.csv",
    "priority.csv": "dose_priority.csv",
    "robust.csv": "dose_robust.csv",
}


def section_dose(w: Any, cfg: Any) -> None:
    folder = getattr(cfg, "dose", None)
    if not folder:
        return
    ddir = w.open_section(
        "## Dose-response: accuracy against document count",
        folder,
        "summary.json",
        "dose-response analysis (`bridgelab dose`)",
    )
    if ddir is None:
        return
    summary = json.loads((ddir / "summary.json").read_text(encoding="utf-8"))
    for src, name in ATTACH.items():
        w.attach(ddir / src, name=name)
    w.add(INTRO, "", "### Learning thresholds", "", _read(ddir / "fit.md"), "[csv](csv/dose_fit.csv), "
          "[accuracy per count](csv/dose.csv), [fitted curves](csv/dose_curves.csv)", "")  # fmt: skip
    w.image(ddir / "dose.png", "Accuracy against document count", name="dose.png")
    if summary.get("transfer_rows"):
        w.add("### Transfer against source-corpus count", "", _read(ddir / "transfer_dose.md"),
              "[csv](csv/dose_transfer.csv)", "")  # fmt: skip
        w.image(ddir / "transfer_dose.png", "Transfer against source count",
                name="dose_transfer.png")  # fmt: skip
    if summary.get("crossed"):
        w.add("### Transfer on the whole crossed design", "", _read(ddir / "crossed.md"),
              "[csv](csv/dose_crossed.csv)", "")  # fmt: skip
    if summary.get("grid_cells"):
        w.add("### The crossed design: accuracy per English x native count", "",
              _read(ddir / "grid.md"), "[csv](csv/dose_grid.csv)", "")  # fmt: skip
    if summary.get("priority_cells"):
        w.add("### Prioritisation: which corpus's value each question language answers", "",
              _read(ddir / "priority.md"), "[csv](csv/dose_priority.csv)", "")  # fmt: skip
    if summary.get("robust_cells"):
        w.add("### Robustness: true against wrong statements", "", _read(ddir / "robust.md"),
              "[csv](csv/dose_robust.csv)", "")  # fmt: skip
    w.headline["dose_thresholds"] = [
        {
            k: t.get(k)
            for k in (
                "culture_lang",
                "direction",
                "setting",
                "step",
                "threshold",
                "threshold_low",
                "threshold_high",
                "status",
            )
        }
        for t in summary.get("thresholds", [])
    ]


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else "_(missing)_\n"
