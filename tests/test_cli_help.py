"""`bridgelab <command> --help` lists the command's presets and how to see every key; `--keys`
lists them; help stays free of torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bridgelab.cli import build_parser, main
from bridgelab.stage import all_commands, command_configs, config_keys, preset_schema, presets_for

REPO = Path(__file__).resolve().parents[1]


def _help(command: str, capsys) -> str:
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    return capsys.readouterr().out


def test_help_lists_the_presets_of_the_command_only(capsys):
    """Issue 15: help showed generic flags only, and the README's configs/<stage>/ pattern was
    wrong for most commands (mixture presets are configs/cpt/mixture_*, probe's configs/probes/)."""
    text = _help("mixture", capsys)
    assert "configs/cpt/mixture_ko_real.yaml" in text
    assert "configs/cpt/demo.yaml" not in text  # a grid preset, not a mixture's
    assert "bridgelab mixture --keys" in text and "--dry-run" in text
    text = _help("grid", capsys)
    assert "configs/cpt/demo.yaml" in text and "mixture_ko_real" not in text
    text = _help("tokenizer", capsys)
    assert "configs/data/tokenizer_qwen.yaml" in text and "wiki_en.yaml" not in text
    text = _help("transfer", capsys)
    assert "configs/probes/transfer.yaml" in text and "configs/probes/demo.yaml" not in text
    assert "none under configs/" in _help("report", capsys)


def test_every_config_command_gets_keys_and_presets():
    """A command that takes --config names its config class (so its help shows presets and
    --keys); every preset names a class that some command loads or that is a profile."""
    commands = {c.name: c for c in all_commands()}
    configs = command_configs()
    for name in commands:
        parser = build_parser(list(commands.values()), name)
        sub = next(a for a in parser._actions if a.dest == "command").choices[name]
        options = {o for a in sub._actions for o in a.option_strings}
        assert ("--config" in options) == ("--keys" in options), name
        if "--config" in options:
            assert name in configs, name
    assert set(configs) <= set(commands)
    schemas = {preset_schema(p) for p in (REPO / "configs").rglob("*.yaml")}
    assert schemas - set(configs.values()) == {"bridgelab.slurm.profile:SlurmProfile"}
    assert presets_for("bridgelab.report.build:ReportConfig") == []


def test_keys_lists_every_key_with_its_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["probe", "--keys"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    # nested configs and lists of configs are listed too, with type, default and help
    assert "policy.no_blank (Literal['append', 'skip']) = 'append'" in out
    assert "probe_sets[].fields.answer_is" in out and "the answer is an option index" in out
    from bridgelab.cpt.mixture import CptMixtureConfig

    keys = {k: (t, d, h) for k, t, d, h in config_keys(CptMixtureConfig)}
    assert keys["min_script_fraction"][1] == "0.2" and "script" in keys["min_script_fraction"][2]
    assert "pairs[].format" in keys and all(h for _, _, h in keys.values())


def test_help_does_not_import_torch():
    """Help must stay fast: commands.py modules, the stage helper and a light stage's help
    import no torch (its config class is imported only by --keys)."""
    code = (
        "import sys\n"
        "from bridgelab.cli import main\n"
        "for argv in (['--help'], ['mixture', '--help'], ['pretrain', '--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    ).stdout
    assert out.strip().endswith("NO-TORCH"), out[-500:]
