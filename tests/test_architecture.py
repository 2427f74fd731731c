"""The layout docs/ARCHITECTURE.md describes, checked: no sideways import between stages, one
stage interface, tools apart from stages, light command modules and configs, plain packages."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

from bridgelab.stage import Stage, all_commands, render_plan, stages

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "bridgelab"


def test_no_sideways_import_between_stages():
    proc = subprocess.run([sys.executable, "scripts/import_graph.py", "--check"], cwd=REPO,
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_stage_exports_plan_and_run_and_no_module_has_a_cli_wrapper():
    tools = {c.module for c in all_commands() if not isinstance(c, Stage)}
    for stage in stages().values():
        module = importlib.import_module(stage.module)
        assert callable(module.plan) and callable(module.run), stage.name
        assert not hasattr(module, "main"), f"{stage.module}: the generic wrapper runs stages"
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(REPO).with_suffix("").parts)
        names = {n.name for n in ast.parse(path.read_text(encoding="utf-8")).body
                 if isinstance(n, ast.FunctionDef)}  # fmt: skip
        if {"configure", "main"} <= names:
            assert module in tools | {"bridgelab.cli"}, f"{module} is not a declared tool"
        assert not path.name.endswith("_cli.py"), path


def test_package_inits_are_docstrings_only():
    for init in PACKAGE.glob("*/__init__.py"):
        body = ast.parse(init.read_text(encoding="utf-8")).body
        assert len(body) == 1 and isinstance(body[0], ast.Expr), init


def test_commands_and_configs_import_no_torch():
    code = (
        "import sys\n"
        "from bridgelab.stage import all_commands, known_schemas, import_object\n"
        "all_commands()\n"
        "for target in known_schemas().values():\n"
        "    import_object(target)\n"
        "print(sorted(m for m in ('torch', 'transformers', 'deepspeed') if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, check=True)  # fmt: skip
    assert proc.stdout.strip() == "[]"


def test_a_plan_is_data_and_renders_as_the_dry_run_text(tmp_path):
    from bridgelab.pretrain.config import PretrainConfig
    from bridgelab.pretrain.stage import plan

    cfg = PretrainConfig.load(REPO / "configs/pretrain/paper.yaml", [f"out_dir={tmp_path}/run"])
    steps = plan(cfg)
    compute = steps[0].data["compute"]
    assert compute["tokens"] == cfg.train.steps * cfg.train.global_batch_size * cfg.data.seq_len
    assert 5 < compute["gpu_hours"] < 50  # ~0.5B parameters x 5B tokens at 45% MFU of an H100
    lines = render_plan(steps)
    assert (
        lines[-1]
        == f"write config.yaml, ds_config.json, metrics.jsonl, hf/, ds/, DONE -> {tmp_path}/run"
    )
    assert steps[-1].to_dict() == {"what": steps[-1].what, "out": f"{tmp_path}/run"}
    assert not any(tmp_path.iterdir())


def test_the_one_wrapper_gives_every_stage_its_dry_run_json_and_own_flags(tmp_path, capsys):
    from bridgelab.cli import main

    out = tmp_path / "tok"
    args = ["tokenizer", "-c", str(REPO / "configs/data/tokenizer_synth.yaml"), f"out_dir={out}"]
    assert main([*args, "--skip-bad", "--dry-run", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["config"]["skip_bad"] is True  # the stage's own flag, through options()
    assert data["config"]["out_dir"] == str(out)
    assert data["plan"][-1] == {"what": data["plan"][-1]["what"], "out": str(out)}
    assert main(["mixture", "-c", str(REPO / "configs/cpt/mixture_ko_real.yaml"),
                 f"out_dir={tmp_path / 'mix'}", "--dry-run"]) == 0  # fmt: skip
    text = capsys.readouterr().out
    assert text.startswith("# resolved config\n") and f"-> {tmp_path / 'mix'}" in text
    # a YAML of another schema is refused by the wrapper with one line
    assert main(["pretrain", "-c", str(REPO / "configs/cpt/demo.yaml"), "--dry-run"]) == 2
    assert (
        "the file is a GridConfig, but this command reads a PretrainConfig"
        in capsys.readouterr().err
    )
    assert not any(tmp_path.iterdir())
