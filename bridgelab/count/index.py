"""Suffix-array indexes (tokengrams) over token shards, read as they are, and exact lookups.

Each shard's ``shard_NNNNN.bin`` is already what tokengrams indexes: a flat array of
little-endian uint16 or uint32 ids (``bridgelab.contracts.shards.token_dtype``: uint32 once the
vocabulary passes 65,536, as Qwen's 151,936 does). So the tokens are never copied: one
``MemmapIndex`` per shard pairs the shard's own ``.bin`` with a suffix table
``<index>/shard_NNNNN.idx`` (8 bytes per token). Positions of a match map to documents through
the shard's ``.docs.jsonl`` offsets; a match never crosses documents, since every document ends
with EOS and no query holds EOS.

An index folder records the fingerprint of the shards it was built from (the manifest's and
every ``.bin``'s sha256) in ``index.json``; it is reused only when the fingerprint still holds
and is otherwise rebuilt whole in a temporary folder, so stale and fresh tables never mix.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from bridgelab.contracts.shards import MANIFEST, TokenCorpus
from bridgelab.count.boundary import BOUNDARY, EdgeTable, needs_check
from bridgelab.count.variants import Variant
from bridgelab.errors import DataError
from bridgelab.utils.io import atomic_dir, atomic_write_json

log = logging.getLogger(__name__)
INDEX_META = "index.json"
INDEX_FORMAT = "bridgelab-count-index/1"


def _sha256(path: Path, chunk: int = 1 << 24) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def shard_fingerprint(corpus: TokenCorpus) -> dict[str, Any]:
    """What an index depends on: the manifest, and the bytes of every shard (a shard rewritten
    with as many tokens as before leaves the manifest unchanged)."""
    return {
        "format": INDEX_FORMAT,
        "manifest_sha256": _sha256(corpus.path / MANIFEST),
        "shards": {
            s["name"]: _sha256(corpus.path / f"{s['name']}.bin") for s in corpus.manifest["shards"]
        },
    }


def _tokengrams_vocab(corpus: TokenCorpus) -> int:
    # tokengrams reads uint32 ids when vocab > 2**16, uint16 otherwise: the same rule as
    # token_dtype, checked here so a mislabelled folder fails by name, not by a Rust panic
    vocab = int(corpus.manifest["vocab_size"])
    wide = vocab > 2**16
    if wide != (corpus.dtype == np.dtype(np.uint32)):
        raise DataError(
            f"{corpus.path / MANIFEST}: dtype {corpus.dtype.name} does not match vocab_size "
            f"{vocab} (uint32 is needed above 65,536 ids, uint16 below)"
        )
    return vocab


def build_index(corpus: TokenCorpus, index_dir: Path) -> dict[str, Any]:
    """The index of ``corpus`` in ``index_dir``: reused when its fingerprint matches the shards,
    else rebuilt. Returns ``index.json`` (fingerprint, bytes, build seconds, ``reused``)."""
    from tokengrams import MemmapIndex

    fingerprint = shard_fingerprint(corpus)
    meta_path = index_dir / INDEX_META
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if {k: meta.get(k) for k in fingerprint} == fingerprint:
            log.info("%s: index matches the shards of %s; reused", index_dir, corpus.path)
            return {**meta, "reused": True}
        log.info("%s: the shards of %s changed; rebuilding the index", index_dir, corpus.path)
    vocab = _tokengrams_vocab(corpus)
    start = time.perf_counter()
    with atomic_dir(index_dir) as tmp:
        for shard in corpus.manifest["shards"]:
            MemmapIndex.build(
                str(corpus.path / f"{shard['name']}.bin"), str(tmp / f"{shard['name']}.idx"), vocab
            )
        meta = {
            **fingerprint,
            "shard_dir": str(corpus.path),
            "vocab_size": vocab,
            "dtype": corpus.dtype.name,
            "num_tokens": corpus.num_tokens,
            "num_docs": len(corpus.docs),
            "index_bytes": sum(p.stat().st_size for p in tmp.glob("*.idx")),
            "token_bytes": corpus.num_tokens * corpus.dtype.itemsize,
            "build_seconds": time.perf_counter() - start,
        }
        atomic_write_json(tmp / INDEX_META, meta)
    return {**meta, "reused": False}


class CorpusIndex:
    """Exact occurrences of token sequences in one shard folder, by document.

    With an :class:`~bridgelab.count.boundary.EdgeTable`, :meth:`find` keeps whole-word
    matches only (see that module); without one, every match of a sequence counts.
    """

    def __init__(self, corpus: TokenCorpus, index_dir: Path, edges: EdgeTable | None = None):
        from tokengrams import MemmapIndex

        self.corpus = corpus
        self.edges = edges
        vocab = _tokengrams_vocab(corpus)
        self._shards = []
        self._arrays = []
        self._bases = [0]
        for s in corpus.manifest["shards"]:
            bin_path = str(corpus.path / f"{s['name']}.bin")
            self._shards.append(MemmapIndex(bin_path, str(index_dir / f"{s['name']}.idx"), vocab))
            n = int(s["num_tokens"])
            arr = np.memmap(bin_path, dtype=corpus.dtype, mode="r") if n else np.zeros(0, np.uint16)
            self._arrays.append(arr)
            self._bases.append(self._bases[-1] + n)
        self.doc_ids = [d.id for d in corpus.docs]
        self._doc_starts = np.array([d.start for d in corpus.docs], dtype=np.int64)

    @property
    def num_docs(self) -> int:
        return len(self.doc_ids)

    def find(self, variants: Iterable[Variant], text: str = "") -> tuple[int, set[int]]:
        """(occurrences, indices of the documents holding one) of ``text`` given as its token
        variants; an occurrence found by several variants counts once (same last token)."""
        check_left, check_right = needs_check(text) if text and self.edges else (False, False)
        ends: list[np.ndarray] = []
        for variant in variants:
            ids = list(variant.ids)
            # a sequence that opens (closes) with a space or punctuation has its boundary inside
            left = check_left and self.edges.first[ids[0]] != BOUNDARY
            right = check_right and self.edges.last[ids[-1]] != BOUNDARY
            for shard, arr, base in zip(self._shards, self._arrays, self._bases):
                pos = shard.positions(ids)
                if not pos:
                    continue
                starts = np.asarray(pos, dtype=np.int64)
                if left or right:
                    starts = starts[self.edges.whole(arr, starts, len(ids), left, right)]
                ends.append(starts + (base + variant.last))
        if not ends:
            return 0, set()
        last = np.unique(np.concatenate(ends))
        docs = np.searchsorted(self._doc_starts, last, side="right") - 1
        return int(last.size), set(np.unique(docs).tolist())
