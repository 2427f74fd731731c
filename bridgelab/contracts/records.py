"""The data contracts of DESIGN.md: documents, parallel pairs and probe items as JSONL.

Readers validate every record and name the file and line of the first bad one. With
``skip_bad=True`` they count and skip bad lines instead; the counts are returned in a
:class:`ReadStats` so callers can report them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from bridgelab.errors import DataError
from bridgelab.utils.io import atomic_write_jsonl, iter_lines

BLANK = "___"


@dataclass(frozen=True)
class Document:
    id: str
    lang: str
    text: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ParallelPair:
    id: str
    lang_a: str
    lang_b: str
    text_a: str
    text_b: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ProbeItem:
    """One cloze question; ``question`` holds the blank ``___``; ``answer`` should be an option.

    Items are not rejected for content defects (no blank, answer not among options, duplicate
    options): real probe files have them, and the linter reports them. Only structural errors
    (missing keys, wrong types) fail to load.
    """

    id: str
    culture: str
    lang: str
    question: str
    options: tuple[str, ...]
    answer: str

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["options"] = list(self.options)
        return d

    @property
    def answer_index(self) -> int | None:
        """Index of the answer among the options (first match), or None when it is not there."""
        try:
            return self.options.index(self.answer)
        except ValueError:
            return None


class RecordError(DataError):
    """A record that is well formed but unusable; ``reason`` (``empty_side``, ``wrong_script``,
    ...) is what :class:`ReadStats` counts it under."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


@dataclass
class ReadStats:
    path: str
    read: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)  # the first few messages, for the report
    reasons: dict[str, int] = field(default_factory=dict)  # skipped records per reason

    def skip(self, exc: Exception, reason: str = "bad_record") -> None:
        """Count a skipped record under ``reason`` (a :class:`RecordError` names its own); keep
        the first 20 messages for the report."""
        reason = getattr(exc, "reason", reason)
        self.skipped += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1
        if len(self.errors) < 20:
            self.errors.append(str(exc))


R = TypeVar("R")


def _require_str(rec: dict[str, Any], key: str, where: str) -> str:
    if key not in rec:
        raise DataError(f"{where}: missing key '{key}'")
    value = rec[key]
    if not isinstance(value, str):
        raise DataError(f"{where}: key '{key}' must be a string, got {type(value).__name__}")
    return value


def document_from_dict(rec: dict[str, Any], where: str) -> Document:
    doc = Document(
        id=_require_str(rec, "id", where),
        lang=_require_str(rec, "lang", where),
        text=_require_str(rec, "text", where),
        source=_require_str(rec, "source", where),
    )
    if not doc.id:
        raise DataError(f"{where}: empty 'id'")
    return doc


def pair_from_dict(rec: dict[str, Any], where: str) -> ParallelPair:
    pair = ParallelPair(
        id=_require_str(rec, "id", where),
        lang_a=_require_str(rec, "lang_a", where),
        lang_b=_require_str(rec, "lang_b", where),
        text_a=_require_str(rec, "text_a", where),
        text_b=_require_str(rec, "text_b", where),
        source=_require_str(rec, "source", where),
    )
    if not pair.text_a.strip() or not pair.text_b.strip():
        raise RecordError(f"{where}: pair '{pair.id}' has an empty side", "empty_side")
    return pair


def probe_from_dict(rec: dict[str, Any], where: str) -> ProbeItem:
    options = rec.get("options")
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        raise DataError(f"{where}: key 'options' must be a list of strings")
    return ProbeItem(
        id=_require_str(rec, "id", where),
        culture=_require_str(rec, "culture", where),
        lang=_require_str(rec, "lang", where),
        question=_require_str(rec, "question", where),
        options=tuple(options),
        answer=_require_str(rec, "answer", where),
    )


def parse_records(
    raw: Iterable[tuple[str, Any]],
    parse: Callable[[Any, str], R],
    *,
    skip_bad: bool = False,
    stats: ReadStats | None = None,
) -> Iterator[R]:
    """Parse ``(where, record)`` pairs; a DataError stops the read, or with ``skip_bad`` is
    counted in ``stats`` and the record skipped. Every reader of the project goes through here."""
    for where, rec in raw:
        try:
            item = parse(rec, where)
        except DataError as exc:
            if not skip_bad:
                raise
            if stats is not None:
                stats.skip(exc)
            continue
        if stats is not None:
            stats.read += 1
        yield item


def _json_lines(path: Path) -> Iterator[tuple[str, str]]:
    for lineno, line in iter_lines(path):
        if line.strip():
            yield f"{path}:{lineno}", line


def read_jsonl_records(
    path: str | Path,
    parse: Callable[[dict[str, Any], str], R],
    *,
    skip_bad: bool = False,
    stats: ReadStats | None = None,
) -> Iterator[R]:
    """Yield parsed records of a (possibly .gz/.xz) JSONL file; blank lines are ignored."""
    path = Path(path)
    stats = stats if stats is not None else ReadStats(str(path))

    def decode_and_parse(line: str, where: str) -> R:
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}: malformed JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(rec, dict):
            raise DataError(f"{where}: expected a JSON object, got {type(rec).__name__}")
        return parse(rec, where)

    return parse_records(_json_lines(path), decode_and_parse, skip_bad=skip_bad, stats=stats)


def read_json(path: str | Path, *, what: str = "file") -> Any:
    """A JSON file's value; a missing or malformed file is a DataError naming it (and the line)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{what} not found: {path}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: malformed JSON ({exc.msg} at line {exc.lineno})") from None


def read_json_objects(path: str | Path) -> list[dict[str, Any]]:
    """Every JSON object of a JSONL file (no schema), with file:line errors like the others."""
    return list(read_jsonl_records(path, lambda rec, where: rec))


def read_documents(path: str | Path, **kw: Any) -> Iterator[Document]:
    return read_jsonl_records(path, document_from_dict, **kw)


def read_pairs(path: str | Path, **kw: Any) -> Iterator[ParallelPair]:
    return read_jsonl_records(path, pair_from_dict, **kw)


def read_probes(path: str | Path, **kw: Any) -> Iterator[ProbeItem]:
    return read_jsonl_records(path, probe_from_dict, **kw)


def write_records(path: str | Path, records: Iterable[Document | ParallelPair | ProbeItem]) -> int:
    """Write records as JSONL atomically; return the count."""
    return atomic_write_jsonl(path, (r.to_dict() for r in records))


def check_unique_ids(ids: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise DataError(f"{what}: duplicate id '{i}'")
        seen.add(i)
