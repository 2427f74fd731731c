"""Report section: mixed-language probe items beside the matched ones (arXiv 2406.16135).

A mixed item asks a question in one language with options in the other
(bridgelab.probes.mixed). Read beside the matched item it comes from, the drop from matched to
mixed is the "crosslingual knowledge barrier" of Chua et al.: the model knows the answer in one
language but cannot pick it when the question is asked in the other. The section only reads
what the probe and transfer stages wrote; it is left out when no mixed rows were scored.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from bridgelab.contracts.results import read_table
from bridgelab.contracts.settings import NULL_SETTING

KEYS = ["culture_lang", "question_lang", "options_lang"]


def _results(path: Path) -> pd.DataFrame:
    if not path.is_file():
        return pd.DataFrame()
    lines = path.read_text(encoding="utf-8").splitlines()
    return pd.DataFrame([json.loads(line) for line in lines if line])


def mixed_table(results: pd.DataFrame, scorer: str) -> pd.DataFrame:
    """Accuracy (mean credit over items x seeds) per culture, question language and options
    language, matched and mixed rows of each culture side by side: the pretrained model
    (``step0``), each setting at its runs' last step, and the random-init model. Empty when
    the results hold no mixed rows."""
    if results.empty or "options_lang" not in results.columns:
        return pd.DataFrame()
    rows = results[results["scorer"] == scorer].copy()
    rows["kind"] = rows["options_lang"].isna().map({True: "matched", False: "mixed"})
    rows["options_lang"] = rows["options_lang"].fillna(rows["question_lang"])
    # only the cultures that have mixed items, each run on its own culture (as in transfer)
    rows = rows[rows["culture_lang"].isin(set(rows.loc[rows["kind"] == "mixed", "culture_lang"]))]
    own = (rows["run_lang"].fillna("") == "") | (rows["run_lang"] == rows["culture_lang"])
    null = rows[rows["setting"] == NULL_SETTING]
    rows = rows[own & (rows["setting"] != NULL_SETTING)]
    if rows.empty:
        return pd.DataFrame()
    keys = [*KEYS, "kind"]
    table = rows.groupby(keys)["item_id"].nunique().rename("items").reset_index()
    columns = []
    if (rows["step"] == 0).any():  # runs from scratch (the joint regime) have no step 0
        # every run of a grid shares its step-0 model: count each item of each set once
        step0 = rows[rows["step"] == 0].drop_duplicates(["probe_set", "item_id", "seed"])
        columns.append(step0.groupby(keys)["correct"].mean().rename("step0"))
    last = rows[rows["step"] == rows.groupby("run")["step"].transform("max")]
    for setting, group in last.groupby("setting"):
        columns.append(group.groupby(keys)["correct"].mean().rename(setting))
    if not null.empty:  # what no knowledge scores on the same items
        columns.append(null.groupby(keys)["correct"].mean().rename(NULL_SETTING))
    for column in columns:
        table = table.merge(column.reset_index(), on=keys, how="left")
    return table.sort_values(["culture_lang", "question_lang", "kind"], ignore_index=True)


def _estimates(transfer: Path | None) -> pd.DataFrame:
    """The transfer stage's bridge − nobridge estimates, matched (transfer.csv) and mixed
    (transfer_mixed.csv), keyed like :func:`mixed_table`."""
    frames = []
    for name, kind in (("transfer.csv", "matched"), ("transfer_mixed.csv", "mixed")):
        if transfer is None or not (transfer / name).is_file():
            continue
        t = read_table(transfer / name)
        culture, dirn = t["culture"], t["direction"]
        # direction follows the question's language: en->X is asked in X, X->en in English
        question = [c if d == f"en->{c}" else "en" for c, d in zip(culture, dirn)]
        options = t["options_lang"] if kind == "mixed" else question
        frames.append(t.assign(culture_lang=culture, question_lang=question,
                               options_lang=options, kind=kind))  # fmt: skip
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


def with_estimates(table: pd.DataFrame, transfer: Path | None) -> pd.DataFrame:
    """``table`` plus, per treatment, the paired difference against the baseline and its
    adjusted p-value (columns ``<treatment> - <baseline>`` and ``p_adj``), where estimated."""
    est = _estimates(transfer)
    if table.empty or est.empty:
        return table
    keys = [*KEYS, "kind"]
    for (treatment, baseline), g in est.groupby(["treatment", "baseline"]):
        label = f"{treatment} - {baseline}"
        cols = g[[*keys, "diff", "p_adjusted"]].rename(
            columns={"diff": label, "p_adjusted": f"p_adj ({label})"}
        )
        table = table.merge(cols, on=keys, how="left")
    return table


def section_mixed(w: Any, cfg: Any) -> None:
    """The mixed-vs-matched table (``csv/mixed.csv``); nothing when no mixed rows exist."""
    results = _results(Path(cfg.probes or "") / "results.jsonl") if cfg.probes else pd.DataFrame()
    table = mixed_table(results, cfg.headline_scorer)
    if table.empty:
        return
    transfer = Path(cfg.transfer) if cfg.transfer else None
    table = with_estimates(table, transfer)
    table.to_csv(w.out / "csv" / "mixed.csv", index=False)
    if transfer is not None:
        w.attach(transfer / "transfer_mixed.csv")
    w.add(
        "## Mixed-language probes (question and options in different languages)",
        "",
        "Each culture's aligned English and native items, recombined: `mixed` rows ask the "
        "question in `question_lang` with the options (and so the word in the blank) in "
        "`options_lang`; the `matched` row above each is the same items in one language. A "
        "drop from matched to mixed is the crosslingual knowledge barrier of arXiv 2406.16135. "
        f"Scorer `{cfg.headline_scorer}`; `step0` is the model CPT started from, the setting "
        "columns are each run's last step (mean over items and seeds), and the differences are "
        "the transfer stage's paired estimates (matched: transfer.csv, mixed: "
        "transfer_mixed.csv, each its own family).",
        "",
        table.to_markdown(index=False, floatfmt=".3f"),
        "",
        "[csv](csv/mixed.csv)",
        "",
    )
