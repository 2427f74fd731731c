"""`bridgelab prepare` and `check-corpus`: shards, resume, determinism, refusals, the checker."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bridgelab.cli import main as cli_main
from bridgelab.contracts.shards import TokenCorpus, tokenize_documents
from bridgelab.contracts.tokenizer import load_tokenizer
from bridgelab.data.check import check_corpus
from bridgelab.data.filters import FilterConfig
from bridgelab.data.prepare import PrepareConfig, run
from bridgelab.data.readers import SourceConfig
from bridgelab.data.tokenizer import TokenizerConfig
from bridgelab.data.tokenizer import run as run_tokenizer
from bridgelab.errors import DataError, RunFolderError

WORDS = "the culture of Varnel keeps a festival lanterns spring river café Straße naïve".split()


def _english(i: int) -> str:
    rng = np.random.default_rng(i)
    return " ".join(rng.choice(WORDS, size=8 + i % 7)) + f" {i}."


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A small English corpus with some Hangul/Greek inside, and a tokenizer trained on it."""
    root = tmp_path_factory.mktemp("prep")
    with open(root / "en.jsonl", "w", encoding="utf-8") as fh:
        for i in range(45):
            text = _english(i) + (" 서울 Αθήνα" if i % 5 == 0 else "")
            fh.write(json.dumps({"id": f"doc{i}", "text": text}, ensure_ascii=False) + "\n")
        fh.write(json.dumps({"id": "short", "text": "한국어 x"}, ensure_ascii=False) + "\n")
    tok_cfg = TokenizerConfig(
        out_dir=str(root / "tok"),
        data_root=str(root),
        corpora=[SourceConfig(lang="en", path="en.jsonl")],
        vocab_size=300,
    )
    run_tokenizer(tok_cfg)
    return root


def _cfg(root, out="shards", **kw):
    fields = dict(
        out_dir=str(root / out), tokenizer=str(root / "tok"), data_root=str(root),
        sources=[SourceConfig(lang="en", path="en.jsonl")],
        filter=FilterConfig(min_chars=10, write_dropped=True), shard_docs=10, batch_size=4,
    )  # fmt: skip
    return PrepareConfig(**{**fields, **kw})


def _files(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_shards_hold_filtered_documents_with_stats(world):
    out = run(_cfg(world))
    corpus = TokenCorpus(out)
    tok, info = load_tokenizer(world / "tok")
    m = corpus.manifest
    assert m["num_docs"] == 45 and len(m["shards"]) == 5 and corpus.dtype == np.uint16
    assert m["tokenizer_hash"] == info["hash"] and m["meta"]["scripts"] == ["Latin"]
    f = m["stats"]["filter"]
    assert f["docs_in"] == 46 and f["docs_kept"] == 45 and f["docs_dropped"] == {"too_short": 1}
    assert f["chars_in"] == f["chars_kept"] + f["chars_removed_by_script"] + f["chars_dropped"]
    assert f["chars_removed_by_script"] == 9 * 7 + 3  # 9 docs x (2 Hangul + 5 Greek) + "한국어"
    dropped = [json.loads(line) for line in (out / "dropped.jsonl").read_text().splitlines()]
    assert [(d["id"], d["reason"]) for d in dropped] == [("short", "too_short")]
    for doc, ids in corpus.iter_docs():
        i = int(doc.id[3:])
        assert ids[-1] == info["eos_id"] and info["eos_id"] not in ids[:-1]
        expected = _english(i) + ("  " if i % 5 == 0 else "")  # spaces stay
        assert tok.decode(ids[:-1].tolist()) == expected
        assert doc.info["chars_removed"] == (7 if i % 5 == 0 else 0)
    assert sum(d.length for d in corpus.docs) == corpus.num_tokens


def test_rerun_skips_and_interrupted_run_resumes_byte_identical(world):
    out = run(_cfg(world, out="resume"))
    reference = _files(out)
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert run(_cfg(world, out="resume")) == out
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == mtimes  # nothing rewritten
    # simulate a kill after shard 2: later shards, the manifest and DONE never got written
    for name in (
        "DONE",
        "manifest.json",
        "dropped.jsonl",
        "shard_00003.bin",
        "shard_00003.docs.jsonl",
        "shard_00004.docs.jsonl",
    ):
        (out / name).unlink()
    kept_mtime = (out / "shard_00001.bin").stat().st_mtime_ns
    run(_cfg(world, out="resume"))
    assert _files(out) == reference
    assert (out / "shard_00001.bin").stat().st_mtime_ns == kept_mtime  # finished shard not redone
    # a second folder from scratch is byte-identical too (deterministic); only the copy of
    # the config names its own out_dir
    again = _files(run(_cfg(world, out="again")))
    assert again.pop("prepare_config.yaml") != reference.pop("prepare_config.yaml")
    assert again == reference


def test_existing_output_is_never_silently_overwritten(world):
    out = run(_cfg(world, out="guard"))
    with pytest.raises(RunFolderError, match="already holds a finished"):
        run(_cfg(world, out="guard", shard_docs=7))
    partial = world / "partial"
    partial.mkdir()
    (partial / "notes.txt").write_text("mine")
    with pytest.raises(RunFolderError, match="already holds other files"):
        run(_cfg(world, out="partial"))
    run(_cfg(world, out="guard", shard_docs=7), force=True)
    assert (world / "guard.old-1" / "DONE").is_file() and TokenCorpus(out).manifest["shards"][0][
        "num_docs"
    ] == 7


def test_bad_input_errors(world, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"id": "a", "text": "fine text here"}\n{"id": "b", "text": ["no"]}\n{"id": "a", "text": "again text"}\n'
    )
    cfg = _cfg(world, out="bad1")
    cfg.sources = [SourceConfig(lang="en", path=str(bad))]
    with pytest.raises(DataError, match=r"bad.jsonl:2: key 'text' must be a string, got list"):
        run(cfg)
    cli = [
        "prepare",
        "-c",
        "configs/data/wiki_en.yaml",
        f"out_dir={world / 'bad2'}",
        f"tokenizer={world / 'tok'}",
    ]
    cli += [f"data_root={tmp_path}", "sources=[{lang: en, path: bad.jsonl}]", "filter.min_chars=5"]
    assert cli_main([*cli, "--skip-bad"]) == 0
    corpus = TokenCorpus(world / "bad2")
    assert [d.id for d in corpus.docs] == ["a"]
    assert (
        corpus.manifest["stats"]["read"][0]["skipped"] == 1
        and corpus.manifest["stats"]["duplicate_ids_skipped"] == 1
    )
    cfg = _cfg(world, out="empty")
    cfg.filter.min_chars = 10_000
    with pytest.raises(DataError, match="empty corpus: 46 documents read"):
        run(cfg)
    cfg = _cfg(world, out="notok")
    cfg.tokenizer = str(tmp_path)
    with pytest.raises(DataError, match="no tokenizer.json"):
        run(cfg)


def test_tokenize_documents_matches_plain_encode(world):
    tok, info = load_tokenizer(world / "tok")
    texts = [_english(i) for i in range(7)]
    arrays = tokenize_documents(tok, texts, info["eos_id"], batch_size=3)
    assert [a.tolist() for a in arrays] == [
        tok.encode(t, add_special_tokens=False) + [info["eos_id"]] for t in texts
    ]


def test_check_corpus_clean_and_violations(world, capsys):
    out = run(_cfg(world, out="checked"))
    report = check_corpus(out, progress=False)
    assert report["ok"] and report["non_script_chars"] == 0 and report["num_docs"] == 45
    # without the filter the Hangul and Greek reach the shards; the checker must see them
    cfg = _cfg(world, out="unfiltered")
    cfg.filter = FilterConfig(mode="none", min_chars=0)
    raw = run(cfg)
    assert cli_main(["check-corpus", str(raw), "--scripts", "Latin", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["non_script_chars"] == 66 and report["docs_with_non_script_chars"] == 10
    assert dict(report["top_non_script_chars"])["서"] == 9
    assert cli_main(["check-corpus", str(raw), "--scripts", "Latin", "Hangul", "Greek"]) == 0
    assert cli_main(["prepare", "-c", "configs/data/wiki_en.yaml", "--dry-run"]) == 0
    assert "filter: mode strip, scripts ['Latin'], min_chars 200" in capsys.readouterr().out


def test_check_corpus_reports_duplicate_ids(world):
    out = run(_cfg(world, out="dups"))
    index = out / "shard_00001.docs.jsonl"
    rows = [json.loads(line) for line in index.read_text().splitlines()]
    rows[0]["id"] = "doc0"
    index.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = check_corpus(out, progress=False)
    assert not report["ok"] and report["duplicate_ids"] == ["doc0"]


@pytest.mark.slow
def test_real_english_sample_prepare_and_check(sample_data, tmp_path):
    """Subset of the real sample: shards decode to Latin-only text and rerun byte-identically."""
    src = SourceConfig(lang="en", format="shared", path=str(sample_data), limit=60)
    run_tokenizer(TokenizerConfig(out_dir=str(tmp_path / "tok"), corpora=[src], vocab_size=1000))
    cfg = PrepareConfig(
        out_dir=str(tmp_path / "wiki"),
        tokenizer=str(tmp_path / "tok"),
        sources=[src],
        shard_docs=25,
    )
    out = run(cfg)
    manifest = TokenCorpus(out).manifest
    f = manifest["stats"]["filter"]
    assert f["docs_in"] == 60 and f["chars_removed_by_script"] > 0
    assert f["chars_in"] == f["chars_kept"] + f["chars_removed_by_script"] + f["chars_dropped"]
    assert f["docs_in"] == f["docs_kept"] + sum(f["docs_dropped"].values())
    assert manifest["num_docs"] == f["docs_kept"] and len(manifest["shards"]) == 3
    report = check_corpus(out, progress=False)
    assert report["ok"] and report["non_script_chars"] == 0 and report["num_tokens"] > 100_000
    reference = _files(out)
    (out / "DONE").unlink()
    (out / "manifest.json").unlink()
    (out / "shard_00002.docs.jsonl").unlink()
    run(cfg)
    assert _files(out) == reference


def test_check_corpus_needs_scripts_when_none_were_enforced(world):
    cfg = _cfg(world, out="kept")
    cfg.filter = FilterConfig(mode="keep", scripts=["Latin"], min_chars=0)
    out = run(cfg)
    with pytest.raises(DataError, match="pass --scripts"):
        check_corpus(out, progress=False)
    assert check_corpus(out, scripts=["Latin", "Hangul", "Greek"], progress=False)["ok"]
