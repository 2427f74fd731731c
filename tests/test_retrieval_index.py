"""FAISS and BM25 indexes: exactness, approximate recall on real embeddings, planted documents."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from bridgelab.retrieval.config import RetrieverConfig
from bridgelab.retrieval.docstore import DocumentStore
from bridgelab.retrieval.retrievers import RetrieverFactory, rrf_fuse
from bridgelab.retrieval.sparse import BM25Index, Hit
from bridgelab.retrieval.text import split_passages
from bridgelab.utils.io import iter_lines

faiss = pytest.importorskip("faiss", reason="faiss-cpu is not installed")


def _exact(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :k]


def _recall(approx: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(e)) / len(e) for a, e in zip(approx, exact)]))


def _unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_flat_faiss_equals_exact_search():
    from bridgelab.retrieval.dense import build_faiss_index

    rng = np.random.default_rng(0)
    vectors, queries = _unit(rng, 500, 32), _unit(rng, 20, 32)
    index = build_faiss_index(vectors, RetrieverConfig(index="flat"))
    scores, ids = index.search(queries, 50)
    np.testing.assert_array_equal(ids, _exact(vectors, queries, 50))
    np.testing.assert_allclose(
        scores, np.sort(queries @ vectors.T, axis=1)[:, ::-1][:, :50], rtol=1e-5
    )


@pytest.fixture(scope="session")
def wiki_embeddings():
    """MiniLM embeddings of 300 real English Wikipedia passages (bundled model, offline)."""
    # session-scoped, so it cannot use the function-scoped `sample_data` fixture
    root = Path(os.environ.get("BRIDGELAB_SAMPLE_DATA") or "/nonexistent")
    if not root.is_dir():
        pytest.skip("BRIDGELAB_SAMPLE_DATA is not set or missing (real sample data not available)")
    import torch

    from bridgelab.retrieval.dense import Embedder

    torch.set_num_threads(2)
    texts: list[str] = []
    for _, line in iter_lines(root / "wiki_en" / "enwiki_2015_wikiextractor_sample.jsonl.xz"):
        texts += split_passages(json.loads(line)["text"], 200)[:4]
        if len(texts) >= 300:
            break
    embedder = Embedder(None, device="cpu")
    embedder.model.max_seq_length = 32  # the passages' first words; keeps the CPU test quick
    return embedder.encode(texts[:300], batch_size=64)


@pytest.mark.slow
def test_ivf_and_hnsw_recall_at_50_on_real_embeddings(wiki_embeddings):
    from bridgelab.retrieval.dense import build_faiss_index

    vectors = wiki_embeddings
    queries = vectors[::8] + 0.01  # real passages, slightly moved, as queries
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact = _exact(vectors, queries, 50)
    recalls = {}
    for kind, extra in (
        ("ivf", {"nlist": 7, "nprobe": 2}),
        ("hnsw", {"hnsw_m": 16, "ef_search": 64}),
    ):
        index = build_faiss_index(vectors, RetrieverConfig(index=kind, **extra))
        recalls[kind] = _recall(index.search(queries, 50)[1], exact)
    print(f"recall@50 against exact search over 300 MiniLM passage embeddings: {recalls}")
    assert recalls["hnsw"] >= 0.95
    assert 0.5 <= recalls["ivf"] <= 1.0  # 2 of 7 cells: approximate, and not useless


def test_rrf_fusion_arithmetic():
    dense = [Hit(1, 9.0, 10), Hit(2, 8.0, 20)]
    sparse = [Hit(2, 0.5, 21), Hit(3, 0.4, 30)]
    fused = rrf_fuse([dense, sparse], k=3, rrf_k=60)
    assert [h.doc for h in fused] == [2, 1, 3]
    assert fused[0].score == pytest.approx(1 / 62 + 1 / 61)
    assert fused[1].score == pytest.approx(1 / 61)
    assert [h.passage for h in fused] == [20, 10, 30]  # the first ranking's passage wins


def _plant(texts: list[str], planted: dict[int, str]) -> list[str]:
    return [t + ("\n" + planted[i] if i in planted else "") for i, t in enumerate(texts)]


def _read_texts(path: Path, n: int) -> list[str]:
    texts = []
    for _, line in iter_lines(path):
        texts.append(json.loads(line)["text"])
        if len(texts) == n:
            break
    return texts


@pytest.mark.parametrize(
    ("filename", "planted_sentence", "query"),
    [
        (
            "bo_nanhai_written.jsonl.xz",
            "གངས་དཀར་རི་བོའི་རྩེ་ལ་ཞོ་སྟོན་དུས་ཆེན་གནང་།",
            "གངས་དཀར་རི་བོའི་རྩེ་ལ་ཞོ་སྟོན་དུས་ཆེན་གནང་།",
        ),
        (
            # the documents attach the suffix with NNBSP and carry a variation selector;
            # the query writes the same words with plain spaces and no selector
            "mn_mong_milic_topic_passages.jsonl.xz",
            "ᠴᠠᠭᠠᠨ\u202fᠤ ᠰᠠᠷ\u180b\u202fᠠ ᠪᠣᠯ ᠵᠤᠰᠠᠯᠠᠩ ᠤᠨ ᠨᠠᠭᠠᠳᠤᠮ",
            "ᠴᠠᠭᠠᠨ ᠤ ᠰᠠᠷ ᠠ ᠪᠣᠯ ᠵᠤᠰᠠᠯᠠᠩ ᠤᠨ ᠨᠠᠭᠠᠳᠤᠮ",
        ),
    ],
    ids=["tibetan", "mongolian"],
)
def test_bm25_finds_planted_documents_in_real_tibetan_and_mongolian(
    sample_data, filename, planted_sentence, query
):
    texts = _read_texts(sample_data / "mono" / filename, 300)
    planted = {17: planted_sentence, 123: planted_sentence, 250: planted_sentence}
    texts = _plant(texts, planted)
    store = DocumentStore("x", [f"d{i}" for i in range(len(texts))], texts, passage_chars=1500)
    hits = BM25Index.build(store).search([query], k=50)[0]
    assert {h.doc for h in hits[:3]} == set(planted)
    assert all(planted_sentence in store.passages[h.passage].text for h in hits[:3])


def test_factory_caches_and_reloads_bm25(tmp_path, monkeypatch):
    texts = ["alpha beta gamma", "beta delta", "epsilon zeta alpha"]
    store = DocumentStore("c", ["a", "b", "c"], texts, passage_chars=100)
    factory = RetrieverFactory(RetrieverConfig(), tmp_path)
    first = factory.open(store, "bm25").search(["alpha gamma"], k=3)[0]
    assert (tmp_path / "c" / "bm25" / "meta.json").is_file()

    def no_build(*a, **kw):
        raise AssertionError("the cached index should have been loaded")

    monkeypatch.setattr(BM25Index, "build", no_build)
    assert factory.open(store, "bm25").search(["alpha gamma"], k=3)[0] == first
    assert [store.ids[h.doc] for h in first] == ["a", "c"]  # b shares no query term: not returned
    changed = DocumentStore("c", ["a", "b", "c"], [*texts[:2], "other text"], passage_chars=100)
    with pytest.raises(AssertionError, match="cached index"):
        factory.open(changed, "bm25")  # new content: the cache must not be reused


def test_document_store_decodes_token_shards_and_checks_the_tokenizer(tmp_path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from bridgelab.contracts.shards import token_dtype, write_manifest, write_shard
    from bridgelab.contracts.tokenizer import save_tokenizer
    from bridgelab.errors import DataError

    texts = ["The Zorvath festival is held in Kelmar.", "བོད་ཀྱི་ལོ་རྒྱུས།", "ᠮᠣᠩᠭᠣᠯ\u202fᠤᠨ"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=["<eos>"],
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<eos>")
    info = save_tokenizer(fast, tmp_path / "tok", source="test")
    dtype = token_dtype(info["vocab_size"])
    tokens = [np.array(fast.encode(t) + [info["eos_id"]]) for t in texts]
    docs = [{"id": f"doc-{i}"} for i in range(len(texts))]
    shards = [
        write_shard(tmp_path / "shards", 0, tokens[:2], docs[:2], dtype),
        write_shard(tmp_path / "shards", 1, tokens[2:], docs[2:], dtype),
    ]
    write_manifest(
        tmp_path / "shards",
        shards=shards,
        vocab_size=info["vocab_size"],
        eos_id=info["eos_id"],
        tokenizer_hash=info["hash"],
    )

    store = DocumentStore.load(
        "en", tmp_path / "shards", passage_chars=100, tokenizer=str(tmp_path / "tok")
    )
    assert store.ids == ["doc-0", "doc-1", "doc-2"] and store.texts == texts
    with pytest.raises(DataError, match="needs `tokenizer`"):
        DocumentStore.load("en", tmp_path / "shards", passage_chars=100)
    write_manifest(
        tmp_path / "shards",
        shards=shards,
        vocab_size=info["vocab_size"],
        eos_id=info["eos_id"],
        tokenizer_hash="another",
    )
    with pytest.raises(DataError, match="written with tokenizer another"):
        DocumentStore.load(
            "en", tmp_path / "shards", passage_chars=100, tokenizer=str(tmp_path / "tok")
        )


class _LetterEmbedder:
    """A deterministic stand-in for sentence-transformers: normalised letter counts."""

    def encode(self, texts, batch_size=64, desc=None):
        out = np.zeros((len(texts), 26), np.float32)
        for i, text in enumerate(texts):
            for ch in text.lower():
                if "a" <= ch <= "z":
                    out[i, ord(ch) - 97] += 1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def test_dense_index_is_saved_and_reloaded_with_its_search_settings(tmp_path, monkeypatch):
    from bridgelab.retrieval.dense import DenseIndex

    texts = ["aaaa bbb", "zzzz yyy", "aaab", "mmmm nnn", "zzzy"]
    store = DocumentStore("c", [f"d{i}" for i in range(5)], texts, passage_chars=100)
    factory = RetrieverFactory(RetrieverConfig(index="hnsw", ef_search=77), tmp_path)
    factory._embedder = _LetterEmbedder()
    first = factory.open(store, "dense").search(["aaaa", "zzzz"], k=2)
    assert [[store.ids[h.doc] for h in hits] for hits in first] == [
        ["d2", "d0"],
        ["d4", "d1"],
    ]  # cosine: aaab beats aaaa bbb
    monkeypatch.setattr(DenseIndex, "build", lambda *a: (_ for _ in ()).throw(AssertionError))
    again = factory.open(store, "dense")
    assert again.index.hnsw.efSearch == 77
    assert again.search(["aaaa", "zzzz"], k=2) == first
