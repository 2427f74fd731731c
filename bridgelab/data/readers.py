"""Document and parallel-pair readers: JSONL (plain, .gz, .xz), plain text, parquet, HF datasets.

Every reader yields :class:`~bridgelab.contracts.records.Document` records and names the file and
line (or row) of a bad record. A :class:`SourceConfig` declares one input; :func:`read_source`
turns it into documents, so the tokenizer and prepare stages read every corpus the same way.
"""

from __future__ import annotations

import glob
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from bridgelab.config import Config, param
from bridgelab.contracts.records import (
    Document,
    ReadStats,
    parse_records,
    read_jsonl_records,
)
from bridgelab.data.sources import read_mono
from bridgelab.errors import ConfigError, DataError
from bridgelab.utils.io import iter_lines

SourceFormat = Literal["jsonl", "text", "parquet", "hf", "shared"]


@dataclass
class SourceConfig(Config):
    """One corpus to read (a file, a glob, a Hugging Face dataset or a shared-data corpus)."""

    lang: str = param(help="language code given to every document (en, ko, zh, bo, mn)")
    format: SourceFormat = param("jsonl", help="jsonl | text | parquet | hf | shared")
    path: str = param(
        "",
        help="file or glob (jsonl/text/parquet); for 'shared', the shared data root folder",
    )
    name: str = param("", help="source name stored in each document (default: file stem)")
    id_field: str = param("id", help="record key holding the document id ('' = line number)")
    text_field: str = param("text", help="record key holding the text")
    id_prefix: str = param("", help="prefix added to every id, to keep ids unique across sources")
    limit: int = param(0, help="read at most this many documents (0 = all)")
    hf_name: str = param("", help="datasets name for format 'hf' (e.g. wikimedia/wikipedia, json)")
    hf_config: str = param("", help="datasets config name (e.g. 20231101.en)")
    hf_split: str = param("train", help="datasets split")
    hf_data_files: list[str] = param([], help="data_files passed to load_dataset (local files)")
    streaming: bool = param(True, help="stream the HF dataset instead of downloading it whole")

    def validate(self) -> None:
        super().validate()
        if self.limit < 0:
            raise ConfigError("limit: must be >= 0")
        if self.format == "hf" and not self.hf_name:
            raise ConfigError("hf_name: required when format is 'hf'")
        if self.format != "hf" and not self.path:
            raise ConfigError(f"path: required when format is '{self.format}'")


def resolve_sources(sources: list[SourceConfig], data_root: str) -> list[SourceConfig]:
    """Sources with relative paths joined onto ``data_root`` (a world or shared-data folder).

    Stage configs list corpora relative to one root so that a single override
    (``data_root=runs/x/world``) points a whole preset at another folder.
    """
    if not data_root:
        return list(sources)
    return [
        s
        if s.format == "hf" or Path(s.path).is_absolute()
        else replace(s, path=str(Path(data_root) / s.path))
        for s in sources
    ]


def expand_paths(pattern: str) -> list[Path]:
    """The files a path or glob names, sorted so that reading order is deterministic."""
    if any(ch in pattern for ch in "*?["):
        paths = sorted(Path(p) for p in glob.glob(pattern))
        if not paths:
            raise DataError(f"no file matches {pattern}")
        return paths
    path = Path(pattern)
    if not path.is_file():
        raise DataError(f"file not found: {path}")
    return [path]


def _record_to_document(
    rec: dict[str, Any], where: str, cfg: SourceConfig, default_id: str, source: str
) -> Document:
    text = rec.get(cfg.text_field)
    if text is None:
        raise DataError(f"{where}: missing key '{cfg.text_field}'")
    if not isinstance(text, str):
        raise DataError(
            f"{where}: key '{cfg.text_field}' must be a string, got {type(text).__name__}"
        )
    raw_id = rec.get(cfg.id_field) if cfg.id_field else default_id
    if raw_id is None:
        raise DataError(f"{where}: missing key '{cfg.id_field}'")
    if not isinstance(raw_id, (str, int)) or isinstance(raw_id, bool) or raw_id == "":
        raise DataError(f"{where}: key '{cfg.id_field}' must be a non-empty string or integer")
    lang = rec.get("lang", cfg.lang)
    if lang != cfg.lang:
        raise DataError(f"{where}: document language '{lang}' but the source declares '{cfg.lang}'")
    return Document(id=f"{cfg.id_prefix}{raw_id}", lang=cfg.lang, text=text, source=source)


def _read_jsonl(
    path: Path, cfg: SourceConfig, skip_bad: bool, stats: ReadStats
) -> Iterator[Document]:
    source = cfg.name or path.name.split(".")[0]

    def parse(rec: dict[str, Any], where: str) -> Document:
        lineno = where.rsplit(":", 1)[1]
        return _record_to_document(rec, where, cfg, f"{path.name.split('.')[0]}-{lineno}", source)

    yield from read_jsonl_records(path, parse, skip_bad=skip_bad, stats=stats)


def _read_text(path: Path, cfg: SourceConfig, stats: ReadStats) -> Iterator[Document]:
    """One document per non-blank line; the id is ``<stem>-<line number>``."""
    stem = path.name.split(".")[0]
    for lineno, line in iter_lines(path):
        if line.strip():
            stats.read += 1
            yield Document(f"{cfg.id_prefix}{stem}-{lineno}", cfg.lang, line, cfg.name or stem)


def _read_parquet(
    path: Path, cfg: SourceConfig, skip_bad: bool, stats: ReadStats
) -> Iterator[Document]:
    import pyarrow.parquet as pq

    try:
        pfile = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise DataError(f"{path}: not a readable parquet file ({exc})") from None
    columns = [c for c in (cfg.id_field, cfg.text_field) if c]
    missing = [c for c in columns if c not in pfile.schema_arrow.names]
    if missing:
        raise DataError(f"{path}: no column '{missing[0]}' (columns: {pfile.schema_arrow.names})")
    source = cfg.name or path.name.split(".")[0]
    rows = (rec for batch in pfile.iter_batches(columns=columns) for rec in batch.to_pylist())
    numbered = ((f"{path}:row {row}", (row, rec)) for row, rec in enumerate(rows, start=1))
    yield from parse_records(
        numbered,
        lambda rr, where: _record_to_document(rr[1], where, cfg, f"{path.stem}-{rr[0]}", source),
        skip_bad=skip_bad,
        stats=stats,
    )


def _read_hf(cfg: SourceConfig, skip_bad: bool, stats: ReadStats) -> Iterator[Document]:
    import datasets

    kwargs: dict[str, Any] = {"split": cfg.hf_split, "streaming": cfg.streaming}
    if cfg.hf_data_files:
        kwargs["data_files"] = cfg.hf_data_files
    try:
        ds = datasets.load_dataset(cfg.hf_name, cfg.hf_config or None, **kwargs)
    except Exception as exc:  # hub, network and file errors all end here
        raise DataError(f"cannot load dataset '{cfg.hf_name}' ({cfg.hf_config}): {exc}") from None
    name = cfg.name or cfg.hf_name.replace("/", "_")
    numbered = (
        (f"{cfg.hf_name}[{cfg.hf_split}] row {row}", (row, rec))
        for row, rec in enumerate(ds, start=1)
    )
    yield from parse_records(
        numbered,
        lambda rr, where: _record_to_document(rr[1], where, cfg, f"{name}-{rr[0]}", name),
        skip_bad=skip_bad,
        stats=stats,
    )


def read_source(
    cfg: SourceConfig, *, skip_bad: bool = False, stats: ReadStats | None = None
) -> Iterator[Document]:
    """Yield the documents of one source, at most ``cfg.limit`` of them."""
    stats = stats if stats is not None else ReadStats(cfg.path or cfg.hf_name)

    def unlimited() -> Iterator[Document]:
        if cfg.format == "hf":
            yield from _read_hf(cfg, skip_bad, stats)
        elif cfg.format == "shared":
            yield from read_mono(cfg.lang, cfg.path, skip_bad=skip_bad, stats=stats)
        else:
            for path in expand_paths(cfg.path):
                if cfg.format == "jsonl":
                    yield from _read_jsonl(path, cfg, skip_bad, stats)
                elif cfg.format == "text":
                    yield from _read_text(path, cfg, stats)
                else:
                    yield from _read_parquet(path, cfg, skip_bad, stats)

    for n, doc in enumerate(unlimited(), start=1):
        yield doc
        if cfg.limit and n >= cfg.limit:
            return
