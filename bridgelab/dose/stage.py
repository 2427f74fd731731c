"""`bridgelab dose`: accuracy against how often the world stated each fact.

Output folder::

    config.yaml        the resolved DoseConfig
    dose.csv           per curve group and count: rows (items x seeds), facts, accuracy, Wilson CI
    fit.csv / fit.md   per group: a, b, their standard errors, the 50% threshold with its CI
    curves.csv         per group: the fitted curve and its band on a grid of counts
    transfer_dose.csv/.md/.png  treatment minus baseline on the transfer curves, per count
    grid.csv / grid.md  dose facts: accuracy per question language and (English, native) cell
    crossed.csv / .md   every dose fact in one fit per question language: own and other count
    priority.csv/.md   priority facts: share answering the English / native value / other
    robust.csv/.md     robust facts: share answering the true / wrong value per true:wrong ratio
    dose.png, summary.json, DONE
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from bridgelab.config import config_hash
from bridgelab.dose.config import DoseConfig
from bridgelab.stage import Step, steps

log = logging.getLogger(__name__)


def plan(cfg: DoseConfig) -> list[Step]:
    band = f"{cfg.n_boot} bootstrap resamples over facts" if cfg.n_boot else "parametric"
    return steps([
        f"read {cfg.world}/ground_truth.jsonl and the `{cfg.scorer}` rows of {cfg.results}",
        f"fit accuracy ~ log2(count + 1) per culture, direction, setting and step "
        f"(floor: {cfg.floor}; {cfg.steps} steps; band and threshold CI: {band})",
        f"{', '.join(cfg.treatments)} - {cfg.baseline} per source count on the transfer curves",
        "a crossed dose design: one fit per question language on own and other count (transfer)",
        "priority and robust tables where the world has such facts",
    ]) + [Step("write dose.csv, fit.csv/md, dose.png, transfer_dose, grid, crossed, priority, "
               "robust, summary.json", out=cfg.out_dir)]  # fmt: skip


def _curve_table(fits: dict[tuple, Any]) -> pd.DataFrame:
    from bridgelab.dose.analysis import GROUP

    rows = []
    for key, fit in fits.items():
        for i, count in enumerate(fit.grid):
            rows.append({**dict(zip(GROUP, key)), "count": float(count),
                         "fit": float(fit.curve[i]), "band_low": float(fit.band_low[i]),
                         "band_high": float(fit.band_high[i])})  # fmt: skip
    return pd.DataFrame(rows)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-safe records: NaN (not JSON) becomes null."""
    if frame.empty:
        return []
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    from bridgelab.utils.io import atomic_path

    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def run(cfg: DoseConfig, *, force: bool = False) -> Path:
    """Write the dose-response tables and figures; skip when finished with this config."""
    from bridgelab.contracts.markers import done_with_config, mark_done, prepare_run_folder
    from bridgelab.contracts.provenance import lineage
    from bridgelab.dose import analysis, data, tables
    from bridgelab.dose.crossed import crossed_table
    from bridgelab.dose.plots import plot_dose, plot_transfer_dose
    from bridgelab.utils.io import atomic_path, atomic_write_json, atomic_write_text

    out = Path(cfg.out_dir)
    chash = config_hash(cfg, exclude=("out_dir",))
    if done_with_config(out, chash, force=force, what="dose analysis"):
        return out
    facts = data.load_facts(cfg.world)
    rows = data.load_results(cfg.results, cfg.scorer, cfg.steps)
    merged = data.merge(rows, facts)
    curves = analysis.curve_rows(merged)
    dose = analysis.dose_table(curves, cfg.level) if not curves.empty else pd.DataFrame()
    fit_table, fits = (
        analysis.fit_groups(
            curves, floor=cfg.floor, n_boot=cfg.n_boot, level=cfg.level, seed=cfg.seed
        )
        if not curves.empty
        else (pd.DataFrame(), {})
    )
    transfer = (
        analysis.transfer_by_count(
            curves,
            baseline=cfg.baseline,
            treatments=cfg.treatments,
            n_boot=cfg.n_boot,
            seed=cfg.seed,
        )
        if not curves.empty
        else pd.DataFrame()
    )
    grid = analysis.grid_table(merged)
    crossed = crossed_table(merged, floor=cfg.floor, baseline=cfg.baseline,
                            treatments=cfg.treatments, n_boot=cfg.n_boot, level=cfg.level,
                            seed=cfg.seed)  # fmt: skip
    special = facts["design"].isin(["priority", "robust"]).any()
    options = data.option_values(cfg.world, facts) if special else {}
    priority = analysis.priority_table(merged, options)
    robust = analysis.robust_table(merged, options)
    wins = analysis.true_wins_from(robust) if not robust.empty else pd.DataFrame()

    out = prepare_run_folder(out, force=force, what="dose analysis")
    cfg.dump(out / "config.yaml")
    for name, frame in (("dose", dose), ("fit", fit_table), ("curves", _curve_table(fits)),
                        ("transfer_dose", transfer), ("grid", grid), ("crossed", crossed),
                        ("priority", priority),
                        ("robust", robust)):  # fmt: skip
        _write_csv(frame, out / f"{name}.csv")
    atomic_write_text(out / "fit.md", tables.fit_markdown(fit_table, cfg.floor, cfg.level,
                                                          cfg.n_boot))  # fmt: skip
    atomic_write_text(out / "transfer_dose.md", tables.transfer_markdown(transfer))
    atomic_write_text(out / "grid.md", tables.grid_markdown(grid))
    atomic_write_text(out / "crossed.md", tables.crossed_markdown(crossed, cfg.level))
    atomic_write_text(out / "priority.md", tables.priority_markdown(priority))
    atomic_write_text(out / "robust.md", tables.robust_markdown(robust, wins))
    band = "bootstrap" if cfg.n_boot else "parametric"
    with atomic_path(out / "dose.png") as tmp:
        drawn = plot_dose(dose, fits, tmp, band=band, level=cfg.level)
    if drawn is None:
        (out / "dose.png").unlink(missing_ok=True)
    with atomic_path(out / "transfer_dose.png") as tmp:
        drawn = plot_transfer_dose(transfer, tmp)
    if drawn is None:
        (out / "transfer_dose.png").unlink(missing_ok=True)
    summary = {
        "scorer": cfg.scorer,
        "floor": cfg.floor,
        "facts": facts["design"].value_counts().sort_index().to_dict(),
        "rows": len(merged),
        "transfer_rows": len(transfer),
        "grid_cells": len(grid),
        "crossed": _records(crossed),
        "priority_cells": len(priority),
        "robust_cells": len(robust),
        "thresholds": _records(fit_table.drop(columns=["a_se", "b_se"], errors="ignore")),
        "true_wins_from": _records(wins),
    }
    atomic_write_json(out / "summary.json", summary)
    mark_done(out, {"config_hash": chash, "rows": len(merged), "groups": len(fit_table),
                    "inputs": lineage(cfg)})  # fmt: skip
    log.info("dose analysis -> %s", out)
    return out


def summary(out: Path) -> list[str]:
    return [(out / "fit.md").read_text(encoding="utf-8"), f"dose analysis: {out}"]
