"""The documents of one corpus, by id, and the passages that the indexes hold.

A corpus is either Document JSONL (the synthetic world's ``corpora/<lang>.jsonl``, or a real
corpus converted by the data stage) or a token-shard folder written by ``bridgelab prepare``.
For shards the text is decoded from the tokens with the tokenizer whose hash the manifest
records, so the store holds exactly what the model was trained on, and its document count is
the density denominator (DESIGN.md control 5).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from bridgelab.contracts.records import check_unique_ids, read_documents
from bridgelab.contracts.shards import MANIFEST
from bridgelab.errors import DataError
from bridgelab.retrieval.text import split_passages


@dataclass(frozen=True)
class Passage:
    doc_index: int
    text: str


class DocumentStore:
    """Documents (ids and texts) of one corpus and their passages, in a fixed order."""

    def __init__(self, name: str, ids: list[str], texts: list[str], *, passage_chars: int):
        check_unique_ids(ids, f"corpus '{name}'")
        self.name = name
        self.ids = ids
        self.texts = texts
        self.index_of = {doc_id: i for i, doc_id in enumerate(ids)}
        self.passages: list[Passage] = [
            Passage(i, p)
            for i, text in enumerate(texts)
            for p in split_passages(text, passage_chars)
        ]
        # saved indexes are keyed by this: any change of an id or a text rebuilds them
        digest = hashlib.sha256()
        for doc_id, text in zip(ids, texts):
            digest.update(f"{doc_id}\t{len(text)}\t{text}\n".encode())
        self.fingerprint = f"{digest.hexdigest()[:16]}-{passage_chars}"

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def load(
        cls, name: str, path: str | Path, *, passage_chars: int, tokenizer: str | None = None
    ) -> DocumentStore:
        path = Path(path)
        if path.is_dir():
            ids, texts = _read_shard_folder(path, tokenizer)
        elif path.is_file():
            docs = list(read_documents(path))
            ids, texts = [d.id for d in docs], [d.text for d in docs]
        else:
            raise DataError(f"corpus '{name}': {path} does not exist")
        if not ids:
            raise DataError(f"corpus '{name}': {path} holds no documents")
        return cls(name, ids, texts, passage_chars=passage_chars)


def _read_shard_folder(path: Path, tokenizer: str | None) -> tuple[list[str], list[str]]:
    from bridgelab.contracts.shards import TokenCorpus

    if not (path / MANIFEST).is_file():
        raise DataError(
            f"{path}: a corpus folder must be a token-shard folder ({MANIFEST} missing)"
        )
    if tokenizer is None:
        raise DataError(f"{path}: a token-shard corpus needs `tokenizer` (to decode its text)")
    from bridgelab.contracts.tokenizer import load_tokenizer

    tok, info = load_tokenizer(tokenizer)
    corpus = TokenCorpus(path)
    if info["hash"] != corpus.tokenizer_hash:
        raise DataError(
            f"{path}: shards were written with tokenizer {corpus.tokenizer_hash}, but "
            f"{tokenizer} has hash {info['hash']}"
        )
    ids, texts = [], []
    for doc, tokens in corpus.iter_docs():
        body = tokens[:-1] if len(tokens) and tokens[-1] == corpus.eos_id else tokens
        ids.append(doc.id)
        texts.append(tok.decode(body.tolist()))
    return ids, texts
