"""Matplotlib figures of the report that no stage draws itself (loss curves)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: clusters and CI have no display
import matplotlib.pyplot as plt  # noqa: E402


def plot_loss_curves(curves: dict[str, list[dict[str, Any]]], path: Path, *, title: str) -> None:
    """One line per run: training loss against step."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, rows in sorted(curves.items()):
        ax.plot([r["step"] for r in rows], [r["loss"] for r in rows], label=name, linewidth=1.2)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("training loss (nats/token)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if len(curves) > 1:
        ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
