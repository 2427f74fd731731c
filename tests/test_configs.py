"""Every YAML under configs/ loads into its stage's schema (no unknown keys, valid values)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from bridgelab.config import Config
from bridgelab.stage import preset_schema

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted((REPO / "configs").rglob("*.yaml"))


def schema_for(path: Path) -> str:
    """The config class of a preset: the rule `bridgelab <stage> --help` lists presets by."""
    return preset_schema(path, REPO / "configs")


def test_there_are_presets_for_every_stage():
    assert {p.relative_to(REPO / "configs").parts[0] for p in CONFIGS} == {
        "data", "synth", "pretrain", "cpt", "calibrate", "probes", "retrieval", "study", "slurm",
        "dose", "count"
    }  # fmt: skip


@pytest.mark.parametrize(
    "path", CONFIGS, ids=[str(p.relative_to(REPO / "configs")) for p in CONFIGS]
)
def test_config_loads_and_round_trips(path: Path, tmp_path: Path):
    module, _, name = schema_for(path).partition(":")
    cls = getattr(importlib.import_module(module), name)
    cfg = cls.load(path)
    assert isinstance(cfg, Config)
    cfg.dump(tmp_path / "again.yaml")
    assert cls.load(tmp_path / "again.yaml") == cfg
