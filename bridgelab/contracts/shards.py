"""Token shards: the on-disk contract between the corpus stage, CPT mixtures and the trainer.

A shard folder holds::

    manifest.json              format, dtype, vocab size, eos id, tokenizer hash, shard list,
                               totals, filter statistics and stage-specific metadata
    shard_00000.bin            flat token ids (uint16 when the vocabulary fits, else uint32)
    shard_00000.docs.jsonl     one line per document: {"id", "offset", "length", ...}
                               (offset is within the shard; length counts the trailing EOS)

The trainer reads the concatenation of all shards as one token stream and cuts it into
non-overlapping windows of ``seq_len + 1`` tokens (inputs and shifted targets come from the same
window). :meth:`TokenCorpus.window` and :meth:`TokenCorpus.docs_in_window` are the single
definition of that layout, used by the trainer, ``trace-step`` and the CPT isolation checker.

Each shard's ``.bin`` is written before its ``.docs.jsonl``, both atomically, so a shard whose
index file exists is complete; ``manifest.json`` is written last and marks the folder complete.
"""

from __future__ import annotations

import bisect
import itertools
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from bridgelab.contracts.records import read_json
from bridgelab.errors import DataError, RunFolderError
from bridgelab.utils.io import atomic_path, atomic_write_json, atomic_write_jsonl

FORMAT = "bridgelab-shards/1"
MANIFEST = "manifest.json"


def token_dtype(vocab_size: int) -> np.dtype:
    return np.dtype(np.uint16) if vocab_size <= np.iinfo(np.uint16).max + 1 else np.dtype(np.uint32)


def shard_name(index: int) -> str:
    return f"shard_{index:05d}"


def shard_complete(out_dir: str | Path, index: int) -> bool:
    out_dir = Path(out_dir)
    name = shard_name(index)
    return (out_dir / f"{name}.bin").is_file() and (out_dir / f"{name}.docs.jsonl").is_file()


def write_shard(
    out_dir: str | Path,
    index: int,
    tokens: Sequence[np.ndarray],
    docs: Sequence[dict[str, Any]],
    dtype: np.dtype,
) -> dict[str, Any]:
    """Write one shard atomically. ``tokens[i]`` are the ids of ``docs[i]`` (EOS included).

    Offsets are filled in here; each doc dict must carry at least ``id``. Returns the shard's
    entry for the manifest.
    """
    if len(tokens) != len(docs):
        raise ValueError("tokens and docs must have the same length")
    out_dir = Path(out_dir)
    name = shard_name(index)
    index_rows = []
    offset = 0
    for arr, doc in zip(tokens, docs):
        row = {"id": doc["id"], "offset": offset, "length": int(len(arr))}
        row.update({k: v for k, v in doc.items() if k not in row})
        index_rows.append(row)
        offset += len(arr)
    flat = np.concatenate(tokens).astype(dtype, copy=False) if tokens else np.zeros(0, dtype)
    if flat.size and int(flat.max()) > np.iinfo(dtype).max:
        raise DataError(f"token id {int(flat.max())} does not fit in {dtype}")
    with atomic_path(out_dir / f"{name}.bin") as tmp:
        flat.tofile(tmp)
    atomic_write_jsonl(out_dir / f"{name}.docs.jsonl", index_rows)
    return {"name": name, "num_tokens": int(flat.size), "num_docs": len(index_rows)}


def write_manifest(
    out_dir: str | Path,
    *,
    shards: list[dict[str, Any]],
    vocab_size: int,
    eos_id: int,
    tokenizer_hash: str,
    stats: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    manifest = {
        "format": FORMAT,
        "dtype": token_dtype(vocab_size).name,
        "vocab_size": vocab_size,
        "eos_id": eos_id,
        "tokenizer_hash": tokenizer_hash,
        "num_tokens": sum(s["num_tokens"] for s in shards),
        "num_docs": sum(s["num_docs"] for s in shards),
        "shards": shards,
        "stats": stats or {},
        "meta": meta or {},
    }
    atomic_write_json(Path(out_dir) / MANIFEST, manifest)
    return manifest


@dataclass(frozen=True)
class DocSpan:
    """A document's place in the global token stream."""

    id: str
    start: int  # global offset of its first token
    length: int
    info: dict[str, Any]

    @property
    def end(self) -> int:
        return self.start + self.length


class TokenCorpus:
    """Read-only view of a shard folder as one token stream (memory-mapped)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        manifest_path = self.path / MANIFEST
        if not manifest_path.is_file():
            raise DataError(
                f"{self.path} holds no complete token shards ({MANIFEST} missing); "
                f"run `bridgelab prepare` first or let it finish"
            )
        self.manifest: dict[str, Any] = read_json(manifest_path)
        if self.manifest.get("format") != FORMAT:
            raise DataError(f"{manifest_path}: unknown format {self.manifest.get('format')!r}")
        self.dtype = np.dtype(self.manifest["dtype"])
        self._arrays: list[np.ndarray] = []
        self._starts: list[int] = []
        start = 0
        for shard in self.manifest["shards"]:
            bin_path = self.path / f"{shard['name']}.bin"
            if not bin_path.is_file():
                raise DataError(f"{bin_path}: shard listed in the manifest is missing")
            n = shard["num_tokens"]
            size = bin_path.stat().st_size
            if size % self.dtype.itemsize:
                # np.memmap would raise a bare ValueError; say which file and where it breaks
                whole = size - size % self.dtype.itemsize
                raise DataError(
                    f"{bin_path}: {size} bytes is not a whole number of {self.dtype.name} tokens "
                    f"({self.dtype.itemsize} bytes each); the shard is truncated or corrupt "
                    f"from byte offset {whole}"
                )
            arr = np.memmap(bin_path, dtype=self.dtype, mode="r") if n else np.zeros(0, self.dtype)
            if arr.size != n:
                raise DataError(f"{bin_path}: holds {arr.size} tokens, manifest says {n}")
            self._arrays.append(arr)
            self._starts.append(start)
            start += n
        self.num_tokens = start
        self._docs: list[DocSpan] | None = None

    # -- metadata -------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return int(self.manifest["vocab_size"])

    @property
    def eos_id(self) -> int:
        return int(self.manifest["eos_id"])

    @property
    def tokenizer_hash(self) -> str:
        return str(self.manifest["tokenizer_hash"])

    @property
    def docs(self) -> list[DocSpan]:
        """All documents in stream order (read lazily from the per-shard index files)."""
        if self._docs is None:
            docs: list[DocSpan] = []
            for shard, base in zip(self.manifest["shards"], self._starts):
                index_path = self.path / f"{shard['name']}.docs.jsonl"
                with open(index_path, encoding="utf-8") as fh:
                    for line in fh:
                        row = json.loads(line)
                        info = {k: v for k, v in row.items() if k not in ("id", "offset", "length")}
                        docs.append(DocSpan(row["id"], base + row["offset"], row["length"], info))
            self._docs = docs
            self._doc_starts = [d.start for d in docs]
        return self._docs

    def out_of_vocab(
        self, vocab_size: int | None = None, *, limit: int = 20, chunk: int = 1 << 24
    ) -> tuple[int, list[dict[str, Any]]]:
        """Token ids ``>= vocab_size`` (default: the manifest's): their count and the first
        ``limit`` as ``{"shard", "offset", "id"}`` (offset in tokens within the shard).

        A chunked max over the memory-mapped shards, so it runs at disk speed; an id outside the
        vocabulary would otherwise surface as an embedding ``IndexError`` mid-training.
        """
        vocab = self.vocab_size if vocab_size is None else int(vocab_size)
        found: list[dict[str, Any]] = []
        count = 0
        for shard, arr in zip(self.manifest["shards"], self._arrays):
            for lo in range(0, arr.size, chunk):
                part = np.asarray(arr[lo : lo + chunk])
                if not part.size or int(part.max()) < vocab:
                    continue
                bad = np.flatnonzero(part >= vocab)
                count += int(bad.size)
                for i in bad[: max(limit - len(found), 0)]:
                    found.append(
                        {"shard": f"{shard['name']}.bin", "offset": lo + int(i), "id": int(part[i])}
                    )
        return count, found

    def check_token_ids(self, vocab_size: int | None = None) -> None:
        """Raise a DataError naming the first shard and offset whose id is outside the vocabulary."""
        vocab = self.vocab_size if vocab_size is None else int(vocab_size)
        count, found = self.out_of_vocab(vocab, limit=1)
        if count:
            first = found[0]
            raise DataError(
                f"{self.path / first['shard']}: token id {first['id']} at offset "
                f"{first['offset']} (byte {first['offset'] * self.dtype.itemsize}) is outside the "
                f"vocabulary of {vocab} ids ({count} such tokens in {self.path}); the shards are "
                f"corrupt or from another tokenizer: rebuild them with `bridgelab prepare --force`"
            )

    # -- token access ---------------------------------------------------------------------
    def tokens(self, start: int, end: int) -> np.ndarray:
        """Tokens ``[start, end)`` of the global stream, as int64."""
        if not 0 <= start <= end <= self.num_tokens:
            raise IndexError(f"token range [{start}, {end}) outside [0, {self.num_tokens})")
        parts = []
        i = max(bisect.bisect_right(self._starts, start) - 1, 0)
        pos = start
        while pos < end:
            arr, base = self._arrays[i], self._starts[i]
            stop = min(end, base + arr.size)
            if stop > pos:
                parts.append(np.asarray(arr[pos - base : stop - base]))
            pos = max(pos, stop)
            i += 1
        if not parts:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate(parts).astype(np.int64)

    def doc_tokens(self, doc: DocSpan) -> np.ndarray:
        return self.tokens(doc.start, doc.end)

    def num_windows(self, seq_len: int) -> int:
        """How many training windows of ``seq_len + 1`` tokens the stream holds."""
        return self.num_tokens // (seq_len + 1)

    def window_range(self, index: int, seq_len: int) -> tuple[int, int]:
        if not 0 <= index < self.num_windows(seq_len):
            raise IndexError(f"window {index} outside [0, {self.num_windows(seq_len)})")
        return index * (seq_len + 1), (index + 1) * (seq_len + 1)

    def window(self, index: int, seq_len: int) -> np.ndarray:
        """Training window ``index``: ``seq_len + 1`` tokens (inputs = [:-1], targets = [1:])."""
        return self.tokens(*self.window_range(index, seq_len))

    def docs_in_range(self, start: int, end: int) -> list[DocSpan]:
        """Documents that have at least one token in ``[start, end)``."""
        docs = self.docs
        i = max(bisect.bisect_right(self._doc_starts, start) - 1, 0)
        out = []
        while i < len(docs) and docs[i].start < end:
            if docs[i].end > start:
                out.append(docs[i])
            i += 1
        return out

    def docs_in_window(self, index: int, seq_len: int) -> list[DocSpan]:
        return self.docs_in_range(*self.window_range(index, seq_len))

    def iter_docs(self) -> Iterator[tuple[DocSpan, np.ndarray]]:
        for doc in self.docs:
            yield doc, self.doc_tokens(doc)


# --- documents into shards: every document's tokens end with the EOS id --------------------------
# `bridgelab prepare` writes the pretraining corpus this way; CPT mixtures and `bridgelab count`
# tokenize their documents with the same function, so a document is the same tokens everywhere.


def tokenize_documents(
    tokenizer: Any, texts: Sequence[str], eos_id: int, *, batch_size: int = 2048
) -> list[np.ndarray]:
    """Token ids of each text followed by ``eos_id``, one int64 array per text.

    Works on the Rust tokenizer directly (``encode_batch_fast``: no offsets, parallel across
    the batch), which is where the time goes; Python only appends the EOS.
    """
    backend = getattr(tokenizer, "backend_tokenizer", tokenizer)
    out: list[np.ndarray] = []
    for start in range(0, len(texts), batch_size):
        batch = list(texts[start : start + batch_size])
        for enc in backend.encode_batch_fast(batch, add_special_tokens=False):
            ids = enc.ids
            ids.append(eos_id)
            out.append(np.asarray(ids, dtype=np.int64))
    return out


def _existing_shard(out_dir: Path, index: int, ids: list[str]) -> dict[str, Any]:
    """The manifest entry of a complete shard on disk, after checking it holds ``ids``."""
    name = shard_name(index)
    rows = [
        json.loads(line)
        for line in (out_dir / f"{name}.docs.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    if [r["id"] for r in rows] != ids:
        raise RunFolderError(
            f"{out_dir / name}: holds other documents than this run would write (the input "
            f"changed since the interrupted run); pass --force to start again"
        )
    return {"name": name, "num_tokens": sum(r["length"] for r in rows), "num_docs": len(rows)}


def write_documents_to_shards(
    docs: Iterable[dict[str, Any]],
    tokenizer: Any,
    out_dir: str | Path,
    *,
    eos_id: int,
    vocab_size: int,
    shard_docs: int = 2000,
    batch_size: int = 2048,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Pack documents (dicts with ``id``, ``text`` and any extra index keys) into shards.

    Complete shards already in ``out_dir`` are verified and skipped (resume). Returns the
    shard entries for :func:`write_manifest`; writing the manifest is
    left to the caller, which knows the statistics and metadata.
    """
    out_dir = Path(out_dir)
    dtype = token_dtype(vocab_size)
    entries = []
    seen: set[str] = set()
    with tqdm(desc=f"prepare {out_dir.name}", unit="doc", disable=not progress) as bar:
        it = iter(docs)
        for index in itertools.count():
            chunk = list(itertools.islice(it, shard_docs))
            if not chunk:
                break
            ids = [d["id"] for d in chunk]
            for doc_id in ids:
                if doc_id in seen:
                    raise DataError(f"duplicate document id '{doc_id}' (shard {shard_name(index)})")
                seen.add(doc_id)
            if shard_complete(out_dir, index):
                entries.append(_existing_shard(out_dir, index, ids))
            else:
                tokens = tokenize_documents(
                    tokenizer, [d["text"] for d in chunk], eos_id, batch_size=batch_size
                )
                rows = [{k: v for k, v in d.items() if k != "text"} for d in chunk]
                entries.append(write_shard(out_dir, index, tokens, rows, dtype))
            bar.update(len(chunk))
    return entries
