"""Density, instance-level and validation arithmetic on constructed cases."""

from __future__ import annotations

import math

import pytest
from scipy.stats import mannwhitneyu

from bridgelab.retrieval.density import density_table, instance_table, knowledge
from bridgelab.retrieval.validate import validation_table
from bridgelab.utils.tables import markdown, write_table


def _occ(probe, culture, corpus, n):
    return {"probe_id": probe, "culture": culture, "corpus": corpus, "occurrences": n}


def test_density_is_mean_occurrences_per_probe_over_documents():
    occ = [
        _occ("b1", "bo", "en", 0),
        _occ("b2", "bo", "en", 3),
        _occ("b1", "bo", "bo", 10),
        _occ("b2", "bo", "bo", 20),
        _occ("k1", "ko", "en", 5),
    ]
    rows = density_table(
        occ,
        {"en": 1_000_000, "bo": 50_000},
        retriever={"en": "hybrid", "bo": "bm25"},
        k=50,
        judge="lexical",
        prompt_version="v1",
    )
    by_key = {(r["culture"], r["corpus"]): r for r in rows}
    assert by_key[("bo", "en")]["density"] == pytest.approx(1.5 / 1_000_000)
    assert by_key[("bo", "bo")]["density"] == pytest.approx(15 / 50_000)
    assert by_key[("bo", "bo")]["occurrences"] == 30 and by_key[("bo", "bo")]["num_probes"] == 2
    assert by_key[("ko", "en")]["density"] == pytest.approx(5e-6)
    # every density names what produced it (DESIGN.md control 5)
    assert {r["retriever"] for r in rows if r["corpus"] == "bo"} == {"bm25"}
    assert all(
        r["k"] == 50 and r["judge"] == "lexical" and r["prompt_version"] == "v1" for r in rows
    )


def _res(item, qlang, correct, step=100, run="bo-bridge-s0", setting="bridge"):
    return {
        "run": run,
        "setting": setting,
        "step": step,
        "item_id": item,
        "correct": correct,
        "question_lang": qlang,
        "culture_lang": "bo",
    }


def test_knowledge_uses_each_runs_first_or_last_step_and_averages_seeds():
    rows = [
        _res("i1", "bo", 0.0, step=0),
        _res("i1", "bo", 1.0, step=100),
        _res("i1", "bo", 0.0, step=200, run="bo-bridge-s1"),
        _res("i1", "bo", 1.0, step=50, run="bo-bridge-s1"),
        _res("i1", "bo", 1.0, setting="nobridge", run="bo-nobridge-s0"),
    ]
    assert knowledge(rows, "bridge", "last") == {("i1", "bo"): 0.5}
    assert knowledge(rows, "bridge", "first") == {("i1", "bo"): 0.5}


def _results(start_en, start_bo, end_en, end_bo):
    rows = []
    for table, lang, step in (
        (start_en, "en", 0),
        (start_bo, "bo", 0),
        (end_en, "en", 100),
        (end_bo, "bo", 100),
    ):
        rows += [_res(i, lang, float(v), step=step) for i, v in table.items()]
    return rows


def test_instance_table_compares_transferred_with_all_facts():
    en_counts = {"i1": 9, "i2": 8, "i3": 1, "i4": 0, "i5": 2}
    bo_counts = {"i1": 1, "i2": 0, "i3": 7, "i4": 6, "i5": 0}
    occ = [_occ(i, "bo", "en", n) for i, n in en_counts.items()]
    occ += [_occ(i, "bo", "bo", n) for i, n in bo_counts.items()]
    # i1, i2: known in English from pretraining, learned in Tibetan by the end -> en->bo
    # i3, i4: unknown in English at first, known in both at the end -> bo->en
    # i5: known in English throughout, never in Tibetan -> neither
    results = _results(
        start_en={"i1": 1, "i2": 1, "i3": 0, "i4": 0, "i5": 1},
        start_bo={"i1": 0, "i2": 0, "i3": 0, "i4": 0, "i5": 0},
        end_en={"i1": 1, "i2": 1, "i3": 1, "i4": 1, "i5": 1},
        end_bo={"i1": 1, "i2": 1, "i3": 1, "i4": 1, "i5": 0},
    )
    rows = {r["direction"]: r for r in instance_table(occ, results, {"en": "en", "bo": "bo"})}
    fwd = rows["en->bo"]
    assert fwd["count_corpus"] == "en" and fwd["n_items"] == 5 and fwd["n_transferred"] == 2
    assert fwd["mean_all"] == pytest.approx(4.0) and fwd["mean_transferred"] == pytest.approx(8.5)
    expected = mannwhitneyu([9, 8], [1, 0, 2], alternative="greater")
    assert fwd["p_value"] == pytest.approx(expected.pvalue)
    back = rows["bo->en"]
    assert back["count_corpus"] == "bo" and back["n_transferred"] == 2
    assert back["mean_transferred"] == pytest.approx(6.5) and back["mean_all"] == pytest.approx(
        14 / 5
    )


def test_instance_table_without_contrast_gives_nan_test():
    occ = [_occ("i1", "bo", "en", 3)]
    results = _results({"i1": 1}, {"i1": 0}, {"i1": 1}, {"i1": 1})
    (row,) = [r for r in instance_table(occ, results, {"en": "en"}) if r["direction"] == "en->bo"]
    assert row["n_transferred"] == 1 and math.isnan(row["p_value"])


def test_validation_table_against_ground_truth():
    truth = {
        "p1": {"probe_id": "p1", "counts": {"en": 2}, "doc_ids": {"en": ["a", "b"]}},
        "p2": {"probe_id": "p2", "counts": {"en": 1}, "doc_ids": {"en": ["c"]}},
    }
    retrieved = {("p1", "en"): ["a", "x", "y"], ("p2", "en"): ["c", "a"]}
    labels = {
        ("p1", "a"): True,
        ("p1", "x"): True,
        ("p1", "y"): False,
        ("p2", "c"): True,
        ("p2", "a"): False,
    }
    (row,) = validation_table(truth, retrieved, labels, k=3)
    assert row["recall_at_k"] == pytest.approx(2 / 3)  # b was never retrieved
    assert row["judge_precision"] == pytest.approx(2 / 3)  # a, c right; x wrong
    assert row["judge_recall"] == pytest.approx(1.0)  # every retrieved true doc said Yes
    assert row["estimated_occurrences"] == 3 and row["true_occurrences"] == 3
    assert row["count_mae"] == pytest.approx(0.0) and row["count_exact"] == 1.0


def test_tables_are_written_as_csv_and_markdown(tmp_path):
    rows = [{"a": 1, "b": 1.5e-7, "c": math.nan}]
    write_table(rows, tmp_path / "t")
    assert (tmp_path / "t.csv").read_text().splitlines() == ["a,b,c", "1,1.5e-07,nan"]
    assert "| 1 | 1.5e-07 | - |" in markdown(rows)
