"""Learning curves over CPT steps, the English-forgetting curve, and their matplotlib plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bridgelab.probes.stats import bootstrap_mean_ci
from bridgelab.probes.summary import NULL_SETTING


def _curve(df: pd.DataFrame, keys: list[str], *, n_boot: int, seed: int) -> pd.DataFrame:
    """Mean credit per group and step, with a bootstrap interval over items (seeds kept)."""
    out = []
    for key, g in df.groupby([*keys, "step"], sort=True):
        pivot = g.pivot_table(index="item_id", columns="seed", values="credit", aggfunc="mean")
        values = pivot.dropna().to_numpy()
        lo, hi = bootstrap_mean_ci(values, n_boot=n_boot, seed=seed)
        out.append({**dict(zip([*keys, "step"], key)), "accuracy": float(values.mean()),
                    "ci_low": lo, "ci_high": hi, "n_items": len(values),
                    "n_seeds": values.shape[1], "chance": float(g["chance"].mean())})  # fmt: skip
    return pd.DataFrame(out)


def learning_curves(
    rows: list[dict[str, Any]],
    *,
    scorer: str,
    credit: str = "correct",
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Accuracy vs step per (culture, question language, setting), runs on their own culture."""
    df = pd.DataFrame(rows)
    df = df[(df["scorer"] == scorer) & (df["culture_lang"] != "en")].copy()
    own = (df["run_lang"].fillna("") == "") | (df["run_lang"] == df["culture_lang"])
    df = df[own | (df["setting"] == NULL_SETTING)]
    df["credit"] = df[credit].astype(float)
    return _curve(df, ["culture_lang", "question_lang", "setting"], n_boot=n_boot, seed=seed)


def forgetting_curves(
    rows: list[dict[str, Any]],
    *,
    scorer: str,
    credit: str = "correct",
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Accuracy on English-culture probe sets vs step, per CPT language and setting, and the
    change since each run's first scored step (negative = English knowledge forgotten)."""
    df = pd.DataFrame(rows)
    df = df[
        (df["scorer"] == scorer) & (df["culture_lang"] == "en") & (df["setting"] != NULL_SETTING)
    ].copy()
    if df.empty:
        return pd.DataFrame()
    df["credit"] = df[credit].astype(float)
    curve = _curve(df, ["probe_set", "run_lang", "setting"], n_boot=n_boot, seed=seed)
    first = (
        curve.sort_values("step")
        .groupby(["probe_set", "run_lang", "setting"])["accuracy"]
        .transform("first")
    )
    curve["change"] = curve["accuracy"] - first
    return curve


def _plt():
    import matplotlib

    matplotlib.use("Agg")  # files only; no display on clusters
    import matplotlib.pyplot as plt

    return plt


def _band_line(ax, g: pd.DataFrame, y: str, label: str, *, alpha: float = 0.15) -> None:
    """``y`` against step with its 95% band (``ci_low``..``ci_high``) in the line's colour."""
    g = g.sort_values("step")
    (line,) = ax.plot(g["step"], g[y], marker="o", label=label)
    ax.fill_between(g["step"], g["ci_low"], g["ci_high"], alpha=alpha, color=line.get_color())


def _save(plt, fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_learning_curves(curves: pd.DataFrame, out_dir: Path, *, scorer: str) -> list[Path]:
    """One PNG per culture: accuracy vs step per setting (95% bands), one panel per question
    language, with the null model and chance as horizontal references."""
    plt = _plt()
    paths = []
    for culture, g in curves.groupby("culture_lang"):
        if (g["setting"] == NULL_SETTING).all():
            continue  # no run of this culture's language: nothing to plot but the null model
        qlangs = sorted(set(g["question_lang"]))
        fig, axes = plt.subplots(1, len(qlangs), figsize=(5 * len(qlangs), 3.6), squeeze=False)
        for ax, q in zip(axes[0], qlangs):
            gq = g[g["question_lang"] == q]
            for setting, gs in gq[gq["setting"] != NULL_SETTING].groupby("setting"):
                _band_line(ax, gs, "accuracy", setting, alpha=0.2)
            null = gq[gq["setting"] == NULL_SETTING]["accuracy"]
            if len(null):
                ax.axhline(float(null.mean()), color="grey", ls="--", label="random-init model")
            ax.axhline(float(gq["chance"].mean()), color="black", ls=":", label="chance")
            ax.set_title(f"{culture} culture, questions in {q}")
            ax.set_xlabel("CPT step")
            ax.set_ylabel(f"accuracy ({scorer})")
            ax.legend(fontsize=8)
        paths.append(_save(plt, fig, out_dir / f"curves_{culture}.png"))
    return paths


def plot_transfer(curve_table: pd.DataFrame, out_dir: Path) -> Path:
    """Transfer (treatment minus baseline accuracy) vs step, one line per culture and direction."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for (_, dirn, treatment), g in curve_table.groupby(["culture", "direction", "treatment"]):
        _band_line(ax, g, "diff", f"{dirn} ({treatment})")
    ax.axhline(0.0, color="black", lw=0.8)
    ax.set_xlabel("CPT step")
    ax.set_ylabel("accuracy difference (with - without bridges)")
    ax.legend(fontsize=8)
    return _save(plt, fig, out_dir / "transfer_curves.png")


def plot_forgetting(curve: pd.DataFrame, out_dir: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for (pset, lang, setting), g in curve.groupby(["probe_set", "run_lang", "setting"]):
        _band_line(ax, g, "accuracy", f"{lang or 'run'} {setting} ({pset})")
    ax.set_xlabel("CPT step")
    ax.set_ylabel("accuracy on English-culture probes")
    ax.set_ylim(0, max(1.0, float(np.nanmax(curve["ci_high"]))))
    ax.legend(fontsize=8)
    return _save(plt, fig, out_dir / "forgetting.png")
