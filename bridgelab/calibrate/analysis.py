"""Tables, tests and figures of the calibration: what the instrument sees, and from when.

For each direction and scorer, the transfer cell's accuracy at every mixing weight is compared
with the untrained end (w = 0) item by item (exact McNemar, Holm across weights). The *detection
threshold* is the smallest weight from which every larger weight differs significantly; the
alignment metrics measured there say how aligned two languages must be before these probes,
with these items, can see transfer. For a CPT grid, bridge and no-bridge runs are compared on
the alignment metrics' per-item hits at each run's last step (McNemar, Holm).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bridgelab.contracts.results import chance_credit
from bridgelab.contracts.settings import BASELINE
from bridgelab.utils.io import atomic_write_json, atomic_write_jsonl, atomic_write_text
from bridgelab.utils.stats import bootstrap_mean_ci, holm, mcnemar_exact

ROLES = {"en_to_clone": ("clone", "en"), "clone_to_en": ("en", "clone")}  # (transfer, source)
METRICS = ("swap_score", "retrieval", "procrustes_input", "procrustes_output", "nn_input")
LABELS = {
    "weight": "mixing weight w (0 = untrained rows, 1 = oracle)",
    "swap_score": "swap test score (0 = wrong twins, 1 = read as English)",
    "retrieval": "held-out sentence retrieval P@1 (middle layer)",
    "procrustes_input": "Procrustes P@1 (input embeddings, held-out half)",
}


def item_rows(members: list[dict], null: dict | None, culture: dict[str, str]) -> list[dict]:
    rows = []
    for m in [*members, *([{**null, "direction": "null", "weight": None}] if null else [])]:
        for qlang, per_scorer in m["scores"].items():
            for scorer, credits in per_scorer.items():
                role = (
                    "null"
                    if m["direction"] == "null"
                    else ("transfer" if ROLES[m["direction"]][0] == qlang else "source")
                )
                for item_id, credit in credits.items():
                    rows.append(
                        {
                            "direction": m["direction"],
                            "weight": m["weight"],
                            "question_lang": qlang,
                            "role": role,
                            "scorer": scorer,
                            "item_id": item_id,
                            "culture_lang": culture.get(item_id, ""),
                            "correct": credit,
                        }
                    )
    return rows


def calibration_table(members: list[dict], null: dict | None, chance: float) -> pd.DataFrame:
    rows = []
    for direction in dict.fromkeys(m["direction"] for m in members):
        group = sorted(
            (m for m in members if m["direction"] == direction), key=lambda m: m["weight"]
        )
        transfer_q, source_q = ROLES[direction]
        base = group[0]
        for scorer in base["scores"][transfer_q]:
            ids = sorted(base["scores"][transfer_q][scorer])
            floor = np.array([base["scores"][transfer_q][scorer][i] for i in ids])
            null_acc = (
                float(np.mean([null["scores"][transfer_q][scorer][i] for i in ids]))
                if null
                else math.nan
            )
            block = []
            for m in group:
                credit = np.array([m["scores"][transfer_q][scorer][i] for i in ids])
                source = np.array([m["scores"][source_q][scorer][i] for i in ids])
                lo, hi = bootstrap_mean_ci(credit)
                align = {k: v for k, v in m["alignment"].items() if not k.startswith("_")}
                block.append(
                    {
                        "direction": direction,
                        "scorer": scorer,
                        "weight": m["weight"],
                        "items": len(ids),
                        "transfer_accuracy": float(credit.mean()),
                        "ci_low": lo,
                        "ci_high": hi,
                        "source_accuracy": float(source.mean()),
                        "null_accuracy": null_acc,
                        "chance": chance,
                        "p_vs_untrained": mcnemar_exact(credit, floor).p_value
                        if m is not base
                        else math.nan,
                        **align,
                    }
                )
            tested = [r for r in block if not math.isnan(r["p_vs_untrained"])]
            for r, p in zip(tested, holm([r["p_vs_untrained"] for r in tested])):
                r["p_holm"] = p
                r["detected"] = bool(
                    p < 0.05 and r["transfer_accuracy"] > block[0]["transfer_accuracy"]
                )
            block[0].update(p_holm=math.nan, detected=False)
            rows.extend(block)
    return pd.DataFrame(rows)


def thresholds(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Per direction and scorer: the oracle's ratio and the detection threshold."""
    out = []
    for (direction, scorer), g in table.groupby(["direction", "scorer"], sort=False):
        g = g.sort_values("weight")
        top = g.iloc[-1]
        first = None
        for i in range(len(g)):
            if g["detected"].iloc[i:].all():
                first = g.iloc[i]
                break
        entry = {
            "direction": direction,
            "scorer": scorer,
            "oracle_transfer": float(top["transfer_accuracy"]),
            "oracle_source": float(top["source_accuracy"]),
            "oracle_ratio": float(top["transfer_accuracy"] / top["source_accuracy"])
            if top["source_accuracy"] > 0
            else math.nan,
            "untrained_transfer": float(g.iloc[0]["transfer_accuracy"]),
            "untrained_ci": [float(g.iloc[0]["ci_low"]), float(g.iloc[0]["ci_high"])],
            "chance": float(g.iloc[0]["chance"]),
            "null": float(g.iloc[0]["null_accuracy"]),
            "threshold_weight": None if first is None else float(first["weight"]),
        }
        if first is not None:
            entry.update({f"threshold_{m}": float(first[m]) for m in METRICS if m in first})
        out.append(entry)
    return out


def grid_tables(grid_rows: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(alignment per run and step, tests of each setting against nobridge at each run's last
    step)."""
    if not grid_rows:
        return pd.DataFrame(), pd.DataFrame()
    flat = pd.DataFrame(
        [
            {
                k: v
                for k, v in r.items()
                if not k.startswith("_") and k not in ("config_hash", "path")
            }
            for r in grid_rows
        ]
    )
    tests = []
    for lang in sorted(flat["lang"].unique()):
        last = {}
        for r in grid_rows:
            if r["lang"] != lang:
                continue
            key = (r["setting"], r["seed"])
            if key not in last or r["step"] > last[key]["step"]:
                last[key] = r
        for treatment in sorted({st for st, _ in last} - {BASELINE}):
            seeds = sorted(
                {s for st, s in last if st == treatment} & {s for st, s in last if st == BASELINE}
            )
            for metric in ("retrieval", "procrustes_input") if seeds else ():
                t = np.concatenate([last[(treatment, s)]["_hits"][metric] for s in seeds])
                n = np.concatenate([last[(BASELINE, s)]["_hits"][metric] for s in seeds])
                test = mcnemar_exact(t.astype(float), n.astype(float))
                tests.append(
                    {
                        "lang": lang,
                        "treatment": treatment,
                        "metric": metric,
                        "seeds": len(seeds),
                        "step": int(max(r["step"] for r in last.values())),
                        "treated": float(t.mean()),
                        BASELINE: float(n.mean()),
                        "difference": float(t.mean() - n.mean()),
                        "treated_only": test.b,
                        "nobridge_only": test.c,
                        "p": test.p_value,
                    }
                )
    tests_df = pd.DataFrame(tests)
    if len(tests_df):
        tests_df["p_holm"] = holm(tests_df["p"].tolist())
        tests_df["significant"] = tests_df["p_holm"] < 0.05
    return flat, tests_df


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_calibration(table: pd.DataFrame, scorer: str, path: Path) -> Path:
    """Transfer accuracy (95% bootstrap interval) against each alignment measure, per
    direction; the source accuracy, the null model and chance as reference lines."""
    plt = _plt()
    xs = [x for x in ("weight", "swap_score", "retrieval", "procrustes_input") if x in table]
    fig, axes = plt.subplots(1, len(xs), figsize=(4.2 * len(xs), 3.8), sharey=True)
    t = table[table["scorer"] == scorer]
    for ax, x in zip(np.atleast_1d(axes), xs):
        for direction, g in t.groupby("direction", sort=False):
            g = g.sort_values(x)
            label = direction.replace("_to_", "->")
            (line,) = ax.plot(g[x], g["transfer_accuracy"], marker="o", label=f"{label} transfer")
            ax.fill_between(g[x], g["ci_low"], g["ci_high"], alpha=0.15, color=line.get_color())
            ax.plot(g[x], g["source_accuracy"], ls="--", color=line.get_color(), alpha=0.7,
                    label=f"{label} source (same member)")  # fmt: skip
        ax.axhline(t["chance"].iloc[0], color="grey", lw=1, label="chance")
        if t["null_accuracy"].notna().any():
            ax.axhline(
                t["null_accuracy"].iloc[0], color="black", ls=":", lw=1.5, label="null model"
            )
        ax.set_xlabel(LABELS.get(x, x), fontsize=8)
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].set_ylabel(f"accuracy ({scorer}); band: 95% bootstrap CI")
    np.atleast_1d(axes)[0].legend(fontsize=7, loc="upper left")
    fig.suptitle("Calibration: oracle clone members, transfer cell vs alignment", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_alignment(flat: pd.DataFrame, path: Path) -> Path | None:
    if flat.empty:
        return None
    plt = _plt()
    langs = sorted(flat["lang"].unique())
    metrics = [m for m in ("retrieval", "procrustes_input", "swap_score") if flat[m].notna().any()]
    fig, axes = plt.subplots(
        len(metrics), len(langs), figsize=(3.4 * len(langs), 2.8 * len(metrics)), squeeze=False
    )
    for j, lang in enumerate(langs):
        for i, metric in enumerate(metrics):
            ax = axes[i][j]
            g = flat[flat["lang"] == lang]
            for setting, s in g.groupby("setting"):
                mean = s.groupby("step")[metric].mean()
                ax.plot(mean.index, mean.values, marker="o", label=setting)
            ax.set_title(f"{lang}: {metric}", fontsize=9)
            ax.set_xlabel("CPT step", fontsize=8)
            ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_outputs(out: Path, cfg, members, null, culture, english_items, grid_rows) -> dict:
    chance = float(np.mean([chance_credit(i.options, i.answer) for i in english_items]))
    atomic_write_jsonl(out / "items.jsonl", item_rows(members, null, culture))
    table = calibration_table(members, null, chance)
    atomic_write_text(out / "calibration.csv", table.to_csv(index=False))
    found = thresholds(table)
    headline = cfg.scorers[0]
    plot_calibration(table, headline, out / "calibration.png")
    flat, tests = grid_tables(grid_rows)
    if not flat.empty:
        atomic_write_text(out / "alignment.csv", flat.to_csv(index=False))
        atomic_write_text(out / "alignment_tests.csv", tests.to_csv(index=False))
        plot_alignment(flat, out / "alignment.png")
    oracle = {f"{t['direction']}_{t['scorer']}_ratio": t["oracle_ratio"] for t in found}
    summary = {
        "scorer": headline,
        "items": len(english_items),
        "chance": chance,
        "thresholds": found,
        "oracle": oracle,
        "alignment_tests": tests.to_dict(orient="records") if len(tests) else [],
    }
    atomic_write_json(out / "summary.json", summary)
    atomic_write_text(out / "calibration.md", markdown(table, found, tests, headline))
    return summary


def _num(x: Any) -> str:
    """Two decimals, or a dash where nothing was measured (transfer never detected)."""
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.2f}"


def markdown(table: pd.DataFrame, found: list[dict], tests: pd.DataFrame, scorer: str) -> str:
    lines = [
        "| direction | scorer | oracle transfer / source | untrained end (95% CI) | null | chance | detected from w | swap | retrieval | Procrustes |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for t in found:
        w = t["threshold_weight"]
        lines.append(
            f"| {t['direction']} | {t['scorer']} | {t['oracle_transfer']:.3f} / {t['oracle_source']:.3f} "
            f"| {t['untrained_transfer']:.3f} ({t['untrained_ci'][0]:.2f}-{t['untrained_ci'][1]:.2f}) "
            f"| {t['null']:.3f} | {t['chance']:.3f} | {'never' if w is None else w} "
            f"| {_num(t.get('threshold_swap_score'))} | {_num(t.get('threshold_retrieval'))} "
            f"| {_num(t.get('threshold_procrustes_input'))} |"
        )
    cols = ["direction", "weight", "transfer_accuracy", "ci_low", "ci_high", "source_accuracy",
            "p_holm", "swap_score", "retrieval", "procrustes_input", "nn_input"]  # fmt: skip
    sub = table[table["scorer"] == scorer][[c for c in cols if c in table]]
    lines += ["", f"Every member ({scorer}):", "", sub.to_markdown(index=False, floatfmt=".3f")]
    if len(tests):
        lines += ["", "Each setting vs no bridge, alignment at each run's last step (McNemar on per-item hits, Holm):", "",
                  tests.to_markdown(index=False, floatfmt=".3f")]  # fmt: skip
    return "\n".join(lines) + "\n"
