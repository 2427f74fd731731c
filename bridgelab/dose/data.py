"""Read a synthetic world's ground truth, its probe options and probe results into tables.

Every bad input is a DataError naming the file, the line (or probe item) and the key. The
ground-truth keys of a dose world (docs/CONTRACTS.md, "Dose worlds") are optional: an ordinary
world is analysed on its ``counts`` alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from bridgelab.contracts.records import read_jsonl_records, read_probes
from bridgelab.contracts.truth import GROUND_TRUTH, parse_ground_truth_row
from bridgelab.errors import DataError

DESIGNS = ("dose", "priority", "robust")
RESULT_KEYS = ("run", "setting", "seed", "step", "item_id", "scorer", "culture_lang",
               "question_lang", "correct", "pred")  # fmt: skip


def _statements(row: dict[str, Any], where: str) -> dict[str, dict[str, int]]:
    value = row.get("statements", {})
    ok = isinstance(value, dict) and all(
        isinstance(v, dict) and all(isinstance(n, int) for n in v.values()) for v in value.values()
    )
    if not ok:
        raise DataError(f"{where}: key 'statements' must map corpus -> {{value: documents}}")
    return value


def _fact(row: dict[str, Any], where: str) -> dict[str, Any]:
    """One ground-truth row as a flat record: design, the two counts, the competing values."""
    row = parse_ground_truth_row(row, where)
    design = row.get("design") or "ordinary"
    if design != "ordinary" and design not in DESIGNS:
        raise DataError(f"{where}: key 'design': '{design}' is not one of {', '.join(DESIGNS)}")
    lang = row["lang"]
    counts = row["counts"]
    if not all(isinstance(counts.get(c, 0), int) for c in ("en", lang)):
        raise DataError(f"{where}: key 'counts': document counts must be integers")
    statements = _statements(row, where)
    fact = {
        "fact_id": row["fact_id"],
        "probed": row.get("probe_id") is not None,
        "culture_lang": lang,
        "design": design,
        "object": row["object"],
        "count_en": int(counts.get("en", 0)),
        "count_native": int(counts.get(lang, 0)) if lang != "en" else 0,
        "alt_object": None,
        "wrong_object": None,
    }
    needs = {"priority": "alt_object", "robust": "wrong_object"}.get(design)
    if needs:
        if not isinstance(row.get(needs), str):
            raise DataError(f"{where}: a {design} fact needs the key '{needs}'")
        if not statements:
            raise DataError(f"{where}: a {design} fact needs the key 'statements'")
        fact[needs] = row[needs]
    if design == "priority":
        # the English corpus states `object`, the native corpus `alt_object`
        fact["count_en"] = statements.get("en", {}).get(row["object"], 0)
        fact["count_native"] = statements.get(lang, {}).get(row["alt_object"], 0)
    if design == "robust":
        fact["true_count"] = sum(s.get(row["object"], 0) for s in statements.values())
        fact["wrong_count"] = sum(s.get(row["wrong_object"], 0) for s in statements.values())
        fact["corpora"] = "+".join(sorted(c for c, s in statements.items() if any(s.values())))
    return fact


def load_facts(world: str | Path) -> pd.DataFrame:
    """One row per probed fact of ``<world>/ground_truth.jsonl``."""
    path = Path(world) / GROUND_TRUTH
    if not path.is_file():
        raise DataError(f"world: {path} not found (run `bridgelab synth` first)")
    facts = pd.DataFrame(list(read_jsonl_records(path, _fact)))
    if facts.empty:
        raise DataError(f"{path}: no facts")
    return facts[facts["probed"]].reset_index(drop=True)


def option_values(world: str | Path, facts: pd.DataFrame) -> dict[str, dict[str, int]]:
    """fact id -> {value: option index} for the priority and robust facts.

    Options are compared by index: the native probe set holds the translations of the English
    options in the same order (``bridgelab.synth.world._probes`` builds both from one list), so
    the English set's option text is the value and its index names the same option in both.
    That alignment is checked here on every answer rather than trusted.
    """
    special = facts[facts["design"].isin(["priority", "robust"])]
    out: dict[str, dict[str, int]] = {}
    for lang, group in special.groupby("culture_lang"):
        en_path = Path(world) / "probes" / f"{lang}.en.jsonl"
        english = {item.id: item for item in read_probes(en_path)}
        native_path = Path(world) / "probes" / f"{lang}.{lang}.jsonl"
        native = {item.id: item for item in read_probes(native_path)} if lang != "en" else {}
        for _, fact in group.iterrows():
            item = english.get(fact["fact_id"])
            if item is None:
                raise DataError(f"{en_path}: no probe item with id '{fact['fact_id']}'")
            twin = native.get(fact["fact_id"])
            if twin is not None and twin.answer_index != item.answer_index:
                raise DataError(
                    f"{native_path}: item '{item.id}': answer at option {twin.answer_index}, "
                    f"the English twin's at {item.answer_index}; options must be aligned"
                )
            index = {}
            for key in ("object", "alt_object", "wrong_object"):
                value = fact[key]
                if value is None or (isinstance(value, float) and pd.isna(value)):
                    continue
                if value not in item.options:
                    raise DataError(
                        f"{en_path}: item '{item.id}': the {key} '{value}' of the ground truth "
                        "is not among its options"
                    )
                index[key] = item.options.index(value)
            out[fact["fact_id"]] = index
    return out


def _result(row: dict[str, Any], where: str) -> dict[str, Any]:
    missing = [k for k in RESULT_KEYS if k not in row]
    if missing:
        raise DataError(f"{where}: missing key '{missing[0]}'")
    credit = row["correct"]
    if isinstance(credit, bool) or not isinstance(credit, (int, float)) or not 0 <= credit <= 1:
        raise DataError(f"{where}: key 'correct': expected a credit in [0, 1], got {credit!r}")
    if not isinstance(row["pred"], int) or isinstance(row["pred"], bool):
        raise DataError(f"{where}: key 'pred': expected an option index, got {row['pred']!r}")
    keep = {k: row[k] for k in RESULT_KEYS}
    keep["run_lang"] = row.get("run_lang") or ""
    keep["options_lang"] = row.get("options_lang") or ""
    # the expected credit of a uniform guess; rows from before `chance` existed: 1/options
    keep["chance"] = row.get("chance", 1.0 / max(1, len(row.get("scores") or [0] * 4)))
    return keep


def results_path(results: str | Path) -> Path:
    path = Path(results)
    path = path / "results.jsonl" if path.is_dir() else path
    if not path.is_file():
        raise DataError(f"results: {path} not found (run `bridgelab probe` first)")
    return path


def load_results(results: str | Path, scorer: str, steps: str) -> pd.DataFrame:
    """Item rows of ``scorer``: each run on its own culture, at its last step or at every step."""
    path = results_path(results)
    rows = pd.DataFrame(list(read_jsonl_records(path, _result)))
    if rows.empty or scorer not in set(rows["scorer"]):
        raise DataError(f"{path}: no rows of scorer '{scorer}'")
    rows = rows[rows["scorer"] == scorer]
    # a run is read on its own culture's probes (English-culture sets are scored on every run)
    own = (rows["run_lang"] == "") | (rows["run_lang"] == rows["culture_lang"])
    # mixed-language items (options in the other language, bridgelab.probes.mixed) are another
    # measurement; the curves read the matched items only
    rows = rows[own & (rows["culture_lang"] != "en") & (rows["options_lang"] == "")]
    if steps == "last":
        rows = rows[rows["step"] == rows.groupby("run")["step"].transform("max")]
    rows = rows.assign(questions=(rows["question_lang"] == "en").map({True: "en", False: "native"}))
    return rows.reset_index(drop=True)


def merge(rows: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    """Results joined to their facts (rows whose item is no fact of the world are dropped)."""
    merged = rows.merge(facts.drop(columns=["culture_lang"]), left_on="item_id",
                        right_on="fact_id", how="inner")  # fmt: skip
    if merged.empty:
        raise DataError("no probe result matches a fact of the world (item_id vs fact_id)")
    return merged
