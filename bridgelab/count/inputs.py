"""What `bridgelab count` reads: corpora as token shards, and the strings to count.

Corpora are shard folders of ``bridgelab prepare``, indexed as they are, or Document JSONL (a
world's ``corpora/<lang>.jsonl``), tokenized here with ``bridgelab.data``'s shard writer into
``<out>/shards/<name>/``. Such a folder is reused while its source file and tokenizer are the
same (sha256 of both in ``manifest.meta``) and rebuilt whole otherwise.

Queries: on a synthetic world, every fact of ``world.json`` with its subject and answer in
each language (English: ``subject``/``object``; others: ``subject_names``/``object_words``)
and its true counts from ``ground_truth.jsonl``; from probe files, each probe's answer in the
corpus's language (else English) and no subject, as a cloze question does not mark one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridgelab.contracts.probe_sets import load_probe_file
from bridgelab.contracts.records import read_documents
from bridgelab.contracts.shards import MANIFEST, TokenCorpus, write_manifest
from bridgelab.count.config import CountConfig
from bridgelab.errors import DataError
from bridgelab.utils.io import atomic_dir

JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.xz")


@dataclass
class Query:
    """One fact or probe: the strings to count per language, and (on a world) true counts."""

    id: str
    probe_id: str | None
    culture: str
    answer: dict[str, str]
    subject: dict[str, str] = field(default_factory=dict)
    true_counts: dict[str, int] | None = None
    true_docs: dict[str, list[str]] | None = None

    def strings(self, lang: str) -> tuple[str | None, str | None]:
        """(subject, answer) in ``lang``, else in English (a probe asked only in English)."""
        pick = lang if lang in self.answer else "en"
        return self.subject.get(pick), self.answer.get(pick)


def resolve_world(cfg: CountConfig) -> CountConfig:
    """Fill ``corpora`` from ``cfg.world`` when the config leaves it empty."""
    if not cfg.world or cfg.corpora:
        return cfg
    world = Path(cfg.world)
    files = sorted((world / "corpora").glob("*.jsonl"))
    if not files:
        raise DataError(f"world: {world} holds no corpora/*.jsonl (not a synthetic world?)")
    return dataclasses.replace(cfg, corpora={p.name[: -len(".jsonl")]: str(p) for p in files})


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 24):
            digest.update(block)
    return digest.hexdigest()


def corpus_shards(
    name: str, path: str, tokenizer: Any, info: dict[str, Any], out: Path, shard_docs: int
) -> TokenCorpus:
    """The shard folder of corpus ``name``: ``path`` itself, or its tokenization under ``out``."""
    src = Path(path)
    if src.is_dir():
        corpus = TokenCorpus(src)
        if corpus.tokenizer_hash != info["hash"]:
            raise DataError(
                f"{src / MANIFEST}: made with tokenizer {corpus.tokenizer_hash[:12]}, but "
                f"`tokenizer` is {info['hash'][:12]}: the query strings would get other ids"
            )
        return corpus
    if not src.name.endswith(JSONL_SUFFIXES):
        raise DataError(f"corpora.{name}: {src} is neither a shard folder nor Document JSONL")
    if not src.is_file():
        raise DataError(f"corpora.{name}: {src} does not exist")
    dest = out / "shards" / name
    source = {"source": str(src), "source_sha256": _sha256(src), "tokenizer_hash": info["hash"]}
    if (dest / MANIFEST).is_file():
        meta = json.loads((dest / MANIFEST).read_text(encoding="utf-8")).get("meta", {})
        if {k: meta.get(k) for k in source} == source:
            return TokenCorpus(dest)
    from bridgelab.contracts.shards import write_documents_to_shards

    docs = ({"id": d.id, "text": d.text} for d in read_documents(src))
    with atomic_dir(dest) as tmp:
        shards = write_documents_to_shards(
            docs, tokenizer, tmp, eos_id=info["eos_id"], vocab_size=info["vocab_size"],
            shard_docs=shard_docs, progress=False,
        )  # fmt: skip
        write_manifest(
            tmp, shards=shards, vocab_size=info["vocab_size"], eos_id=info["eos_id"],
            tokenizer_hash=info["hash"], meta=source,
        )  # fmt: skip
    return TokenCorpus(dest)


def world_queries(world: str | Path) -> list[Query]:
    """Every fact of the world, with its strings per language and its true counts."""
    from bridgelab.contracts.truth import load_ground_truth

    world = Path(world)
    truth = {row["fact_id"]: row for row in load_ground_truth(world)}
    summary_path = world / "world.json"
    try:
        facts = json.loads(summary_path.read_text(encoding="utf-8"))["facts"]
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"{summary_path}: no readable 'facts' ({exc})") from None
    queries = []
    for fact in facts:
        row = truth.get(fact["id"])
        if row is None:
            raise DataError(f"{world / 'ground_truth.jsonl'}: no row for fact '{fact['id']}'")
        queries.append(
            Query(
                id=fact["id"],
                probe_id=row["probe_id"],
                culture=fact["culture"],
                answer={"en": fact["object"], **fact.get("object_words", {})},
                subject={"en": fact["subject"], **fact.get("subject_names", {})},
                true_counts={k: int(v) for k, v in row["counts"].items()},
                true_docs={k: list(v) for k, v in row["doc_ids"].items()},
            )
        )
    return queries


def probe_queries(paths: list[str]) -> list[Query]:
    """One query per probe id: its answer in each language it is asked in (no subject)."""
    queries: dict[str, Query] = {}
    for path in paths:
        for item in load_probe_file(path):
            query = queries.setdefault(item.id, Query(item.id, item.id, item.culture, {}))
            query.answer.setdefault(item.lang, item.answer)
    if not queries:
        raise DataError(f"probes: no probe items in {', '.join(paths)}")
    return sorted(queries.values(), key=lambda q: q.id)
