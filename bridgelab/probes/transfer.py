"""`bridgelab transfer`: transfer estimates from item-level probe results, with paired tests.

For each culture, direction and step: accuracy with bridges minus accuracy without, on the
same items and seeds. Native questions measure English -> X transfer (the knowledge was in
English, the question is in X); English questions measure X -> English. Each difference gets an
exact McNemar test, a paired bootstrap interval (items resampled, seeds kept together) and a
Holm or BH correction over the family of tests in the direction table.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from bridgelab.config import Config, config_hash, param
from bridgelab.contracts.markers import DONE_MARKER
from bridgelab.contracts.results import NULL_FLAG, read_rows
from bridgelab.contracts.settings import BASELINE, NULL_SETTING
from bridgelab.errors import ConfigError, DataError
from bridgelab.probes.mixed import is_mixed
from bridgelab.stage import Step
from bridgelab.utils.stats import adjust, bootstrap_mean_ci, mcnemar_exact, paired_bootstrap

log = logging.getLogger(__name__)


@dataclass
class TransferConfig(Config):
    """`bridgelab transfer`: which results, which comparison, which test and correction."""

    results: str = param("runs/probes", help="a `bridgelab probe` folder (or its results.jsonl)")
    out_dir: str = param("runs/transfer", help="output folder: CSV/Markdown tables and PNG plots")
    scorer: str = param("paper", help="the scorer whose credits are compared")
    baseline: str = param(BASELINE, help="the setting without bridges")
    treatments: list[str] = param(["bridge"], help="settings compared against the baseline")
    step: int = param(-1, help="step of the direction table (-1: the last step both settings have)")
    correction: Literal["holm", "bh", "none"] = param(
        "holm", help="multiple-comparison correction over the direction table's tests"
    )
    alpha: float = param(0.05, help="significance level after correction")
    n_boot: int = param(2000, help="bootstrap resamples")
    seed: int = param(0, help="bootstrap seed")
    credit: Literal["correct", "perm_correct"] = param(
        "correct", help="per-item credit: as scored, or averaged over cyclic option shifts"
    )

    def validate(self) -> None:
        if not 0 < self.alpha < 1:
            raise ConfigError(f"alpha: must be in (0, 1), got {self.alpha}")
        if self.n_boot < 100:
            raise ConfigError(f"n_boot: use at least 100 resamples, got {self.n_boot}")
        if self.baseline in self.treatments:
            raise ConfigError("treatments: the baseline cannot also be a treatment")


def direction(culture_lang: str, question_lang: str) -> str:
    """Native questions test knowledge carried English -> X, English questions X -> English."""
    return f"en->{culture_lang}" if question_lang == culture_lang else f"{culture_lang}->en"


def _kind(df: pd.DataFrame, mixed: bool) -> pd.DataFrame:
    """The matched rows (options in the question's language), or only the mixed-language rows
    (docs/CONTRACTS.md: only those carry ``options_lang``); never the two pooled."""
    if "options_lang" not in df.columns:
        return df.iloc[:0] if mixed else df
    flag = df["options_lang"].fillna("").astype(str) != ""
    return df[flag] if mixed else df[~flag]


def _frame(rows: list[dict[str, Any]], scorer: str, credit: str, mixed: bool) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    if df.empty or scorer not in set(df["scorer"]):
        raise DataError(f"no rows of scorer '{scorer}' in the results")
    df = _kind(df[df["scorer"] == scorer], mixed).copy()
    if credit == "perm_correct" and df["perm_correct"].isna().any():
        raise DataError("credit=perm_correct needs results scored with permutations=cyclic")
    df["credit"] = df[credit].astype(float)
    # A run is compared only on its own culture; English-culture sets are for forgetting.
    own = (df["run_lang"].fillna("") == "") | (df["run_lang"] == df["culture_lang"])
    df = df[own & (df["culture_lang"] != "en")]
    df["direction"] = [direction(c, q) for c, q in zip(df["culture_lang"], df["question_lang"])]
    return df


def _matrix(g: pd.DataFrame, seeds: list[int], items: list[str]) -> np.ndarray:
    """Credits as an items x seeds array."""
    pivot = g.pivot_table(index="item_id", columns="seed", values="credit", aggfunc="mean")
    return pivot.reindex(index=items, columns=seeds).to_numpy()


def compare(
    treat: pd.DataFrame, base: pd.DataFrame, *, n_boot: int, seed: int
) -> dict[str, Any] | None:
    """Paired comparison of two settings on the items and seeds both have."""
    seeds = sorted(set(treat["seed"]) & set(base["seed"]))
    items = sorted(set(treat["item_id"]) & set(base["item_id"]))
    if not seeds or not items:
        return None
    t, b = _matrix(treat, seeds, items), _matrix(base, seeds, items)
    keep = ~(np.isnan(t).any(axis=1) | np.isnan(b).any(axis=1))
    t, b = t[keep], b[keep]
    if len(t) == 0:
        return None
    diff, lo, hi = paired_bootstrap(t, b, n_boot=n_boot, seed=seed)
    test = mcnemar_exact(t, b)
    per_seed = (t - b).mean(axis=0)
    return {
        "n_items": int(len(t)),
        "n_seeds": len(seeds),
        "acc_treatment": float(t.mean()),
        "acc_baseline": float(b.mean()),
        "diff": diff,
        "ci_low": lo,
        "ci_high": hi,
        "seed_sd": float(per_seed.std(ddof=1)) if len(seeds) > 1 else float("nan"),
        "mcnemar_b": test.b,
        "mcnemar_c": test.c,
        "p_value": test.p_value,
    }


def transfer_table(
    results_rows: list[dict[str, Any]],
    *,
    scorer: str = "paper",
    baseline: str = BASELINE,
    treatments: tuple[str, ...] | list[str] = ("bridge",),
    step: int | None = None,
    correction: str = "holm",
    alpha: float = 0.05,
    n_boot: int = 2000,
    seed: int = 0,
    credit: str = "correct",
    mixed: bool = False,
) -> pd.DataFrame:
    """One row per (culture, direction, treatment, step): the paired transfer estimate.

    ``step=None``: every step both settings have (learning curves); otherwise that step only
    (``-1``: the last common step per culture). Adjusted p-values are computed over the rows
    returned for each step, so a direction table is one family.

    ``mixed=True``: the same estimates on the mixed-language items only (question and options
    in different languages; ``direction`` follows the question's language, ``options_lang``
    is added), a family of their own; by default those items are left out.
    """
    df = _frame(results_rows, scorer, credit, mixed)
    out = []
    for (culture, dirn), g in df.groupby(["culture_lang", "direction"], sort=True):
        # mixed items of one (culture, direction) all have the other side's options language
        options = {"options_lang": ",".join(sorted(set(g["options_lang"])))} if mixed else {}
        for treatment in treatments:
            tr, ba = g[g["setting"] == treatment], g[g["setting"] == baseline]
            steps = sorted(set(tr["step"]) & set(ba["step"]))
            if step is not None and steps:
                steps = [steps[-1]] if step == -1 else [s for s in steps if s == step]
            for s in steps:
                res = compare(tr[tr["step"] == s], ba[ba["step"] == s], n_boot=n_boot, seed=seed)
                if res is None:
                    log.warning("%s %s step %s: no paired items/seeds", culture, dirn, s)
                    continue
                out.append({"culture": culture, "direction": dirn, **options,
                            "treatment": treatment, "baseline": baseline, "step": s,
                            "scorer": scorer, **res})  # fmt: skip
    if not out:
        raise DataError(
            f"no paired {'mixed-language ' if mixed else ''}results for settings "
            f"{list(treatments)} vs '{baseline}' with scorer '{scorer}'"
        )
    table = pd.DataFrame(out)
    table["p_adjusted"] = np.nan
    for _, idx in table.groupby("step").groups.items():
        table.loc[idx, "p_adjusted"] = adjust(table.loc[idx, "p_value"].tolist(), correction)
    table["correction"] = correction
    table["significant"] = table["p_adjusted"] < alpha
    return attach_null(table, results_rows, scorer, credit, mixed=mixed)


def attach_null(
    table: pd.DataFrame,
    rows: list[dict[str, Any]],
    scorer: str,
    credit: str,
    *,
    mixed: bool = False,
) -> pd.DataFrame:
    """Beside every estimate: the null model's accuracy on the same items, and chance."""
    df = pd.DataFrame(rows)
    df = _kind(df[df["scorer"] == scorer], mixed)
    df = df.assign(
        direction=[direction(c, q) for c, q in zip(df["culture_lang"], df["question_lang"])]
    )
    null_rows = df[df["setting"] == NULL_SETTING]
    chance = df.groupby(["culture_lang", "direction"])["chance"].mean()
    table["null_accuracy"] = np.nan
    table["chance"] = np.nan
    table["null_flag"] = ""
    for i, (culture, dirn) in enumerate(zip(table["culture"], table["direction"])):
        g = null_rows[(null_rows["culture_lang"] == culture) & (null_rows["direction"] == dirn)]
        c = chance.get((culture, dirn), np.nan)
        table.loc[table.index[i], "chance"] = c
        if len(g):
            table.loc[table.index[i], "null_accuracy"] = g[credit].mean()
            low, _ = bootstrap_mean_ci(g[credit].to_numpy(dtype=float), n_boot=1000, seed=0)
            table.loc[table.index[i], "null_flag"] = NULL_FLAG if low > c else ""
    return table


def _pct(x: float) -> str:
    return "n/a" if pd.isna(x) else f"{100 * x:.1f}"


def markdown_tables(table: pd.DataFrame) -> str:
    """The paper's direction table (significant/insignificant per culture and direction, with
    the numbers), then every estimate in full; null model and chance on every line."""
    lines = ["## Transfer by direction", ""]
    lines += ["| culture | treatment | step | en->X (native questions) | X->en (English questions) |",
              "|---|---|---|---|---|"]  # fmt: skip
    for (culture, treatment, step), g in table.groupby(["culture", "treatment", "step"]):
        cells = []
        for dirn in (f"en->{culture}", f"{culture}->en"):
            r = g[g["direction"] == dirn]
            if r.empty:
                cells.append("not measured")
                continue
            r = r.iloc[0]
            verdict = "**significant**" if r["significant"] else "insignificant"
            flag = f" {r['null_flag']}" if r["null_flag"] else ""
            cells.append(
                f"{verdict} ({float(r['diff']) * 100:+.1f} pts, p_adj={r['p_adjusted']:.3g}){flag}"
            )
        lines.append(f"| {culture} | {treatment} | {step} | {cells[0]} | {cells[1]} |")
    lines += ["", "## Estimates", ""]
    head = ("| culture | direction | step | items x seeds | with | without | diff [95% CI] | "
            "McNemar b/c | p | p_adj | random-init model | chance |")  # fmt: skip
    lines += [head, "|" + "---|" * 12]
    for _, r in table.iterrows():
        ci = f"{r['diff'] * 100:+.1f} [{r['ci_low'] * 100:+.1f}, {r['ci_high'] * 100:+.1f}]"
        null = _pct(r["null_accuracy"]) + (f" {r['null_flag']}" if r["null_flag"] else "")
        lines.append(
            f"| {r['culture']} | {r['direction']} | {r['step']} | {r['n_items']} x {r['n_seeds']} | "
            f"{_pct(r['acc_treatment'])} | {_pct(r['acc_baseline'])} | {ci} | "
            f"{r['mcnemar_b']}/{r['mcnemar_c']} | {r['p_value']:.3g} | {r['p_adjusted']:.3g} | "
            f"{null} | {_pct(r['chance'])} |"
        )
    corr = table["correction"].iloc[0]
    lines += ["", f"Accuracies in %. Paired over items and seeds; McNemar counts full credit only; "
              f"p_adj: {corr} over the tests of each step. NULL>CHANCE: a randomly initialised "
              "model beats chance on this set with this scorer (the lower end of its 95% "
              "interval is above chance), so part of any accuracy is not knowledge."]  # fmt: skip
    return "\n".join(lines) + "\n"


def _results_path(cfg: TransferConfig) -> Path:
    path = Path(cfg.results)
    path = path / "results.jsonl" if path.is_dir() else path
    if not path.is_file():
        raise DataError(f"results: {path} not found (run `bridgelab probe` first)")
    return path


def run(cfg: TransferConfig, *, force: bool = False) -> Path:
    """Write transfer.csv/.md, transfer_curves.csv, curves.csv, forgetting.csv and PNG plots."""
    from bridgelab.contracts.markers import is_done, mark_done, prepare_run_folder
    from bridgelab.contracts.provenance import lineage, refuse_if_stale
    from bridgelab.probes.curves import (
        forgetting_curves,
        learning_curves,
        plot_forgetting,
        plot_learning_curves,
        plot_transfer,
    )
    from bridgelab.utils.io import atomic_path, atomic_write_text

    path = _results_path(cfg)
    out = Path(cfg.out_dir)
    digest = config_hash(cfg)
    if not force and is_done(out):
        done = json.loads((out / DONE_MARKER).read_text(encoding="utf-8") or "{}")
        # the same analysis of results that have not changed since: nothing to redo
        if (
            done.get("config_hash") == digest
            and path.stat().st_mtime <= (out / DONE_MARKER).stat().st_mtime
        ):
            refuse_if_stale(out, "transfer analysis")
            return out
    inputs = lineage(cfg)
    rows = read_rows(path)
    kw = {"scorer": cfg.scorer, "n_boot": cfg.n_boot, "seed": cfg.seed, "credit": cfg.credit}
    common = {**kw, "baseline": cfg.baseline, "treatments": cfg.treatments,
              "correction": cfg.correction, "alpha": cfg.alpha}  # fmt: skip
    table = transfer_table(rows, step=cfg.step, **common)
    over_steps = transfer_table(rows, step=None, **common)
    # the curves group by question language alone: mixed-language rows would pool with the
    # matched ones there, so they get their own table (transfer_mixed.csv) instead
    matched = [r for r in rows if not is_mixed(r)]
    curves = learning_curves(matched, **kw)
    forgetting = forgetting_curves(matched, **kw)
    mixed = None
    if len(matched) < len(rows):
        mixed = transfer_table(rows, step=cfg.step, mixed=True, **common)
    out = prepare_run_folder(cfg.out_dir, force=force, what="transfer analysis")
    cfg.dump(out / "config.yaml")
    for name, frame in (("transfer", table), ("transfer_curves", over_steps),
                        ("curves", curves), ("forgetting", forgetting),
                        *([("transfer_mixed", mixed)] if mixed is not None else [])):  # fmt: skip
        with atomic_path(out / f"{name}.csv") as tmp:
            frame.to_csv(tmp, index=False)
    md = markdown_tables(table)
    if mixed is not None:
        md += (f"\nMixed-language items (question and options in different languages): "
               f"{len(mixed)} estimates in transfer_mixed.csv, not in the tables above.\n")  # fmt: skip
    plot_learning_curves(curves, out, scorer=cfg.scorer)
    plot_transfer(over_steps, out)
    if forgetting.empty:
        md += "\nNo English-culture probe set was scored, so there is no forgetting curve.\n"
    else:
        plot_forgetting(forgetting, out)
    atomic_write_text(out / "transfer.md", md)
    mark_done(out, {"rows": len(rows), "tests": len(table), "config_hash": digest,
                    "inputs": inputs})  # fmt: skip
    return out


def plan(cfg: TransferConfig) -> list[Step]:
    return [Step(f"read {cfg.results}"), Step(f"compare {cfg.treatments} vs {cfg.baseline}"),
            Step("write tables and plots", out=cfg.out_dir)]  # fmt: skip


def summary(out: Path) -> list[str]:
    return [(out / "transfer.md").read_text(encoding="utf-8")]
