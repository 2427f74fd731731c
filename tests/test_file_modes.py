"""Issue 15: files and folders bridgelab writes follow the umask (collaborators on a shared
cluster must be able to read shards and results); mkstemp/mkdtemp alone would give 0600/0700."""

from __future__ import annotations

import os
import stat

import pytest

from bridgelab.contracts.markers import mark_done
from bridgelab.utils.io import atomic_dir, atomic_write_json, atomic_write_text


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_atomic_files_and_folders_follow_the_umask(tmp_path, umask_022):
    atomic_write_text(tmp_path / "a.txt", "x")
    atomic_write_json(tmp_path / "b.json", {})
    mark_done(tmp_path)
    assert _mode(tmp_path / "a.txt") == 0o644
    assert _mode(tmp_path / "b.json") == 0o644
    assert _mode(tmp_path / "DONE") == 0o644
    with atomic_dir(tmp_path / "world") as tmp:
        (tmp / "f").write_text("y")
    assert _mode(tmp_path / "world") == 0o755


def test_a_strict_umask_is_respected_too(tmp_path):
    old = os.umask(0o077)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
        with atomic_dir(tmp_path / "d"):
            pass
    finally:
        os.umask(old)
    assert _mode(tmp_path / "a.txt") == 0o600
    assert _mode(tmp_path / "d") == 0o700
