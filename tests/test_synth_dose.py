"""Designed exposure (dose, priority, robust): exact statement counts in the ground truth AND in
the corpora's text, every cell filled, competing values among the options, config errors that
name the key, and designs that leave ordinary worlds alone."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from bridgelab.contracts.records import read_documents, read_probes
from bridgelab.contracts.truth import load_ground_truth
from bridgelab.errors import ConfigError
from bridgelab.synth.config import SynthConfig
from bridgelab.synth.output import plan, run
from bridgelab.synth.vocab import VALUE_SETS
from bridgelab.synth.world import generate

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "configs" / "synth" / "tiny.yaml"
DESIGNS = [
    "languages={ko: {cultures: 2, filler_words: 300, pairs: 40}, zh: {cultures: 1, "
    "filler_words: 300, pairs: 40}}",
    "dose={ladder: [0, 1, 3], facts_per_cell: 2}",
    "priority={ladder: [1, 2], facts_per_cell: 2}",
    "robust={total: 3, ratios: [[3, 0], [2, 1], [1, 2]], corpora: [en, native, both], "
    "facts_per_cell: 1}",
]


@pytest.fixture(scope="module")
def designed(tmp_path_factory):
    out = tmp_path_factory.mktemp("dose")
    cfg = SynthConfig.load(TINY, [f"out_dir={out}", *DESIGNS])
    folder = run(cfg)
    rows = {r["fact_id"]: r for r in load_ground_truth(folder)}
    return cfg, generate(cfg), folder, rows


def _design_rows(rows, design=None):
    return [r for r in rows.values() if r.get("design") and design in (None, r["design"])]


def test_every_statement_is_in_exactly_its_documents(designed):
    """Scan the written corpora: the documents stating (fact, value) are exactly the recorded
    ones, as many as the cell says; no document states any other value of a design fact."""
    cfg, world, folder, rows = designed
    texts = {
        c: {d.id: d.text for d in read_documents(folder / "corpora" / f"{c}.jsonl")}
        for c in ("en", *cfg.languages)
    }
    facts = {f.id: f for f in world.facts}
    assert _design_rows(rows)
    for row in _design_rows(rows):
        fact = facts[row["fact_id"]]
        for corpus, docs in texts.items():
            planted = row["statements"].get(corpus, {})
            for value in VALUE_SETS[fact.relation.value_type]:
                sentences = [
                    world.render_fact(fact, corpus, t, value) for t in fact.relation.templates
                ]
                hits = sorted(i for i, text in docs.items() if any(s in text for s in sentences))
                assert len(hits) == planted.get(value, 0), (row["fact_id"], corpus, value)
                if value in planted:
                    assert hits == row["doc_ids_by_value"][corpus][value]
            # counts / doc_ids keep their meaning: the documents stating the TRUE object
            assert row["counts"][corpus] == planted.get(row["object"], 0)
            assert len(row["doc_ids"][corpus]) == row["counts"][corpus]


def test_crossed_ladder_fills_every_cell(designed):
    cfg, _, _, rows = designed
    for lang in cfg.languages:
        cells = Counter(
            (r["statements"]["en"][r["object"]], r["statements"][lang][r["object"]])
            for r in _design_rows(rows, "dose")
            if r["lang"] == lang
        )
        assert cells == {(e, n): 2 for e in (0, 1, 3) for n in (0, 1, 3)}


def test_uncrossed_ladder_varies_one_corpus_at_a_time(tmp_path):
    cfg = SynthConfig.load(
        TINY, [f"out_dir={tmp_path}", "dose={ladder: [0, 2, 5], facts_per_cell: 3, cross: false}"]
    )
    all_rows = generate(cfg).ground_truth()
    rows = [r for r in all_rows if r.get("design") == "dose"]
    # the design replaces the exposure shares: every probed target-language fact is a dose fact
    assert all(r.get("design") for r in all_rows if r["probe_id"])
    for lang in cfg.languages:
        cells = Counter((r["counts"]["en"], r["counts"][lang]) for r in rows if r["lang"] == lang)
        assert cells == {(0, 0): 3, (2, 0): 3, (5, 0): 3, (0, 2): 3, (0, 5): 3}


def _probes(folder, lang, qlang):
    return {it.id: it for it in read_probes(folder / "probes" / f"{lang}.{qlang}.jsonl")}


def test_priority_facts_state_two_values_and_ask_both(designed):
    cfg, world, folder, rows = designed
    lex = world.lexicons
    for lang in cfg.languages:
        english, native = _probes(folder, lang, "en"), _probes(folder, lang, lang)
        assert english.keys() == native.keys()
        cells = Counter()
        for row in (r for r in _design_rows(rows, "priority") if r["lang"] == lang):
            obj, alt = row["object"], row["alt_object"]
            assert row["statements"]["en"] == {obj: row["counts"]["en"]}
            assert set(row["statements"][lang]) == {alt} and row["counts"][lang] == 0
            cells[(row["statements"]["en"][obj], row["statements"][lang][alt])] += 1
            en_item, nat_item = english[row["probe_id"]], native[row["probe_id"]]
            assert en_item.answer == obj and alt in en_item.options
            # native options are the same values in the same order
            assert nat_item.options == tuple(lex[lang].word(o) for o in en_item.options)
            assert nat_item.answer_index == en_item.answer_index
        assert cells == {(e, n): 2 for e in (1, 2) for n in (1, 2)}


def test_priority_alt_value_has_the_objects_type(designed):
    _, world, _, rows = designed
    facts = {f.id: f for f in world.facts}
    for row in _design_rows(rows, "priority"):
        values = VALUE_SETS[facts[row["fact_id"]].relation.value_type]
        assert row["alt_object"] in values and row["alt_object"] != row["object"]


def test_robust_facts_split_true_and_wrong_by_the_ratios(designed):
    cfg, _, folder, rows = designed
    for lang in cfg.languages:
        english = _probes(folder, lang, "en")
        cells = Counter()
        for row in (r for r in _design_rows(rows, "robust") if r["lang"] == lang):
            true, wrong = row["object"], row["wrong_object"]
            split = {c: (v[true], v[wrong]) for c, v in row["statements"].items()}
            cells[(split["en"], split[lang])] += 1
            item = english[row["probe_id"]]
            assert item.answer == true and wrong in item.options
        ratios = [(3, 0), (2, 1), (1, 2)]
        expected = Counter()
        for r in ratios:
            expected[(r, (0, 0))] += 1  # noise in English only
            expected[((0, 0), r)] += 1  # noise in the native corpus only
            expected[(r, r)] += 1  # both
        assert cells == expected


def test_plan_and_world_json_describe_the_designs(designed):
    cfg, _, folder, _ = designed
    lines = "\n".join(plan_lines(cfg))
    assert "design dose (ladder [0, 1, 3], English x native counts): 9 cells" in lines
    assert "design priority" in lines
    assert "design robust" in lines
    summary = json.loads((folder / "world.json").read_text(encoding="utf-8"))
    assert summary["config"]["dose"]["ladder"] == [0, 1, 3]


def test_designs_off_leave_no_trace(tmp_path):
    cfg = SynthConfig.load(TINY, [f"out_dir={tmp_path}"])
    assert {"dose", "priority", "robust"} <= set(cfg.unused_keys())
    summary = json.loads((run(cfg) / "world.json").read_text(encoding="utf-8"))
    assert not {"dose", "priority", "robust"} & set(summary["config"])
    rows = load_ground_truth(tmp_path)
    assert not any("design" in r or "statements" in r for r in rows)


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("dose.ladder=[0, 4, 2]", "dose.ladder"),
        ("dose.ladder=[-1, 2]", "dose.ladder"),
        ("dose={ladder: [0, 1], facts_per_cell: 0}", "dose.facts_per_cell"),
        ("priority.ladder=[0, 2]", "priority.ladder"),
        ("robust={total: 4, ratios: [[3, 0]]}", r"robust.ratios\[0\]"),
        ("robust={total: 4, ratios: [[5, -1]]}", r"robust.ratios\[0\]"),
        ("robust={ratios: [[2, 2]], corpora: [fr]}", "robust.corpora"),
        ("robust.total=0", "robust.total"),
    ],
)
def test_bad_design_values_name_the_key(override, key):
    with pytest.raises(ConfigError, match=key):
        SynthConfig.load(TINY, [override])


def test_designs_refuse_pairs_that_state_probed_facts():
    with pytest.raises(ConfigError, match="pair_mix.probed_facts"):
        SynthConfig.load(TINY, ["dose.ladder=[1]", "pair_mix.probed_facts=0.1"])


def plan_lines(cfg) -> list[str]:
    """The dry run's text of the synth plan, one stripped line per step."""
    from bridgelab.stage import render_plan

    return [line.strip() for line in render_plan(plan(cfg))]
