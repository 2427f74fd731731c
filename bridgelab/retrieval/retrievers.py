"""Choosing, caching and fusing retrievers.

Every retriever answers ``search(queries, k) -> [[(doc_index, score), ...], ...]`` with at most
``k`` distinct documents per query, best first. Built indexes are saved under
``<cache>/<corpus>/<kind>/`` with the corpus fingerprint and the settings that shaped them, and
reloaded when both match, so a rerun skips embedding and indexing.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Protocol

from bridgelab.retrieval.config import RetrieverConfig
from bridgelab.retrieval.docstore import DocumentStore
from bridgelab.retrieval.sparse import BM25Index, Hit, Hits
from bridgelab.retrieval.text import TERMS_VERSION
from bridgelab.utils.io import atomic_dir

log = logging.getLogger(__name__)


class Retriever(Protocol):
    kind: str

    def search(self, queries: list[str], k: int) -> list[Hits]: ...


def rrf_fuse(rankings: list[Hits], k: int, rrf_k: int = 60) -> Hits:
    """Reciprocal-rank fusion: score(d) = sum over rankings of 1 / (rrf_k + rank of d).

    A document keeps the passage of the first ranking that returned it."""
    scores: dict[int, float] = {}
    passage: dict[int, int] = {}
    for ranking in rankings:
        for rank, hit in enumerate(ranking, start=1):
            scores[hit.doc] = scores.get(hit.doc, 0.0) + 1.0 / (rrf_k + rank)
            passage.setdefault(hit.doc, hit.passage)
    fused = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    return [Hit(doc, score, passage[doc]) for doc, score in fused[:k]]


class HybridIndex:
    kind = "hybrid"

    def __init__(self, dense: Retriever, sparse: Retriever, rrf_k: int):
        self.dense, self.sparse, self.rrf_k = dense, sparse, rrf_k

    def search(self, queries: list[str], k: int) -> list[Hits]:
        dense_hits = self.dense.search(queries, k)
        sparse_hits = self.sparse.search(queries, k)
        return [rrf_fuse([d, s], k, self.rrf_k) for d, s in zip(dense_hits, sparse_hits)]


class RetrieverFactory:
    """Opens (loading or building) the retriever of a kind for a corpus; one embedder shared."""

    def __init__(self, cfg: RetrieverConfig, cache_dir: str | Path):
        self.cfg = cfg
        self.cache_dir = Path(cache_dir)
        self._embedder = None

    @property
    def embedder(self):
        if self._embedder is None:
            from bridgelab.retrieval.dense import Embedder

            self._embedder = Embedder(self.cfg.model, self.cfg.device)
        return self._embedder

    def kind_for(self, lang: str) -> str:
        return self.cfg.kind if lang == "en" else self.cfg.kind_non_english

    def describe(self, kind: str) -> str:
        """The retriever's name in tables: its kind, and the embedder where one is used."""
        if kind == "bm25":
            return kind
        return f"{kind}:{Path(self.cfg.model).name if self.cfg.model else 'all-MiniLM-L6-v2'}"

    def open(self, store: DocumentStore, kind: str) -> Retriever:
        if kind == "hybrid":
            return HybridIndex(self.open(store, "dense"), self.open(store, "bm25"), self.cfg.rrf_k)
        folder = self.cache_dir / store.name / kind
        meta = self._meta(store, kind)
        meta_path = folder / "meta.json"
        if meta_path.is_file() and json.loads(meta_path.read_text(encoding="utf-8")) == meta:
            log.info("loading the %s index of %s from %s", kind, store.name, folder)
            return self._load(store, kind, folder)
        index = self._build(store, kind)
        with atomic_dir(folder) as tmp:
            index.save(tmp)
            (tmp / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        return index

    def _meta(self, store: DocumentStore, kind: str) -> dict:
        meta = {"kind": kind, "corpus": store.fingerprint, "docs": len(store)}
        if kind == "bm25":
            meta["terms_version"] = TERMS_VERSION
        if kind == "dense":
            cfg = self.cfg
            meta.update(
                model=cfg.model or "bundled:all-MiniLM-L6-v2",
                index=cfg.index,
                flat_max_passages=cfg.flat_max_passages,
                nlist=cfg.nlist,
                hnsw_m=cfg.hnsw_m,
            )
        return meta

    def _build(self, store: DocumentStore, kind: str) -> Retriever:
        if kind == "bm25":
            return BM25Index.build(store)
        from bridgelab.retrieval.dense import DenseIndex

        return DenseIndex.build(store, self.cfg, self.embedder)

    def _load(self, store: DocumentStore, kind: str, folder: Path) -> Retriever:
        if kind == "bm25":
            return BM25Index.load(store, folder)
        from bridgelab.retrieval.dense import DenseIndex

        return DenseIndex.load(store, folder, self.cfg, self.embedder)
