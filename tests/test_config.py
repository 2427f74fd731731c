from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pytest

from bridgelab.config import Config, config_hash, param
from bridgelab.errors import ConfigError


@dataclass
class Inner(Config):
    lr: float = param(1e-3, help="learning rate")
    name: Literal["a", "b"] = param("a", help="a choice")


@dataclass
class Outer(Config):
    steps: int = param(help="required")
    tags: list[str] = param([], help="tags")
    inner: Inner = param(Inner(), help="nested")
    maybe: int | None = param(None, help="optional")

    def validate(self) -> None:
        super().validate()
        if self.steps <= 0:
            raise ConfigError(f"steps: must be positive, got {self.steps}")


def test_load_yaml_with_overrides(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("steps: 3\ninner:\n  lr: 2\n")
    cfg = Outer.load(f, ["inner.name=b", "tags=[x, y]", "maybe=7"])
    assert cfg.steps == 3 and cfg.inner.lr == 2.0 and cfg.inner.name == "b"
    assert cfg.tags == ["x", "y"] and cfg.maybe == 7
    # round trip through YAML gives the same config
    g = tmp_path / "d.yaml"
    cfg.dump(g)
    assert Outer.load(g) == cfg
    assert config_hash(Outer.load(g)) == config_hash(cfg)


def test_mutable_defaults_are_not_shared():
    a, b = Outer(steps=1), Outer(steps=1)
    a.tags.append("x")
    assert b.tags == []


@pytest.mark.parametrize(
    "text, overrides, message",
    [
        ("steps: 3\nstepz: 4\n", [], "unknown key 'stepz'"),
        ("steps: 3\ninner:\n  lrr: 1\n", [], "unknown key 'inner.lrr'"),
        ("tags: []\n", [], "required key 'steps' is missing"),
        ("steps: three\n", [], "key 'steps': expected an integer"),
        ("steps: 3\n", ["inner.name=c"], "key 'inner.name': 'c' is not one of"),
        ("steps: 3\n", ["inner.nope=1"], "unknown key 'inner.nope'"),
        ("steps: -1\n", [], "steps: must be positive"),
        ("steps: 3\n", ["steps"], "not of the form"),
    ],
)
def test_bad_configs_name_key_and_file(tmp_path, text, overrides, message):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError) as exc:
        Outer.load(f, overrides)
    assert message in str(exc.value)
    assert str(f) in str(exc.value) or "override" in str(exc.value)


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        Outer.load(tmp_path / "nope.yaml")
    f = tmp_path / "broken.yaml"
    f.write_text("steps: [1,\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        Outer.load(f)


def test_field_help_is_documented():
    helps = Outer.field_help()
    assert helps["inner.lr"] == "learning rate"
    assert all(helps.values())
