"""Probe loaders and the linter: constructed defects, and the known defects of the paper's files."""

from __future__ import annotations

import json

import pytest

from bridgelab.cli import main as cli_main
from bridgelab.contracts.probe_sets import (
    check_aligned,
    load_lnewknow,
    load_paper_set,
    load_probe_set,
)
from bridgelab.contracts.records import ProbeItem
from bridgelab.errors import DataError
from bridgelab.probes.lint import lint, lint_paths


def item(id: str, question: str, options: list[str], answer: str) -> ProbeItem:
    return ProbeItem(
        id=id, culture="c", lang="en", question=question, options=tuple(options), answer=answer
    )


def test_lint_finds_each_constructed_defect():
    items = [
        item("ok", "The sky is ___.", ["blue", "red", "green", "pink"], "blue"),
        item("noblank", "What colour is the sky?", ["blue", "red", "green", "pink"], "blue"),
        item("two", "___ is ___.", ["a", "b", "c", "d"], "a"),
        item("missing", "It is ___.", ["a", "b", "c", "d"], "e"),
        item("dup", "It is ___.", ["a", "a", "c", "d"], "c"),
        item("three", "It is ____.", ["a", "b", "c"], "b"),
    ]
    report = lint(items)
    found = {(i.item_id, i.kind) for i in report.issues}
    assert ("noblank", "no_blank") in found
    assert ("two", "multiple_blanks") in found
    assert ("missing", "answer_not_in_options") in found
    assert ("dup", "duplicate_options") in found
    assert ("three", "option_count") in found
    assert ("three", "nonstandard_blank") in found  # "____" where the set uses "___"
    assert not any(i.item_id == "ok" for i in report.issues)
    # answer positions of the 5 items whose answer is an option: 0,0,0,2,1
    assert report.position_counts == {0: 3, 1: 1, 2: 1, 3: 0}
    assert report.n_defects == 5


def test_position_bias_is_detected():
    biased = [item(f"b{i}", "x ___", ["a", "b", "c", "d"], "a") for i in range(40)]
    balanced = [item(f"u{i}", "x ___", ["a", "b", "c", "d"], "abcd"[i % 4]) for i in range(40)]
    assert lint(biased).position_p_value < 1e-10
    assert lint(balanced).position_p_value == pytest.approx(1.0)


def test_paper_files_known_defects(sample_data):
    folder = sample_data / "probes" / "cross_lingual_culture"
    reports = {r.name.split(" ")[0]: r for r in lint_paths([str(folder)])}
    kinds = lambda name: {(i.index, i.kind) for i in reports[name].issues}  # noqa: E731
    mn_en = kinds("paper:mn.en")
    assert (69, "answer_not_in_options") in mn_en  # "precise script", documented upstream
    assert {(i, "no_blank") for i in (32, 88, 98, 99, 153, 174, 191, 223)} <= mn_en
    assert (69, "answer_index_mismatch") in kinds("paper:mn.mn")
    assert {(17, "no_blank"), (23, "no_blank")} <= kinds("paper:mn.mn")
    assert (486, "multiple_blanks") in kinds("paper:ko.en")
    assert {
        (146, "duplicate_options"),
        (161, "duplicate_options"),
        (296, "duplicate_options"),
    } <= kinds("paper:ko.en")
    assert (353, "no_blank") in kinds("paper:ko.ko")
    assert (2, "nonstandard_blank") in kinds("paper:bo.bo")  # a single "_" as the blank
    # the answer sits at option 0 in 292 of 328 Chinese items
    assert reports["paper:zh.en"].position_counts[0] == 292
    assert reports["paper:zh.en"].position_p_value < 1e-100


def test_paper_sets_align_and_cli(sample_data, tmp_path, capsys):
    folder = sample_data / "probes" / "cross_lingual_culture"
    ko, en = load_paper_set(folder, "ko", "ko"), load_paper_set(folder, "ko", "en")
    check_aligned(ko, en)
    assert len(ko.items) == 598 and ko.items[0].id == en.items[0].id == "ko-0000"
    out = tmp_path / "lint.json"
    rc = cli_main(
        ["lint-probes", str(folder / "mn-culture-cloze_en.json"), "--json", str(out), "--strict"]
    )
    assert rc == 1
    assert "answer_not_in_options" in capsys.readouterr().out
    assert json.loads(out.read_text())[0]["counts"]["no_blank"] == 8


def test_lnewknow_mapping_is_seeded_and_unbiased(sample_data):
    path = sample_data / "probes" / "lnewknow" / "fictional_new_knowledge.eval.en.jsonl"
    a, b = load_lnewknow(path, seed=0), load_lnewknow(path, seed=0)
    assert a == b
    assert load_lnewknow(path, seed=1).items != a.items
    assert len(a.items) == 100
    for it in a.items:
        assert len(set(it.options)) == 4 and it.answer_index is not None
        assert it.question.startswith("Q: ") and it.question.endswith("A: ___")
    report = lint(a.items)
    assert report.n_defects == 0 and report.position_p_value > 0.001


def test_bad_inputs_name_the_file(tmp_path):
    bad = tmp_path / "ko-culture-cloze_en.json"
    bad.write_text('[{"question": "x ___", "options": "abc", "answer": "a"}]')
    with pytest.raises(DataError, match="item index 0.*options"):
        load_paper_set(tmp_path, "ko", "en")
    with pytest.raises(DataError, match="not found"):
        load_paper_set(tmp_path, "zh", "en")
    world = tmp_path / "world"
    (world / "probes").mkdir(parents=True)
    (world / "probes" / "ko.en.jsonl").write_text('{"id": "a"}\n')
    with pytest.raises(DataError, match=r"ko\.en\.jsonl:1: key .options."):
        load_probe_set("synthetic", world, "ko", "en")
    chat = tmp_path / "x.eval.en.jsonl"
    chat.write_text('{"messages": []}\n')
    with pytest.raises(DataError, match=r"x\.eval\.en\.jsonl:1"):
        load_lnewknow(chat)


def test_strict_lint_fails_on_a_folder_of_unsupported_files(tmp_path, capsys):
    """Issue 15: a folder of CSV probes (KMMLU's format) linted as "0 sets, 0 defects", exit 0."""
    (tmp_path / "kmmlu_test.csv").write_text("question,A,B,C,D,answer\nq ___?,a,b,c,d,1\n")
    assert cli_main(["lint-probes", str(tmp_path), "--strict"]) == 1
    out = capsys.readouterr().out
    assert "skipped" in out and "kmmlu_test.csv" in out and "1 files skipped" in out
    assert cli_main(["lint-probes", str(tmp_path)]) == 0  # without --strict: listed, not fatal
