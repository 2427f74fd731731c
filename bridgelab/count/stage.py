"""`bridgelab count`: exact counts of answers and subject-answer co-occurrence, per corpus.

Output folder::

    config.yaml                 resolved CountConfig
    shards/<corpus>/            token shards of a JSONL corpus (a shard-folder corpus is used
                                where it lies)
    index/<corpus>/             tokengrams suffix tables, one per shard, and index.json
    counts.jsonl                one row per (fact or probe, corpus), below
    counts.{csv,md}             the same as a table
    truth.{csv,md}              on a world: co-occurrence documents against the true counts
    summary.json, DONE

A ``counts.jsonl`` row: ``id``, ``probe_id``, ``culture``, ``corpus``, ``lang``, ``subject``,
``answer``, ``answer_count`` (occurrences of the answer), ``answer_docs``, ``subject_docs``,
``cooccur_docs`` (documents holding both: Kandpal et al. 2023's measure; null without a
subject), ``num_docs``, the number of token variants searched for each string
(``answer_variants``, ``subject_variants``) and of contexts in which the string's edge merged
with a neighbouring letter (``answer_spills``, ``subject_spills``: occurrences in such a
context cannot be counted; 0 means every context tried gave a countable sequence).
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from bridgelab.config import config_hash
from bridgelab.contracts.markers import done_with_config, mark_done, moved_aside, prepare_run_folder
from bridgelab.contracts.provenance import lineage
from bridgelab.count.config import CountConfig
from bridgelab.count.inputs import (
    Query,
    corpus_shards,
    probe_queries,
    resolve_world,
    world_queries,
)
from bridgelab.errors import DataError
from bridgelab.stage import Step, steps
from bridgelab.utils.io import atomic_write_json, atomic_write_jsonl
from bridgelab.utils.tables import write_table

log = logging.getLogger(__name__)


def plan(cfg: CountConfig) -> list[Step]:
    try:
        cfg = resolve_world(cfg)
    except DataError as exc:
        return [Step(f"world not generated yet ({exc}); run `bridgelab synth` first")]
    lines = []
    for name, path in cfg.corpora.items():
        how = "index the shards as they are" if Path(path).is_dir() else "tokenize, then index"
        lines.append(f"corpus {name} ({cfg.lang_of(name)}): {path}: {how}")
    what = "the world's facts (subject and answer)" if cfg.world and not cfg.probes else "answers"
    return [*steps(lines), Step(f"count {what} with tokenizer {cfg.tokenizer}", out=cfg.out_dir)]


def _queries(cfg: CountConfig) -> list[Query]:
    if cfg.probes:
        return probe_queries(cfg.probes)
    return world_queries(cfg.world)


def _carry_forward(out: Path) -> None:
    """After --force moved a finished run aside, take its shards and indexes back: they are
    reused only where their fingerprints still match, so nothing stale gets in."""
    backups = moved_aside(out)
    if not backups:
        return
    for sub in ("shards", "index"):
        if (backups[-1] / sub).is_dir() and not (out / sub).exists():
            os.replace(backups[-1] / sub, out / sub)


def run(cfg: CountConfig, *, force: bool = False) -> Path:
    """Tokenize and index every corpus (reusing what matches), count every query, write."""
    from bridgelab.contracts.tokenizer import load_tokenizer
    from bridgelab.count.boundary import EdgeTable
    from bridgelab.count.index import CorpusIndex, build_index
    from bridgelab.count.truth import truth_rows, truth_summary

    out = Path(cfg.out_dir)
    chash = config_hash(cfg, exclude=("out_dir",))
    if done_with_config(out, chash, force=force, what="count"):
        return out
    prepare_run_folder(out, force=force, what="count")
    if force:
        _carry_forward(out)
    cfg.dump(out / "config.yaml")
    inputs = lineage(cfg)
    cfg = resolve_world(cfg)
    tokenizer, info = load_tokenizer(cfg.tokenizer)
    queries = _queries(cfg)
    edges = EdgeTable(tokenizer)
    langs = {name: cfg.lang_of(name) for name in cfg.corpora}

    rows: list[dict[str, Any]] = []
    indexes: dict[str, Any] = {}
    lookups, seconds = 0, 0.0
    cache: dict[str, tuple] = {}
    for name, path in cfg.corpora.items():
        corpus = corpus_shards(name, path, tokenizer, info, out, cfg.shard_docs)
        meta = build_index(corpus, out / "index" / name)
        indexes[name] = {k: v for k, v in meta.items() if k != "shards"}
        index = CorpusIndex(corpus, out / "index" / name, edges)
        texts = _texts(path) if any(q.true_counts for q in queries) else None
        start = time.perf_counter()
        corpus_rows = [_count(index, tokenizer, q, name, langs[name], cache) for q in queries]
        seconds += time.perf_counter() - start
        lookups += sum((r["subject"] is not None) + (r["answer"] is not None) for r in corpus_rows)
        if texts is not None:
            _scan(corpus_rows, texts)
        rows += corpus_rows
        log.info("%s: %d queries counted in %d documents", name, len(queries), index.num_docs)

    atomic_write_jsonl(out / "counts.jsonl", [_public(r) for r in rows])
    write_table([_public(r) for r in rows], out / "counts")
    summary: dict[str, Any] = {
        "tokenizer_hash": info["hash"],
        "indexes": indexes,
        "rows": len(rows),
        "queries": lookups,
        "query_seconds": seconds,
        "queries_per_s": lookups / seconds if seconds else None,
    }
    if any(q.true_counts for q in queries):
        truth = truth_rows(rows, queries, langs)
        write_table(truth, out / "truth")
        summary["truth"] = truth_summary(truth)
    atomic_write_json(out / "summary.json", summary)
    mark_done(out, {"config_hash": chash, "inputs": inputs})
    return out


def _variants(tokenizer: Any, text: str, cache: dict[str, tuple]) -> tuple[list, list[str]]:
    from bridgelab.count.variants import token_variants

    if text not in cache:  # answers repeat across facts, English strings across corpora
        cache[text] = token_variants(tokenizer, text)
    return cache[text]


def _count(
    index: Any, tokenizer: Any, query: Query, corpus: str, lang: str, cache: dict[str, tuple]
) -> dict[str, Any]:
    subject, answer = query.strings(lang)
    row: dict[str, Any] = {
        "id": query.id,
        "probe_id": query.probe_id,
        "culture": query.culture,
        "corpus": corpus,
        "lang": lang,
        "subject": subject,
        "answer": answer,
        "answer_count": None,
        "answer_docs": None,
        "subject_docs": None,
        "cooccur_docs": None,
        "num_docs": index.num_docs,
    }
    if answer:
        variants, spills = _variants(tokenizer, answer, cache)
        row["answer_count"], answer_docs = index.find(variants, answer)
        row["answer_docs"], row["answer_variants"] = len(answer_docs), len(variants)
        row["answer_spills"] = len(spills)
        row["_answer"] = answer_docs
    if subject:
        variants, spills = _variants(tokenizer, subject, cache)
        _, subject_docs = index.find(variants, subject)
        row["subject_docs"], row["subject_variants"] = len(subject_docs), len(variants)
        row["subject_spills"] = len(spills)
        both = subject_docs & row.get("_answer", set())
        row["cooccur_docs"] = len(both)
        row["_both"] = {index.doc_ids[i] for i in both}
    return row


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not k.startswith("_")}


def _texts(path: str) -> list[str] | None:
    """The documents' text in shard order, for the text-scan check (JSONL corpora only)."""
    from bridgelab.contracts.records import read_documents

    if Path(path).is_dir():
        return None
    return [d.text for d in read_documents(path)]


def _scan(rows: list[dict[str, Any]], texts: list[str]) -> None:
    """Add the co-occurrence that a whole-word text scan finds to each row."""
    from bridgelab.count.truth import scan_docs

    for row in rows:
        if row["subject"] and row["answer"]:
            both = scan_docs(texts, row["subject"]) & scan_docs(texts, row["answer"])
            row["scan_cooccur_docs"] = len(both)


def summary(out: Path) -> list[str]:
    data = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    lines = [
        f"{row['corpus']}: exact {row['exact_match_rate']:.3f} (unambiguous "
        f"{row['exact_match_rate_unambiguous']:.3f}), text scan {row['scan_match_rate']:.3f}"
        for row in data.get("truth", [])
    ]
    return [*lines, f"counts written to {out}"]
