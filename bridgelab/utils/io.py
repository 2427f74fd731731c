"""Atomic writes, compressed text files and run-folder guards.

Every file a stage finishes is written to a temporary name in the same folder and renamed into
place, so a killed job leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import gzip
import json
import lzma
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from bridgelab.errors import DataError


def open_text(path: str | Path, mode: str = "rt") -> IO[str]:
    """Open a plain, .gz or .xz text file as UTF-8. Newlines are not translated (newline='')."""
    path = Path(path)
    if "r" in mode and not path.is_file():
        raise DataError(f"file not found: {path}")
    if path.suffix == ".gz":
        return gzip.open(path, mode, encoding="utf-8", newline="")
    if path.suffix == ".xz":
        return lzma.open(path, mode, encoding="utf-8", newline="")
    return open(path, mode, encoding="utf-8", newline="")


def iter_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """Yield (1-based line number, line without its "\\n") splitting on "\\n" only.

    ``str.splitlines`` would also split on U+0085, U+2028 and friends, which real Wikipedia
    text contains inside articles; a record boundary is a newline byte and nothing else.
    """
    with open_text(path) as fh:
        for lineno, line in enumerate(fh, start=1):
            # the file object was opened with newline="" so only "\n" (and "\r\n") end lines
            yield lineno, line[:-1] if line.endswith("\n") else line


def _umask() -> int:
    # os.umask can only be read by setting it; set it straight back
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _umask_mode(path: Path, full: int) -> None:
    """Give a mkstemp/mkdtemp path the mode a plain open()/mkdir() would have had: those two
    create 0600 files and 0700 folders whatever the umask, which would leave shards and results
    unreadable to collaborators on a shared cluster."""
    os.chmod(path, full & ~_umask())


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` when the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    _umask_mode(tmp_path, 0o666)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_write_json(path: str | Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def atomic_write_jsonl(path: str | Path, records: Iterable[dict[str, Any]]) -> int:
    """Write records as JSONL atomically; return how many were written."""
    n = 0
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
    return n


@contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Build a folder under a temporary name and move it into place when the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    _umask_mode(tmp, 0o777)
    try:
        yield tmp
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
