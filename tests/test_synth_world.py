"""The synthetic world: determinism, ground truth against the text, scripts, probes, pairs."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import regex

from bridgelab.contracts.clone import CLONE_LANG_SCRIPTS, clone_text, unclone_text
from bridgelab.contracts.records import BLANK, read_documents, read_pairs, read_probes
from bridgelab.contracts.scripts import LANG_SCRIPTS, count_outside, letters_in_script
from bridgelab.contracts.truth import load_ground_truth
from bridgelab.errors import ConfigError
from bridgelab.synth.config import SynthConfig
from bridgelab.synth.lexicon import SPECS, Lexicon
from bridgelab.synth.output import run
from bridgelab.synth.world import generate

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "configs" / "synth" / "tiny.yaml"
TARGETS = ("bo", "ko", "mn", "zh")


def tiny(out: Path, *overrides: str) -> SynthConfig:
    return SynthConfig.load(TINY, [f"out_dir={out}", *overrides])


@pytest.fixture(scope="session")
def world_dir(tmp_path_factory) -> Path:
    return run(tiny(tmp_path_factory.mktemp("synth") / "world"))


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_same_bytes_other_seed_other_world(world_dir, tmp_path):
    again = _files(run(tiny(tmp_path / "again")))
    assert again == _files(world_dir)
    other = _files(run(tiny(tmp_path / "other", "seed=1")))
    assert other.keys() == again.keys()
    for name in (
        "corpora/en.jsonl",
        "corpora/ko.jsonl",
        "probes/zh.zh.jsonl",
        "ground_truth.jsonl",
    ):
        assert other[name] != again[name], name


def _sentences(text: str, lang: str) -> list[str]:
    end = SPECS[lang].sentence_end
    return [s.strip() for s in text.split(end) if s.strip()]


def test_recorded_counts_equal_counts_found_in_the_text(world_dir):
    """Scan each corpus for sentences holding a fact's subject and object (names from
    world.json), independently of the templates, and compare with the ground truth."""
    summary = json.loads((world_dir / "world.json").read_text(encoding="utf-8"))
    facts = {f["id"]: f for f in summary["facts"]}
    rows = load_ground_truth(world_dir)
    assert {r["fact_id"] for r in rows} == set(facts)
    cfg = tiny(world_dir)
    for corpus in ("en", *TARGETS):
        docs = list(read_documents(world_dir / "corpora" / f"{corpus}.jsonl"))
        for row in rows:
            fact = facts[row["fact_id"]]
            if corpus == "en":
                subj = regex.compile(rf"\b{fact['subject']}\b")
                obj = regex.compile(rf"\b{fact['object']}\b")
            else:
                subj = regex.compile(regex.escape(fact["subject_names"][corpus]))
                obj = regex.compile(regex.escape(fact["object_words"][corpus]))
            found = sorted(
                d.id
                for d in docs
                if any(subj.search(s) and obj.search(s) for s in _sentences(d.text, corpus))
            )
            assert found == row["doc_ids"][corpus], (row["fact_id"], corpus)
            assert row["counts"][corpus] == len(found)
        # the counts are the configured ones: exposure decides which corpora state a fact
    for row in rows:
        lc = cfg.languages[row["lang"]]
        en_on = row["exposure"] in ("both", "en_only")
        native_on = row["exposure"] in ("both", "native_only")
        assert row["counts"]["en"] == (lc.en_mentions if en_on else 0)
        assert row["counts"][row["lang"]] == (lc.native_mentions if native_on else 0)
        assert sum(row["counts"].values()) == row["counts"]["en"] + row["counts"][row["lang"]]
    exposures = Counter(r["exposure"] for r in rows if r["probe_id"])
    assert exposures == {"both": 16, "en_only": 8, "native_only": 8}  # 4 cultures x (4, 2, 2)


def test_every_text_is_in_its_own_script_alone(world_dir):
    for lang in ("en", *TARGETS):
        script = (LANG_SCRIPTS[lang],)
        docs = list(read_documents(world_dir / "corpora" / f"{lang}.jsonl"))
        assert docs and all(d.lang == lang for d in docs)
        for doc in docs:
            assert count_outside(doc.text, script) == 0, (doc.id, doc.text[:80])
            in_script, letters = letters_in_script(doc.text, LANG_SCRIPTS[lang])
            assert in_script == letters > 0
    for lang in TARGETS:
        for pair in read_pairs(world_dir / "parallel" / f"en-{lang}.jsonl"):
            assert (pair.lang_a, pair.lang_b) == ("en", lang)
            assert count_outside(pair.text_a, ("Latin",)) == 0
            assert count_outside(pair.text_b, (LANG_SCRIPTS[lang],)) == 0
        for item in read_probes(world_dir / "probes" / f"{lang}.{lang}.jsonl"):
            for text in (item.question, *item.options):
                assert count_outside(text, (LANG_SCRIPTS[lang],)) == 0


def test_probes_are_well_formed_aligned_and_balanced(world_dir):
    positions: Counter = Counter()
    for lang in TARGETS:
        english = list(read_probes(world_dir / "probes" / f"{lang}.en.jsonl"))
        native = list(read_probes(world_dir / "probes" / f"{lang}.{lang}.jsonl"))
        assert len(english) == len(native) == 8
        assert [p.id for p in english] == [p.id for p in native]
        for items, qlang in ((english, "en"), (native, lang)):
            per_file = Counter(p.answer_index for p in items)
            assert max(per_file.values()) - min(per_file.values()) <= 1 and len(per_file) == 4
            for p in items:
                assert p.lang == qlang and p.culture == f"{lang}-c0"
                assert p.question.count(BLANK) == 1
                assert len(p.options) == 4 == len(set(p.options))
                assert p.answer_index is not None
        for en, nat in zip(english, native):
            assert en.answer_index == nat.answer_index
            positions[en.answer_index] += 1
    assert sorted(positions.values()) == [8, 8, 8, 8]
    truth = {r["probe_id"]: r for r in load_ground_truth(world_dir) if r["probe_id"]}
    for item in read_probes(world_dir / "probes" / "ko.en.jsonl"):
        assert item.answer == truth[item.id]["object"]
        assert truth[item.id]["subject"] in item.question


def test_translations_are_exact_and_pairs_do_not_leak_answers(world_dir, tmp_path):
    rows = load_ground_truth(world_dir)
    probed = [r for r in rows if r["probe_id"]]
    for lang in TARGETS:
        pairs = list(read_pairs(world_dir / "parallel" / f"en-{lang}.jsonl"))
        assert len(pairs) == 60 and len({p.id for p in pairs}) == 60
        seen: dict[str, str] = {}
        for p in pairs:
            assert seen.setdefault(p.text_a, p.text_b) == p.text_b  # one translation each
            for r in probed:
                assert not (r["subject"] in p.text_a and f" {r['object']}" in p.text_a), p.text_a
    assert all(r["pair_ids"] == [] for r in probed)
    bridge = [r for r in rows if r["probe_id"] is None]
    assert bridge and sum(len(r["pair_ids"]) for r in bridge) > 0
    leaky = generate(tiny(tmp_path, "pair_mix.probed_facts=0.5"))
    assert sum(len(v) for k, v in leaky.pair_ids.items() if not k.endswith(("f08", "f09"))) > 0


def test_lexicon_word_order_and_transliteration():
    words = ["festival", "is", "held", "in", "march", "the"]
    ko, zh = Lexicon("ko", words, seed=3), Lexicon("zh", words, seed=3)
    template = "S:the {s} festival|V:is held|O:in {o}"
    en = Lexicon("en", words, seed=3).render(template, names={"s": "Toka"}, words={"o": "march"})
    assert en == "The Toka festival is held in march."
    w = ko.words
    expected = f"{ko.name('Toka')} {w['festival']} {w['march']} {w['in']} {w['is']} {w['held']}."
    assert ko.render(template, names={"s": "Toka"}, words={"o": "march"}) == expected
    # Chinese-like keeps English order and writes no spaces
    assert zh.render(template, names={"s": "Toka"}, words={"o": BLANK}) == (
        f"{zh.name('Toka')}{zh.words['festival']}{zh.words['is']}{zh.words['held']}"
        f"{zh.words['in']}{BLANK}\u3002"
    )
    # names are transliterated syllable by syllable; the lexicon is one-to-one
    bo = Lexicon("bo", words, seed=3)
    assert bo.name("Tokami") == "\u0f0b".join([bo.name("To"), bo.name("Ka"), bo.name("Mi")])
    assert ko.name("Tokami") == ko.name("To") + ko.name("Ka") + ko.name("Mi")
    for lex in (ko, zh, bo, Lexicon("mn", words, seed=3)):
        assert "the" not in lex.words and len(set(lex.words.values())) == len(words) - 1
    assert Lexicon("ko", words, seed=4).words != ko.words


def test_a_clone_is_english_character_for_character_in_the_target_script(tmp_path):
    words = ["festival", "is", "held", "in", "march", "the"]
    template = "S:the {s} festival|V:is held|O:in {o}"
    en = Lexicon("en", words, seed=3).render(template, names={"s": "Toka"}, words={"o": "march"})
    assert en == "The Toka festival is held in march."
    for lang, script in CLONE_LANG_SCRIPTS.items():
        lex = Lexicon(lang, words, seed=3, clone=True)
        text = lex.render(template, names={"s": "Toka"}, words={"o": "march"})
        # same words, order, articles, case, spaces and full stop: phi^-1 gives the English back
        assert unclone_text(text, script) == en and len(text) == len(en)
        assert text[0] == clone_text("T", script) != clone_text("t", script)  # case is kept
        letters, total = letters_in_script(text, LANG_SCRIPTS[lang])
        assert letters == total > 0
        assert lex.words["the"] and lex.name("Toka") == clone_text("Toka", script)
        assert lex.word(BLANK) == BLANK
    # the clone is a control for one language; the others keep their generated lexicons
    cfg = tiny(tmp_path, "clones=[zh]")
    world = generate(cfg)
    assert world.lexicons["zh"].clone and not world.lexicons["ko"].clone
    assert world.lexicons["ko"].words == generate(tiny(tmp_path)).lexicons["ko"].words


def test_clones_key_is_checked_and_absent_from_worlds_without_clones(tmp_path, world_dir):
    with pytest.raises(ConfigError, match="clones: 'xx' is not one of languages"):
        tiny(tmp_path, "clones=[xx]")
    with pytest.raises(ConfigError, match="clones: 'bo' cannot be a clone"):
        tiny(tmp_path, "clones=[bo]")
    summary = json.loads((world_dir / "world.json").read_text(encoding="utf-8"))
    assert "clones" not in summary["config"]
    cloned = generate(tiny(tmp_path, "clones=[ko]")).summary()
    assert cloned["config"]["clones"] == ["ko"] and cloned["config_hash"] != summary["config_hash"]
