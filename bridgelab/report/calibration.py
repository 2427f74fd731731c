"""The report's calibration section: the positive control, and where the CPT runs stand on it.

A null result is read against this section: the oracle family shows which transfer accuracy the
probes reach when the clone's embeddings are exactly English's, and from which alignment on they
see transfer at all; the CPT grid's own alignment is then placed on the same scale.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd


def _fmt(x: Any, spec: str = ".2f") -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def section_calibration(w: Any, cfg: Any) -> None:
    cdir = w.open_section(
        "## Calibration: does the instrument see transfer?",
        getattr(cfg, "calibrate", None),
        "summary.json",
        "calibration (`bridgelab calibrate`)",
    )
    if cdir is None:
        return
    summary = json.loads((cdir / "summary.json").read_text(encoding="utf-8"))
    w.add(
        "A positive control whose transfer is known by construction. The tokenizer gives every "
        "English token a twin in a clone script (the same text, token by token). From the "
        "pretrained checkpoint, each member of the *oracle family* moves the clone's embedding rows "
        "from their untrained values (w = 0) to the exact English rows (w = 1, the oracle), or, "
        "for clone->en, moves English's rows while the clone holds them. Every member is probed "
        f"on the {summary['items']} English-known facts (questions in English and in the clone). "
        "At w = 1 the clone's accuracy must equal English's; at w = 0 it must sit at chance. "
        "*Detected from w* is the smallest weight from which every larger weight beats the "
        "untrained end item by item (exact McNemar, Holm across weights); the alignment metrics "
        "measured there say how aligned two languages must be before these probes see transfer.",
        "",
        (cdir / "calibration.md").read_text(encoding="utf-8"),
        "",
    )
    for name in ("calibration.csv", "alignment.csv", "alignment_tests.csv"):
        w.attach(cdir / name)
    w.image(cdir / "calibration.png", "Calibration curve")
    w.headline["calibration"] = summary["thresholds"]
    table = cdir / "alignment.csv"
    if table.is_file():
        flat = pd.read_csv(table)
        w.add(
            "### Alignment over CPT steps",
            "",
            "The same metrics for every checkpoint of the CPT grid (mean over seeds), and the "
            "bridge-vs-no-bridge test at each run's last step (McNemar on per-item hits, Holm).",
            "",
        )
        w.image(cdir / "alignment.png", "Alignment over CPT steps")
        w.headline["alignment_tests"] = summary.get("alignment_tests", [])
        reached = {m: float(flat[m].max()) for m in ("retrieval", "swap_score") if m in flat}
        w.headline["alignment_reached"] = reached
        for t in summary["thresholds"]:
            if t["scorer"] != summary["scorer"]:
                continue
            need = t.get("threshold_retrieval")
            w.add(
                f"- {t['direction']}: the CPT runs reach at most retrieval P@1 "
                f"{_fmt(reached.get('retrieval'))} and swap score {_fmt(reached.get('swap_score'))}; "
                + (
                    f"the instrument sees transfer from retrieval P@1 {_fmt(need)} "
                    f"(swap {_fmt(t.get('threshold_swap_score'))}) on."
                    if t["threshold_weight"] is not None
                    else "the instrument saw no transfer at any weight (too few items or a model "
                    "that knows too little in English)."
                )
            )
        w.add("")


def headline_calibration(headline: dict[str, Any]) -> list[str]:
    lines = []
    for t in headline.get("calibration", []):
        lines.append(
            f"- Calibration ({t['direction']}, {t['scorer']}): the oracle scores "
            f"{_fmt(t['oracle_transfer'])} against {_fmt(t['oracle_source'])} in the source "
            f"language; untrained end {_fmt(t['untrained_transfer'])} (chance {_fmt(t['chance'])}); "
            + (
                f"transfer detected from w = {t['threshold_weight']} "
                f"(retrieval P@1 {_fmt(t.get('threshold_retrieval'))})."
                if t["threshold_weight"] is not None
                else "transfer never detected."
            )
        )
    for t in headline.get("alignment_tests", []):
        verdict = "significant" if t["significant"] else "not significant"
        lines.append(
            f"- Effect of {t.get('treatment', 'bridge')} on alignment ({t['lang']}, {t['metric']}): "
            f"{t['difference'] * 100:+.1f} points, {verdict} (Holm p = {t['p_holm']:.3g})."
        )
    return lines
