"""Every YAML under configs/ names its schema and loads into it (no unknown keys, valid values);
a YAML given to a command of another schema fails on its `schema` key."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from bridgelab.config import Config, yaml_schema
from bridgelab.errors import ConfigError
from bridgelab.stage import known_schemas, preset_schema

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted((REPO / "configs").rglob("*.yaml"))


def schema_for(path: Path) -> str:
    """The config class of a preset: the rule `bridgelab <stage> --help` lists presets by."""
    return preset_schema(path)


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


def test_every_preset_names_a_known_schema():
    names = {yaml_schema(p) for p in CONFIGS}
    assert names == set(known_schemas()) - {"ReportConfig"}  # the report has no preset
    assert yaml_schema(REPO / "configs/cpt/mixture_ko_real.yaml") == "CptMixtureConfig"


def test_a_yaml_of_another_schema_fails_on_its_schema_key(tmp_path: Path):
    from bridgelab.cpt.grid import GridConfig
    from bridgelab.pretrain.config import PretrainConfig

    with pytest.raises(ConfigError, match=r"demo.yaml: schema: the file is a GridConfig, but this "
                       r"command reads a PretrainConfig"):  # fmt: skip
        PretrainConfig.load(REPO / "configs/cpt/demo.yaml")
    # dump names the schema, load accepts it back; a file without the key loads too
    cfg = GridConfig.load(REPO / "configs/cpt/demo.yaml")
    cfg.dump(tmp_path / "g.yaml")
    assert (tmp_path / "g.yaml").read_text(encoding="utf-8").startswith("schema: GridConfig\n")
    text = (tmp_path / "g.yaml").read_text(encoding="utf-8").replace("schema: GridConfig\n", "")
    (tmp_path / "bare.yaml").write_text(text, encoding="utf-8")
    assert GridConfig.load(tmp_path / "bare.yaml") == cfg
    with pytest.raises(ConfigError, match="no top-level 'schema"):
        yaml_schema(tmp_path / "bare.yaml")
