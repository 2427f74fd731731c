"""The CPT grid: tiny CPT runs (2 languages x 2 settings) from a tiny pretrained checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridgelab.config import Config
from bridgelab.cpt.grid import GridConfig, expand, load_grid, run_grid
from bridgelab.cpt.mixture import CptMixtureConfig
from bridgelab.errors import ConfigError
from tests.conftest import REPO

TINY = str(REPO / "configs" / "pretrain" / "tiny.yaml")
CPT_OVERRIDES = ["train.steps=4", "train.warmup_steps=1", "checkpoint.hf_steps=[2]",
                 "checkpoint.save_every=2", "log.progress=false"]  # fmt: skip


@pytest.fixture(scope="module")
def base_model(tmp_path_factory) -> dict[str, str]:
    """The tiny synthetic world, a BPE tokenizer on it and a tiny model pretrained on English."""
    from bridgelab.contracts.records import read_documents
    from bridgelab.data.readers import SourceConfig
    from bridgelab.data.tokenizer import TokenizerConfig
    from bridgelab.data.tokenizer import run as make_tokenizer
    from bridgelab.pretrain.config import PretrainConfig
    from bridgelab.pretrain.synthetic import make_shards
    from bridgelab.pretrain.trainer import run as pretrain
    from bridgelab.synth.config import SynthConfig
    from bridgelab.synth.output import run as make_world

    tmp = tmp_path_factory.mktemp("cpt_grid")
    world = make_world(
        SynthConfig.load(REPO / "configs/synth/tiny.yaml", [f"out_dir={tmp / 'world'}"])
    )
    corpora = [
        SourceConfig(lang=lang, path=str(world / "corpora" / f"{lang}.jsonl"))
        for lang in ("en", "ko", "zh")
    ]
    tok = make_tokenizer(TokenizerConfig(out_dir=str(tmp / "tok"), vocab_size=800, corpora=corpora))
    english = [d.text for d in read_documents(world / "corpora" / "en.jsonl")]
    shards = make_shards(tmp / "en", tok, english)
    cfg = PretrainConfig.load(
        TINY, [f"out_dir={tmp / 'base'}", f"tokenizer={tok}", f"data.path={shards}", *CPT_OVERRIDES]
    )
    return {"tokenizer": str(tok), "init_from": str(pretrain(cfg)), "world": str(world)}


def _grid(base: dict[str, str], out: Path, *overrides: str) -> GridConfig:
    """The demo preset, on the tiny world, for ko and zh, with the tiny model."""
    return GridConfig.load(
        REPO / "configs/cpt/demo.yaml",
        [f"out_dir={out}", f"init_from={base['init_from']}", f"tokenizer={base['tokenizer']}",
         f"world={base['world']}", "languages=[ko, zh]", f"pretrain={TINY}",
         f"pretrain_overrides={CPT_OVERRIDES}", *overrides],
    )  # fmt: skip


def test_tiny_grid_runs_and_resumes(base_model, tmp_path):
    cfg = _grid(base_model, tmp_path / "grid")
    names = [r["name"] for r in expand(cfg)]
    assert names == ["ko-bridge-s0", "ko-nobridge-s0", "zh-bridge-s0", "zh-nobridge-s0"]
    # a half-finished grid: only the first run, as one SLURM array task would do
    run_grid(cfg, only=[names[0]])
    status = {
        r["name"]: r["status"]
        for r in json.loads((tmp_path / "grid/grid.json").read_text())["runs"]
    }
    assert status == {names[0]: "done", **{n: "pending" for n in names[1:]}}
    first_metrics = Path(expand(cfg)[0]["run_dir"]) / "metrics.jsonl"
    stamp = first_metrics.stat().st_mtime_ns
    run_grid(cfg)  # completes the rest, skips the finished run
    assert first_metrics.stat().st_mtime_ns == stamp
    runs = load_grid(tmp_path / "grid")
    assert [r["status"] for r in runs] == ["done"] * 4
    for r in runs:
        assert [step for step, _ in r["checkpoints"]] == [2, 4]
        assert r["config"]["init_from"] == str(Path(base_model["init_from"]) / "hf/step_000004")
        assert r["config"]["data"]["path"] == r["mixture_dir"]
        steps = [
            json.loads(line)["step"]
            for line in Path(r["run_dir"], "metrics.jsonl").read_text().splitlines()
        ]
        assert steps[-1] == 4
    # both settings of a language share sentences and token totals (control 2)
    from bridgelab.cpt.check import check_mixtures

    report = check_mixtures([r["mixture_dir"] for r in runs if r["seed"] == 0])
    assert report["ok"] and len(report["comparisons"]) == 2
    meta = json.loads(Path(runs[0]["mixture_dir"], "manifest.json").read_text())["meta"]
    assert meta["seq_len"] == 64  # taken from the pretrain config


def test_grid_cli_dry_run_and_index(base_model, tmp_path, capsys):
    from bridgelab.cli import main

    cfg = _grid(base_model, tmp_path / "g")
    path = tmp_path / "grid.yaml"
    cfg.dump(path)
    assert main(["grid", "--config", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("- [3] zh-nobridge-s0: mixture "))
    assert "(not built yet) [pending] -> " in line and line.endswith("/runs/zh-nobridge-s0")
    assert "4 runs" in out and "steps" in out
    assert main(["grid", "--config", str(path), "--dry-run", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)["plan"]
    assert [s["data"]["name"] for s in plan[1:]] == [
        "ko-bridge-s0", "ko-nobridge-s0", "zh-bridge-s0", "zh-nobridge-s0"
    ]  # fmt: skip
    assert {s["state"] for s in plan[1:]} == {"pending"}
    assert plan[0]["steps"][0]["data"]["parameters"] > 0
    assert main(["grid", "--config", str(path), "--index", "9"]) == 2
    assert "--index 9" in capsys.readouterr().err


def test_grid_bad_config(base_model, tmp_path):
    with pytest.raises(ConfigError, match=r"languages\[1\]: unknown language 'fr'"):
        _grid(base_model, tmp_path, "languages=[ko, fr]")
    with pytest.raises(ConfigError, match="settings"):
        _grid(base_model, tmp_path, "settings=[bridge, bridge]")
    with pytest.raises(ConfigError, match="init_from: checkpoint not found"):
        run_grid(_grid(base_model, tmp_path / "g", f"init_from={tmp_path / 'missing'}"))
    assert not (tmp_path / "g").exists()


@pytest.mark.parametrize(
    "path", sorted((REPO / "configs" / "cpt").glob("*.yaml")), ids=lambda p: p.name
)
def test_cpt_configs_load(path):
    schema: type[Config] = GridConfig if "mixture" not in path.name else CptMixtureConfig
    cfg = schema.load(path)
    assert cfg.to_dict()


def test_a_grid_from_scratch_trains_random_weights_and_probes_without_step_0(base_model, tmp_path):
    """The joint regime: every run pretrains from random weights on its mixture."""
    from bridgelab.contracts.runs import read_export_info
    from bridgelab.probes.config import ProbeConfig
    from bridgelab.probes.units import load_units

    cfg = _grid(base_model, tmp_path / "g", "init_from=scratch", "languages=[zh]")
    run_grid(cfg, only=["zh-nobridge-s0"])
    run = next(r for r in load_grid(tmp_path / "g") if r["name"] == "zh-nobridge-s0")
    assert run["config"]["init_from"] is None
    assert read_export_info(run["checkpoints"][-1][1])["init_from"] is None
    first = [json.loads(x) for x in Path(run["run_dir"], "metrics.jsonl").read_text().splitlines()]
    # a pretrained init starts near its final loss; random weights start near log(vocab)
    assert first[0]["loss"] > 5.0
    probe = ProbeConfig.from_dict(
        {
            "grid": str(tmp_path / "g"),
            "probe_sets": [{"kind": "synthetic", "path": base_model["world"], "langs": ["zh"]}],
        }
    )
    steps = sorted(u.step for u in load_units(probe) if u.run == "zh-nobridge-s0")
    assert steps == [2, 4]  # no step-0 model to score
