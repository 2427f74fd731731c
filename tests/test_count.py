"""`bridgelab count`: exact counts on the tiny world, 32-bit ids, bad input, stale indexes, and
the judge-versus-exact agreement table."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bridgelab.contracts.shards import TokenCorpus, write_manifest, write_shard
from bridgelab.count.config import CountConfig
from bridgelab.count.index import CorpusIndex, build_index
from bridgelab.count.stage import run
from bridgelab.count.variants import Variant
from bridgelab.errors import DataError
from bridgelab.retrieval.exact import add_exact_columns, agreement_table

pytest.importorskip("tokengrams", reason="tokengrams (the suffix-array engine) is not installed")
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> tuple[Path, Path]:
    """The tiny world and the demo's tokenizer recipe trained on it (about a second each)."""
    from bridgelab.data.tokenizer import TokenizerConfig
    from bridgelab.data.tokenizer import run as tokenizer_run
    from bridgelab.synth.config import SynthConfig
    from bridgelab.synth.output import run as synth_run

    root = tmp_path_factory.mktemp("count")
    world = synth_run(SynthConfig.load(REPO / "configs/synth/tiny.yaml", [f"out_dir={root / 'w'}"]))
    tok = tokenizer_run(
        TokenizerConfig.load(
            REPO / "configs/data/tokenizer_synth.yaml",
            [f"out_dir={root / 'tok'}", f"data_root={world}"],
        )
    )
    return world, tok


@pytest.fixture(scope="module")
def counted(world, tmp_path_factory) -> Path:
    w, tok = world
    out = tmp_path_factory.mktemp("counted") / "count"
    return run(CountConfig(out_dir=str(out), world=str(w), tokenizer=str(tok)))


def test_true_counts_recovered_exactly_in_every_script(counted, world):
    summary = json.loads((counted / "summary.json").read_text())
    by_corpus = {r["corpus"]: r for r in summary["truth"]}
    assert set(by_corpus) == {
        "en",
        "ko",
        "zh",
        "bo",
        "mn",
    }  # Latin, Hangul, Han, Tibetan, Mongolian
    for corpus, row in by_corpus.items():
        assert row["exact_match_rate"] == 1.0, corpus
        assert row["scan_match_rate"] == 1.0, corpus  # every BPE variant found, nothing extra
    truth = (counted / "truth.csv").read_text().splitlines()
    header = truth[0].split(",")
    same = header.index("same_doc_ids")
    assert all(line.split(",")[same] == "True" for line in truth[1:])  # the very documents
    rows = [json.loads(x) for x in (counted / "counts.jsonl").read_text().splitlines()]
    assert len(rows) == 40 * 5
    assert all(
        r["answer_docs"] >= r["cooccur_docs"] and r["answer_count"] >= r["answer_docs"]
        for r in rows
    )
    # a second run with the same config does nothing; the index is reused under --force
    assert run(CountConfig.load(counted / "config.yaml", [f"out_dir={counted}"])) == counted
    again = run(CountConfig.load(counted / "config.yaml", [f"out_dir={counted}"]), force=True)
    assert all(
        v["reused"] for v in json.loads((again / "summary.json").read_text())["indexes"].values()
    )


def _shards(folder: Path, docs: list[list[int]], vocab: int) -> TokenCorpus:
    from bridgelab.contracts.shards import token_dtype

    arrays = [np.asarray(d + [0], dtype=np.int64) for d in docs]  # id 0 stands for EOS
    half = len(arrays) // 2
    entries = [
        write_shard(folder, 0, arrays[:half], [{"id": f"d{i}"} for i in range(half)], token_dtype(vocab)),
        write_shard(folder, 1, arrays[half:], [{"id": f"d{i}"} for i in range(half, len(arrays))], token_dtype(vocab)),
    ]  # fmt: skip
    write_manifest(folder, shards=entries, vocab_size=vocab, eos_id=0, tokenizer_hash="t")
    return TokenCorpus(folder)


def test_32_bit_ids_counted_exactly(tmp_path):
    rng = np.random.default_rng(0)
    qwen = 151_936
    needle = [151_000, 70_000, 151_935]
    docs = [rng.integers(65_536, qwen, size=int(rng.integers(20, 60))).tolist() for _ in range(12)]
    for d, at in ((1, 3), (1, 10), (4, 0), (9, 17)):  # twice in d1, once in d4 and d9
        docs[d][at : at + 3] = needle
    corpus = _shards(tmp_path / "shards", docs, qwen)
    assert corpus.dtype == np.uint32
    meta = build_index(corpus, tmp_path / "index")
    assert meta["index_bytes"] == 8 * corpus.num_tokens and not meta["reused"]
    index = CorpusIndex(corpus, tmp_path / "index")
    count, found = index.find([Variant(tuple(needle), 2)])
    flat = np.concatenate([np.asarray(d) for d in docs])
    windows = np.lib.stride_tricks.sliding_window_view(flat, 3)
    assert count == int((windows == needle).all(axis=1).sum()) == 4
    assert {index.doc_ids[i] for i in found} == {"d1", "d4", "d9"}


def test_changed_shards_rebuild_the_index(tmp_path):
    docs = [[5, 6, 7], [7, 5, 6], [1, 2, 3], [5, 6, 9]]
    corpus = _shards(tmp_path / "shards", docs, 100)
    build_index(corpus, tmp_path / "index")
    assert build_index(TokenCorpus(tmp_path / "shards"), tmp_path / "index")["reused"]
    # the same number of tokens, other ids: the manifest is unchanged, the bytes are not
    _shards(tmp_path / "shards", [[5, 6, 7], [7, 7, 7], [1, 2, 3], [5, 6, 9]], 100)
    corpus = TokenCorpus(tmp_path / "shards")
    meta = build_index(corpus, tmp_path / "index")
    assert not meta["reused"]
    count, found = CorpusIndex(corpus, tmp_path / "index").find([Variant((5, 6), 1)])
    assert count == 2 and found == {0, 3}


def test_bad_input_names_the_file(world, tmp_path):
    w, tok = world
    bad = tmp_path / "en.jsonl"
    shutil.copy(w / "corpora" / "en.jsonl", bad)
    with open(bad, "a", encoding="utf-8") as fh:
        fh.write('{"id": "x", "lang": "en"\n')
    probes = [str(w / "probes" / "ko.en.jsonl")]
    cfg = CountConfig(out_dir=str(tmp_path / "c"), corpora={"en": str(bad)}, tokenizer=str(tok), probes=probes)  # fmt: skip
    with pytest.raises(DataError, match=r"en\.jsonl:\d+"):
        run(cfg)
    shards = tmp_path / "shards"
    _shards(shards, [[1, 2], [3, 4]], 100)
    manifest = json.loads((shards / "manifest.json").read_text())
    manifest["tokenizer_hash"] = json.loads((tok / "bridgelab_tokenizer.json").read_text())["hash"]
    (shards / "manifest.json").write_text(json.dumps(manifest))
    with open(shards / "shard_00001.bin", "ab") as fh:
        fh.write(b"\x00")  # half a token
    cfg = CountConfig(out_dir=str(tmp_path / "c2"), corpora={"en": str(shards)}, tokenizer=str(tok), probes=probes)  # fmt: skip
    with pytest.raises(DataError, match="shard_00001.bin"):
        run(cfg)


def test_agreement_table_on_a_constructed_case():
    occ = [
        {"probe_id": p, "culture": "bo", "corpus": "bo", "occurrences": j}
        for p, j in (("a", 1), ("b", 3), ("c", 2), ("d", 50))
    ]
    counts = {
        (p, "bo"): {"cooccur_docs": e, "answer_docs": e + 1, "answer_count": 2 * e}
        for p, e in (("a", 1), ("b", 4), ("c", 2), ("d", 80))
    }
    truth = {p: {"counts": {"bo": t}} for p, t in (("a", 1), ("b", 4), ("c", 2), ("d", 80))}
    (row,) = agreement_table(occ, counts, truth, k=50)
    assert row["spearman"] == pytest.approx(1.0)  # the same order, different scale
    assert row["judge_mae"] == pytest.approx((0 + 1 + 0 + 30) / 4)
    assert row["judge_mae_capped"] == pytest.approx(1 / 4)  # the judge cannot exceed k
    assert row["exact_mae"] == 0 and row["exact_match_rate"] == 1.0
    density = [{"culture": "bo", "corpus": "bo", "num_probes": 4, "density": 14.0 / 100, "num_docs": 100, "k": 50}]  # fmt: skip
    (dense,) = add_exact_columns(density, occ, counts)
    assert list(dense)[:7] == [
        "culture", "corpus", "num_probes", "density",
        "exact_mean_cooccur", "exact_density", "exact_mean_answer_count",
    ]  # fmt: skip
    assert dense["exact_mean_cooccur"] == pytest.approx(87 / 4)
    assert dense["exact_density"] == pytest.approx(87 / 4 / 100)
    # real probes: no subject, the answer's documents stand in
    answer_only = {key: {**r, "cooccur_docs": None} for key, r in counts.items()}
    (row,) = agreement_table(occ, answer_only)
    assert row["exact_measure"] == "answer_docs" and row["exact_total"] == 87 + 4


def test_frequency_stage_puts_exact_counts_beside_the_judge(counted, world, tmp_path):
    from bridgelab.retrieval.config import FrequencyConfig
    from bridgelab.retrieval.pipeline import run as frequency_run

    w, _ = world
    out = frequency_run(
        FrequencyConfig.load(
            None,
            [
                f"world={w}",
                f"out_dir={tmp_path / 'freq'}",
                "retriever.kind=bm25",
                f"counts={counted}",
            ],
        )
    )
    header = (out / "density.csv").read_text().splitlines()[0]
    assert "density,exact_mean_cooccur,exact_density,exact_mean_answer_count" in header
    agreement = {
        r["corpus"]: r for r in json.loads((out / "summary.json").read_text())["agreement"]
    }
    assert set(agreement) == {"en", "ko", "zh", "bo", "mn"}
    for corpus, row in agreement.items():
        assert row["exact_mae"] == 0 and row["exact_match_rate"] == 1.0, corpus
        assert row["judge_mae"] >= 0
    assert agreement["en"]["spearman"] == pytest.approx(1.0)  # the judge is exact in English


@pytest.mark.slow
@pytest.mark.slow
def test_qwen_uint32_shards_of_real_wikipedia_match_a_text_scan(sample_data, tmp_path):
    """The paper's tokenizer on 30 real articles: uint32 shards, every count equal to a scan."""
    import itertools
    import lzma

    from bridgelab.contracts.tokenizer import load_tokenizer
    from bridgelab.count.boundary import EdgeTable
    from bridgelab.count.inputs import corpus_shards
    from bridgelab.count.truth import scan_docs
    from bridgelab.count.variants import token_variants
    from bridgelab.data.tokenizer import TokenizerConfig
    from bridgelab.data.tokenizer import run as tokenizer_run

    qwen = sample_data / "tokenizers" / "qwen.tiktoken"
    wiki = sample_data / "wiki_en" / "enwiki_2015_wikiextractor_sample.jsonl.xz"
    if not qwen.is_file() or not wiki.is_file():
        pytest.skip(f"{qwen} or {wiki} is missing from BRIDGELAB_SAMPLE_DATA")
    tok_dir = tokenizer_run(
        TokenizerConfig(out_dir=str(tmp_path / "qwen"), kind="tiktoken", path=str(qwen))
    )
    tokenizer, info = load_tokenizer(tok_dir)
    with lzma.open(wiki, "rt", encoding="utf-8") as fh:
        articles = [json.loads(line) for line in itertools.islice(fh, 30)]
    corpus_file = tmp_path / "en.jsonl"
    corpus_file.write_text(
        "".join(
            json.dumps({"id": a["id"], "lang": "en", "text": a["text"], "source": "enwiki"}) + "\n"
            for a in articles
        )
    )
    corpus = corpus_shards("en", str(corpus_file), tokenizer, info, tmp_path / "out", 10)
    assert corpus.dtype == np.uint32 and int(corpus.tokens(0, corpus.num_tokens).max()) > 65_535
    build_index(corpus, tmp_path / "index")
    index = CorpusIndex(corpus, tmp_path / "index", EdgeTable(tokenizer))
    texts = [a["text"] for a in articles]
    for word in ("anarchism", "Anarchism", "the", "United States", "1", "philosophy", "Paris"):
        variants, _ = token_variants(tokenizer, word)
        _, docs = index.find(variants, word)
        assert docs == scan_docs(texts, word), word
