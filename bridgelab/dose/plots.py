"""dose.png (accuracy against count with the fitted curve and its band, one panel per culture
and direction) and transfer_dose.png (treatment minus baseline against the source count)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from bridgelab.contracts.settings import BRIDGE, NOBRIDGE, NULL_SETTING
from bridgelab.dose.fit import Fit, to_x
from bridgelab.probes.curves import DASHES, MARKERS, _plt

POINT_SHIFT = 0.06  # log2 units between the points of neighbouring settings


def _save(plt, fig, path: Path) -> Path:
    # the format is named because the stage writes to a temporary name (atomic_path)
    fig.tight_layout()
    fig.savefig(path, dpi=120, format="png")
    plt.close(fig)
    return path


def _setting_order(settings: list[str]) -> list[str]:
    # the comparison first, the random-init reference last: stable colours across panels
    rank = {BRIDGE: 0, NOBRIDGE: 1, NULL_SETTING: 9}
    return sorted(settings, key=lambda s: (rank.get(s, 5), s))


def _ticks(ax, counts: list[float]) -> None:
    ax.set_xticks(to_x(np.asarray(counts)))
    ax.set_xticklabels([f"{c:g}" for c in counts], fontsize=7)


def plot_dose(
    table: pd.DataFrame, fits: dict[tuple, Fit], path: Path, *, band: str, level: float
) -> Path | None:
    """One panel per (culture, direction) at each group's last step: accuracy per count with
    Wilson intervals, the fitted curve and its band in the same colour, chance dotted. A setting
    keeps its colour and marker in every panel, so one legend (below the panels) serves all."""
    if table.empty:
        return None
    plt = _plt()
    last = table[table["step"] == table.groupby(["culture_lang", "direction", "setting"])["step"]
                 .transform("max")]  # fmt: skip
    panels = list(last.groupby(["culture_lang", "direction"], sort=True))
    settings = _setting_order(list(set(last["setting"])))
    colours = {s: f"C{i}" for i, s in enumerate(settings)}
    cols = min(4, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows + 0.8), squeeze=False)
    for ax, ((culture, dirn), g) in zip(axes.flat, panels):
        for i, setting in enumerate(settings):
            s = g[g["setting"] == setting].sort_values("count")
            if s.empty:
                continue
            x = to_x(s["count"].to_numpy()) + (i - (len(settings) - 1) / 2) * POINT_SHIFT
            acc = s["accuracy"].to_numpy()
            err = [acc - s["ci_low"].to_numpy(), s["ci_high"].to_numpy() - acc]
            ax.errorbar(x, acc, yerr=err, fmt=MARKERS[i % len(MARKERS)], ms=4, capsize=2,
                        color=colours[setting], label=setting, zorder=4)  # fmt: skip
            key = (culture, dirn, s["role"].iloc[0], s["question_lang"].iloc[0],
                   s["corpus"].iloc[0], setting, s["step"].iloc[0])  # fmt: skip
            fit = fits.get(key)
            if fit is not None and fit.curve.size and fit.status != "no fit":
                gx = to_x(fit.grid)
                ax.plot(gx, fit.curve, ls=DASHES[i % len(DASHES)], color=colours[setting], lw=1.2)
                ax.fill_between(gx, fit.band_low, fit.band_high, color=colours[setting],
                                alpha=0.15)  # fmt: skip
        chance = float(g["chance"].mean())
        ax.axhline(chance, color="black", ls=":", lw=1, label="chance")
        counts = sorted(set(g["count"]))
        _ticks(ax, counts)
        ax.set_xlim(float(to_x(counts[0])) - 0.4, float(to_x(counts[-1])) + 0.4)
        ax.set_title(f"{culture}: {dirn} ({g['role'].iloc[0]})", fontsize=9)
        source, questions = dirn.split("->")
        ax.set_xlabel(f"documents stating the fact in {source} (log scale)", fontsize=8)
        ax.set_ylabel(f"accuracy, {questions} questions", fontsize=8)
        ax.set_ylim(-0.02, 1.02)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    for ax in list(axes.flat)[1 : len(panels)]:  # settings missing from the first panel
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8)
    fig.suptitle(
        f"Accuracy against count: points with Wilson {level:.0%} intervals (items x seeds); "
        f"lines: fitted curve, shaded: its {level:.0%} {band} band",
        fontsize=9,
    )
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path, dpi=120, format="png")
    plt.close(fig)
    return path


def plot_transfer_dose(table: pd.DataFrame, path: Path) -> Path | None:
    """Treatment minus baseline on each transfer curve, against the source corpus's count."""
    if table.empty:
        return None
    plt = _plt()
    last = table[table["step"] == table.groupby(["culture_lang", "direction"])["step"]
                 .transform("max")]  # fmt: skip
    panels = list(last.groupby(["culture_lang", "direction"], sort=True))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False)
    for ax, ((culture, dirn), g) in zip(axes.flat, panels):
        for i, (treatment, s) in enumerate(g.groupby("treatment")):
            s = s.sort_values("count")
            x = to_x(s["count"].to_numpy()) + i * POINT_SHIFT
            d = 100 * s["diff"].to_numpy()
            err = [d - 100 * s["ci_low"].to_numpy(), 100 * s["ci_high"].to_numpy() - d]
            ax.errorbar(x, d, yerr=err, fmt=MARKERS[i % len(MARKERS)] + "-", ms=4, capsize=2,
                        label=f"{treatment} - {s['baseline'].iloc[0]}")  # fmt: skip
        ax.axhline(0, color="black", lw=0.8)
        _ticks(ax, sorted(set(g["count"])))
        ax.set_title(f"{culture}: transfer {dirn}", fontsize=9)
        ax.set_xlabel(f"documents stating the fact in {dirn.split('->')[0]}", fontsize=8)
        ax.set_ylabel("accuracy difference (points, 95% paired bootstrap CI)", fontsize=7)
        ax.legend(fontsize=7)
    return _save(plt, fig, path)
