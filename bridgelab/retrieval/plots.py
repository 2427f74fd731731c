"""The two figures of the frequency analysis (its tables: bridgelab.utils.tables)."""

from __future__ import annotations

import math
from pathlib import Path

from bridgelab.utils.io import atomic_path
from bridgelab.utils.tables import Row


def plot_density(rows: list[Row], path: Path) -> None:
    """Grouped bars: density (log scale) per culture, one bar per corpus."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cultures = sorted({r["culture"] for r in rows})
    corpora = sorted({r["corpus"] for r in rows})
    fig, ax = plt.subplots(figsize=(max(4, 1.4 * len(cultures)), 3.5))
    width = 0.8 / max(len(corpora), 1)
    for j, corpus in enumerate(corpora):
        values = {r["culture"]: r["density"] for r in rows if r["corpus"] == corpus}
        xs = [i + j * width for i, c in enumerate(cultures) if values.get(c, 0) > 0]
        ys = [values[c] for c in cultures if values.get(c, 0) > 0]
        ax.bar(xs, ys, width, label=f"{corpus} corpus")
    ax.set_yscale("log")
    ax.set_xticks([i + width * (len(corpora) - 1) / 2 for i in range(len(cultures))], cultures)
    ax.set_xlabel("culture")
    ax.set_ylabel("density (occurrences per probe / documents)")
    ax.legend(fontsize=8)
    _save(fig, path)


def plot_instances(rows: list[Row], path: Path) -> None:
    """Mean occurrence count, all facts vs transferred facts, per direction (error bars: SEM)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r['direction']}" for r in rows]
    fig, ax = plt.subplots(figsize=(max(4, 1.2 * len(rows)), 3.5))
    xs = range(len(rows))
    for offset, key, name in ((-0.2, "all", "all facts"), (0.2, "transferred", "transferred")):
        means = [_nan0(r[f"mean_{key}"]) for r in rows]
        errs = [_nan0(r[f"sem_{key}"]) for r in rows]
        ax.bar([x + offset for x in xs], means, 0.4, yerr=errs, capsize=3, label=name)
    ax.set_xticks(list(xs), labels, rotation=20)
    ax.set_ylabel("mean occurrence count")
    ax.legend(fontsize=8)
    _save(fig, path)


def _nan0(value: float) -> float:
    return 0.0 if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _save(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=150, format="png")
    plt.close(fig)
