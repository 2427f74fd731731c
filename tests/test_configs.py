"""Every YAML under configs/ loads into its stage's schema (no unknown keys, valid values)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from bridgelab.config import Config

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted((REPO / "configs").rglob("*.yaml"))


def schema_for(path: Path) -> str:
    """The config class of a preset, from its folder (and name where a folder holds two kinds)."""
    folder, name = path.relative_to(REPO / "configs").parts[0], path.stem
    if folder == "data":
        return (
            "bridgelab.data.tokenizer:TokenizerConfig"
            if name.startswith("tokenizer")
            else "bridgelab.data.prepare:PrepareConfig"
        )
    if folder == "cpt":
        return (
            "bridgelab.cpt.mixture:CptMixtureConfig"
            if name.startswith("mixture")
            else "bridgelab.cpt.grid:GridConfig"
        )
    if folder == "probes":
        return (
            "bridgelab.probes.transfer:TransferConfig"
            if name == "transfer"
            else "bridgelab.probes.config:ProbeConfig"
        )
    return {
        "synth": "bridgelab.synth.config:SynthConfig",
        "pretrain": "bridgelab.pretrain.config:PretrainConfig",
        "retrieval": "bridgelab.retrieval.config:FrequencyConfig",
        "study": "bridgelab.report.study:StudyConfig",
        "calibrate": "bridgelab.calibrate.config:CalibrateConfig",
        "slurm": "bridgelab.slurm.profile:SlurmProfile",
    }[folder]


def test_there_are_presets_for_every_stage():
    assert {p.relative_to(REPO / "configs").parts[0] for p in CONFIGS} == {
        "data", "synth", "pretrain", "cpt", "calibrate", "probes", "retrieval", "study", "slurm"
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
