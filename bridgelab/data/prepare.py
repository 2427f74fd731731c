"""`bridgelab prepare`: read, filter, tokenize and pack documents into token shards.

Shard ``i`` holds documents ``[i * shard_docs, (i + 1) * shard_docs)`` of the filtered
stream, so the layout depends only on the config and the input. On a rerun every document is
read and filtered again (cheap, and it makes the statistics exact), but a shard already on
disk is checked against the documents it should hold and not tokenized again; the manifest
and the DONE marker come last.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridgelab.config import Config, config_hash, param
from bridgelab.contracts.markers import (
    DONE_MARKER,
    is_done,
    mark_done,
    move_aside,
    prepare_run_folder,
)
from bridgelab.contracts.provenance import lineage, refuse_if_stale
from bridgelab.contracts.records import Document, ReadStats
from bridgelab.contracts.shards import (
    write_documents_to_shards,
    write_manifest,
)
from bridgelab.data.filters import DroppedDocument, FilterConfig, FilterStats, filter_documents
from bridgelab.data.readers import SourceConfig, expand_paths, read_source, resolve_sources
from bridgelab.errors import ConfigError, DataError, RunFolderError
from bridgelab.stage import Step
from bridgelab.utils.io import atomic_write_json, atomic_write_jsonl

log = logging.getLogger(__name__)
STATE_FILE = "prepare_state.json"


@dataclass
class PrepareConfig(Config):
    """`bridgelab prepare`: corpora in, token shards out."""

    out_dir: str = param("runs/shards", help="output shard folder")
    tokenizer: str = param(
        "runs/tokenizer", help="tokenizer folder written by `bridgelab tokenizer`"
    )
    data_root: str = param("", help="folder that relative source paths are resolved against")
    sources: list[SourceConfig] = param([], help="the corpora, read in this order")
    filter: FilterConfig = param(FilterConfig(), help="script filter and normalisation")
    shard_docs: int = param(2000, help="documents per shard")
    batch_size: int = param(
        2048,
        help="documents per encode_batch call (large: Rust balances long documents across threads)",
    )
    skip_bad: bool = param(False, help="skip and count bad records (malformed, duplicate ids)")

    def validate(self) -> None:
        super().validate()
        if not self.sources:
            raise ConfigError("sources: at least one source is needed")
        if self.shard_docs < 1:
            raise ConfigError("shard_docs: must be >= 1")
        if self.batch_size < 1:
            raise ConfigError("batch_size: must be >= 1")


def _unique_documents(
    cfg: PrepareConfig, read_stats: list[ReadStats], duplicates: list[str]
) -> Iterator[Document]:
    """All sources in order; a repeated id is an error, or skipped and counted with skip_bad."""
    seen: set[str] = set()
    for source in resolve_sources(cfg.sources, cfg.data_root):
        stats = ReadStats(source.path or source.hf_name)
        read_stats.append(stats)
        for doc in read_source(source, skip_bad=cfg.skip_bad, stats=stats):
            if doc.id in seen:
                if not cfg.skip_bad:
                    raise DataError(
                        f"{stats.path}: duplicate document id '{doc.id}' (set skip_bad to skip)"
                    )
                duplicates.append(doc.id)
                continue
            seen.add(doc.id)
            yield doc


def _claim_folder(out: Path, identity: dict[str, str], force: bool) -> None:
    """Refuse an output folder that holds anything other than a partial run of this config."""
    state = out / STATE_FILE
    if out.exists() and any(out.iterdir()):
        same = state.is_file() and json.loads(state.read_text(encoding="utf-8")) == identity
        if not same:
            if not force:
                raise RunFolderError(
                    f"{out} already holds other files (another config, tokenizer or a finished "
                    f"run); choose another out_dir or pass --force to move it aside"
                )
            log.info("moved the old %s aside to %s", out, move_aside(out))
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(state, identity)


def run(cfg: PrepareConfig, *, force: bool = False) -> Path:
    """Write the shard folder ``cfg.out_dir``; skip it when done, resume it when partial."""
    from bridgelab.contracts.tokenizer import load_tokenizer, tokenizer_info

    out = Path(cfg.out_dir)
    info = tokenizer_info(cfg.tokenizer)  # cheap: the hash, without loading the tokenizer
    # out_dir is left out so that a moved folder still matches its config
    identity = {
        "config_hash": config_hash(cfg, exclude=("out_dir",)),
        "tokenizer_hash": info["hash"],
    }
    if is_done(out):
        # the marker also holds its id and inputs; the config and tokenizer decide a match
        if {k: _done_info(out).get(k) for k in identity} == identity and not force:
            refuse_if_stale(out, "token shard folder")
            log.info("%s is already complete; nothing to do", out)
            return out
        # another config's finished shards: refused, or moved aside with --force
        prepare_run_folder(out, force=force, what="token shard folder")
    for source in resolve_sources(cfg.sources, cfg.data_root):
        if source.format in ("jsonl", "text", "parquet"):
            expand_paths(source.path)  # a missing input fails before the output folder exists
    _claim_folder(out, identity, force)
    inputs = lineage(cfg)
    tokenizer, info = load_tokenizer(cfg.tokenizer)
    cfg.dump(out / "prepare_config.yaml")

    read_stats: list[ReadStats] = []
    duplicates: list[str] = []
    fstats = FilterStats()
    dropped: list[DroppedDocument] = []
    kept = filter_documents(
        _unique_documents(cfg, read_stats, duplicates), cfg.filter, fstats, dropped
    )
    rows = (
        {
            "id": f.doc.id,
            "text": f.doc.text,
            "lang": f.doc.lang,
            "source": f.doc.source,
            "chars_removed": f.chars_removed,
        }
        for f in kept
    )
    shards = write_documents_to_shards(
        rows, tokenizer, out, eos_id=info["eos_id"], vocab_size=info["vocab_size"],
        shard_docs=cfg.shard_docs, batch_size=cfg.batch_size,
    )  # fmt: skip
    if fstats.docs_kept == 0:
        names = ", ".join(s.path for s in read_stats)
        raise DataError(
            f"empty corpus: {fstats.docs_in} documents read from {names}, none left after "
            f"filtering (dropped: {dict(fstats.dropped) or 'none'})"
        )
    if cfg.filter.write_dropped:
        atomic_write_jsonl(
            out / "dropped.jsonl", ({**d.doc.to_dict(), "reason": d.reason} for d in dropped)
        )
    stats = {
        "filter": fstats.to_dict(),
        "read": [
            {"path": s.path, "read": s.read, "skipped": s.skipped, "errors": s.errors}
            for s in read_stats
        ],
        "duplicate_ids_skipped": len(duplicates),
    }
    meta = {
        "tokenizer_path": str(cfg.tokenizer),
        # only strip mode guarantees that no other script is left: check-corpus's default
        "scripts": list(cfg.filter.scripts) if cfg.filter.mode == "strip" else [],
        "langs": sorted({s.lang for s in cfg.sources}),
        "config_hash": identity["config_hash"],
    }
    manifest = write_manifest(
        out, shards=shards, vocab_size=info["vocab_size"], eos_id=info["eos_id"],
        tokenizer_hash=info["hash"], stats=stats, meta=meta,
    )  # fmt: skip
    # the manifest names every shard with its token count and the tokenizer: its hash is the
    # folder's identity, the same for the same shards however often they are rebuilt
    manifest_hash = hashlib.sha256((out / "manifest.json").read_bytes()).hexdigest()[:16]
    mark_done(out, {**identity, "id": manifest_hash, "inputs": inputs})
    log.info(
        "%s: %d documents, %d tokens in %d shards",
        out,
        manifest["num_docs"],
        manifest["num_tokens"],
        len(shards),
    )
    return out


def _done_info(out: Path) -> dict[str, Any]:
    return json.loads((out / DONE_MARKER).read_text(encoding="utf-8"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--skip-bad", action="store_true", help="same as skip_bad=true: skip and count bad records"
    )


def options(args: argparse.Namespace) -> dict[str, Any]:
    if args.skip_bad:
        args.overrides = [*(args.overrides or []), "skip_bad=true"]
    return {}


def plan(cfg: PrepareConfig) -> list[Step]:
    sources = resolve_sources(cfg.sources, cfg.data_root)
    out = [Step(f"read {s.format} {s.path or s.hf_name} (lang {s.lang})") for s in sources]
    out.append(Step(f"filter: mode {cfg.filter.mode}, scripts {cfg.filter.scripts}, "
                    f"min_chars {cfg.filter.min_chars}"))  # fmt: skip
    out.append(Step(f"tokenize with {cfg.tokenizer}; write {cfg.shard_docs} documents per shard",
                    out=cfg.out_dir))  # fmt: skip
    return out
