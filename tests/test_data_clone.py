"""The token-level clone: a character bijection plus a mirrored BPE, exact token by token."""

from __future__ import annotations

import json

import pytest
import regex

from bridgelab.contracts.clone import (
    CLONE_SCRIPTS,
    char_map,
    clone_text,
    id_map,
    unclone_text,
    verify_mirror,
)
from bridgelab.contracts.records import read_documents, read_pairs, read_probes
from bridgelab.contracts.tokenizer import load_tokenizer
from bridgelab.data.tokenizer import TokenizerConfig
from bridgelab.data.tokenizer import run as build_tokenizer
from bridgelab.errors import ConfigError, DataError
from bridgelab.probes.scoring import fill_sentence
from bridgelab.synth.config import SynthConfig
from bridgelab.synth.output import run as build_world
from tests.conftest import REPO


@pytest.mark.parametrize("script", sorted(CLONE_SCRIPTS))
def test_the_character_map_is_a_bijection_that_keeps_pre_token_classes(script):
    table = char_map(script)
    assert len(set(table.values())) == len(table) == 52 + 10 + 31
    for en, cl in table.items():
        for cls in (r"\p{L}", r"\p{N}", r"\s"):
            assert bool(regex.fullmatch(cls, en)) == bool(regex.fullmatch(cls, cl)), (en, cl)
    text = "The 3 lutes (of Depu's) cost 10.5; ___ !"
    assert unclone_text(clone_text(text, script), script) == text
    assert clone_text(text, script).count(" ") == text.count(" ") and "___" in clone_text(
        text, script
    )


@pytest.fixture(scope="module")
def clone_world(tmp_path_factory):
    root = tmp_path_factory.mktemp("clone")
    cfg = SynthConfig.load(REPO / "configs/synth/tiny.yaml")
    cfg.out_dir, cfg.clones = str(root / "world"), ["zh"]
    build_world(cfg)
    tcfg = TokenizerConfig.load(REPO / "configs/data/tokenizer_synth.yaml")
    tcfg.out_dir, tcfg.data_root = str(root / "tok"), str(root / "world")
    tcfg.clone_script, tcfg.isolate = "Han", ""
    build_tokenizer(tcfg)
    return root


def test_a_clone_world_tokenizes_token_by_token_like_its_english(clone_world):
    tok, info = load_tokenizer(clone_world / "tok")
    assert info["clone_script"] == "Han"
    pairs = id_map(tok, "Han")
    assert len(pairs) > 300 and len(set(pairs.values())) == len(pairs)  # one twin each
    assert not set(pairs) & set(pairs.values())
    world = clone_world / "world"
    # parallel pairs: the clone side is the English side, character for character and token
    # for token
    for pair in read_pairs(world / "parallel/en-zh.jsonl"):
        assert pair.text_b == clone_text(pair.text_a, "Han")
        en, cl = (tok.encode(t, add_special_tokens=False) for t in (pair.text_a, pair.text_b))
        assert cl == [pairs.get(i, i) for i in en]
        assert sum(i in pairs for i in en) >= len(en) - en.count(tok.convert_tokens_to_ids("Ġ"))
    # probes: each filled clone question is the twin of the filled English one
    english = {p.id: p for p in read_probes(world / "probes/zh.en.jsonl")}
    for item in read_probes(world / "probes/zh.zh.jsonl"):
        en_item = english[item.id]
        assert item.answer == clone_text(en_item.answer, "Han")
        for opt, en_opt in zip(item.options, en_item.options):
            cl = tok.encode(fill_sentence(item.question, opt), add_special_tokens=False)
            en = tok.encode(fill_sentence(en_item.question, en_opt), add_special_tokens=False)
            assert cl == [pairs.get(i, i) for i in en]
    docs = [d.text for d in read_documents(world / "corpora/zh.jsonl")]
    assert verify_mirror(tok, docs, "Han", where="zh corpus") > 500
    # other languages are untouched by the clone
    ko = next(iter(read_documents(world / "corpora/ko.jsonl"))).text
    assert not set(tok.encode(ko, add_special_tokens=False)) & set(pairs.values())


def test_a_tokenizer_without_the_mirror_is_caught(clone_world, tmp_path):
    tcfg = TokenizerConfig.load(REPO / "configs/data/tokenizer_synth.yaml")
    tcfg.out_dir, tcfg.data_root, tcfg.isolate = (
        str(tmp_path / "tok"),
        str(clone_world / "world"),
        "",
    )
    tcfg.clone_script = ""
    build_tokenizer(tcfg)  # learns its own merges for the clone text: no twins
    tok, info = load_tokenizer(tmp_path / "tok")
    assert "clone_script" not in info
    docs = [d.text for d in read_documents(clone_world / "world/corpora/zh.jsonl")]
    with pytest.raises(DataError, match="zh corpus: text 0 does not tokenize as the clone"):
        verify_mirror(tok, docs, "Han", where="zh corpus")


def test_clone_script_and_isolate_are_checked(tmp_path):
    base = {"corpora": [{"lang": "en", "path": "x.jsonl"}]}
    with pytest.raises(ConfigError, match="isolate: .* matches characters of the Han clone"):
        TokenizerConfig.from_dict({**base, "clone_script": "Han", "isolate": r"\p{Han}"})
    with pytest.raises(ConfigError, match="clone_script: no clone alphabet for script 'Tibetan'"):
        TokenizerConfig.from_dict({**base, "clone_script": "Tibetan"})
    # the demo's Chinese isolation does not touch the Yi clone
    cfg = TokenizerConfig.from_dict({**base, "clone_script": "Yi", "isolate": r"\p{Han}"})
    assert json.loads(json.dumps(cfg.to_dict()))["clone_script"] == "Yi"
