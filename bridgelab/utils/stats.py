"""Paired statistics on item-level credits: McNemar, bootstrap intervals, Holm and BH.

Credits are in [0, 1] (a tie at the top earns 1/k). McNemar's test needs right/wrong outcomes,
so it counts an item as right only with full credit; the bootstrap works on the credits
themselves. With several seeds, items are the resampling unit (a cluster bootstrap): each
resample draws items and keeps all seeds of a drawn item, since items, not seeds, are what the
probe set samples from the world of cultural facts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import binomtest, false_discovery_control


@dataclass(frozen=True)
class McNemar:
    b: int  # treatment right, baseline wrong
    c: int  # treatment wrong, baseline right
    p_value: float


def mcnemar_exact(treatment: np.ndarray, baseline: np.ndarray) -> McNemar:
    """Exact McNemar test: a two-sided binomial test on the discordant pairs.

    ``treatment``/``baseline`` are paired credits (any shape, same shape); only full credit
    counts as right. With no discordant pair there is no evidence of a difference: p = 1.
    """
    t = np.asarray(treatment) >= 1.0
    s = np.asarray(baseline) >= 1.0
    b = int(np.sum(t & ~s))
    c = int(np.sum(~t & s))
    p = 1.0 if b + c == 0 else float(binomtest(b, b + c, 0.5).pvalue)
    return McNemar(b, c, p)


def bootstrap_mean_ci(
    values: np.ndarray, *, n_boot: int = 2000, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile interval of the mean over items (rows of ``values``; columns = seeds)."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    n = values.shape[0]
    if n == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    means = values[idx].mean(axis=(1, 2))
    alpha = (1.0 - level) / 2
    lo, hi = np.quantile(means, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def paired_bootstrap(
    treatment: np.ndarray,
    baseline: np.ndarray,
    *,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """(difference of means, CI low, CI high) resampling items, pairs kept together."""
    diff = np.asarray(treatment, dtype=np.float64) - np.asarray(baseline, dtype=np.float64)
    lo, hi = bootstrap_mean_ci(diff, n_boot=n_boot, seed=seed, level=level)
    return float(diff.mean()), lo, hi


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error), in the input order."""
    p = np.asarray(p_values, dtype=np.float64)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted.tolist()


def adjust(p_values: list[float], method: str) -> list[float]:
    """Adjusted p-values: ``holm`` (family-wise) or ``bh`` (Benjamini-Hochberg, false discovery)."""
    if not p_values:
        return []
    if method == "holm":
        return holm(p_values)
    if method == "bh":
        return false_discovery_control(np.asarray(p_values, dtype=np.float64), method="bh").tolist()
    if method == "none":
        return list(p_values)
    raise ValueError(f"unknown correction '{method}' (known: holm, bh, none)")
