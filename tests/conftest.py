"""Shared fixtures. Real sample data comes from $BRIDGELAB_SAMPLE_DATA (never from the repo)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]


def sample_data_dir() -> Path:
    """The shared real-data folder, or skip the test with the reason."""
    root = os.environ.get("BRIDGELAB_SAMPLE_DATA")
    if not root:
        pytest.skip("BRIDGELAB_SAMPLE_DATA is not set (real sample data not available)")
    path = Path(root)
    if not path.is_dir():
        pytest.skip(f"BRIDGELAB_SAMPLE_DATA={root} does not exist")
    return path


@pytest.fixture
def sample_data() -> Path:
    return sample_data_dir()


@pytest.fixture(scope="session")
def tiny_study(tmp_path_factory) -> Path:
    """`bridgelab study` on configs/study/tiny.yaml, once per test session (about a minute)."""
    from bridgelab.study.runner import StudyConfig, run_study

    out = tmp_path_factory.mktemp("study") / "tiny"
    cwd = os.getcwd()
    os.chdir(REPO)  # stage configs name each other relative to the repo root
    try:
        run_study(StudyConfig.load(REPO / "configs/study/tiny.yaml", [f"out_dir={out}"]))
    finally:
        os.chdir(cwd)
    return out
