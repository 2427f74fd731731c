"""BM25 over passages with `bm25s`, on the script-aware terms of :mod:`bridgelab.retrieval.text`."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
from tqdm import tqdm

from bridgelab.retrieval.docstore import DocumentStore
from bridgelab.retrieval.text import tokenize


class Hit(NamedTuple):
    """A retrieved document: its index in the store, its score, and its best passage's index."""

    doc: int
    score: float
    passage: int


Hits = list[Hit]  # best first, one per document


def best_per_doc(store: DocumentStore, passage_ids: np.ndarray, scores: np.ndarray, k: int) -> Hits:
    """Keep each document's best passage, in score order, up to ``k`` documents."""
    seen: set[int] = set()
    out: Hits = []
    for pid, score in zip(passage_ids.tolist(), scores.tolist()):
        if pid < 0:  # FAISS pads with -1 when fewer results exist
            continue
        doc = store.passages[pid].doc_index
        if doc not in seen:
            seen.add(doc)
            out.append(Hit(doc, float(score), pid))
            if len(out) == k:
                break
    return out


def fetch_size(store: DocumentStore, k: int) -> int:
    """Passages to fetch so that ``k`` distinct documents survive de-duplication (usually)."""
    per_doc = max(1, round(len(store.passages) / max(len(store), 1)))
    return min(len(store.passages), k * (1 if per_doc == 1 else 2 * per_doc))


class BM25Index:
    kind = "bm25"

    def __init__(self, store: DocumentStore, model):
        self.store = store
        self.model = model

    @classmethod
    def build(cls, store: DocumentStore) -> BM25Index:
        import bm25s

        terms = [tokenize(p.text) for p in tqdm(store.passages, desc=f"bm25 terms {store.name}")]
        model = bm25s.BM25()
        model.index(terms, show_progress=False)
        return cls(store, model)

    def save(self, folder: Path) -> None:
        self.model.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, store: DocumentStore, folder: Path) -> BM25Index:
        import bm25s

        return cls(store, bm25s.BM25.load(str(folder), show_progress=False))

    def search(self, queries: list[str], k: int) -> list[Hits]:
        fetch = fetch_size(self.store, k)
        out: list[Hits] = []
        for query in queries:
            terms = [t for t in tokenize(query) if t in self.model.vocab_dict]
            if not terms:
                out.append([])
                continue
            ids, scores = self.model.retrieve([terms], k=fetch, show_progress=False)
            keep = scores[0] > 0  # bm25s fills up with zero-score documents that match nothing
            out.append(best_per_doc(self.store, ids[0][keep], scores[0][keep], k))
        return out
