"""Learning curves over CPT steps, the English-forgetting curve, and their matplotlib plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bridgelab.contracts.settings import NULL_SETTING
from bridgelab.utils.stats import bootstrap_mean_ci

CI_LABEL = "95% bootstrap CI"  # what every shaded band is (bootstrap_mean_ci, items resampled)
# Lines of one plot differ in marker and dash as well as colour, and are shifted apart by a
# little along x: two curves with equal values (bo->en under en->bo at 0) stay visible.
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
DASHES = ("-", "--", "-.", ":")
X_SHIFT = 0.012  # of the step range, between neighbouring lines


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


def _shift(steps: pd.Series, index: int, count: int) -> float:
    """Line ``index`` of ``count``: its offset along x, centred on the true steps."""
    span = float(steps.max() - steps.min()) if len(steps) else 0.0
    return (index - (count - 1) / 2) * X_SHIFT * (span or 1.0)


def _band_line(
    ax, g: pd.DataFrame, y: str, label: str, *, index: int = 0, shift: float = 0.0,
    alpha: float = 0.15,
) -> None:  # fmt: skip
    """``y`` against step with its 95% bootstrap CI (``ci_low``..``ci_high``) shaded in the
    line's colour; the ``index``-th line of a plot gets its own marker and dash."""
    g = g.sort_values("step")
    x = g["step"] + shift
    (line,) = ax.plot(
        x, g[y], label=label, marker=MARKERS[index % len(MARKERS)],
        ls=DASHES[index % len(DASHES)], zorder=3 + index,
    )  # fmt: skip
    ax.fill_between(x, g["ci_low"], g["ci_high"], alpha=alpha, color=line.get_color())


def _legend(ax) -> None:
    """The legend, with one entry saying what the shaded bands are."""
    from matplotlib.patches import Patch

    handles, labels = ax.get_legend_handles_labels()
    handles.append(Patch(color="grey", alpha=0.3, label=f"shaded: {CI_LABEL}"))
    ax.legend(handles=handles, fontsize=8)


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
            runs = gq[gq["setting"] != NULL_SETTING]
            groups = list(runs.groupby("setting"))
            for i, (setting, gs) in enumerate(groups):
                shift = _shift(runs["step"], i, len(groups))
                _band_line(ax, gs, "accuracy", setting, index=i, shift=shift, alpha=0.2)
            null = gq[gq["setting"] == NULL_SETTING]["accuracy"]
            # the random-init model often scores chance exactly: a wide grey dash drawn below a
            # thin black dotted chance line keeps both visible where they coincide
            if len(null):
                ax.axhline(float(null.mean()), color="grey", ls="--", lw=2.5, zorder=1,
                           label="random-init model")  # fmt: skip
            ax.axhline(float(gq["chance"].mean()), color="black", ls=":", lw=1.2, zorder=2,
                       label="chance")  # fmt: skip
            ax.set_title(f"{culture} culture, questions in {q}")
            ax.set_xlabel("CPT step")
            ax.set_ylabel(f"accuracy ({scorer}), {CI_LABEL}")
            _legend(ax)
        paths.append(_save(plt, fig, out_dir / f"curves_{culture}.png"))
    return paths


def plot_transfer(curve_table: pd.DataFrame, out_dir: Path) -> Path:
    """Transfer (treatment minus baseline accuracy) vs step, one line per culture and direction."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    groups = list(curve_table.groupby(["culture", "direction", "treatment"]))
    for i, ((_, dirn, treatment), g) in enumerate(groups):
        shift = _shift(curve_table["step"], i, len(groups))
        _band_line(ax, g, "diff", f"{dirn} ({treatment})", index=i, shift=shift)
    ax.axhline(0.0, color="black", lw=0.8)
    ax.set_xlabel("CPT step")
    ax.set_ylabel(f"accuracy difference (with - without), {CI_LABEL}")
    _legend(ax)
    return _save(plt, fig, out_dir / "transfer_curves.png")


def plot_forgetting(curve: pd.DataFrame, out_dir: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    groups = list(curve.groupby(["probe_set", "run_lang", "setting"]))
    for i, ((pset, lang, setting), g) in enumerate(groups):
        shift = _shift(curve["step"], i, len(groups))
        _band_line(ax, g, "accuracy", f"{lang or 'run'} {setting} ({pset})", index=i, shift=shift)
    ax.set_xlabel("CPT step")
    ax.set_ylabel(f"accuracy on English-culture probes, {CI_LABEL}")
    ax.set_ylim(0, max(1.0, float(np.nanmax(curve["ci_high"]))))
    _legend(ax)
    return _save(plt, fig, out_dir / "forgetting.png")
