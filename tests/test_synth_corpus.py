"""The world passes through the corpus stage unchanged: readers, script filter, tokenizer,
shards, and the independent `check-corpus` scan (English Latin-only, each target in its script)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridgelab.contracts.records import read_documents
from bridgelab.contracts.scripts import LANG_SCRIPTS
from bridgelab.contracts.shards import TokenCorpus
from bridgelab.synth.config import SynthConfig
from bridgelab.synth.output import run

pytest.importorskip("tokenizers")

REPO = Path(__file__).resolve().parents[1]
LANGS = ("en", "ko", "zh", "bo", "mn")


@pytest.fixture(scope="module")
def world_and_tokenizer(tmp_path_factory) -> tuple[Path, Path]:
    from bridgelab.data.tokenizer import TokenizerConfig
    from bridgelab.data.tokenizer import run as train_tokenizer

    root = tmp_path_factory.mktemp("synth-corpus")
    world = run(SynthConfig.load(REPO / "configs/synth/tiny.yaml", [f"out_dir={root / 'world'}"]))
    tok_cfg = TokenizerConfig.from_dict(
        {
            "out_dir": str(root / "tok"),
            "kind": "bpe",
            "data_root": str(world),
            "vocab_size": 800,
            "corpora": [{"lang": x, "path": f"corpora/{x}.jsonl"} for x in LANGS],
        }
    )
    return world, train_tokenizer(tok_cfg)


@pytest.mark.parametrize("lang", LANGS)
def test_world_passes_the_corpus_stage_unchanged(world_and_tokenizer, tmp_path, lang):
    from bridgelab.contracts.tokenizer import load_tokenizer
    from bridgelab.data.check import check_corpus
    from bridgelab.data.prepare import PrepareConfig
    from bridgelab.data.prepare import run as prepare

    world, tok_dir = world_and_tokenizer
    cfg = PrepareConfig.from_dict(
        {
            "out_dir": str(tmp_path / "shards"),
            "tokenizer": str(tok_dir),
            "data_root": str(world),
            "sources": [{"lang": lang, "path": f"corpora/{lang}.jsonl"}],
            # the script filter strips; min_chars 0 because the tiny world's articles are short
            "filter": {"mode": "strip", "scripts": [LANG_SCRIPTS[lang]], "min_chars": 0},
        }
    )
    shards = prepare(cfg)
    docs = {d.id: d.text for d in read_documents(world / "corpora" / f"{lang}.jsonl")}
    corpus = TokenCorpus(shards)
    fstats = corpus.manifest["stats"]["filter"]
    assert fstats["docs_in"] == fstats["docs_kept"] == len(docs)
    assert fstats["chars_removed_by_script"] == 0 and fstats["docs_dropped"] == {}
    tokenizer, _ = load_tokenizer(tok_dir)
    decoded = {span.id: tokenizer.decode(ids[:-1].tolist()) for span, ids in corpus.iter_docs()}
    assert decoded == docs  # every document, byte for byte, in the original order's id set
    report = check_corpus(shards, progress=False)
    assert report["ok"], report
    assert report["scripts"] == [LANG_SCRIPTS[lang]] and report["non_script_chars"] == 0
    assert report["num_docs"] == len(docs)
